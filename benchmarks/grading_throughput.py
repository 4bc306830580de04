"""Throughput of ``coursekit grade`` with full isolation, against nbgrader 0.9.6 on the same files.

200 generated submissions of one exercise: correct answers (the solution
source), wrong answers (every solution region replaced by ``return None``),
syntax errors, and the released stubs (which raise NotImplementedError). No
timeouts: those cost their time limit by design. Each submission runs in its
own bubblewrap sandbox, as ``coursekit grade`` always does.

Then the same kind of submissions graded by nbgrader (``generate_assignment``
+ ``autograde``) in a virtual environment of its own under /tmp, created here
on first use (skipped with a message if it cannot be installed); nbgrader
runs a Jupyter kernel per notebook, so by default 20 submissions are graded
and the time extrapolated to 200 (``--nbgrader-n 200`` for all of them).

Targets on 2 cores: 200 submissions in at most 12 s (16.4 s was measured
for the grader of ``main`` before issue 24 on a quiet machine), and at least
50x faster than nbgrader. On a busy machine absolute seconds mean little, so
``--baseline REF`` (default ``main``) also grades the same files with the
grader of that git revision (its ``coursekit/`` extracted with ``git
archive`` into a temporary folder, run in this environment), alternating
with this one, and prints the ratio: the 12 s target is a ratio of at most
12 / 16.4 = 0.73.

    .venv/bin/python benchmarks/grading_throughput.py [--exercise 06_softmax] [-n 200] [--nbgrader-n 20]
        [--baseline main] [--rounds 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import nbformat

from coursekit.grading import grade
from coursekit.paths import course_root

SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n?", re.S | re.M)
MIX = ["correct"] * 10 + ["wrong"] * 4 + ["syntax"] * 3 + ["stub"] * 3  # 50 / 20 / 15 / 15 %
NBGRADER_VENV = Path(tempfile.gettempdir()) / "coursekit-bench-nbgrader-0.9.6"


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


def write_submissions(kinds: dict, folder: Path, n: int, exercise: str, nested: str = "") -> None:
    for i in range(n):
        target = folder / f"s{i:03d}" / nested
        target.mkdir(parents=True)
        nbformat.write(kinds[MIX[i % len(MIX)]], target / f"{exercise}.ipynb")


TIMED = """
import sys, time
sys.path.insert(0, sys.argv[1])
from coursekit.grading import grade
start = time.perf_counter()
results = grade([sys.argv[2]], timeout=30)
print(time.perf_counter() - start, sum(r.score == r.max_score for r in results), len(results))
"""


def timed_run(code_root: Path, folder: Path) -> tuple[float, int, int]:
    """Wall seconds, full marks and results of grading ``folder`` with the coursekit found in ``code_root``."""
    proc = subprocess.run([sys.executable, "-c", TIMED, str(code_root), str(folder)], capture_output=True,
                          text=True, check=True)
    wall, full, count = proc.stdout.split()
    return float(wall), int(full), int(count)


def baseline_run(kinds: dict, exercise: str, n: int, ref: str, rounds: int) -> None:
    """This grader and the one of git revision ``ref``, alternating on the same files; the ratio of medians."""
    root = course_root()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "baseline"
        old.mkdir()
        try:
            archive = subprocess.run(["git", "-C", str(root), "archive", ref, "coursekit"], capture_output=True,
                                     check=True).stdout
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"baseline skipped: cannot read coursekit/ of {ref!r} ({exc})")
            return
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        folder = Path(tmp) / "subs"
        write_submissions(kinds, folder, n, exercise)
        ours, theirs = [], []
        for _ in range(rounds):
            for code, out in ((root, ours), (old, theirs)):
                wall, full, count = timed_run(code, folder)
                out.append(wall)
        ours_m, theirs_m = sorted(ours)[len(ours) // 2], sorted(theirs)[len(theirs) // 2]
        print(f"same files, same machine, alternating ({rounds} rounds): this grader {ours_m:.2f} s, "
              f"the grader of {ref} {theirs_m:.2f} s (medians; all: {ours} / {theirs})")
        ratio = ours_m / theirs_m
        print(f"  ratio {ratio:.2f} (target <= {12 / 16.4:.2f}, i.e. 12 s where {ref} took 16.4 s on a quiet "
              f"machine): {'met' if ratio <= 12 / 16.4 else 'NOT met'}; as seconds on a quiet machine "
              f"about {16.4 * ratio:.1f} s")


def coursekit_run(kinds: dict, exercise: str, n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_submissions(kinds, folder, n, exercise)
        start = time.perf_counter()
        results = grade([folder], timeout=30)
        wall = time.perf_counter() - start
    full = sum(r.score == r.max_score for r in results)
    expected = sum(MIX[i % len(MIX)] == "correct" for i in range(n))
    assert all(r.sandboxed for r in results)
    print(f"coursekit grade, exercise {exercise}: {len(results)} submissions, {full} with full marks "
          f"(expected {expected}), each in its own bubblewrap sandbox")
    print(f"  wall time {wall:.2f} s (sandbox self-test included): {len(results) / wall:.1f} submissions/s; "
          f"median {sorted(r.seconds for r in results)[len(results) // 2] * 1000:.0f} ms in a sandbox")
    return wall * 200 / n


def ensure_nbgrader() -> Path | None:
    """The nbgrader venv's python, creating it on first use; None (and a message) if that fails."""
    python = NBGRADER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating a virtual environment for nbgrader 0.9.6 in {NBGRADER_VENV} (once) ...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(NBGRADER_VENV)], check=True)
            subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                            "nbgrader==0.9.6"], check=True, timeout=1800)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"nbgrader comparison skipped: nbgrader 0.9.6 could not be installed ({exc})")
            shutil.rmtree(NBGRADER_VENV, ignore_errors=True)
            return None
    # the notebooks' kernel needs numpy, torch and coursekit: this environment's, after nbgrader's own
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz_coursekit_bench.pth").write_text(
        f"{course_root()}\n{sysconfig.get_paths()['purelib']}\n", encoding="utf-8")
    return python


def nbgrader_run(kinds: dict, exercise: str, n: int) -> float | None:
    python = ensure_nbgrader()
    if python is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        (course / "source" / "ps1").mkdir(parents=True)
        shutil.copy(course_root() / "exercises" / "source" / f"{exercise}.ipynb", course / "source" / "ps1")
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.ExecutePreprocessor.timeout = 30\n")
        env = dict(os.environ, HOME=str(course), JUPYTER_CONFIG_DIR=str(course / ".jupyter"),
                   OMP_NUM_THREADS="1", MPLBACKEND="Agg",
                   PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs `alembic`
        env.pop("PYTHONPATH", None)
        nbgrader = [str(python), "-m", "nbgrader"]

        def step(*args: str) -> None:
            proc = subprocess.run([*nbgrader, *args], cwd=course, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"nbgrader {args[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")

        try:
            step("generate_assignment", "ps1", "--force")
            write_submissions(kinds, course / "submitted", n, exercise, nested="ps1")
            start = time.perf_counter()
            step("autograde", "ps1", "--create", "--force")
            wall = time.perf_counter() - start
            step("export", "--to", str(course / "grades.csv"))
        except RuntimeError as exc:
            print(f"nbgrader comparison skipped: {exc}")
            return None
        with (course / "grades.csv").open() as f:
            rows = list(csv.DictReader(f))
    full = sum(float(r["score"]) == float(r["max_score"]) > 0 for r in rows)
    expected = sum(MIX[i % len(MIX)] == "correct" for i in range(n))
    print(f"nbgrader 0.9.6 autograde, same kinds of submissions: {n} in {wall:.1f} s ({wall / n:.2f} s each), "
          f"{full} with full marks (expected {expected})"
          + (f"; extrapolated to 200: {wall * 200 / n:.0f} s" if n != 200 else ""))
    return wall * 200 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="06_softmax")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--nbgrader-n", type=int, default=20)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--baseline", default="main", help="git revision to compare with ('' to skip)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds against the baseline")
    args = parser.parse_args()
    kinds = variants(args.exercise)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    ours = coursekit_run(kinds, args.exercise, args.n)
    print("  target: 200 submissions in at most 12 s on 2 cores:", "met" if ours <= 12 else "NOT met",
          f"({ours:.1f} s for 200; on a busy machine see the ratio below)")
    if args.baseline:
        baseline_run(kinds, args.exercise, args.n, args.baseline, args.rounds)
    theirs = None if args.skip_nbgrader else nbgrader_run(kinds, args.exercise, args.nbgrader_n)
    if theirs is not None:
        print(f"ratio: coursekit grade is {theirs / ours:.1f}x faster than nbgrader for 200 submissions "
              f"(target >= 50x: {'met' if theirs / ours >= 50 else 'NOT met'})")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other work on the machine slows both)")


if __name__ == "__main__":
    main()
