"""Instant feedback in the exercise notebooks: ``check("6.1", softmax)``.

``check`` runs the part's public cases (drawn from ``PUBLIC_SEED``) on the
student's function and prints one short verdict: the points on success, or the
first failing case in words with expected vs got and a hint. It never raises:
whatever the function does (wrong signature, exception, infinite loop, odd
return type) becomes a message. The printed text is deterministic (no
timings), so the solution notebooks pass strict nbval.

This is feedback, not grading: it runs the student's code in the student's own
kernel. The batch grader (``coursekit grade``) judges in a separate process.
"""

from __future__ import annotations

import builtins
import copy
import inspect
import linecache
import os
import re
import signal
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit.exercises.spec import PUBLIC_SEED, Case, Part, get_part, judge_result, to_plain

# Libraries a from-scratch part must not call (the point is to write it in numpy).
FORBIDDEN = ("torch", "scipy", "coursekit", "sklearn", "jax", "tensorflow")
_OTHER_PART = re.compile(r"Exercise (\d+\.\d+)")  # the stub message of another part
_COURSEKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: ``passed`` (every case right), ``score`` out of ``max_score`` points."""

    part: str
    passed: bool
    score: float
    max_score: int
    message: str = ""

    def __repr__(self) -> str:  # short and deterministic, whatever the message says
        return (f"CheckResult(part={self.part!r}, passed={self.passed}, score={self.score:g}, "
                f"max_score={self.max_score})")

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's result: the printed feedback already said it all."""


class _TimeLimit(BaseException):  # BaseException: a student's `except Exception` must not swallow it
    pass


def _call_with_limit(func: Callable, args: tuple, kwargs: dict, limit: float) -> Any:
    """Call ``func``; raise _TimeLimit after ``limit`` seconds (SIGALRM in the main thread)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum, frame):
            raise _TimeLimit

        previous = signal.signal(signal.SIGALRM, on_alarm)
        # re-fire every 0.2 s, in case the student's code catches the first one with a bare except
        signal.setitimer(signal.ITIMER_REAL, limit, 0.2)
        try:
            return func(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    # Elsewhere (a worker thread, Windows): run in a daemon thread and stop waiting after the limit.
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = func(*args, **kwargs)
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise _TimeLimit
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _forbidden_uses(func: Callable, depth: int = 0, seen: set | None = None) -> list[str]:
    """Names of forbidden libraries the function (or helpers it calls) refers to."""
    seen = set() if seen is None else seen
    code = getattr(func, "__code__", None)
    if code is None or code in seen or depth > 3:
        return []
    seen.add(code)
    glb = getattr(func, "__globals__", {})
    found: list[str] = []

    def names(c: types.CodeType):
        yield from c.co_names
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                yield from names(const)

    cells = [c.cell_contents for c in (func.__closure__ or ()) if _has_contents(c)]
    candidates = [(n, glb.get(n, getattr(builtins, n, None))) for n in names(code)]
    candidates += [(getattr(v, "__name__", ""), v) for v in cells]
    for name, obj in candidates:
        lib = _library_of(name, obj)
        if lib:
            found.append(lib)
        elif isinstance(obj, types.FunctionType) and obj is not func:
            found += _forbidden_uses(obj, depth + 1, seen)
    return sorted(set(found))


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True


def _library_of(name: str, obj: Any) -> str | None:
    if name in FORBIDDEN:
        return name
    if obj is None:
        return None
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(obj), "__module__", "") or ""
    top = module.split(".")[0]
    return top if top in FORBIDDEN else None


def _where(exc: BaseException, func: Callable) -> str:
    """' (line 3 of softmax: `return e / s`)' for the last frame of the student's code, if any."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(_COURSEKIT_DIR) and "site-packages" not in filename \
                and not filename.startswith("<frozen"):
            last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    code = last.tb_frame.f_code
    line = linecache.getline(code.co_filename, last.tb_lineno).strip()
    where = f" (line {last.tb_lineno - code.co_firstlineno + 1} of {code.co_name}"
    return where + (f": `{line}`)" if line else ")")


def _signature_problem(func: Callable, part: Part, case: Case) -> str | None:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None  # builtins without a signature: let the call tell
    try:
        sig.bind(*case.args, **case.kwargs)
    except TypeError as exc:
        n = len(case.args)
        kw = (f" and keyword argument{'s' if len(case.kwargs) > 1 else ''} {', '.join(case.kwargs)}"
              if case.kwargs else "")
        return (f"`{part.function}{sig}` cannot be called the way the exercise calls it "
                f"({n} positional argument{'s' if n != 1 else ''}{kw}): {exc}. "
                f"Keep the signature given in the exercise.")
    return None


def _describe_arg(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return type(value).__name__


def run_check(part_id: str, func: Any) -> CheckResult:
    """Run the public cases of ``part_id`` on ``func`` and return the result (nothing printed)."""
    try:
        part = get_part(part_id)
    except (ValueError, TypeError) as exc:
        return CheckResult(str(part_id), False, 0, 0, f"✘ {exc}")
    head = f"{part.id} {part.title}"

    def fail(n_passed: int, n_total: int, why: str, *, hint: bool = True) -> CheckResult:
        score = round(part.points * n_passed / n_total, 2) if n_total else 0
        lines = [f"✘ {head}: {why}"]
        if hint:
            lines.append(f"  Hint: {part.hint}")
        return CheckResult(part.id, False, score, part.points, "\n".join(lines))

    if isinstance(func, type) or not callable(func):
        called = " (did you pass the result of calling it instead of the function itself?)"
        return fail(0, 1, f"check needs your function `{part.function}` itself; got "
                          f"{_describe_arg(func)}{called if not isinstance(func, type) else ''}", hint=False)
    try:
        cases = part.cases(np.random.default_rng(PUBLIC_SEED))
    except Exception as exc:  # a broken spec must not look like the student's fault
        return fail(0, 1, f"could not build the test cases ({type(exc).__name__}: {exc}); "
                          "please report this to your instructor", hint=False)
    total = len(cases)
    for case in cases:  # cases may pass different keyword arguments (e.g. slope=0.2)
        problem = _signature_problem(func, part, case)
        if problem:
            return fail(0, total, problem, hint=False)

    passed = 0
    first_failure: str | None = None
    notes: list[str] = []
    for i, case in enumerate(cases, start=1):
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        about = f"case {i} of {total} ({case.label})"
        start = time.perf_counter()
        try:
            result = _call_with_limit(func, args, kwargs, part.time_limit)
        except NotImplementedError as exc:
            other = _OTHER_PART.search(str(exc))
            if other and other.group(1) != part.id:
                return fail(0, total, f"your function calls the function of exercise {other.group(1)}, "
                                      "which is not implemented yet: do that part first", hint=False)
            return CheckResult(part.id, False, 0, part.points,
                               f"… {head}: not implemented yet. Replace the `raise NotImplementedError(...)` "
                               f"line in `{part.function}` with your code, run that cell, then this one again.")
        except _TimeLimit:
            why = (f"{about}: took longer than {part.time_limit:g} s; is there an infinite loop, "
                   f"or a Python loop over every entry where a numpy operation would do?")
            return fail(passed, total, why)
        except RecursionError:
            first_failure = first_failure or f"{about}: RecursionError (a function that calls itself forever?)"
            continue
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            msg = msg if len(msg) <= 240 else msg[:237] + "..."
            first_failure = first_failure or (
                f"{about}: your function raised {type(exc).__name__}"
                f"{': ' + msg if msg else ''}{_where(exc, func)}")
            continue
        except BaseException as exc:  # SystemExit, KeyboardInterrupt from inside the function
            if isinstance(exc, KeyboardInterrupt):
                raise
            first_failure = first_failure or f"{about}: your function raised {type(exc).__name__}"
            continue
        if time.perf_counter() - start > part.time_limit:  # a slow C call the alarm could not interrupt
            return fail(passed, total, f"{about}: took longer than {part.time_limit:g} s; "
                                       "use vectorised numpy operations instead of loops")
        for name, before, after in zip(_arg_names(func, case), case.args, args, strict=False):
            if isinstance(before, np.ndarray) and isinstance(after, np.ndarray) \
                    and before.shape == after.shape and not np.array_equal(before, after, equal_nan=True):
                note = f"  Note: your function changed its argument `{name}` in place; work on a copy."
                if note not in notes:
                    notes.append(note)
        verdict = judge_result(part, case, result)
        if verdict is None:
            passed += 1
        else:
            first_failure = first_failure or f"{about}: {verdict}"

    forbidden = _forbidden_uses(func) if part.from_scratch else []
    if forbidden:
        libs = ", ".join(f"`{lib}`" for lib in forbidden)
        result = fail(0, total, f"this part is to be written from scratch with numpy, but your function "
                                f"uses {libs}; the grader gives it no points.", hint=False)
        return CheckResult(result.part, False, 0, part.points, "\n".join([result.message, *notes]))
    if first_failure is None:
        notes += _rng_notes(func, part, cases[0])
        lines = [f"✔ {head}: all {total} checks passed. {part.points}/{part.points} points.", *notes]
        return CheckResult(part.id, True, part.points, part.points, "\n".join(lines))
    score = round(part.points * passed / total, 2)
    lines = [f"✘ {head}: {passed} of {total} checks passed ({score:g}/{part.points} points).",
             f"  First failure, {first_failure}", f"  Hint: {part.hint}", *notes]
    return CheckResult(part.id, False, score, part.points, "\n".join(lines))


def _rng_notes(func: Callable, part: Part, case: Case) -> list[str]:
    """For functions taking an rng: do they draw from it (same seed, same weights; new seed, new weights)?"""
    where = [i for i, a in enumerate(case.args) if isinstance(a, np.random.Generator)]
    if not where:
        return []
    i = where[0]

    def call(rng: np.random.Generator) -> Any:
        args = list(copy.deepcopy(case.args))
        args[i] = rng
        return to_plain(_call_with_limit(func, tuple(args), copy.deepcopy(case.kwargs), part.time_limit))

    try:
        a, b = call(np.random.default_rng(1)), call(np.random.default_rng(1))
        c = call(np.random.default_rng(2))
    except (Exception, _TimeLimit):
        return []
    same = isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
    if not (same and np.array_equal(a, b)):
        return ["  Note: two generators with the same seed gave different weights: draw every number "
                "from the rng argument (not np.random.* or a generator of your own)."]
    if isinstance(c, np.ndarray) and c.shape == a.shape and np.array_equal(a, c):
        return ["  Note: generators with different seeds gave the same weights: draw from the rng argument."]
    return []


def _arg_names(func: Callable, case: Case) -> list[str]:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"#{i + 1}" for i in range(len(case.args))]


def check(part_id: str, func: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``func`` against exercise part ``part_id`` ("6.1"), print the feedback, return the result.

    Never raises. ``quiet=True`` prints nothing (for an ``assert check(...).passed``).
    """
    try:
        result = run_check(part_id, func)
    except Exception as exc:  # last resort: feedback must never crash the student's notebook
        result = CheckResult(str(part_id), False, 0, 0, f"✘ check failed unexpectedly: {type(exc).__name__}: {exc}")
    if not quiet:
        print(result.message)
    return result
