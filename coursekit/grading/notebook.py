"""Finding and reading submissions, and deciding which exercise each one is.

Everything here runs in the grader's process on untrusted files, so it only
reads: a walk that never follows symbolic links, files opened with
``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` (regular files only,
the size checked before a byte is read), JSON parsed with the standard
library. No code of the notebook is parsed or analysed here: the sandbox
enforces what static checks used to guess at, inside the time limit.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading import limits


class SubmissionError(ValueError):
    """A file that cannot be graded (not a notebook, not a regular file, the wrong exercise)."""


@dataclass
class Cell:
    index: int  # 1-based position among all cells, as a student counts them
    source: str
    metadata: dict = field(default_factory=dict)

    @property
    def grade_id(self) -> str | None:
        nbg = self.metadata.get("nbgrader")
        gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
        return gid if isinstance(gid, str) else None


@dataclass
class Submission:
    path: Path
    cells: list[Cell]  # code cells, in order
    metadata: dict
    grade_ids: list[str]  # of every cell, code and markdown

    @property
    def exercise(self) -> str | None:
        ck = self.metadata.get("coursekit")
        ex = ck.get("exercise") if isinstance(ck, dict) else None
        return ex if isinstance(ex, str) else None


@dataclass
class Found:
    path: Path
    student: str
    problem: str | None = None  # why it cannot be read at all (a symbolic link ...)
    mtime: float | None = None  # modification time, from lstat (a link is not followed)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def _mtime(path) -> float | None:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return None


#: Hidden folders that tools make beside submissions (skipped without a row); any other hidden
#: folder at the top of a submissions folder is a student's and gets a row that says why it was not graded.
TOOL_FOLDERS = frozenset({".ipynb_checkpoints", ".git", ".hg", ".svn", ".venv", ".cache", ".DS_Store",
                          ".Trash", ".Trashes", ".local", ".jupyter", ".ipython", ".config"})


def find_submissions(paths: Sequence[str | Path], exercises: Mapping[str, list] | None = None, *,
                     names_from_files: bool = False) -> list[Found]:
    """Every notebook under the given files / folders, in a stable order, without following links.

    A folder contributes its ``*.ipynb`` entries (recursively, skipping hidden
    folders and checkpoints); a symbolic link among them is reported, not
    followed. The student is the first folder below the given folder; a
    notebook directly in the given folder, or given by name, is its folder's
    student (``grade subs/alice subs/bob`` gives alice and bob), or with
    ``names_from_files`` the student its file is named after. A student
    folder without a notebook is reported, never skipped.
    """
    found: list[Found] = []
    for p in map(Path, paths):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file or folder: {p}") from None
        own = p.absolute().resolve().name or str(p)  # "." and "subs/alice/" name their folder
        if stat.S_ISDIR(st.st_mode):
            todo = [(p, ())]
            students: dict[str, Path] = {}  # student folders, to report those without a notebook
            has: set[str] = set()
            while todo:  # bounded: a walk of real folders (links are not entered)
                folder, rel = todo.pop()
                try:
                    entries = sorted(os.scandir(folder), key=lambda e: e.name)
                except OSError:
                    continue
                subdirs = []
                for e in entries:
                    if e.name.startswith(".") and (rel or e.is_dir(follow_symlinks=False)):
                        if not rel and e.name not in TOOL_FOLDERS and e.is_dir(follow_symlinks=False):
                            # a student folder whose name starts with '.': reported, never skipped silently
                            found.append(Found(Path(e.path), e.name, "this student folder is hidden (its name "
                                               "starts with '.'); rename it without the dot to grade it"))
                        continue  # checkpoints, .git; a hidden notebook file at the top is still a submission
                    r = (*rel, e.name)
                    if len(r) > 1:
                        student = r[0]
                    else:
                        student = Path(e.name).stem if names_from_files else own
                    if e.is_dir(follow_symlinks=False):
                        subdirs.append((Path(e.path), r))
                        if len(r) == 1:
                            students[e.name] = Path(e.path)
                    elif e.name.endswith(".ipynb"):
                        problem = None
                        if e.is_symlink():
                            problem = "it is a symbolic link (to another file); only regular files are graded"
                        found.append(Found(Path(e.path), student, problem, _mtime(e.path)))
                        has.add(r[0] if len(r) > 1 else "")
                    elif e.is_symlink() and len(r) == 1 and e.is_dir():
                        found.append(Found(Path(e.path), e.name,
                                           "this student folder is a symbolic link; only real folders are graded"))
                todo += reversed(subdirs)
            for name, folder in students.items():
                if name not in has:
                    found.append(Found(folder, name, "no notebook (*.ipynb) in this student's folder"))
        else:
            student = p.stem if names_from_files else (p.absolute().parent.name or p.stem)
            found.append(Found(p, student, None, _mtime(p)))
    found.sort(key=lambda f: (str(f.path.parent), f.path.name))
    return found


def read_file(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file, refusing links, FIFOs and devices, and checking the size first.

    ``limit``: bytes at most (default ``limits.NOTEBOOK_BYTES``).
    """
    limit = limits.NOTEBOOK_BYTES if limit is None else limit
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SubmissionError("it is a symbolic link; only regular files are graded") from None
        raise SubmissionError(f"cannot open the file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SubmissionError(f"it is {_kind(st.st_mode)}, not a regular file; refused")
        if st.st_size > limit:
            raise SubmissionError(f"not a notebook: the file is {st.st_size / 2**20:.0f} MB "
                                  f"(the limit is {limit / 2**20:.0f} MB)")
        chunks, left = [], limit + 1
        while left > 0:  # bounded by the limit even if the file grows while we read
            data = os.read(fd, min(left, 1 << 20))
            if not data:
                break
            chunks.append(data)
            left -= len(data)
        raw = b"".join(chunks)
        if len(raw) > limit:
            raise SubmissionError(f"not a notebook: the file is over {limit / 2**20:.0f} MB")
        return raw
    finally:
        os.close(fd)


def _text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    raise SubmissionError("a cell's source is neither text nor a list of lines")


def parse_notebook(path: Path, raw: bytes) -> Submission:
    """A notebook read leniently (any nbformat 4 JSON with cells); SubmissionError if it is not one."""
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook: the file is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise SubmissionError(f"not a notebook: the file is not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("not a notebook: the JSON has no list of cells (nbformat 4)")
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    cells, ids = [], []
    for i, c in enumerate(nb["cells"], start=1):
        if not isinstance(c, dict):
            raise SubmissionError(f"not a notebook: cell {i} is not a JSON object")
        meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
        cell = Cell(i, "", meta)
        if cell.grade_id:
            ids.append(cell.grade_id)
        if c.get("cell_type") != "code":
            continue
        try:
            cell.source = _text(c.get("source", ""))
        except SubmissionError as exc:
            raise SubmissionError(f"not a notebook: cell {i}: {exc}") from None
        cells.append(cell)
    return Submission(path, cells, metadata, ids)


def read_submission(path: Path) -> Submission:
    return parse_notebook(path, read_file(path))


def is_check_cell(cell: Cell) -> bool:
    """An nbgrader test cell (``grade: true`` without ``solution``): the notebook's check() calls.

    Not run when grading: they would only repeat the public checks (and a
    student who strips the metadata only makes them run as no-ops).
    """
    nbg = cell.metadata.get("nbgrader")
    return isinstance(nbg, dict) and nbg.get("grade") is True and nbg.get("solution") is not True


def _prefix(parts: list) -> str | None:
    """The grade_id prefix shared by an exercise's parts ("ex6_"), if they share one."""
    heads = {p.grade_id.split("_", 1)[0] + "_" for p in parts if "_" in p.grade_id}
    return heads.pop() if len(heads) == 1 and len(parts) == sum("_" in p.grade_id for p in parts) else None


def _belongs(gid: str, parts: list) -> bool:
    prefix = _prefix(parts)
    return (prefix is not None and gid.startswith(prefix)) or any(
        gid == p.grade_id or gid.startswith(p.grade_id + "_") for p in parts)


def which_exercise(sub: Submission, forced: str | None, exercises: Mapping[str, list]) -> str:
    """The exercise named by the notebook's metadata (or ``--exercise``), checked against the content.

    Refused: no or an unknown exercise in the metadata (without --exercise),
    metadata that contradicts --exercise, grade_ids of another exercise, and a
    file named after another exercise.
    """
    said = sub.exercise
    known = ", ".join(exercises)
    if forced:
        if said is not None and said != forced:
            raise SubmissionError(f"its metadata says exercise {said!r}, not {forced!r}: is it the right notebook?")
        name = forced
    elif said is None:
        raise SubmissionError(f"cannot tell which exercise this notebook is (its metadata does not say); "
                              f"pass --exercise (one of: {known})")
    elif said not in exercises:
        raise SubmissionError(f"its metadata names exercise {said[:60]!r}, which is not one of: {known}")
    else:
        name = said
    foreign = sorted({other for gid in sub.grade_ids for other, parts in exercises.items()
                      if other != name and _belongs(gid, parts) and not _belongs(gid, exercises[name])})
    if foreign:
        raise SubmissionError(f"its cells carry the grade_ids of exercise {', '.join(foreign)}, not {name}: "
                              "is it the right notebook?")
    named = [other for other in exercises if other != name and other in sub.path.name]
    if named and name not in sub.path.name:
        raise SubmissionError(f"the file is named {sub.path.name!r} but the notebook is exercise {name}: "
                              "is it the right notebook?")
    return name


def display(text: str, limit: int = 300) -> str:
    """``text`` with control characters (ANSI escapes, newlines, bidi overrides) made visible, shortened."""
    out = re.sub(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]",
                 lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                 str(text))
    return out if len(out) <= limit else out[: limit - 3] + "..."
