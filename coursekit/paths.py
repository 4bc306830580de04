"""Where the course lives on disk."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def course_root() -> Path:
    """The course folder: the repository that holds ``notebooks/`` next to ``coursekit/``.

    With an editable install (``make``, ``environment.yml``) that is the parent
    of the package; otherwise the current directory if it looks like the course.
    """
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
