"""``coursekit grade SUBMISSION... [--exercise ID] [--out DIR] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from coursekit.exercises.spec import EXERCISES
from coursekit.grading.gradebook import write_gradebook
from coursekit.grading.grader import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, grade
from coursekit.grading.notebook import display
from coursekit.grading.sandbox import SandboxUnavailable


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        results = grade(
            args.submissions,
            exercise=args.exercise,
            timeout=args.timeout,
            memory_mb=args.memory,
            workers=args.workers,
            seed=args.seed,
            exclude=out,
            unsafe_no_sandbox=args.unsafe_no_sandbox,
            progress=not args.json and sys.stderr.isatty(),
        )
    except SandboxUnavailable as exc:
        print(f"coursekit grade: error: {exc}", file=sys.stderr)
        return 1
    if not results:
        raise ValueError("no notebooks found in " + ", ".join(args.submissions))
    csv_path, feedback = write_gradebook(results, out, EXERCISES)
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
            print(f"{name:<{width}}  {r.exercise or '?':<{ex_width}}  {r.score:g}/{r.max_score}{note}")
        print(f"wrote {csv_path} and {len(feedback)} feedback files in {out / 'feedback'}")
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
            "are judged in this process. Writes OUT/gradebook.csv and OUT/feedback/<student>.md."
        ),
    )
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="notebook files or folders")
    p.add_argument("--exercise", help="grade everything as this exercise (default: from each notebook)")
    p.add_argument("--out", default="gradebook", help="output folder (default ./gradebook)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    p.add_argument("--timeout", type=_positive(float), default=DEFAULT_TIMEOUT,
                   help=f"wall-clock seconds per submission (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--memory", type=_positive(int), default=DEFAULT_MEMORY_MB,
                   help=f"MB of memory per submission (default {DEFAULT_MEMORY_MB})")
    p.add_argument("--workers", type=_positive(int), default=2, help="parallel workers (default 2)")
    p.add_argument("--seed", type=int, default=None,
                   help="fix the grading inputs to reproduce a run (default: a secret random seed)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade without bubblewrap (plain limited processes: NO isolation from this machine "
                        "or other submissions); recorded in the gradebook")
    p.set_defaults(func=run)
