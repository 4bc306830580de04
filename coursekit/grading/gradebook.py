"""Writing the results: ``gradebook.csv`` (kept across runs), one feedback file per submission."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import secrets
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from coursekit import __version__
from coursekit.grading import limits, similarity
from coursekit.grading.grader import SubmissionResult
from coursekit.grading.notebook import display


def _num(x: float) -> str:
    return f"{x:g}"


def md(text: str, limit: int = 2000) -> str:
    """Text that students control (names, error messages), safe to put in a Markdown file.

    Control characters (newlines, ANSI escapes, bidi overrides) are shown as
    ``\\xNN``; ``& < >`` become HTML entities, so no tag, comment or autolink
    survives; the characters of Markdown links, code and emphasis are
    backslash-escaped, so ``[text](javascript:...)`` stays text.
    """
    text = display(text, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]!|~])", r"\\\1", text)


def feedback_text(r: SubmissionResult) -> str:
    """The feedback a student gets: each part's result and first failing case, in words."""
    title = md(r.exercise or "unknown exercise")
    lines = [f"# Feedback: {title} ({md(r.student, 100)})", "",
             f"Total: {_num(r.score)} / {r.max_score} points", ""]
    if not r.sandboxed:
        lines += ["Graded without the sandbox (--unsafe-no-sandbox).", ""]
    for p in r.parts:
        mark = "✔" if p.score == p.max_score and p.max_score else "✘"
        lines += [f"## {mark} {md(p.id)} {md(p.title)}: {_num(p.score)} / {p.max_score}", ""]
        # one paragraph per line of the grader's text (its only newlines: the sandbox's are made visible)
        for line in p.feedback.split("\n"):
            lines += [md(line), ""]
    if r.errors:
        lines += ["## Problems while grading", ""]
        lines += [f"- {md(e)}" for e in r.errors]
        lines.append("")
    return "\n".join(lines)


def _cell(value) -> str:
    """A CSV field with control characters made visible, that a spreadsheet will not run as a formula."""
    text = display(str(value), 5000)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "submission"


# -- files the grader creates, and only those --------------------------------------------------

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def open_folder(path: Path | str, *, dir_fd: int | None = None, what: str = "--out") -> int:
    """A file descriptor of the folder ``path``, created here or checked: a real folder, not a
    symbolic link, owned by this user (or root), not writable by others. ValueError otherwise."""
    try:
        os.mkdir(path, 0o755, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ValueError(f"{what} {path}: cannot create the folder ({exc.strerror})") from None
    try:
        fd = os.open(path, _DIR, dir_fd=dir_fd)
    except OSError as exc:
        why = "is a symbolic link or not a folder" if exc.errno in (errno.ELOOP, errno.ENOTDIR) else exc.strerror
        raise ValueError(f"{what} {path} {why}; refused (the grader writes only into real folders)") from None
    st = os.fstat(fd)
    if st.st_uid not in (os.geteuid(), 0) or st.st_mode & 0o002:
        os.close(fd)
        raise ValueError(f"{what} {path} belongs to another user or is writable by others; refused")
    return fd


def write_file(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``name`` in the folder ``dir_fd`` as a new file (O_EXCL | O_NOFOLLOW), then rename it into
    place: whatever was there (a file, a symbolic link) is replaced, never written through."""
    tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644,
                 dir_fd=dir_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.close(fd)
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def read_text(dir_fd: int, name: str, limit: int | None = None) -> str | None:
    """A regular file's text in ``dir_fd`` (not through a link), or None if there is none.

    ``limit``: bytes at most (default ``limits.GRADEBOOK_BYTES``).
    """
    limit = limits.GRADEBOOK_BYTES if limit is None else limit
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read {name}: {exc.strerror} (a symbolic link?); refused") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            raise ValueError(f"{name} is not a regular file of at most {limit >> 20} MB; refused")
        with os.fdopen(os.dup(fd), encoding="utf-8", newline="") as f:
            return f.read(limit + 1)
    finally:
        os.close(fd)


# -- the gradebook: rows keyed by student and exercise ------------------------------------------

HEAD = ["student", "exercise"]
TAIL = ["total", "max", "late", "errors", "notes", "overrides", "first_failures", "file", "submitted", "sha256",
        "seed", "coursekit", "isolation", "graded", "feedback", "code"]


def _when(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def result_row(r: SubmissionResult, feedback: str, graded: str) -> dict[str, str]:
    """The gradebook row of one result, every field made safe for a spreadsheet."""
    row = {"student": r.student, "exercise": r.exercise or "", "total": _num(r.score), "max": str(r.max_score),
           "late": r.late, "errors": " | ".join(r.errors), "notes": " | ".join(r.notes), "overrides": "",
           "first_failures": "; ".join(f"{p.id}: {p.first_failure}" for p in r.parts if p.first_failure),
           "file": r.file, "submitted": _when(r.submitted), "sha256": r.sha256,
           "seed": "" if r.seed is None else str(r.seed), "coursekit": __version__,
           "isolation": "bubblewrap" if r.sandboxed else "NONE (--unsafe-no-sandbox)", "graded": graded,
           "feedback": feedback, "code": similarity.encode(r.code)}
    row.update({p.id: _num(p.score) for p in r.parts})
    return {k: _cell(v) for k, v in row.items()}


def _columns(rows: Sequence[dict], exercises: Mapping[str, list]) -> list[str]:
    present = {row.get("exercise") for row in rows}
    cols = [p.id for name, parts in exercises.items() if name in present for p in parts]
    for row in rows:  # columns of an exercise the spec no longer lists
        cols += [k for k in row if k not in HEAD and k not in TAIL and k not in cols]
    return [*HEAD, *cols, *TAIL]


def read_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"student", "exercise", "total"} <= set(reader.fieldnames):
        raise ValueError("the existing gradebook.csv is not a coursekit gradebook (no student, exercise, total "
                         "columns); move it away or pass --replace")
    return [{k: v for k, v in row.items() if k is not None and v is not None} for row in reader]


def load_overrides(path: Path | str) -> list[tuple[str, str, float, str]]:
    """(student, part, points, reason) from a CSV file with those four columns."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"student", "part", "points"} <= set(reader.fieldnames):
            raise ValueError(f"--overrides {path}: expected the columns student, part, points, reason")
        out = []
        for n, row in enumerate(reader, start=2):
            try:
                points = float(row["points"])
            except (TypeError, ValueError):
                raise ValueError(f"--overrides {path}, line {n}: points {row['points']!r} is not a number") from None
            out.append((row["student"] or "", row["part"] or "", points, (row.get("reason") or "").strip()))
    return out


_OVERRIDE = re.compile(r"^([\w.]+): ([\d.]+) -> ([\d.]+)")


def apply_overrides(rows: list[dict[str, str]], overrides, exercises: Mapping[str, list]) -> None:
    """Set each (student, part) to the instructor's points; the row's ``overrides`` column keeps the
    automatic points and the reason (so applying a file again changes nothing)."""
    maxima = {p.id: (name, p.points) for name, parts in exercises.items() for p in parts}
    for student, pid, points, reason in overrides:
        if pid not in maxima:
            raise ValueError(f"--overrides: unknown part {pid!r}")
        exercise, top = maxima[pid]
        if not 0 <= points <= top:
            raise ValueError(f"--overrides: {points:g} points for part {pid} (worth {top})")
        targets = [r for r in rows if r["student"] == _cell(student) and r["exercise"] == exercise]
        if not targets:
            raise ValueError(f"--overrides: no row for student {student!r} and exercise {exercise}")
        for row in targets:
            entries = [e for e in row.get("overrides", "").split("; ") if e]
            auto = row.get(pid, "0") or "0"
            for e in entries:
                m = _OVERRIDE.match(e)
                if m and m.group(1) == pid:
                    auto = m.group(2)
            entries = [e for e in entries if not e.startswith(pid + ": ")]
            why = display(reason, 200).replace(";", ",")
            entries.append(f"{pid}: {auto} -> {_num(points)} ({why})")
            row["overrides"] = _cell("; ".join(entries))
            row[pid] = _num(points)
            ids = [p.id for p in exercises[exercise]]
            row["total"] = _num(round(sum(float(row.get(i) or 0) for i in ids), 2))


def write_gradebook(
    results: Sequence[SubmissionResult], out: Path, exercises: Mapping[str, list], *,
    replace: bool = False, overrides: Sequence[tuple[str, str, float, str]] = (),
) -> tuple[Path, list[Path]]:
    """Add this run's rows to ``out/gradebook.csv`` and write its feedback files; return their paths.

    Rows are keyed by (student, exercise): a row of this run replaces the
    old one, every other row stays as it was (``replace``: start over).
    Feedback goes to ``out/feedback/<run>/<student>_<exercise>.md``, a
    folder of this run's own, never mixed with an earlier run's. Every file
    is created here (``O_EXCL | O_NOFOLLOW``) in folders created or checked
    here, then renamed into place.
    """
    out = Path(out)
    graded = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out_fd = open_folder(out)
    try:
        fb_fd = open_folder("feedback", dir_fd=out_fd, what=f"{out}/feedback")
        try:
            run = graded.replace(":", "").replace("-", "")
            name, n = run, 1
            while True:  # a folder of this run's own, created here
                try:
                    os.mkdir(name, 0o755, dir_fd=fb_fd)
                    break
                except FileExistsError:
                    n += 1
                    name = f"{run}-{n}"
            run_fd = os.open(name, _DIR, dir_fd=fb_fd)
            run = name
        finally:
            os.close(fb_fd)
        paths: list[Path] = []
        rows: list[dict[str, str]] = []
        used: set[str] = set()
        try:
            for r in results:
                base = _slug(f"{r.student}_{r.exercise or 'unknown'}")
                fname, k = base, 1
                while fname in used:
                    k += 1
                    fname = f"{base}-{k}"
                used.add(fname)
                write_file(run_fd, f"{fname}.md", feedback_text(r).encode("utf-8"))
                paths.append(out / "feedback" / run / f"{fname}.md")
                rows.append(result_row(r, f"feedback/{run}/{fname}.md", graded))
        finally:
            os.close(run_fd)
        old = None if replace else read_text(out_fd, "gradebook.csv")
        merged: dict[tuple[str, str], dict[str, str]] = {}
        for row in (read_rows(old) if old else []) + rows:
            merged[(row.get("student", ""), row.get("exercise", ""))] = row
        for row in rows:  # a row of no exercise ("no notebook in this folder") is replaced by a real one
            if row.get("exercise"):
                merged.pop((row.get("student", ""), ""), None)
        table = list(merged.values())
        if overrides:
            apply_overrides(table, overrides, exercises)
        cols = _columns(table, exercises)
        buf = io.StringIO()
        w = csv.DictWriter(buf, cols, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(table)
        write_file(out_fd, "gradebook.csv", buf.getvalue().encode("utf-8"))
    finally:
        os.close(out_fd)
    return out / "gradebook.csv", paths
