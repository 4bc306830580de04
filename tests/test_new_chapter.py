"""Adding a chapter takes its own new files and one row in README's table, nothing else.

A copy of the course (notebooks, exercises with their solutions, README) gets a chapter 07: the
chapter notebook, its student exercise and its solution, each stored executed with one code
cell, and a row in README's table of chapters. With ``COURSEKIT_ROOT`` pointing at the copy and
no other edit:

- ``coursekit.paths`` finds it, and README's chapter-table check (``tests/test_notebooks.py``)
  accepts the table with the row (and names chapter 07 without it);
- ``coursekit check 07`` finds the chapter and its solution and runs them through strict nbval
  (chapter 07 alone: the other notebooks are the course check's business, not this test's);
- ``coursekit lab`` copies the chapter and its exercise into the student's ``my-work/`` (asked
  for JupyterLab's ``--version``, so JupyterLab starts, prints it and stops instead of serving);
- the website's page list (``site_src/build.py``) puts the chapter, then its exercise, last.

The two commands run at the same time: about 5-8 s wall on 2 busy cores (JupyterLab's start-up
and two kernels).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from test_notebooks import readme_chapter_problems

from coursekit.paths import lesson_notebooks, solution_notebooks, student_notebooks

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = str(Path(sys.prefix) / "bin" / "coursekit")
NEW = "07_dummy"
ROW = f"| 07 · Dummy: a chapter a test adds | `notebooks/{NEW}.ipynb` | `exercises/{NEW}.ipynb` |\n"


def _notebook(title: str, code: str, output: str | None) -> nbformat.NotebookNode:
    """A notebook with a title and one code cell, stored executed (``output``) or not (None)."""
    cell = nbformat.v4.new_code_cell(code, execution_count=1 if output is not None else None)
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}"), cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _course_with_a_new_chapter(tmp_path: Path) -> tuple[Path, str]:
    """A copy of the course plus chapter 07's own files; returns (copy, README without the row)."""
    course = tmp_path / "course"
    for top in ("notebooks", "exercises"):
        shutil.copytree(ROOT / top, course / top, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    nbformat.write(_notebook("07 · Dummy", "print(6 * 7)", "42\n"), course / "notebooks" / f"{NEW}.ipynb")
    nbformat.write(_notebook("Exercises 07 · Dummy", "answer = 6 * 7\nprint(answer)", "42\n"),
                   course / "exercises" / "source" / f"{NEW}.ipynb")
    nbformat.write(_notebook("Exercises 07 · Dummy", "answer = None  # YOUR CODE HERE", None),
                   course / "exercises" / f"{NEW}.ipynb")
    return course, (ROOT / "README.md").read_text(encoding="utf-8")


def _add_row(readme: str) -> str:
    """README with chapter 07's row after the last row of its table of chapters."""
    lines = readme.splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("| ") and "`notebooks/" in line)
    return "".join(lines[:last + 1] + [ROW] + lines[last + 1:])


def _site_pages(course: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("coursekit_site_build_for_new_chapter", ROOT / "site_src" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build.course_pages(course)


def test_a_new_chapter_needs_only_its_own_files_and_a_readme_row(tmp_path):
    course, readme = _course_with_a_new_chapter(tmp_path)
    (course / "README.md").write_text(readme, encoding="utf-8")
    (problem, *_) = readme_chapter_problems(course)  # without its row, README's table is found wanting
    assert f"notebooks/{NEW}.ipynb" in problem, problem
    (course / "README.md").write_text(_add_row(readme), encoding="utf-8")
    assert readme_chapter_problems(course) == []

    new = {course / "notebooks" / f"{NEW}.ipynb", course / "exercises" / f"{NEW}.ipynb",
           course / "exercises" / "source" / f"{NEW}.ipynb"}
    assert {lesson_notebooks(course)[-1], student_notebooks(course)[-1], solution_notebooks(course)[-1]} == new
    pages = _site_pages(course)
    assert pages[-2:] == [Path("notebooks") / f"{NEW}.ipynb", Path("exercises") / f"{NEW}.ipynb"], pages

    env = {**os.environ, "COURSEKIT_ROOT": str(course), "HOME": str(tmp_path / "home"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "IPYTHONDIR": str(tmp_path / "ipython"), "PYTHONDONTWRITEBYTECODE": "1"}
    check = subprocess.Popen([CONSOLE, "check", "-j", "1", "07"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env, cwd=tmp_path)
    lab = subprocess.Popen([CONSOLE, "lab", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=env, cwd=tmp_path)
    try:
        check_out, _ = check.communicate(timeout=300)
        lab_out, _ = lab.communicate(timeout=300)
    finally:
        for proc in (check, lab):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)

    assert check.returncode == 0, check_out
    rows = [line.split() for line in check_out.splitlines() if line.startswith(("notebooks/", "exercises/"))]
    assert rows == [[f"notebooks/{NEW}.ipynb", "1", "1", "0", rows[0][4], "ok"],
                    [f"exercises/source/{NEW}.ipynb", "1", "1", "0", rows[1][4], "ok"]], check_out
    assert "2/2 notebooks passed" in check_out

    assert lab.returncode == 0, lab_out
    copies = [p.relative_to(course) for p in lesson_notebooks(course) + student_notebooks(course)]
    assert f"copied {len(copies)} notebook(s)" in lab_out, lab_out
    for rel in (Path("notebooks") / f"{NEW}.ipynb", Path("exercises") / f"{NEW}.ipynb"):
        assert (course / "my-work" / rel).read_bytes() == (course / rel).read_bytes(), rel
    assert not (course / "my-work" / "exercises" / "source").exists()  # never the solutions
