"""``coursekit grade SUBMISSION... [--exercise ID] [--out DIR] [--json] [--report] ...``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from coursekit.exercises.spec import EXERCISES
from coursekit.grading import limits
from coursekit.grading.gradebook import load_overrides, write_gradebook
from coursekit.grading.grader import grade
from coursekit.grading.notebook import display
from coursekit.grading.sandbox import SandboxUnavailable


def _inside(child: Path, parent: Path) -> bool:
    child, parent = Path(os.path.realpath(child)), Path(os.path.realpath(parent))
    return child == parent or parent in child.parents


def check_out(out: Path, submissions: list[str]) -> None:
    """Refuse, before grading, an output folder that is a link or a file, or inside a submissions folder."""
    if os.path.islink(out) or (os.path.lexists(out) and not os.path.isdir(out)):
        raise ValueError(f"--out {out} is a symbolic link or not a folder; refused (the grader writes only into "
                         "real folders)")
    for s in submissions:
        if os.path.isdir(s) and not os.path.islink(s) and _inside(out, Path(s)):
            raise ValueError(f"the output folder {out} is inside the submissions folder {s}: a student could own "
                             "it, and it would be graded as a student; pass --out DIR outside the submissions")
        if _inside(Path(s), out):
            raise ValueError(f"the submission {s} is inside the output folder {out}; pass --out DIR elsewhere")


def parse_deadline(text: str) -> float:
    """ISO 8601 date-time (``2026-12-01T23:59``; local time unless it says ``Z`` or an offset)."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time such as 2026-12-01T23:59: {text!r}") from None
    return when.timestamp()


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    check_out(out, args.submissions)
    overrides = load_overrides(args.overrides) if args.overrides else ()
    try:
        results = grade(
            args.submissions,
            exercise=args.exercise,
            timeout=args.timeout,
            memory_mb=args.memory,
            workers=args.workers,
            seed=args.seed,
            unsafe_no_sandbox=args.unsafe_no_sandbox,
            progress=not args.json and sys.stderr.isatty(),
            names_from_files=args.names_from_files,
            mixed=args.mixed,
            deadline=args.deadline,
        )
    except SandboxUnavailable as exc:
        print(f"coursekit grade: error: {exc}", file=sys.stderr)
        return 1
    if not results:
        raise ValueError("no notebooks found in " + ", ".join(args.submissions))
    csv_path, feedback = write_gradebook(results, out, EXERCISES, replace=args.replace, overrides=overrides)
    if args.unsafe_no_sandbox:
        print("coursekit grade: WARNING: graded WITHOUT the sandbox (--unsafe-no-sandbox); "
              "the gradebook says so", file=sys.stderr)
    if args.json:
        json.dump({"submissions": [r.to_json() for r in results]}, sys.stdout, indent=1)
        print()
    else:
        names = [display(r.student, 60) for r in results]  # folder names come from students
        width = max(map(len, names))
        ex_width = max(len(r.exercise or "?") for r in results)
        for name, r in zip(names, results, strict=True):
            note = f"  ({len(r.errors)} problem{'s' if len(r.errors) != 1 else ''})" if r.errors else ""
            note += f"  ({r.late})" if r.late else ""
            print(f"{name:<{width}}  {r.exercise or '?':<{ex_width}}  {r.score:g}/{r.max_score}{note}")
        folder = feedback[0].parent if feedback else out / "feedback"
        print(f"wrote {csv_path} ({len(results)} rows added or updated) and {len(feedback)} feedback files "
              f"in {folder}; seed {results[0].seed} (in every row: --seed reproduces the inputs)")
    if args.report:
        from coursekit.grading.report import make_report

        text = make_report(out)
        if not args.json:
            print(text)
    return 0


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def register(sub) -> None:
    p = sub.add_parser(
        "grade",
        help="(instructors) grade submitted exercise notebooks into a gradebook",
        description=(
            "Grade submitted notebooks (files, or folders of *.ipynb) against their exercise: each "
            "submission runs in its own bubblewrap sandbox (no network, no view of other files or "
            "processes, time, memory and file-size limits), on inputs drawn at grading time; results "
            "are judged in this process. Adds or updates rows of OUT/gradebook.csv and writes "
            "OUT/feedback/<run>/<student>_<exercise>.md."
        ),
    )
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="a folder of student folders, student folders, or notebook files")
    p.add_argument("--exercise", help="grade everything as this exercise (default: the exercise of most notebooks)")
    p.add_argument("--mixed", action="store_true",
                   help="grade each notebook as the exercise it names (a folder holding several exercises)")
    p.add_argument("--out", default="gradebook", help="output folder, outside the submissions (default ./gradebook)")
    p.add_argument("--replace", action="store_true", help="start the gradebook over instead of updating its rows")
    p.add_argument("--names-from-files", action="store_true",
                   help="a notebook given by name, or directly in a given folder, is the student its file is "
                        "named after (default: its folder's)")
    p.add_argument("--deadline", type=parse_deadline, metavar="WHEN",
                   help="ISO date-time (2026-12-01T23:59, local time unless Z or an offset); "
                        "rows of notebooks modified later say how late")
    p.add_argument("--overrides", metavar="FILE",
                   help="CSV of manual points (student, part, points, reason), applied and shown in the rows")
    p.add_argument("--report", action="store_true", help="also write OUT/report.md (see coursekit report)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    p.add_argument("--timeout", type=_positive(float), default=None,
                   help=f"wall-clock seconds per submission (default {limits.SUBMISSION_SECONDS:g})")
    p.add_argument("--memory", type=_positive(int), default=None,
                   help=f"MB of memory per submission (default {limits.MEMORY_MB})")
    p.add_argument("--workers", type=_positive(int), default=2, help="parallel workers (default 2)")
    p.add_argument("--seed", type=int, default=None,
                   help="the batch seed of an earlier run (its rows' seed column), to reproduce its inputs "
                        "(default: a secret random seed, recorded in each row)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade without bubblewrap (plain limited processes: NO isolation from this machine "
                        "or other submissions); recorded in the gradebook")
    p.set_defaults(func=run)
