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


def nbval_command(notebook: Path, junit: Path, cell_timeout: int) -> list[str]:
    return [
        sys.executable, "-m", "pytest", str(notebook),
        "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE}",
        f"--nbval-cell-timeout={cell_timeout}",
        f"--junitxml={junit}",
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


def check_notebook(notebook: Path, *, cell_timeout: int = 300) -> NotebookResult:
    """Run strict nbval on one notebook in a subprocess and summarise it per cell."""
    result = NotebookResult(notebook)
    try:
        read_notebook(notebook)  # a corrupt or tampered file: say so, don't hand it to nbval
    except NotebookError as exc:
        result.error = str(exc)
        return result
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coursekit-check-") as tmp:
        junit = Path(tmp) / "junit.xml"
        proc = subprocess.run(
            nbval_command(notebook, junit, cell_timeout),
            cwd=notebook.parent, capture_output=True, text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        result.seconds = time.perf_counter() - start
        if not junit.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
            result.error = f"nbval could not run this notebook:\n{tail}"
            return result
        for case in ET.parse(junit).getroot().iter("testcase"):
            result.cells += 1
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
    if result.cells == 0 and proc.returncode != 0:
        result.error = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
    return result


def warm_matplotlib() -> None:
    """Build matplotlib's font cache once, so no kernel prints 'building the font cache' on stderr."""
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], capture_output=True)


def check_notebooks(notebooks: list[Path], *, jobs: int, cell_timeout: int = 300) -> list[NotebookResult]:
    warm_matplotlib()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda nb: check_notebook(nb, cell_timeout=cell_timeout), notebooks))


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
