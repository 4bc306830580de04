"""Where the course lives on disk."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def course_root() -> Path:
    """The course folder: the repository that holds ``notebooks/`` next to ``coursekit/``.

    ``$COURSEKIT_ROOT`` when set (tests use it to serve or check a copy of the course);
    with an editable install (``make``, ``environment.yml``) the parent of the package;
    otherwise the current directory if it looks like the course.
    """
    if os.environ.get("COURSEKIT_ROOT"):
        root = Path(os.environ["COURSEKIT_ROOT"]).resolve()
        if not (root / "notebooks").is_dir():
            raise FileNotFoundError(f"COURSEKIT_ROOT={root} has no notebooks/ folder")
        return root
    for candidate in (PACKAGE_DIR.parent, Path.cwd()):
        if (candidate / "notebooks").is_dir():
            return candidate
    raise FileNotFoundError(
        "cannot find the course folder (one with notebooks/ in it): run coursekit from the course "
        "repository, or install it there with 'make' / 'pip install -e .'"
    )


def lesson_notebooks(root: Path | None = None) -> list[Path]:
    """The chapter notebooks, in order: notebooks/NN_*.ipynb."""
    root = root or course_root()
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solution_notebooks(root: Path | None = None) -> list[Path]:
    """The exercise solution sources: exercises/source/NN_*.ipynb."""
    root = root or course_root()
    return sorted((root / "exercises" / "source").glob("[0-9][0-9]_*.ipynb"))


def student_notebooks(root: Path | None = None) -> list[Path]:
    """The generated student copies: exercises/NN_*.ipynb."""
    root = root or course_root()
    return sorted((root / "exercises").glob("[0-9][0-9]_*.ipynb"))


WORK_DIR_NAME = "my-work"


def work_dir(root: Path | None = None) -> Path:
    """The student's working folder (git-ignored): ``my-work/`` in the course folder."""
    return (root or course_root()) / WORK_DIR_NAME
