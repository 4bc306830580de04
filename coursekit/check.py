"""``coursekit check``: the course check, the instructor's pre-class check.

Runs strict nbval (outputs compared, not ``--nbval-lax``) over every lesson
notebook and every exercise solution (as ``coursekit.paths`` finds them: nothing lists the
chapters), or over the notebooks or chapters named, several notebooks at a time, and prints
one row per notebook: cells, passed, failed, seconds. A failing cell is named
with the first lines of nbval's explanation. Exit status 1 on any failure.
On a terminal a progress bar counts the cells and notebooks done as they finish
(nothing of it when the output goes to a file or a pipe).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
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
        # -v: one line per cell as it finishes (progress); -vv: nbval's whole difference, not the
        # first lines of it (a long output that differs in its last line said only "truncated")
        "-p", "no:cacheprovider", "-vv",
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


# pytest -v prints "01_neurons.ipynb::Cell 3 PASSED  [ 5%]" as each cell finishes (pytest 9
# writes "01_neurons::ipynb::Cell 3" for a notebook given by its absolute path)
CELL_LINE = re.compile(r"^(?P<stem>\S+?)(?:\.|::)ipynb::(?P<cell>.+?) (?P<outcome>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")

Progress = Callable[[Path, str], None]  # (notebook, outcome) once per finished cell


def _run_streaming(argv: list[str], cwd: Path, env: dict | None, on_line: Callable[[str], None]):
    """Run ``argv``, calling ``on_line`` with each line of its output as it comes; return (status, output)."""
    env = {**(env or os.environ), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, bufsize=1)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        on_line(line)
    return proc.wait(), "".join(lines)


def check_group(notebooks: list[Path], *, cell_timeout: int = 300, env: dict | None = None,
                progress: Progress | None = None) -> list[NotebookResult]:
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
        by_file = {os.path.relpath(nb, rootdir): nb for nb in runnable}

        def on_line(line: str) -> None:
            m = CELL_LINE.match(line)
            file = m and m["stem"] + ".ipynb"
            if progress is not None and file in by_file:
                progress(by_file[file], m["outcome"])

        returncode, output = _run_streaming(nbval_command(runnable, junit, cell_timeout, rootdir),
                                            rootdir, env, on_line)
        tail = "\n".join(output.strip().splitlines()[-8:])
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
        if results[nb].cells == 0 and returncode != 0:
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


def count_code_cells(path: Path) -> int:
    """Code cells of a notebook (nbval makes one test of each); 0 when it cannot be read."""
    try:
        return sum(c.cell_type == "code" for c in read_notebook(path).cells)
    except NotebookError:
        return 0


class ProgressBar:
    """A tqdm bar over the cells of all notebooks, with notebooks done in its postfix.

    Drawn only on a terminal (tqdm's ``disable=None``): a log file or a pipe gets nothing.
    Thread-safe: groups of notebooks report from their own threads.
    """

    def __init__(self, notebooks: list[Path], file=None):
        from tqdm import tqdm

        self.expected = {nb: count_code_cells(nb) for nb in notebooks}
        self.seen = dict.fromkeys(notebooks, 0)
        self.finished: set[Path] = set()
        self.failed = 0
        self.lock = threading.Lock()
        self.bar = tqdm(total=sum(self.expected.values()), unit="cell", desc="coursekit check",
                        file=file or sys.stderr, disable=None, dynamic_ncols=True, leave=False)
        self._postfix()

    def _postfix(self) -> None:
        text = f"{len(self.finished)}/{len(self.seen)} notebooks"
        if self.failed:
            text += f", {self.failed} cell(s) failed"
        self.bar.set_postfix_str(text, refresh=False)

    def cell(self, notebook: Path, outcome: str) -> None:
        with self.lock:
            self.seen[notebook] += 1
            self.failed += outcome in ("FAILED", "ERROR")
            if self.seen[notebook] >= self.expected.get(notebook, 0):
                self.finished.add(notebook)
            self.bar.update(1)
            self._postfix()
            self.bar.refresh()

    def group_done(self, notebooks: list[Path]) -> None:
        with self.lock:
            for nb in notebooks:
                missing = self.expected[nb] - self.seen[nb]
                self.finished.add(nb)
                if missing > 0:
                    self.seen[nb] += missing
                    self.bar.update(missing)
            self._postfix()
            self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def check_notebooks(notebooks: list[Path], *, jobs: int, cell_timeout: int = 300,
                    show_progress: bool = False) -> list[NotebookResult]:
    warm_matplotlib()
    env = check_env(jobs)
    groups = split_work(notebooks, jobs)
    bar = ProgressBar(notebooks) if show_progress else None

    def one(group: list[Path]) -> list[NotebookResult]:
        results = check_group(group, cell_timeout=cell_timeout, env=env, progress=bar.cell if bar else None)
        if bar:
            bar.group_done(group)
        return results

    try:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            by_path = {r.path: r for results in pool.map(one, groups) for r in results}
    finally:
        if bar:
            bar.close()
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


CHAPTER = re.compile(r"\d\d(?:_\w+)?")


def select(names: list[str]) -> list[Path]:
    """The notebooks ``names`` ask for, in the order given: a notebook's path, or a chapter
    (``07`` or ``07_dummy``), which is the course's chapter of that number and its exercise
    solution, found as ``coursekit check`` finds the whole course."""
    chosen: list[Path] = []
    missing = []
    for name in names:
        path = Path(name)
        if path.is_file() or not CHAPTER.fullmatch(name):
            if not path.is_file():
                missing.append(name)
            chosen.append(path.resolve())
            continue
        root = course_root()
        course = lesson_notebooks(root) + solution_notebooks(root)
        found = [nb for nb in course if nb.stem == name or nb.stem.startswith(name + "_")]
        if not found:
            numbers = sorted({nb.name[:2] for nb in course})
            raise FileNotFoundError(f"no chapter {name} in the course at {root} (its chapters: "
                                    f"{', '.join(numbers) or 'none'})")
        chosen += found
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
    return list(dict.fromkeys(chosen))  # a notebook named twice is checked once


def run(args: argparse.Namespace) -> int:
    root = None
    if args.notebooks:
        notebooks = select(args.notebooks)
        try:
            root = course_root()
        except FileNotFoundError:
            pass
    else:
        root = course_root()
        notebooks = lesson_notebooks(root) + solution_notebooks(root)
        if not notebooks:
            raise FileNotFoundError(f"no notebooks found under {root}/notebooks or {root}/exercises/source")
    jobs = min(args.jobs or os.cpu_count() or 1, len(notebooks))
    print(f"coursekit check: strict nbval over {len(notebooks)} notebook(s), {jobs} at a time", flush=True)
    start = time.perf_counter()
    results = check_notebooks(notebooks, jobs=jobs, cell_timeout=args.cell_timeout, show_progress=True)
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
    p = sub.add_parser("check")
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK_OR_CHAPTER",
                   help="notebooks to check, or chapter numbers (05: the chapter and its exercise solution); "
                        "default: the whole course")
    p.add_argument("-j", "--jobs", type=int, default=0, help="notebooks checked at once (default: CPU count)")
    p.add_argument("--cell-timeout", type=int, default=300, help="seconds per cell (default 300)")
    p.set_defaults(func=run)
