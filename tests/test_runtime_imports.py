"""The student's environment is the tested one: everything the course imports at run time is a
runtime dependency.

``make lab`` (and ``make check``) install ``[project].dependencies`` only, never the ``test`` or
``site`` extras that this test suite runs with. So a module that a chapter, an exercise notebook,
an exercise solution or any coursekit module imports (lazy imports inside functions included,
``%matplotlib inline`` counted as ``matplotlib_inline``) must be the standard library, coursekit
itself, or belong to a distribution in the closure of the runtime requirements: the
``[project].dependencies`` of pyproject.toml, then each one's ``Requires-Dist``, and so on, an
extra's requirements only where that extra is asked for. Imports are read from the code (AST) and
mapped to distributions with ``importlib.metadata.packages_distributions()``.

``coursekit doctor`` runs the same check; it is tested here as a user runs it, on a course whose
notebooks import a module that is not installed at all and one that only the test extra installs.
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat

from coursekit.doctor import (
    course_notebooks,
    import_sites,
    runtime_closure,
    runtime_import_problems,
    source_imports,
)
from coursekit.paths import PACKAGE_DIR, lesson_notebooks, solution_notebooks, student_notebooks

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = str(Path(sys.executable).parent / "coursekit")


def _runtime_requirements() -> list[str]:
    """``[project].dependencies`` as pyproject.toml says now (the installed metadata may be older)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_every_module_the_course_imports_is_a_runtime_dependency():
    notebooks = course_notebooks(ROOT)
    # every chapter, student exercise and solution the course has (found, not listed), and more if any
    found = lesson_notebooks(ROOT) + student_notebooks(ROOT) + solution_notebooks(ROOT)
    assert lesson_notebooks(ROOT) and set(found) <= set(notebooks), sorted(set(found) - set(notebooks))
    problems = runtime_import_problems(import_sites(notebooks, PACKAGE_DIR, ROOT), _runtime_requirements())
    assert problems == [], "\n".join(problems)


def test_the_scan_reads_every_import_a_kernel_would_run():
    # the import statements a scan could miss: nested, lazy, inside a class, after a magic
    code = ("%matplotlib inline\n!echo hi\nimport a.b as c, d\nfrom e.f import g\nfrom . import h\n"
            "def f():\n    import i\n    class K:\n        from j import k\n")
    assert source_imports(code) == {"matplotlib_inline", "a", "d", "e", "i", "j"}
    sites = import_sites(course_notebooks(ROOT), PACKAGE_DIR, ROOT)
    # each found where it is: a chapter's setup cell, the widgets' front-end import, a magic
    assert "notebooks/01_neurons.ipynb" in sites["numpy"]
    assert "coursekit/widgets/_common.py" in sites["anywidget"]
    assert "notebooks/01_neurons.ipynb" in sites["matplotlib_inline"]
    assert any(s.startswith("exercises/source/") for s in sites["coursekit"])


def test_the_runtime_closure_follows_requires_dist_but_not_the_extras():
    installed, absent = runtime_closure(_runtime_requirements())
    assert absent == set(), f"runtime dependencies not installed here: {sorted(absent)}"
    # direct ones, and ones only a dependency brings (matplotlib -> packaging, ipykernel -> ipython)
    assert {"numpy", "torch", "jupyterlab", "packaging", "ipython", "matplotlib-inline"} <= installed
    # the test and site extras are installed in this environment, but make lab does not install them
    assert not {"ruff", "hypothesis", "playwright", "sphinx", "myst-nb", "pytest-timeout"} & installed


def _course(tmp_path: Path, imports: dict[str, str]) -> Path:
    """A course folder holding one notebook per entry, whose code imports what the entry says."""
    course = tmp_path / "course"
    for rel, code in imports.items():
        path = course / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
                                             nbformat.v4.new_code_cell(code)])
        nbformat.write(nb, path)
    return course


def _doctor(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSEKIT_ROOT": str(course)}
    return subprocess.run([CONSOLE, "doctor", *args], capture_output=True, text=True, env=env, timeout=300)


def test_doctor_names_what_a_notebook_imports_that_make_lab_would_not_install(tmp_path):
    course = _course(tmp_path, {
        "notebooks/01_fine.ipynb": "import torch",
        # not installed anywhere
        "notebooks/02_broken.ipynb": "def later():\n    from h22_no_such_module.sub import thing\n",
        # installed here (test extra) but not a runtime dependency: a student's make lab lacks it
        "exercises/source/03_test_only.ipynb": "import hypothesis",
    })
    proc = _doctor(course)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "All good" not in out
    missing = next(line for line in out.splitlines() if "h22_no_such_module" in line)
    assert "notebooks/02_broken.ipynb" in missing and "not installed" in missing
    test_only = next(line for line in out.splitlines() if line.strip().startswith("- hypothesis"))
    assert "exercises/source/03_test_only.ipynb" in test_only and "not a runtime dependency" in test_only
    assert "torch" not in out.split("To fix:")[1], out  # the fine ones are not named


def test_doctor_says_all_good_when_every_import_is_a_runtime_dependency(tmp_path):
    course = _course(tmp_path, {"notebooks/01_fine.ipynb": "import torch\nfrom coursekit import plotting",
                                "exercises/01_fine.ipynb": "import math\nimport ipywidgets",
                                # a cell demonstrating a SyntaxError is read as importing nothing
                                "notebooks/02_syntax_demo.ipynb": "def broken(:\n    import nothing_here"})
    (course / "exercises" / "02_corrupt.ipynb").write_text("{ not json")
    proc = _doctor(course)
    assert proc.returncode == 0 and "All good" in proc.stdout, proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("runtime imports"))
    assert "4 notebooks" in row and "MISSING" not in row

