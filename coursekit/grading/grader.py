"""Grading a batch: read each submission, run it in its own sandbox, judge the answers here.

The judge runs in this process, which never runs student code, on plain
data read from the sandbox's result pipe. Points come from the spec only
(:func:`score_part`, the rule ``check()`` uses too). Inputs are drawn at
grading time from a secret seed, one stream per submission; the expected
outputs are computed here and never enter a sandbox.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import threading
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.exercises.spec import EXERCISES, judge_result, summarize_part
from coursekit.grading.notebook import (
    Found,
    Submission,
    SubmissionError,
    display,
    find_submissions,
    is_check_cell,
    read_submission,
    which_exercise,
)
from coursekit.grading.sandbox import MAX_STREAM, RunResult, Sandbox
from coursekit.grading.wire import WireError, decode_value, encode_job, read_frames

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 1024
CELL_LIMIT = 10.0  # seconds one notebook cell may run before it is skipped
MAX_MESSAGE = 500  # characters of one error message from a sandbox
BLOCKED_IMPORT = re.compile(r"No module named '(torch|scipy|coursekit)\b[^']*'|coursekit\.\w+ is not available")


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
    sandboxed: bool = True

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
            "sandboxed": self.sandboxed,
        }


@dataclass
class _Pending:
    result: SubmissionResult
    parts: list = field(default_factory=list)  # spec Parts, in order
    cases: dict[str, list] = field(default_factory=dict)  # part id -> its Cases (the grader's own copies)
    cells: list = field(default_factory=list)  # (index, source) of the cells to run


def _zero(result: SubmissionResult, parts: list, why: str) -> SubmissionResult:
    result.parts = [PartResult(p.id, p.title, 0, p.points, 0, 0, why) for p in parts]
    return result


def prepare(found: Found, *, exercise: str | None, exercises: Mapping[str, list], seed: int) -> _Pending:
    """Read one submission and draw its cases (nothing of it runs here)."""
    result = SubmissionResult(str(found.path), found.student, exercise if exercise in exercises else None)
    try:
        if found.problem:
            raise SubmissionError(found.problem)
        sub: Submission = read_submission(found.path)
        name = which_exercise(sub, exercise, exercises)
    except SubmissionError as exc:
        result.errors.append(str(exc))
        if result.exercise:
            _zero(result, exercises[result.exercise], str(exc))
        return _Pending(result)
    result.exercise = name
    parts = list(exercises[name])
    # one secret stream per submission, derived from the batch seed and the file's name
    rng = np.random.default_rng([seed, zlib.crc32(str(found.path).encode())])
    cases = {p.id: list(p.cases(rng)) for p in parts}
    cells = [(c.index, c.source) for c in sub.cells if not is_check_cell(c)]
    return _Pending(result, parts, cases, cells)


def _process_problem(run: RunResult, timeout: float) -> str | None:
    if run.truncated:
        return f"the submission sent more than {MAX_STREAM >> 20} MB of results and was stopped"
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


class _Tampered(Exception):
    """The result stream breaks the protocol: something other than the runner wrote to it."""


def _message(value: Any) -> str:
    """A message from the sandbox, on one line: its newlines and escapes made visible, shortened."""
    if type(value) is not str:
        raise _Tampered("a message that is not text")
    return display(value, MAX_MESSAGE)


def _read_run(run: RunResult, pending: _Pending, part_ids: set[str]) -> tuple[dict, dict, list, bool, str | None]:
    """(answers, missing, cell errors, ended, stream error) from one run's stream; _Tampered if forged."""
    frames, stream_error = read_frames(run.stream)
    if stream_error and "ends in the middle" not in stream_error:
        raise _Tampered(stream_error)
    ncases = {pid: len(pending.cases[pid]) for pid in part_ids}
    indices = {i for i, _ in pending.cells}
    answers: dict[tuple[str, int], tuple[Any, str | None]] = {}
    missing: dict[str, str] = {}
    cell_errors: list[tuple[int, str]] = []
    ended = False
    for header, blobs in frames:
        if ended:
            raise _Tampered("frames after the end")
        kind = header.get("kind")
        if kind == "start":
            continue
        if kind == "end":
            ended = True
        elif kind == "cell":
            if header.get("index") not in indices or type(header.get("index")) is not int:
                raise _Tampered("a report on a cell that was not sent")
            cell_errors.append((header["index"], _message(header.get("error"))))
        elif kind == "missing":
            pid = header.get("part")
            if pid not in ncases or pid in missing:
                raise _Tampered("a report on an unknown part")
            missing[pid] = _message(header.get("error"))
        elif kind == "case":
            pid, k = header.get("part"), header.get("case")
            if pid not in ncases or type(k) is not int or not 0 <= k < ncases[pid]:
                raise _Tampered("an answer to a case that was not asked")
            if (pid, k) in answers or pid in missing:
                raise _Tampered(f"two answers for part {pid}, case {k + 1}")
            if "error" in header:
                answers[(pid, k)] = (None, _message(header["error"]))
            else:
                try:
                    answers[(pid, k)] = (decode_value(header.get("value"), blobs), None)
                except (WireError, RecursionError) as exc:
                    raise _Tampered(f"an unreadable answer ({exc})") from None
        else:
            raise _Tampered("a frame of an unknown kind")
    return answers, missing, cell_errors, ended, stream_error


def judge(pending: _Pending, runs: list[tuple[list, RunResult]], timeout: float) -> SubmissionResult:
    """Turn each run's stream into scores, judging every case here in the grader."""
    result = pending.result
    by_part: dict[str, tuple] = {}
    blocked: list[str] = []  # evidence that the code tried to import torch / scipy / coursekit
    for parts, run in runs:
        result.seconds += run.seconds
        ids = {p.id for p in parts}
        try:
            answers, missing, cell_errors, ended, stream_error = _read_run(run, pending, ids)
        except _Tampered as exc:
            why = (f"the submission wrote to the grader's result channel itself ({exc}); "
                   "nothing of it was graded")
            result.errors.append(why)
            return _zero(result, pending.parts, why)
        problem = _process_problem(run, timeout)
        if problem is None and not ended:
            if run.stream[:4] == b"" and b"bwrap" in run.stderr:
                problem = ("the grading sandbox failed to start (" +
                           run.stderr.decode("utf-8", "replace").strip()[-200:] + "); please grade it by hand")
            elif run.exit not in (0, None):
                problem = f"the submission's process exited early (status {run.exit}) before it finished"
            else:
                problem = "the submission's process ended before it finished (os._exit?)"
        if problem and problem not in result.errors:
            result.errors.append(problem)
        for index, error in cell_errors[:20]:
            line = f"cell {index}: {error}"
            if line not in result.errors:
                result.errors.append(line)
        if len(cell_errors) > 20:
            result.errors.append(f"... and {len(cell_errors) - 20} more failing cells")
        blocked += [f"cell {i}: {e}" for i, e in cell_errors if BLOCKED_IMPORT.search(e)]
        for p in parts:
            by_part[p.id] = (answers, missing, problem)

    for part in pending.parts:
        cases = pending.cases[part.id]
        answers, missing, problem = by_part[part.id]
        verdicts: list[str | None] = []
        own_block = None
        for k, case in enumerate(cases):
            if part.id in missing:
                verdicts.extend([missing[part.id]] * (len(cases) - k))
                break
            if (part.id, k) not in answers:
                verdicts.append(f"no result ({problem or 'no result came back for this case'})")
                continue
            value, error = answers[(part.id, k)]
            if error is not None:
                verdicts.append(error)
                own_block = own_block or (error if BLOCKED_IMPORT.search(error) else None)
                continue
            verdicts.append(judge_result(part, case, value))
        passed = sum(v is None for v in verdicts)
        total = len(cases)
        # The same points and words as check() in the notebook (tier-1 hint: never code).
        score, text = summarize_part(part, cases, verdicts, tier=1)
        evidence = own_block or (blocked[0] if blocked else None)
        if passed < total and part.from_scratch and evidence:
            text = (f"Part {part.id} must be written from scratch (numpy only): torch, scipy and "
                    f"coursekit cannot be imported when it is graded ({evidence}).\n" + text)
        result.parts.append(PartResult(part.id, part.title, score, part.points, passed, total, text))
    return result


def _internal_error(found: Found, exc: Exception, doing: str) -> SubmissionResult:
    r = SubmissionResult(str(found.path), found.student, None)
    r.errors.append(f"the grader failed while {doing} ({type(exc).__name__}: {exc}); please grade it by hand")
    return r


def _merge_duplicates(pendings: list[_Pending]) -> list[_Pending]:
    """One row per student and exercise: two notebooks of one exercise by one student are refused."""
    groups: dict[tuple[str, str], list[_Pending]] = {}
    for p in pendings:
        if p.result.exercise and p.parts:
            groups.setdefault((p.result.student, p.result.exercise), []).append(p)
    out = []
    for p in pendings:
        key = (p.result.student, p.result.exercise)
        group = groups.get(key) if p.parts else None
        if group is None or len(group) == 1:
            out.append(p)
        elif group[0] is p:
            files = ", ".join(os.path.basename(q.result.file) for q in group)
            why = (f"{len(group)} notebooks of exercise {p.result.exercise} for this student ({files}); "
                   "none was graded: grade the right one by passing its file")
            r = SubmissionResult(" | ".join(q.result.file for q in group), p.result.student, p.result.exercise)
            r.errors.append(why)
            out.append(_Pending(_zero(r, p.parts, why)))
    return out


def _warm_up() -> None:
    """Import, before any submission runs, every module the judges may need (torch: once, not in two threads)."""
    for name in ("torch", "coursekit.grading.gradebook"):
        try:
            __import__(name)
        except ImportError:
            pass


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
    sandbox: Sandbox | None = None,
    unsafe_no_sandbox: bool = False,
    progress: bool = False,
) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; one :class:`SubmissionResult` per student and exercise.

    Each submission runs in its own bubblewrap sandbox (a second one, with
    torch, for parts that are not from scratch). ``seed`` fixes the
    grade-time inputs (to reproduce a run); by default it is drawn from
    :mod:`secrets` and never shown. ``sandbox``: a :class:`Sandbox` to reuse
    (tests); ``unsafe_no_sandbox``: plain limited processes, no isolation.
    Raises :class:`~coursekit.grading.sandbox.SandboxUnavailable` when
    bubblewrap is missing or cannot start here.
    """
    if exercises is None:
        exercises = EXERCISES
    if exercise is not None and exercise not in exercises:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(exercises)}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout}")
    if memory_mb <= 0:
        raise ValueError(f"memory_mb must be positive, got {memory_mb}")
    seed = secrets.randbits(64) if seed is None else int(seed)
    files = find_submissions(paths, exercises, exclude=exclude)
    if not files:
        return []
    own = sandbox is None
    if own:
        sandbox = Sandbox(unsafe=unsafe_no_sandbox)
        try:
            sandbox.self_test()
        except BaseException:
            sandbox.close()
            raise
    _warm_up()
    memory = int(memory_mb) * 2**20
    pendings = []
    for f in files:
        try:
            pendings.append(prepare(f, exercise=exercise, exercises=exercises, seed=seed))
        except Exception as exc:  # one odd file must not stop the batch
            pendings.append(_Pending(_internal_error(f, exc, "reading it")))
    pendings = _merge_duplicates(pendings)
    # pre-loaded sandboxes started here, in the main thread: they die with the thread that starts them
    needs = {("numpy" if p.from_scratch else "torch") for q in pendings for p in q.parts}
    for profile in sorted(needs):
        sandbox.start(profile, min(max(1, workers), len(pendings)))
    results: list[SubmissionResult | None] = [None] * len(pendings)
    lock = threading.Lock()  # judging (torch, numpy) one submission at a time
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(pendings), unit="submission", desc="grading", leave=False)

    def handle(i: int) -> None:
        pending = pendings[i]
        try:
            pending.result.sandboxed = not sandbox.unsafe
            if pending.parts:
                runs = []
                groups = [("numpy", [p for p in pending.parts if p.from_scratch]),
                          ("torch", [p for p in pending.parts if not p.from_scratch])]
                for profile, parts in groups:
                    if not parts:
                        continue
                    job = sandbox.job(pending.cells, [{"id": p.id, "function": p.function,
                                                       "time_limit": float(p.time_limit)} for p in parts],
                                      timeout=timeout, memory=memory, profile=profile, cell_limit=CELL_LIMIT)
                    runs.append((parts, sandbox.run(encode_job(job, pending.cases), profile, timeout)))
                with lock:
                    results[i] = judge(pending, runs, timeout)
            else:
                results[i] = pending.result
        except Exception as exc:
            results[i] = _internal_error(Found(Path(pending.result.file), pending.result.student), exc,
                                         "grading it")
        finally:
            if bar is not None:
                with lock:
                    bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(handle, range(len(pendings))))
    finally:
        if bar is not None:
            bar.close()
        if own:
            sandbox.close()
    return [r for r in results if r is not None]
