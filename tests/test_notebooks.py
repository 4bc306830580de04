"""Every stored notebook is executed, in order, in a fresh kernel, and follows the course skeleton;
README's table of chapters lists exactly the chapters the course finds.

(Strict nbval itself runs over notebooks/ and exercises/source/ in the same pytest run.)
The chapters are found, never listed (``coursekit.paths``): a new ``notebooks/NN_name.ipynb``
with its exercise is picked up here, by ``coursekit check``, ``coursekit lab`` and the website;
its row in README's table is the one other edit (``tests/test_new_chapter.py`` shows it).
"""

import re
from pathlib import Path

import nbformat
import pytest

from coursekit.paths import course_root, lesson_notebooks, solution_notebooks, student_notebooks

ROOT = course_root()
LESSONS = lesson_notebooks(ROOT)
EXECUTED = LESSONS + solution_notebooks(ROOT)

CHAPTER_TABLE = re.compile(r"^\|\s*chapter\s*\|\s*notebook\s*\|\s*exercise\s*\|\s*$", re.M)


def readme_chapters(readme: str) -> list[tuple[str, str, str]]:
    """(chapter, notebook, exercise) of each row of README's table of chapters, in order."""
    m = CHAPTER_TABLE.search(readme)
    if not m:
        raise ValueError("README.md has no table of chapters (header: | chapter | notebook | exercise |)")
    rows = []
    for line in readme[m.end():].lstrip("\n").splitlines():
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            continue  # the |---| line
        if len(cells) != 3:
            raise ValueError(f"README's table of chapters: a row without 3 cells: {line!r}")
        rows.append((cells[0], cells[1].strip("`"), cells[2].strip("`")))
    return rows


def _title(path: Path, prefix: str = "# ") -> str:
    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    return first.removeprefix(prefix)


def readme_chapter_problems(root: Path) -> list[str]:
    """What README's table of chapters says that the course's folders do not (empty: they agree).

    The table lists every chapter the course finds (``notebooks/NN_*.ipynb``) in order, each by
    its notebook's title, with the student exercise of the same name; every exercise has its
    solution source in ``exercises/source/``.
    """
    rows = readme_chapters((root / "README.md").read_text(encoding="utf-8"))
    def rel(paths):
        return [p.relative_to(root).as_posix() for p in paths]

    lessons, students, solutions = (rel(f(root)) for f in (lesson_notebooks, student_notebooks, solution_notebooks))
    problems = []
    if [r[1] for r in rows] != lessons:
        problems.append(f"README's table lists the chapters {[r[1] for r in rows]}, the course has {lessons}")
    if [r[2] for r in rows] != students:
        problems.append(f"README's table lists the exercises {[r[2] for r in rows]}, the course has {students}")
    for chapter, notebook, exercise in rows:
        if Path(notebook).name != Path(exercise).name:
            problems.append(f"chapter {notebook}: its exercise is named {exercise}, not exercises/{Path(notebook).name}")
        if (root / notebook).is_file():
            title = _title(root / notebook)
            if not (chapter == title or chapter.startswith(title + ":")):
                problems.append(f"README's row for {notebook} says {chapter!r}; the notebook's title is {title!r}")
    missing = sorted(set(Path(s).name for s in students) - set(Path(s).name for s in solutions))
    if missing:
        problems.append(f"student exercises without a solution in exercises/source/: {missing}")
    return problems


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_are_lessons():
    assert LESSONS, "no notebooks/NN_*.ipynb found"


def test_readme_lists_exactly_the_chapters_the_course_finds():
    problems = readme_chapter_problems(ROOT)
    assert not problems, "\n".join(problems)


def test_the_chapter_table_check_names_what_disagrees(tmp_path):
    # a course of two chapters whose README lists one, misnames the other's exercise and title
    for folder in ("notebooks", "exercises", "exercises/source"):
        (tmp_path / folder).mkdir(parents=True)
    for stem, title in (("01_one", "01 · One"), ("02_two", "02 · Two")):
        for folder, prefix in (("notebooks", "# "), ("exercises", "# Exercises "), ("exercises/source", "# Exercises ")):
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(prefix + title)])
            nbformat.write(nb, tmp_path / folder / f"{stem}.ipynb")
    good = ("# Course\n\n| chapter | notebook | exercise |\n|---|---|---|\n"
            "| 01 · One: first things | `notebooks/01_one.ipynb` | `exercises/01_one.ipynb` |\n"
            "| 02 · Two | `notebooks/02_two.ipynb` | `exercises/02_two.ipynb` |\n\n## Next\n")
    (tmp_path / "README.md").write_text(good)
    assert readme_chapter_problems(tmp_path) == []
    (tmp_path / "README.md").write_text(good.replace("| 02 · Two | `notebooks/02_two.ipynb` | `exercises/02_two.ipynb` |\n", ""))
    (problem,) = readme_chapter_problems(tmp_path)[:1]
    assert "notebooks/02_two.ipynb" in problem and "the course has" in problem
    (tmp_path / "README.md").write_text(good.replace("02 · Two |", "02 · Deux |"))
    assert readme_chapter_problems(tmp_path) == [
        "README's row for notebooks/02_two.ipynb says '02 · Deux'; the notebook's title is '02 · Two'"]
    (tmp_path / "exercises" / "source" / "02_two.ipynb").unlink()
    (tmp_path / "README.md").write_text(good)
    assert readme_chapter_problems(tmp_path) == [
        "student exercises without a solution in exercises/source/: ['02_two.ipynb']"]
    with pytest.raises(ValueError, match="no table of chapters"):
        readme_chapters("# nothing\n")


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
