"""Throughput of ``coursekit grade``: 200 generated submissions of one exercise.

The mix: correct answers (the solution source), wrong answers (every solution
region replaced by ``return None``), syntax errors, and the released stubs
(which raise NotImplementedError). No timeouts: those cost their time limit
by design. Prints submissions per second and the wall time (worker start-up
included), and compares with what a fresh interpreter per submission would
cost (measured here, in this run). Target on 2 cores: 200 in at most 20 s.

    .venv/bin/python benchmarks/grading_throughput.py [--exercise 06_softmax] [-n 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from coursekit.grading import grade
from coursekit.paths import course_root

SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n?", re.S | re.M)


def variants(exercise: str) -> dict[str, nbformat.NotebookNode]:
    root = course_root()
    source = nbformat.read(root / "exercises" / "source" / f"{exercise}.ipynb", as_version=4)
    stub = nbformat.read(root / "exercises" / f"{exercise}.ipynb", as_version=4)
    wrong = nbformat.from_dict(source)
    broken = nbformat.from_dict(source)
    for cell_w, cell_b in zip(wrong.cells, broken.cells, strict=True):
        if cell_w.cell_type == "code" and "### BEGIN SOLUTION" in cell_w.source:
            cell_w.source = SOLUTION.sub(lambda m: f"{m.group(1)}return None\n", cell_w.source)
            cell_b.source = cell_b.source.replace("### BEGIN SOLUTION", "def broken(:  # syntax error", 1)
    return {"correct": source, "wrong": wrong, "syntax": broken, "stub": stub}


def fresh_interpreter_seconds(repeats: int = 3) -> float:
    """Median time for a new Python to import numpy and torch (the cost the workers avoid)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy, torch"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="06_softmax")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    kinds = variants(args.exercise)
    mix = ["correct"] * 10 + ["wrong"] * 4 + ["syntax"] * 3 + ["stub"] * 3  # 50 / 20 / 15 / 15 %
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.n):
            kind = mix[i % len(mix)]
            (folder / f"s{i:03d}").mkdir()
            nbformat.write(kinds[kind], folder / f"s{i:03d}" / f"{args.exercise}.ipynb")
        start = time.perf_counter()
        results = grade([folder], timeout=30)
        wall = time.perf_counter() - start
    full = sum(r.score == r.max_score for r in results)
    print(f"exercise {args.exercise}: {len(results)} submissions, {full} with full marks "
          f"(expected {sum(mix[i % len(mix)] == 'correct' for i in range(args.n))})")
    print(f"wall time {wall:.2f} s (worker start-up included): {len(results) / wall:.1f} submissions/s")
    sandbox = statistics.median(r.seconds for r in results)
    print(f"median time in the sandbox per submission: {sandbox * 1000:.0f} ms")
    fresh = fresh_interpreter_seconds()
    print(f"a fresh interpreter importing numpy + torch: {fresh:.2f} s; one per submission on 2 cores "
          f"would take about {fresh * len(results) / 2:.0f} s ({fresh * len(results) / 2 / wall:.1f}x the wall time)")
    print("target: 200 submissions in at most 20 s on 2 cores:",
          "met" if wall * 200 / len(results) <= 20 else "NOT met")


if __name__ == "__main__":
    main()
