"""Every ``# claim tested: tests/FILE.py::NAME`` link in a notebook names a test that exists.

A chapter cell that demonstrates a claim names the test that checks the claim across seeds
(``# claim tested: …``, ``# claim tested in …``, ``# claims tested in …``, ``# claim tested for
other logits in …``). A renamed or deleted test would leave the link pointing at nothing, so
each link is resolved by parsing the test file (AST, nothing imported or run): ``NAME`` is a
module-level test function, ``Class::method`` a method of a test class, and ``NAME[id]`` a
parametrised one (its function must carry a ``parametrize`` mark).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("exercises/*.ipynb"),
                    *ROOT.glob("exercises/source/*.ipynb")])

CLAIM_LINE = re.compile(r"claims? tested\b", re.IGNORECASE)
LINK = re.compile(r"(tests/[\w./-]+\.py)::([\w:]+(?:\[[^\]\s]*\])?)")


def claim_links(text: str) -> list[tuple[str, str]]:
    """(file, name) of every test link on the lines of ``text`` that say a claim is tested."""
    return [m.groups() for line in text.splitlines() if CLAIM_LINE.search(line) for m in LINK.finditer(line)]


def _is_parametrized(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("parametrize" in ast.unparse(d) for d in fn.decorator_list)


def defined_tests(path: Path) -> dict[str, bool]:
    """{"test_x": parametrised?, "TestClass::test_y": parametrised?} of a test file, from its AST."""
    names: dict[str, bool] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            names[node.name] = _is_parametrized(node)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_marked = any("parametrize" in ast.unparse(d) for d in node.decorator_list)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test"):
                    names[f"{node.name}::{item.name}"] = class_marked or _is_parametrized(item)
    return names


def broken(file: str, name: str, root: Path = ROOT) -> str | None:
    """Why the link ``file::name`` names no test, or None when it does."""
    path = root / file
    if not path.is_file():
        return f"{file} does not exist"
    base, bracket, _ = name.partition("[")
    names = defined_tests(path)
    if base not in names:
        return f"{file} has no test {base}"
    if bracket and not names[base]:
        return f"{file}::{base} is not parametrised, so {name} names nothing"
    return None


def _links(path: Path) -> list[tuple[int, str, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(i, f, n) for i, cell in enumerate(nb.cells) for f, n in claim_links(cell.source)]


def test_the_chapters_link_their_claims_to_tests():
    links = [link for nb in NOTEBOOKS for link in _links(nb)]
    assert len(links) >= 20, f"only {len(links)} claim links found: has the comment's spelling changed?"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_every_claim_link_names_an_existing_test(path):
    bad = [f"cell {i}: {f}::{n}: {why}" for i, f, n in _links(path) if (why := broken(f, n))]
    assert not bad, f"{path.relative_to(ROOT)}: claim links to no test:\n" + "\n".join(bad)


def test_a_link_is_resolved_as_pytest_would_name_the_test(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n\n"
        "def test_plain():\n    pass\n\n"
        "@pytest.mark.parametrize('seed', [0, 1])\ndef test_seeds(seed):\n    pass\n\n"
        "class TestGroup:\n    def test_inside(self):\n        pass\n\n"
        "def helper_not_a_test():\n    pass\n")
    text = ("x = 1  # claim tested: tests/test_x.py::test_plain\n"
            "# claims tested in tests/test_x.py::test_seeds[1] and tests/test_x.py::TestGroup::test_inside\n"
            "# claim tested for other logits in tests/test_x.py::test_gone\n"
            "# see tests/test_x.py::not_a_claim (no claim on this line)\n")
    links = claim_links(text)
    assert links == [("tests/test_x.py", "test_plain"), ("tests/test_x.py", "test_seeds[1]"),
                     ("tests/test_x.py", "TestGroup::test_inside"), ("tests/test_x.py", "test_gone")]
    verdicts = {n: broken(f, n, tmp_path) for f, n in links}
    assert verdicts["test_plain"] is None and verdicts["test_seeds[1]"] is None
    assert verdicts["TestGroup::test_inside"] is None
    assert "has no test test_gone" in verdicts["test_gone"]
    assert "not parametrised" in broken("tests/test_x.py", "test_plain[0]", tmp_path)
    assert "has no test helper_not_a_test" in broken("tests/test_x.py", "helper_not_a_test", tmp_path)
    assert "does not exist" in broken("tests/test_y.py", "test_plain", tmp_path)
