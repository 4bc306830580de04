"""``coursekit check``: the instructor's pre-class check.

Runs strict nbval (outputs compared, not ``--nbval-lax``) over every lesson
notebook and every exercise solution, several notebooks at a time, and prints
one row per notebook: cells, passed, failed, seconds. A failing cell is named
with the first lines of nbval's explanation. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.notebooks import NotebookError, read_notebook
from coursekit.paths import PACKAGE_DIR, course_root, lesson_notebooks, solution_notebooks

SANITIZE = PACKAGE_DIR / "data" / "nbval_sanitize.cfg"


@dataclass
class NotebookResult:
    path: Path
    cells: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (cell, why)
    error: str = ""  # the notebook could not be checked at all

    @property
    def ok(self) -> bool:
        return not self.failed and not self.error


def nbval_command(notebooks: list[Path], junit: Path, cell_timeout: int, rootdir: Path) -> list[str]:
    # One pytest for several notebooks: pytest + nbval + nbformat start-up costs
    # 3-6 s of CPU per process here (nbformat -> jsonschema builds an rfc3987
    # grammar at import, and the repo conftest warms matplotlib), paid once per
    # group instead of once per notebook. nbval still starts one kernel per
    # notebook, in the notebook's own folder.
    return [
        sys.executable, "-m", "pytest", *map(str, notebooks),
        "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE}",
        f"--nbval-cell-timeout={cell_timeout}",
        f"--junitxml={junit}", f"--rootdir={rootdir}",
        "-p", "no:cacheprovider", "-q",
        "-o", "addopts=", "-o", "testpaths=",  # ignore the repo's pytest defaults
    ]


ANSI = re.compile(r"\x1b\[[0-9;]*m|#x1B\[[0-9;]*m")


def _why(testcase: ET.Element) -> str | None:
    """nbval's explanation of a failed cell, without colours and without the cell's source."""
    for tag in ("failure", "error"):
        node = testcase.find(tag)
        if node is not None:
            text = ANSI.sub("", node.text or node.get("message") or "")
            lines = [ln for ln in text.splitlines() if ln.strip()]
            # nbval prints "Input:" + the source, then "Traceback:" + the difference: keep the latter
            for i, line in enumerate(lines):
                if line.strip().startswith("Traceback:"):
                    lines = lines[i + 1:]
                    break
            if len(lines) > 30:
                lines = lines[:30] + [f"... ({len(lines) - 30} more lines)"]
            return "\n".join(lines)
    return None


def _classname(notebook: Path, rootdir: Path) -> str:
    """How pytest's junit report names the items of ``notebook`` (path from rootdir, dots for slashes)."""
    rel = os.path.relpath(notebook, rootdir)
    return rel.replace(os.sep, ".")


def check_group(notebooks: list[Path], *, cell_timeout: int = 300, env: dict | None = None) -> list[NotebookResult]:
    """Run strict nbval on several notebooks in one pytest subprocess; summarise each per cell."""
    results = {nb: NotebookResult(nb) for nb in notebooks}
    runnable = []
    for nb in notebooks:
        try:
            read_notebook(nb)  # a corrupt or tampered file: say so, don't hand it to nbval
            runnable.append(nb)
        except NotebookError as exc:
            results[nb].error = str(exc)
    if not runnable:
        return [results[nb] for nb in notebooks]
    rootdir = Path(os.path.commonpath([nb.parent for nb in runnable]))
    by_class = {_classname(nb, rootdir): results[nb] for nb in runnable}
    with tempfile.TemporaryDirectory(prefix="coursekit-check-") as tmp:
        junit = Path(tmp) / "junit.xml"
        proc = subprocess.run(
            nbval_command(runnable, junit, cell_timeout, rootdir),
            cwd=rootdir, capture_output=True, text=True, env=env,
        )
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        if not junit.exists():
            for nb in runnable:
                results[nb].error = f"nbval could not run this notebook:\n{tail}"
            return [results[nb] for nb in notebooks]
        for case in ET.parse(junit).getroot().iter("testcase"):
            result = by_class.get(case.get("classname", ""))
            if result is None:  # e.g. a collection error: attribute it by its file name
                continue
            result.cells += 1
            result.seconds += float(case.get("time", 0.0))
            name = case.get("name", "?").split("::")[-1]
            if case.find("skipped") is not None:
                result.skipped += 1
                continue
            why = _why(case)
            if why is None:
                result.passed += 1
            else:
                result.failed += 1
                result.failures.append((name, why))
    for nb in runnable:
        if results[nb].cells == 0 and proc.returncode != 0:
            results[nb].error = tail
    return [results[nb] for nb in notebooks]


def check_env(jobs: int) -> dict[str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if jobs > 1:
        # Several kernels at once: one BLAS/OpenMP thread each. torch's default
        # (a spinning thread per core) made a tiny 2000-step training cell 15x
        # slower when two kernels shared 2 cores (measured: 108 s vs 6 s).
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env.setdefault(var, "1")
    return env


def split_work(notebooks: list[Path], jobs: int) -> list[list[Path]]:
    """``jobs`` groups of similar total size: biggest notebook first onto the lightest group."""
    groups: list[list[Path]] = [[] for _ in range(max(1, min(jobs, len(notebooks))))]
    load = [0] * len(groups)
    for nb in sorted(notebooks, key=lambda p: p.stat().st_size, reverse=True):
        i = load.index(min(load))
        groups[i].append(nb)
        load[i] += nb.stat().st_size
    return groups


def warm_matplotlib() -> None:
    """Build matplotlib's font cache once, so no kernel prints 'building the font cache' on stderr."""
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], capture_output=True)


def check_notebooks(notebooks: list[Path], *, jobs: int, cell_timeout: int = 300) -> list[NotebookResult]:
    warm_matplotlib()
    env = check_env(jobs)
    groups = split_work(notebooks, jobs)
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        done = pool.map(lambda g: check_group(g, cell_timeout=cell_timeout, env=env), groups)
        by_path = {r.path: r for results in done for r in results}
    return [by_path[nb] for nb in notebooks]  # the table keeps course order


def format_table(results: list[NotebookResult], root: Path | None) -> str:
    def label(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(root.resolve())) if root else str(p)
        except ValueError:
            return str(p)

    names = [label(r.path) for r in results]
    width = max([len("notebook"), *map(len, names)])
    rows = [f"{'notebook':<{width}}  {'cells':>5}  {'passed':>6}  {'failed':>6}  {'seconds':>7}  result"]
    for name, r in zip(names, results):
        status = "ok" if r.ok else ("ERROR" if r.error else "FAILED")
        rows.append(f"{name:<{width}}  {r.cells:>5}  {r.passed:>6}  {r.failed:>6}  {r.seconds:>7.1f}  {status}")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    root = None
    if args.notebooks:
        notebooks = [Path(n).resolve() for n in args.notebooks]
        missing = [str(n) for n in notebooks if not n.is_file()]
        if missing:
            raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
        try:
            root = course_root()
        except FileNotFoundError:
            pass
    else:
        root = course_root()
        notebooks = lesson_notebooks(root) + solution_notebooks(root)
        if not notebooks:
            raise FileNotFoundError(f"no notebooks found under {root}/notebooks or {root}/exercises/source")
    jobs = args.jobs or os.cpu_count() or 1
    print(f"coursekit check: strict nbval over {len(notebooks)} notebooks, {jobs} at a time", flush=True)
    start = time.perf_counter()
    results = check_notebooks(notebooks, jobs=jobs, cell_timeout=args.cell_timeout)
    total = time.perf_counter() - start
    print(format_table(results, root))
    for r in results:
        if r.error:
            print(f"\n{r.path.name}: {r.error}")
        for cell, why in r.failures:
            print(f"\n{r.path.name}: {cell} failed:\n{why}")
    failed = [r for r in results if not r.ok]
    cells = sum(r.cells for r in results)
    print(f"\n{len(results) - len(failed)}/{len(results)} notebooks passed, {cells} cells, "
          f"total {total:.1f} s wall")
    return 1 if failed else 0


def register(sub) -> None:
    p = sub.add_parser("check", help="run strict nbval over every lesson and exercise solution")
    p.add_argument("notebooks", nargs="*", help="notebooks to check (default: the whole course)")
    p.add_argument("-j", "--jobs", type=int, default=0, help="notebooks checked at once (default: CPU count)")
    p.add_argument("--cell-timeout", type=int, default=300, help="seconds per cell (default 300)")
    p.set_defaults(func=run)
