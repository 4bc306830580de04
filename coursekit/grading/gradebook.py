"""Writing the results: ``gradebook.csv``, one feedback file per submission, JSON."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from coursekit.grading.grader import SubmissionResult
from coursekit.grading.notebook import display


def _num(x: float) -> str:
    return f"{x:g}"


def part_columns(results: Sequence[SubmissionResult], exercises: Mapping[str, list]) -> list[str]:
    """Part ids in course order, for every exercise that occurs in the batch."""
    present = {r.exercise for r in results}
    cols = [p.id for name, parts in exercises.items() if name in present for p in parts]
    for r in results:  # parts of an exercise the spec no longer lists (should not happen)
        cols += [p.id for p in r.parts if p.id not in cols]
    return cols


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


def write_gradebook(
    results: Sequence[SubmissionResult], out: Path, exercises: Mapping[str, list]
) -> tuple[Path, list[Path]]:
    """Write ``out/gradebook.csv`` and ``out/feedback/<student>[_<exercise>].md``; return their paths."""
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    several = len({r.exercise for r in results if r.exercise}) > 1
    used: set[str] = set()
    paths: list[Path] = []
    for r in results:
        base = _slug(r.student if not several else f"{r.student}_{r.exercise or 'unknown'}")
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        path = out / "feedback" / f"{name}.md"
        path.write_text(feedback_text(r), encoding="utf-8")
        paths.append(path)
    cols = part_columns(results, exercises)
    csv_path = out / "gradebook.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "file", "exercise", *cols, "total", "max", "errors", "feedback", "isolation"])
        for r, fb in zip(results, paths, strict=False):
            scores = {p.id: _num(p.score) for p in r.parts}
            isolation = "bubblewrap" if r.sandboxed else "NONE (--unsafe-no-sandbox)"
            row = [r.student, r.file, r.exercise or "", *(scores.get(c, "") for c in cols),
                   _num(r.score), r.max_score, " | ".join(r.errors), str(fb), isolation]
            w.writerow([_cell(v) for v in row])
    return csv_path, paths
