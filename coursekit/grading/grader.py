"""Grading a batch: read each submission, run it in its own sandbox, judge the answers here.

The judge runs in this process, which never runs student code, on plain
data read from the sandbox's result pipe. Points come from the spec only
(:func:`score_part`, the rule ``check()`` uses too). Inputs are drawn at
grading time from a secret seed, one stream per submission; the expected
outputs are computed here and never enter a sandbox.
"""

from __future__ import annotations

import copy
import hashlib
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

from coursekit.exercises import judging
from coursekit.exercises.judging import allowed_from_scratch, from_scratch_words
from coursekit.exercises.spec import EXERCISES, judge_result, summarize_part
from coursekit.grading import limits
from coursekit.grading.notebook import (
    Found,
    Submission,
    SubmissionError,
    display,
    find_submissions,
    is_check_cell,
    parse_notebook,
    read_file,
    which_exercise,
)
from coursekit.grading.sandbox import RunResult, Sandbox
from coursekit.grading.similarity import fingerprints
from coursekit.grading.wire import WireError, decode_value, encode_job, iter_frames

BLOCKED_IMPORT = re.compile(r"No module named '([\w.]+)'|coursekit\.\w+ is not available")


def blocked_import(error: str) -> bool:
    """Whether a sandbox error says that a module a from-scratch part may not use was missing
    (the one list of what it may use is ``judging.FROM_SCRATCH_ALLOWED`` plus the standard library)."""
    m = BLOCKED_IMPORT.search(error)
    return bool(m) and (m.group(1) is None or not allowed_from_scratch(m.group(1)))


@dataclass
class PartResult:
    id: str
    title: str
    score: float
    max_score: int
    passed: int = 0
    total: int = 0
    feedback: str = ""
    first_failure: str = ""  # "case K: what was wrong", for the instructor's report

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
    seed: int | None = None  # the batch seed: every submission of an exercise got the same inputs
    sha256: str = ""  # of the file as it was read
    submitted: float | None = None  # the file's modification time (seconds since the epoch)
    notes: list[str] = field(default_factory=list)  # for the instructor (resubmissions), not the student
    late: str = ""  # how late, when a deadline was given
    code: dict[str, str] = field(default_factory=dict)  # similarity fingerprints (see similarity.py)

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
            "notes": list(self.notes),
            "late": self.late,
            "sandboxed": self.sandboxed,
            "seed": self.seed,
            "sha256": self.sha256,
            "submitted": self.submitted,
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


def draw_cases(name: str, parts: list, seed: int) -> dict[str, list]:
    """The grading inputs of exercise ``name`` in a batch of seed ``seed``: the same for every submission."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return {p.id: list(p.cases(rng)) for p in parts}


def prepare(found: Found, *, exercise: str | None, exercises: Mapping[str, list], seed: int,
            drawn: dict | None = None) -> _Pending:
    """Read one submission and draw its cases (nothing of it runs here).

    ``drawn``: a cache of :func:`draw_cases` per exercise for the batch (drawing
    some exercises' inputs takes half a second); each submission gets its own copy.
    """
    result = SubmissionResult(str(found.path), found.student, exercise if exercise in exercises else None,
                              seed=seed, submitted=found.mtime)
    try:
        if found.problem:
            raise SubmissionError(found.problem)
        raw = read_file(found.path)
        result.sha256 = hashlib.sha256(raw).hexdigest()
        sub: Submission = parse_notebook(found.path, raw)
        name = which_exercise(sub, exercise, exercises)
    except SubmissionError as exc:
        result.errors.append(str(exc))
        if result.exercise:
            _zero(result, exercises[result.exercise], str(exc))
        return _Pending(result)
    result.exercise = name
    parts = list(exercises[name])
    # one secret stream per exercise, from the batch seed: every submission of it gets the same inputs
    if drawn is None:
        cases = draw_cases(name, parts, seed)
    else:
        if name not in drawn:
            drawn[name] = draw_cases(name, parts, seed)
        cases = copy.deepcopy(drawn[name])  # a judge can never change another submission's inputs
    cells = [(c.index, c.source) for c in sub.cells if not is_check_cell(c)]
    try:
        result.code = fingerprints(cells, parts)
    except Exception:  # a fingerprint is a help for the instructor, never a reason not to grade
        result.code = {}
    return _Pending(result, parts, cases, cells)


def _process_problem(run: RunResult, timeout: float) -> str | None:
    if run.truncated:
        return f"the submission sent more than {limits.STREAM_BYTES / limits.MB:g} MB of results and was stopped"
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
    return display(value, limits.MESSAGE_CHARS)


@dataclass
class _Stream:
    answers: dict = field(default_factory=dict)  # (part, case) -> (value, error)
    missing: dict = field(default_factory=dict)  # part -> why its function is missing
    cell_errors: list = field(default_factory=list)  # (cell index, message)
    ended: bool = False
    current: str | None = None  # the last part the runner started answering
    error: str | None = None  # the stream ended in the middle of a frame


def _read_run(run: RunResult, pending: _Pending, part_ids: set[str]) -> _Stream:
    """What one run reported; _Tampered if its stream breaks the protocol in any way."""
    try:
        return _parse_run(run, pending, part_ids)
    except _Tampered:
        raise
    except Exception as exc:  # a malformed value anywhere: a list for a number, a dict for a string ...
        raise _Tampered(f"a malformed frame ({type(exc).__name__})") from None


def _parse_run(run: RunResult, pending: _Pending, part_ids: set[str]) -> _Stream:
    ncases = {pid: len(pending.cases[pid]) for pid in part_ids}
    indices = {i for i, _ in pending.cells}
    out = _Stream()
    started: set[str] = set()
    for item in iter_frames(run.stream):  # one frame parsed at a time: the first bad one ends it
        if isinstance(item, str):
            if "ends in the middle" not in item:
                raise _Tampered(item)
            out.error = item
            break
        header, blobs = item
        if out.ended:
            raise _Tampered("frames after the end")
        kind = header.get("kind")
        if kind == "start":
            continue
        if kind == "end":
            out.ended = True
        elif kind == "cell":
            index = header.get("index")
            if type(index) is not int or index not in indices:
                raise _Tampered("a report on a cell that was not sent")
            out.cell_errors.append((index, _message(header.get("error"))))
        elif kind == "part":
            pid = header.get("part")
            if type(pid) is not str or pid not in ncases or pid in started:
                raise _Tampered("a report on an unknown part")
            started.add(pid)
            out.current = pid
        elif kind == "missing":
            pid = header.get("part")
            if type(pid) is not str or pid not in ncases or pid in out.missing:
                raise _Tampered("a report on an unknown part")
            out.missing[pid] = _message(header.get("error"))
        elif kind == "case":
            pid, k = header.get("part"), header.get("case")
            if type(pid) is not str or pid not in ncases or type(k) is not int or not 0 <= k < ncases[pid]:
                raise _Tampered("an answer to a case that was not asked")
            if (pid, k) in out.answers or pid in out.missing:
                raise _Tampered(f"two answers for part {pid}, case {k + 1}")
            if "error" in header:
                out.answers[(pid, k)] = (None, _message(header["error"]))
            else:
                try:
                    out.answers[(pid, k)] = (decode_value(header.get("value"), blobs), None)
                except (WireError, RecursionError) as exc:
                    raise _Tampered(f"an unreadable answer ({exc})") from None
        else:
            raise _Tampered("a frame of an unknown kind")
    return out


def crashed_part(stream: _Stream, run: RunResult, parts: list) -> int | None:
    """Index in ``parts`` of the part whose call crashed the run (not a time limit), if one did."""
    if stream.ended or run.timed_out or run.truncated or stream.current is None:
        return None
    ids = [p.id for p in parts]
    return ids.index(stream.current) if stream.current in ids else None


def judge(pending: _Pending, runs: list[tuple[list, RunResult]], timeout: float) -> SubmissionResult:
    """Turn each run's stream into scores, judging every case here in the grader."""
    result = pending.result
    by_part: dict[str, tuple] = {}
    blocked: list[str] = []  # evidence that the code tried to import torch / scipy / coursekit
    for parts, run in runs:
        result.seconds += run.seconds
        ids = {p.id for p in parts}
        try:
            stream = _read_run(run, pending, ids)
        except _Tampered as exc:
            why = (f"the submission wrote to the grader's result channel itself ({exc}); "
                   "nothing of it was graded")
            result.errors.append(why)
            return _zero(result, pending.parts, why)
        answers, missing, cell_errors = stream.answers, stream.missing, stream.cell_errors
        problem = _process_problem(run, timeout)
        if problem is None and not stream.ended:
            if run.stream[:4] == b"" and b"bwrap" in run.stderr:
                problem = ("the grading sandbox failed to start (" +
                           run.stderr.decode("utf-8", "replace").strip()[-200:] + "); please grade it by hand")
            elif run.exit not in (0, None):
                problem = f"the submission's process exited early (status {run.exit}) before it finished"
            else:
                problem = "the submission's process ended before it finished (os._exit?)"
        if problem and problem not in result.errors:
            result.errors.append(problem)
        shown = limits.CELL_ERRORS
        for index, error in cell_errors[:shown]:
            line = f"cell {index}: {error}"
            if line not in result.errors:
                result.errors.append(line)
        if len(cell_errors) > shown:
            result.errors.append(f"... and {len(cell_errors) - shown} more failing cells")
        blocked += [f"cell {i}: {e}" for i, e in cell_errors if blocked_import(e)]
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
                own_block = own_block or (error if blocked_import(error) else None)
                continue
            verdicts.append(judge_result(part, case, value))
        passed = sum(v is None for v in verdicts)
        total = len(cases)
        first = next(((k, v) for k, v in enumerate(verdicts) if v is not None), None)
        # The same points and words as check() in the notebook (tier-1 hint: never code).
        score, text = summarize_part(part, cases, verdicts, tier=1)
        evidence = own_block or (blocked[0] if blocked else None)
        if passed < total and part.from_scratch and evidence:
            text = (f"Part {part.id} must be written from scratch ({', '.join(judging.FROM_SCRATCH_ALLOWED)} only): "
                    f"nothing but {from_scratch_words()} "
                    f"can be imported when it is graded ({evidence}).\n" + text)
        result.parts.append(PartResult(part.id, part.title, score, part.points, passed, total, text,
                                       "" if first is None else f"case {first[0] + 1}: {display(first[1], 120)}"))
    return result


def _internal_error(found: Found, exc: Exception, doing: str) -> SubmissionResult:
    r = SubmissionResult(str(found.path), found.student, None)
    r.errors.append(f"the grader failed while {doing} ({type(exc).__name__}: {exc}); please grade it by hand")
    return r


def _latest(pendings: list[_Pending]) -> list[_Pending]:
    """One row per student and exercise: of several notebooks, the latest by modification time is graded.

    The row's notes name the others (the instructor's column, not the student's
    feedback); a file that could not be read at all (so of no known exercise)
    next to a student's graded notebook is named in that row's notes too.
    """
    groups: dict[tuple[str, str], list[_Pending]] = {}
    for p in pendings:
        if p.result.exercise:
            groups.setdefault((p.result.student, p.result.exercise), []).append(p)
    students = {student for student, _ in groups}
    out = []
    for p in pendings:
        if not p.result.exercise:
            if p.result.student in students:  # a broken file next to real ones: a note, not a second row
                note = (f"also in the folder: {os.path.basename(p.result.file)}, not graded "
                        f"({'; '.join(p.result.errors)[:200]})")
                for (student, _), group in groups.items():
                    if student == p.result.student:
                        for q in group:  # the one of them that is graded carries it
                            q.result.notes.append(note)
            else:
                out.append(p)
            continue
        group = groups[(p.result.student, p.result.exercise)]
        if len(group) == 1:
            out.append(p)
            continue
        latest = max(group, key=lambda q: (q.result.submitted or 0, q.result.file))
        if p is latest:
            others = ", ".join(os.path.basename(q.result.file) for q in group if q is not p)
            p.result.notes.append(f"resubmission: {len(group)} notebooks of {p.result.exercise}; graded the latest "
                                  f"by modification time ({os.path.basename(p.result.file)}), not {others}")
            out.append(p)
    return out


def _batch_exercise(pendings: list[_Pending], exercises: Mapping[str, list]) -> None:
    """One exercise per batch: the most common one; a notebook of another exercise is a row error."""
    counts: dict[str, int] = {}
    for p in pendings:
        if p.parts:
            counts[p.result.exercise] = counts.get(p.result.exercise, 0) + 1
    if len(counts) < 2:
        return
    order = list(exercises)
    batch = max(counts, key=lambda name: (counts[name], -order.index(name)))
    graded = {p.result.student: p for p in pendings if p.parts and p.result.exercise == batch}
    for p in list(pendings):
        if p.parts and p.result.exercise != batch and p.result.student in graded:
            # the student's folder also holds the batch's exercise: that one is the row; this one is a note
            graded[p.result.student].result.notes.append(
                f"also in the folder: {os.path.basename(p.result.file)} (exercise {p.result.exercise}), "
                "not graded in this batch")
            pendings.remove(p)
        elif p.parts and p.result.exercise != batch:
            why = (f"this notebook is exercise {p.result.exercise}, but this batch is exercise {batch} (the "
                   f"exercise of most notebooks): not graded; grade it in a batch of its own, or pass "
                   f"--exercise, or --mixed for a folder that holds several exercises")
            p.result.errors.append(why)
            p.result.exercise = batch
            _zero(p.result, exercises[batch], why)
            p.parts, p.cases, p.cells = [], {}, []


def _late(result: SubmissionResult, deadline: float | None) -> None:
    if deadline is None or result.submitted is None or result.submitted <= deadline:
        return
    minutes = int((result.submitted - deadline) // 60)
    result.late = f"{minutes // 1440}d {minutes // 60 % 24}h {minutes % 60}m late" if minutes >= 1440 else \
        f"{minutes // 60}h {minutes % 60}m late"


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
    timeout: float | None = None,
    memory_mb: int | None = None,
    workers: int = 2,
    seed: int | None = None,
    exercises: Mapping[str, list] | None = None,
    sandbox: Sandbox | None = None,
    unsafe_no_sandbox: bool = False,
    progress: bool = False,
    names_from_files: bool = False,
    mixed: bool = False,
    deadline: float | None = None,
) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; one :class:`SubmissionResult` per student and exercise.

    Each submission runs in its own bubblewrap sandbox (a second one, with
    torch, for parts that are not from scratch). ``seed`` fixes the
    grade-time inputs (to reproduce a run); by default it is drawn from
    :mod:`secrets` and never shown. ``sandbox``: a :class:`Sandbox` to reuse
    (tests); ``unsafe_no_sandbox``: plain limited processes, no isolation.
    ``names_from_files``: a notebook directly in a given folder (or given by
    name) is the student its file is named after, not its folder's.
    ``mixed``: each notebook is graded as the exercise it says it is, instead
    of one exercise per batch (the most common; others are row errors).
    ``timeout`` (seconds per run) and ``memory_mb`` default to ``limits.SUBMISSION_SECONDS`` and
    ``limits.MEMORY_MB``. ``deadline`` (seconds since the epoch): rows of files modified later say
    how late. Of several notebooks of one exercise by one student, the latest
    by modification time is graded, and the row's notes say so.
    Raises :class:`~coursekit.grading.sandbox.SandboxUnavailable` when
    bubblewrap is missing or cannot start here.
    """
    if exercises is None:
        exercises = EXERCISES
    timeout = limits.SUBMISSION_SECONDS if timeout is None else timeout
    memory_mb = limits.MEMORY_MB if memory_mb is None else memory_mb
    if exercise is not None and exercise not in exercises:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(exercises)}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout}")
    if memory_mb <= 0:
        raise ValueError(f"memory_mb must be positive, got {memory_mb}")
    seed = secrets.randbits(64) if seed is None else int(seed)
    files = find_submissions(paths, exercises, names_from_files=names_from_files)
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
    memory = int(memory_mb) * limits.MB
    pendings = []
    drawn: dict[str, dict[str, list]] = {}
    for f in files:
        try:
            pendings.append(prepare(f, exercise=exercise, exercises=exercises, seed=seed, drawn=drawn))
        except Exception as exc:  # one odd file must not stop the batch
            pendings.append(_Pending(_internal_error(f, exc, "reading it")))
    if exercise is None and not mixed:
        _batch_exercise(pendings, exercises)
    pendings = _latest(pendings)
    for p in pendings:
        _late(p.result, deadline)
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
                    for _ in range(len(parts)):  # bounded: each run after a crash leaves out a part
                        if not parts:
                            break
                        job = sandbox.job(pending.cells, [{"id": p.id, "function": p.function,
                                                           "time_limit": float(p.time_limit)} for p in parts],
                                          timeout=timeout, memory=memory, profile=profile)
                        run = sandbox.run(encode_job(job, pending.cases), profile, timeout)
                        runs.append((parts, run))
                        try:
                            k = crashed_part(_read_run(run, pending, {p.id for p in parts}), run, parts)
                        except _Tampered:
                            k = None
                        # a crash in one part's call (segfault, os._exit ...) costs that part only:
                        # the parts after it run again, in a sandbox of their own
                        parts = [] if k is None else parts[k + 1:]
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
