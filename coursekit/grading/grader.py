"""Grading a batch: build each submission's job, run it in the sandbox, judge here.

The judge runs in this process, which never runs student code, on plain data
read from the child's result pipe. Points come from the spec only. Inputs are
drawn at grading time from a secret seed, one stream per submission.
"""

from __future__ import annotations

import os
import queue
import secrets
import signal
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.exercises.spec import EXERCISES, judge_result, score_part
from coursekit.grading.notebook import (
    Submission,
    SubmissionError,
    bindings,
    from_scratch_problems,
    imported_modules,
    is_check_cell,
    part_cells,
    read_submission,
)
from coursekit.grading.sandbox import RunResult, Worker
from coursekit.grading.wire import WireError, decode_value, read_frames

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 1024


@dataclass
class PartResult:
    id: str
    title: str
    score: float
    max_score: int
    passed: int = 0
    total: int = 0
    feedback: str = ""

    def to_json(self) -> dict:
        return {"id": self.id, "score": self.score, "max_score": self.max_score, "feedback": self.feedback}


@dataclass
class SubmissionResult:
    file: str
    student: str
    exercise: str | None
    parts: list[PartResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.parts), 2)

    @property
    def max_score(self) -> int:
        return sum(p.max_score for p in self.parts)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "student": self.student,
            "exercise": self.exercise,
            "score": self.score,
            "max_score": self.max_score,
            "parts": [p.to_json() for p in self.parts],
            "errors": list(self.errors),
        }


@dataclass
class _Pending:
    result: SubmissionResult
    parts: list  # spec Parts, in order
    cases: dict[str, list]  # part id -> its Case objects (the grader's own copies)
    blocked: dict[str, str]  # part id -> why it scores 0 without running (from scratch)
    job: dict | None = None
    unverifiable: dict[str, str] = field(default_factory=dict)  # defined only dynamically?


def find_submissions(paths: Sequence[str | Path], exclude: Path | None = None) -> list[tuple[Path, str]]:
    """(file, student) for every notebook under the given files / folders, in a stable order.

    A folder contributes its ``*.ipynb`` files (recursively, skipping hidden
    folders and checkpoints); a file given by name is graded whatever it is.
    The student is the first folder below the given folder, else the file's stem.
    """
    found: list[tuple[Path, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.ipynb")):
                rel = f.relative_to(p)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if exclude is not None and exclude.resolve() in f.resolve().parents:
                    continue
                found.append((f, rel.parts[0] if len(rel.parts) > 1 else f.stem))
        elif p.exists():
            found.append((p, p.stem))
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    return found


def _student(path: Path, default: str, exercises: Mapping[str, list]) -> str:
    # submissions/alice/06_softmax.ipynb given by name: the folder names the student
    if default in exercises and path.parent.name:
        return path.parent.name
    return default


def _which_exercise(sub: Submission, forced: str | None, exercises: Mapping[str, list]) -> str:
    if forced:
        return forced
    ex = sub.exercise
    if ex in exercises:
        return ex
    # metadata missing or edited: the grade_ids present, then the file name
    ids = {c.grade_id for c in sub.cells}
    hits = [name for name, parts in exercises.items() if any(p.grade_id in ids for p in parts)]
    if len(hits) == 1:
        return hits[0]
    hits = [name for name in exercises if name in sub.path.name]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(exercises)
    said = f" (its metadata says {ex!r})" if ex else ""
    raise SubmissionError(
        f"cannot tell which exercise this notebook is{said}; pass --exercise (one of: {known})"
    )


def prepare(
    path: Path,
    student: str,
    *,
    exercise: str | None,
    exercises: Mapping[str, list],
    seed: int,
    timeout: float,
    memory: int,
) -> _Pending:
    """Read and statically analyse one submission; build its job (nothing runs here)."""
    result = SubmissionResult(str(path), _student(path, student, exercises), None)
    try:
        sub = read_submission(path)
        name = _which_exercise(sub, exercise, exercises)
    except SubmissionError as exc:
        result.errors.append(str(exc))
        if exercise in exercises:
            result.exercise = exercise
            result.parts = [PartResult(p.id, p.title, 0, p.points, feedback=str(exc)) for p in exercises[exercise]]
        return _Pending(result, [], {}, {})
    result.exercise = name
    parts = list(exercises[name])
    # one secret stream per submission, derived from the batch seed and the file's name
    rng = np.random.default_rng([seed, zlib.crc32(str(path).encode())])
    pending = _Pending(result, parts, {}, {})
    scratch = frozenset(p.function for p in parts if p.from_scratch)
    table = bindings(sub.cells)
    for part in parts:
        pending.cases[part.id] = list(part.cases(rng))
        answer = part_cells(sub.cells, part.grade_id, part.function, table)
        if not answer:
            result.errors.append(f"{part.id}: no cell with grade_id {part.grade_id!r} or `def {part.function}(`")
        if part.from_scratch:
            problems = from_scratch_problems(sub.cells, part.function, scratch, table, answer)
            if problems:
                if problems[0].startswith("no plain"):
                    # run it anyway: if it is missing at run time too, that is the clearer message
                    pending.unverifiable[part.id] = (
                        f"Part {part.id} must be written from scratch, but {problems[0]}. No points for this part."
                    )
                else:
                    pending.blocked[part.id] = (
                        f"Part {part.id} must be written from scratch (numpy only), but its code uses "
                        + "; ".join(problems[:3]) + ". No points for this part."
                    )
    cells = [(c.index, c.source) for c in sub.cells if not is_check_cell(c)]
    pending.job = {
        "id": 0,
        "cells": cells,
        "preload": imported_modules(sub.cells),  # the worker imports the known libraries among them
        "timeout": float(timeout),
        "memory": int(memory),
        "parts": [
            {
                "id": p.id,
                "function": p.function,
                "time_limit": float(p.time_limit),
                "cases": [(tuple(c.args), dict(c.kwargs)) for c in pending.cases[p.id]],
            }
            for p in parts
            if p.id not in pending.blocked
        ],
    }
    return pending


def _process_problem(run: RunResult, timeout: float) -> str | None:
    if run.worker_error:
        return (f"{run.worker_error} while grading this submission, twice (did it kill or stop its "
                "parent process?); nothing of this submission was graded")
    if run.truncated:
        return "the submission sent more than 64 MB of results and was stopped"
    if run.timed_out:
        return f"the submission ran longer than the time limit ({timeout:g} s) and was stopped"
    if run.signal is not None:
        try:
            name = signal.Signals(run.signal).name
        except ValueError:
            name = f"signal {run.signal}"
        extra = " (CPU time limit)" if name == "SIGXCPU" else ""
        return f"the submission's process was killed by {name}{extra} before it finished"
    return None


def judge(pending: _Pending, run: RunResult, timeout: float) -> SubmissionResult:
    """Turn the child's stream into scores, judging every case here in the grader."""
    result = pending.result
    frames, stream_error = read_frames(run.stream)
    values: dict[tuple[str, int], tuple[Any, str | None]] = {}
    missing: dict[str, str] = {}
    ended = False
    cell_errors: list[str] = []
    for header, blobs in frames:
        kind = header.get("kind")
        if kind == "cell" and type(header.get("index")) is int and isinstance(header.get("error"), str):
            cell_errors.append(f"cell {header['index']}: {header['error']}")
        elif kind == "missing" and isinstance(header.get("part"), str):
            missing.setdefault(header["part"], str(header.get("error", "")))
        elif kind == "case" and isinstance(header.get("part"), str) and type(header.get("case")) is int:
            key = (header["part"], header["case"])
            if key in values:
                continue  # the first report of a case counts
            if isinstance(header.get("error"), str):
                values[key] = (None, header["error"])
            else:
                try:
                    values[key] = (decode_value(header.get("value"), blobs), None)
                except (WireError, RecursionError) as exc:
                    values[key] = (None, f"its result could not be read ({exc})")
        elif kind == "end":
            ended = True
    problem = _process_problem(run, timeout)
    if problem is None and not ended:
        if stream_error:
            problem = f"the submission's results were unreadable: {stream_error}"
        elif run.exit not in (0, None):
            problem = f"the submission's process exited early (status {run.exit}) before it finished"
        else:
            problem = "the submission's process ended before it finished (os._exit?)"
    if problem:
        result.errors.append(problem)
    result.errors.extend(cell_errors[:20])
    if len(cell_errors) > 20:
        result.errors.append(f"... and {len(cell_errors) - 20} more failing cells")
    result.seconds = run.seconds

    for part in pending.parts:
        cases = pending.cases[part.id]
        if part.id in pending.blocked:
            result.parts.append(PartResult(part.id, part.title, 0, part.points, 0, len(cases),
                                           pending.blocked[part.id]))
            continue
        if part.id in pending.unverifiable and part.id not in missing:
            result.parts.append(PartResult(part.id, part.title, 0, part.points, 0, len(cases),
                                           pending.unverifiable[part.id]))
            continue
        first: str | None = None
        verdicts: list[str | None] = []
        for k, case in enumerate(cases):
            label = case.label or f"case {k + 1}"
            if part.id in missing:
                first = first or missing[part.id]
                verdicts.extend([missing[part.id]] * (len(cases) - k))
                break
            if (part.id, k) not in values:
                why = problem or "no result came back for this case"
                verdicts.append(why)
                first = first or f"{label}: no result ({why})"
                continue
            value, error = values[(part.id, k)]
            if error is not None:
                verdicts.append(error)
                first = first or f"{label}: {error}"
                continue
            verdict = judge_result(part, case, value)
            verdicts.append(verdict)
            if verdict is not None:
                first = first or f"{label}: {verdict}"
        passed = sum(v is None for v in verdicts)
        score = score_part(part, cases, verdicts)
        total = len(cases)
        if first is None:
            text = f"all {total} cases passed"
        else:
            text = f"{passed} of {total} cases passed. First failing case: {first}. Hint: {part.hint}"
        result.parts.append(PartResult(part.id, part.title, score, part.points, passed, total, text))
    return result


def _warm_up() -> None:
    """Import here, before any submission runs, every module the grader itself may need.

    The judges use torch: imported once, not half-way in two threads at a
    time. And nothing the grader runs should be read from disk after a
    submission had the chance to write there.
    """
    for name in ("torch", "IPython.core.inputtransformer2", "numpy.lib.format", "coursekit.grading.gradebook"):
        try:
            __import__(name)
        except ImportError:
            pass


def _internal_error(item: tuple[Path, str], exc: Exception, doing: str) -> SubmissionResult:
    r = SubmissionResult(str(item[0]), item[1], None)
    r.errors.append(f"the grader failed while {doing} ({type(exc).__name__}: {exc}); please grade it by hand")
    return r


class Pool:
    """Worker processes shared by the batch; started on first use, stopped by :meth:`close`."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = [Worker() for _ in range(max(1, workers))]
        for w in self.workers:  # they start while the grader reads the first notebooks
            w.spawn()

    def map(self, tasks: Sequence, handle: Callable[[Worker, int, Any], None]) -> None:
        """Call ``handle(worker, i, task)`` for every task, one thread per worker."""
        todo: queue.Queue = queue.Queue()
        for i, task in enumerate(tasks):
            todo.put((i, task))
        errors: list[BaseException] = []

        def loop(worker: Worker) -> None:
            try:
                while not errors:
                    try:
                        i, task = todo.get_nowait()
                    except queue.Empty:
                        return
                    handle(worker, i, task)
            except BaseException as exc:  # surfaced in the main thread below
                errors.append(exc)

        threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in self.workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def close(self) -> None:
        for w in self.workers:
            w.stop()


def grade(
    paths: Sequence[str | Path],
    *,
    exercise: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    workers: int = 2,
    seed: int | None = None,
    exercises: Mapping[str, list] | None = None,
    exclude: Path | None = None,
    pool: Pool | None = None,
) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; one :class:`SubmissionResult` each, in order.

    ``seed`` fixes the grade-time inputs (for reproducing a grading run);
    by default it is drawn from :mod:`secrets` and never shown.
    """
    if exercises is None:
        exercises = EXERCISES
    if exercise is not None and exercise not in exercises:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(exercises)}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout}")
    if not hasattr(os, "fork"):
        raise ValueError("grading needs Linux or macOS: it forks one sandboxed process per submission")
    seed = secrets.randbits(64) if seed is None else int(seed)
    files = find_submissions(paths, exclude=exclude)
    if not files:
        return []
    own = pool is None
    if pool is None:
        pool = Pool(min(workers, len(files)))
    _warm_up()
    results: list[SubmissionResult | None] = [None] * len(files)
    lock = threading.Lock()  # the grader's own Python work, one thread at a time

    def handle(worker: Worker, i: int, item: tuple[Path, str]) -> None:
        # preparing the next submission overlaps with the other worker's sandbox run
        with lock:
            try:
                pending = prepare(item[0], item[1], exercise=exercise, exercises=exercises, seed=seed,
                                  timeout=timeout, memory=int(memory_mb) * 2**20)
            except Exception as exc:  # one odd file must not stop the batch
                results[i] = _internal_error(item, exc, "reading it")
                return
        if pending.job is None:
            results[i] = pending.result
            return
        run = worker.run(dict(pending.job, id=i))
        if run.worker_error:
            # once more on a fresh worker: the death may have been another submission's doing
            run = worker.run(dict(pending.job, id=i))
        with lock:
            try:
                results[i] = judge(pending, run, timeout)
            except Exception as exc:
                results[i] = _internal_error(item, exc, "judging it")

    try:
        pool.map(files, handle)
    finally:
        if own:
            pool.close()
    return [r for r in results if r is not None]
