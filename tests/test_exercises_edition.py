"""The student edition (``coursekit release --student-edition DIR``): no solutions, no hidden checks, check() works.

Built once into a temporary folder; its check() runs in a subprocess that imports coursekit from
the edition only, on every part's reference solution (full marks), the stub and a wrong answer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.exercises import release
from coursekit.exercises.spec import EXERCISES, all_parts

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "exercises" / "source"
# the reference answers the issue lists, besides every name the part modules declare HIDDEN
NAMED = {"_truth", "_saturation_reference", "_count_rows", "INSEPARABLE"}


def _solution_lines() -> set[str]:
    lines = set()
    for src in SOURCES.glob("[0-9][0-9]_*.ipynb"):
        for cell in nbformat.read(src, as_version=4).cells:
            if "### BEGIN SOLUTION" in cell.source:
                body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
                lines |= {line.strip() for line in body.splitlines() if len(line.strip()) > 20}
    return lines


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("edition") / "course"
    files = release.student_edition(ROOT, out)
    return out, files


def test_the_edition_holds_what_students_need(edition):
    out, files = edition
    names = {p.relative_to(out).as_posix() for p in files}
    for stem in EXERCISES:
        assert f"exercises/{stem}.ipynb" in names and f"notebooks/{stem}.ipynb" in names
    assert {"README.md", "environment.yml", "pyproject.toml", "coursekit/exercises/feedback.py",
            "coursekit/data/public_cases.pkl"} <= names
    assert not [n for n in names if n.startswith(("coursekit/grading/", "exercises/source/", "tests/"))]
    assert "make lab" in (out / "README.md").read_text(encoding="utf-8")


def test_no_solution_and_no_hidden_check_is_in_the_edition(edition):
    out, files = edition
    from coursekit.exercises.parts import MODULES

    hidden = NAMED | {n for m in MODULES for n in m.HIDDEN}
    solution = _solution_lines()
    assert len(solution) > 30
    for path in files:
        if path.suffix not in (".py", ".ipynb", ".md", ".yml", ".toml", ".txt", ".cfg"):
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(out).as_posix()
        if path.suffix == ".ipynb":
            assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text, rel
        if rel.startswith(("exercises/", "coursekit/exercises/")):
            leaked = [line for line in solution if line in text]
            assert not leaked, (rel, leaked[:3])
        if path.suffix == ".py":
            # a placeholder `name = hidden("name")` may stand where a definition was; nothing else names it
            code = re.sub(r'^(\w+) = hidden\("\1"\).*$', "", text, flags=re.M)
            named = [n for n in hidden if re.search(rf"\b{re.escape(n)}\b", code)]
            assert not named, (rel, named)


def test_the_self_study_edition_adds_the_solutions(tmp_path):
    files = release.student_edition(ROOT, tmp_path / "self-study", with_solutions=True)
    names = {p.name for p in files if p.parent.name == "solutions"}
    assert names == {f"{stem}.ipynb" for stem in EXERCISES}


def test_the_edition_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        release.student_edition(ROOT, tmp_path / "x")


RUN = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import coursekit, coursekit.exercises.spec as spec
from coursekit.exercises.feedback import run_check
assert coursekit.__file__.startswith(sys.argv[1]), coursekit.__file__
assert spec._STORED is not None
cells = json.load(open(sys.argv[2]))
out = {}
for stem, sources in cells.items():
    ns = {"np": np}
    for part_id, function, src in sources:  # in order: a part may call an earlier one
        exec(src, ns)
        out[part_id] = [run_check(part_id, ns[function], tier=1).score,
                        run_check(part_id, lambda *a, **k: "wrong", tier=1).score]
print(json.dumps(out))
"""


def test_check_works_in_the_edition_and_gives_the_points(edition, tmp_path):
    out, _ = edition
    cells = {}
    for stem, parts in EXERCISES.items():
        nb = nbformat.read(SOURCES / f"{stem}.ipynb", as_version=4)
        by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
        cells[stem] = [(p.id, p.function, by_id[p.grade_id]) for p in parts]
    (tmp_path / "cells.json").write_text(json.dumps(cells))
    (tmp_path / "run.py").write_text(RUN)
    proc = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(out), str(tmp_path / "cells.json")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    for part in all_parts():
        assert scores[part.id] == [part.points, 0], (part.id, scores[part.id])
