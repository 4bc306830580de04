"""Every stored notebook is executed, in order, in a fresh kernel, and follows the course skeleton.

(Strict nbval itself runs over notebooks/ and exercises/source/ in the same pytest run.)
"""

import re

import nbformat
import pytest

from coursekit.paths import course_root, lesson_notebooks, solution_notebooks

ROOT = course_root()
LESSONS = lesson_notebooks(ROOT)
EXECUTED = LESSONS + solution_notebooks(ROOT)


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_are_lessons():
    assert LESSONS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", EXECUTED, ids=_ids(EXECUTED))
def test_notebook_was_executed_top_to_bottom_in_a_fresh_kernel(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(counts)}: re-run it with "
        f"'coursekit execute {path.relative_to(ROOT)}'"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", EXECUTED, ids=_ids(EXECUTED))
def test_only_cells_tagged_raises_exception_show_errors(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{path.name} cell {index}: {errors[0].ename}: {errors[0].evalue}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_follows_the_course_skeleton(path):
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    number = path.name[:2]
    assert nb.cells[0].source.startswith(f"# {number} · "), "title must be '# NN · Title'"
    assert "Learning objectives" in markdown or "learning objectives" in markdown
    assert len(re.findall(r"^## \d+\. ", markdown, flags=re.M)) >= 2, "numbered sections '## 1. ...'"
    assert "Check your understanding" in markdown
    assert "## Summary" in markdown
    assert "## Exercises" in markdown and f"../exercises/{path.name}" in markdown
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert "set_seed(" in setup, "the setup cell seeds random, numpy and torch"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_keeps_no_private_copy_of_an_activation(path):
    # A notebook may derive a function, but then checks it against coursekit and uses
    # coursekit. A notebook re-defining sigmoid/relu without ever comparing is a private copy.
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for name in re.findall(r"^def (\w+)\(", code, flags=re.M):
        if name in {"sigmoid", "relu", "tanh", "softmax", "step", "leaky_relu"}:
            assert "assert_allclose" in code or "assert_array_equal" in code, (
                f"{path.name} defines {name}() but never checks it against coursekit"
            )


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_stored_notebook_is_light_enough_to_read_on_github(path):
    assert path.stat().st_size < 3_000_000, f"{path.name} is {path.stat().st_size} bytes; lower figure dpi"
