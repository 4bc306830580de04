"""Instant feedback in the exercise notebooks: ``check("6.1", softmax)``.

``check`` runs the part's public cases (drawn from ``PUBLIC_SEED``) on the
student's function, judges each result with the same judges, the same
scoring rule and the same feedback text as ``coursekit grade``
(:func:`~coursekit.exercises.judging.summarize_part`), and prints it. It never
raises: whatever the function does (wrong signature, exception, infinite
loop, odd return type) becomes a message. The printed text of a right answer is
deterministic (no timings, no new-case warning), so the solution notebooks pass strict nbval.

The public cases are the same at every call, so a function can be right on them and wrong elsewhere
(a table of them, read from the notebook or from coursekit's data). Where the part's judge needs no
stored answer (it judges by properties, or with torch as the oracle), ``check`` also runs a few new
cases of the same families, drawn from a new seed, and says when the function fails them: the grader,
which draws new inputs, will give less than the public score shown (see ``_fresh_check``). Where the
judge compares with reference answers, which only the public cases carry (the student edition has no
generator), it says in one line that the grader uses other inputs of the same kinds.

Hints come in tiers: the first failure of a part shows the conceptual hint,
a repeated failure of the same part in the same kernel a more specific one.

This is feedback, not grading: it runs the student's code in the student's own
kernel. The grader runs it in a sandbox that has only numpy and the standard
library for a from-scratch part (``judging.FROM_SCRATCH_ALLOWED``, the list the
sandbox is built from); ``check`` cannot enforce that the same way, so it refuses
any function whose code (or whose cell, or a helper it calls) reaches anything
else, and says so when it cannot tell. Inside a loop, a condition or a function it
returns no verdict, like the grader's stand-in check() (see ``_in_search``).
"""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import html
import inspect
import linecache
import os
import re
import signal
import sys
import sysconfig
import threading
import time
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit.exercises import judging
from coursekit.exercises.judging import (
    FORBIDDEN_LIBRARIES,
    PUBLIC_SEED,
    Case,
    Part,
    allowed_from_scratch,
    from_scratch_words,
    judge_result,
    score_part,
    summarize_part,
)
from coursekit.exercises.spec import draws_fresh_cases, fresh_cases, get_part

_OTHER_PART = re.compile(r"Exercise (\d+\.\d+)")  # the stub message of another part
_COURSEKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# names through which a function can reach a module without naming it: check() cannot follow them
_OPAQUE = frozenset({"eval", "exec", "compile", "__import__", "getattr", "globals", "vars", "importlib"})
# attributes through which code can reach the kernel's other objects (check()'s own cases, say)
_OPAQUE_ATTRS = frozenset({"modules", "get_objects", "get_referrers", "_getframe", "f_back", "f_globals", "f_locals"})

_failures: dict[str, int] = {}  # part id -> failed checks so far in this kernel (chooses the hint's tier)


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: ``passed`` (every case right), ``score`` out of ``max_score`` points."""

    part: str
    passed: bool
    score: float
    max_score: int
    message: str = ""
    substantive: bool = dataclasses.field(default=False, repr=False, compare=False)
    # substantive: some case returned a value the judge rejected (not only errors): escalates the hint
    fresh_failures: int | None = dataclasses.field(default=None, repr=False, compare=False)
    # how many new cases of the part's families (see _fresh_check) the function failed; None: none were run

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


# ---------------------------------------------------------------- the from-scratch rule


@dataclass
class _Reach:
    libraries: set  # forbidden libraries the function reaches
    opaque: set  # names check() cannot see through
    uninspectable: list  # callables whose code check() cannot read


def _reach(func: Any) -> _Reach:
    """What ``func`` and the plain functions it calls reach: its globals, closure and cells' imports."""
    found = _Reach(set(), set(), [])
    seen: set = set()
    todo = [func]
    while todo and len(seen) < 200:  # bounded: every code object is visited once
        f = todo.pop()
        code = getattr(f, "__code__", None)
        if code is None:
            if callable(f) and not isinstance(f, (types.BuiltinFunctionType, type)) \
                    and _library_of("", f) is None and not _is_library_callable(f):
                found.uninspectable.append(getattr(f, "__name__", type(f).__name__))
            continue
        if code in seen:
            continue
        seen.add(code)
        glb = getattr(f, "__globals__", {})
        found.libraries |= _cell_imports(code.co_filename)
        cells = [c.cell_contents for c in (getattr(f, "__closure__", None) or ()) if _has_contents(c)]
        candidates = [(n, glb.get(n, getattr(builtins, n, None))) for n in _names(code)]
        candidates += [(getattr(v, "__name__", ""), v) for v in cells]
        found.opaque |= {n for n in code.co_names if n in _OPAQUE_ATTRS}
        for name, obj in candidates:
            if name in _OPAQUE and (obj is None or isinstance(obj, (types.BuiltinFunctionType, types.ModuleType))):
                found.opaque.add(name)
            lib = _library_of(name, obj)
            if lib:
                found.libraries.add(lib)
            elif isinstance(obj, types.FunctionType) and obj is not f:
                todo.append(obj)
            elif isinstance(obj, types.MethodType):
                todo.append(obj.__func__)
            elif callable(obj) and not isinstance(obj, (type, types.BuiltinFunctionType, types.ModuleType)) \
                    and not _is_library_callable(obj) and name not in vars(builtins):
                found.uninspectable.append(name)
    return found


def _names(code: types.CodeType):
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True


def _module_of(obj: Any) -> str:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(obj), "__module__", "") or ""
    return module


def _top_module(obj: Any) -> str:
    return _module_of(obj).split(".")[0]


def _library_of(name: str, obj: Any) -> str | None:
    """The library ``obj`` comes from when a from-scratch part may not use it, else None."""
    if obj is None:
        return name if name in FORBIDDEN_LIBRARIES and not allowed_from_scratch(name) else None
    if obj is check or obj is run_check:  # the grader provides a stand-in check()
        return None
    if isinstance(obj, np.ufunc) and getattr(np, getattr(obj, "__name__", ""), None) is not obj:
        # a ufunc says only "numpy" as its module: find the library that exports it (scipy.special.expit)
        for mod_name, mod in list(sys.modules.items()):
            if not allowed_from_scratch(mod_name) and getattr(mod, obj.__name__, None) is obj:
                return mod_name.split(".")[0]
    if isinstance(obj, (types.FunctionType, types.MethodType)) and not _installed(obj):
        return None  # the notebook's (or a test's) own code: followed, judged by what it reaches
    module = _module_of(obj)
    return None if allowed_from_scratch(module) else module.split(".")[0]


_INSTALLED = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})


def _installed(func: Any) -> bool:
    """Whether a Python function comes from an installed library (site-packages, the stdlib)."""
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    filename = getattr(code, "co_filename", "")
    return filename.startswith(_INSTALLED) or "site-packages" in filename or "dist-packages" in filename


def _is_library_callable(obj: Any) -> bool:
    """numpy's functions and ufuncs, math's, ...: code from an installed library, not from the notebook."""
    return _top_module(obj) not in ("", "__main__", "builtins") or isinstance(obj, np.ufunc)


_cell_cache: dict[str, frozenset] = {}  # a cell's imported modules (judged at each call: the list may change)


def _is_cell(filename: str) -> bool:
    """ipykernel's ``/tmp/ipykernel_<pid>/<n>.py``, IPython's ``<ipython-input-…>``, exec'd ``<…>`` code."""
    return filename.startswith("<") or "ipykernel_" in filename


def _cell_imports(filename: str) -> frozenset:
    """Libraries a from-scratch part may not use, imported anywhere in the cell that defined a function.

    Only cells count (ipykernel's ``/tmp/ipykernel_<pid>/<n>.py``, IPython's ``<ipython-input-…>``):
    a module on disk is judged by what its functions reach, not by every import it holds.
    """
    if not _is_cell(filename):
        return frozenset()
    lines = linecache.getlines(filename)
    if not lines:
        return frozenset()
    source = "".join(lines)
    key = f"{filename}\0{hash(source)}"
    if key not in _cell_cache:
        found = set()
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            tree = None
        for n in ast.walk(tree) if tree is not None else ():
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [n.module or ""] if isinstance(n, ast.ImportFrom) and n.level == 0 else []
            found |= set(names)
        _cell_cache[key] = frozenset(found)
    return frozenset(m.split(".")[0] for m in _cell_cache[key] if not allowed_from_scratch(m))


def _scratch_problem(func: Callable) -> tuple[str | None, str | None]:
    """(why the function scores 0 under the from-scratch rule, a note where check() cannot be sure)."""
    reach = _reach(func)
    libs = ", ".join(f"`{lib}`" for lib in sorted(reach.libraries))
    if reach.libraries:
        return (f"this part is written from scratch with {', '.join(judging.FROM_SCRATCH_ALLOWED)}, but your "
                f"function (its code, its cell or a helper it calls) uses {libs}. The grader's sandbox has only {from_scratch_words()} "
                f"for this part, so {libs} cannot be imported there and the part scores 0; "
                "check() gives the same 0"), None
    unsure = sorted(reach.opaque) + sorted(set(reach.uninspectable))
    if unsure:
        names = ", ".join(f"`{n}`" for n in unsure[:4])
        return None, (f"  Note: check() cannot see what your function reaches through {names}. In the grader's "
                      f"sandbox only {from_scratch_words()} can be imported for this part: if your "
                      "code needs anything else there, it scores 0.")
    return None, None


# ---------------------------------------------------------------- running the cases


def _where(exc: BaseException, func: Callable) -> str:
    """' (line 3 of softmax)' for the last frame of the student's code, if any (never the code itself)."""
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
    return f" (line {last.tb_lineno - code.co_firstlineno + 1} of {code.co_name})"


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


def _arg_names(func: Callable, case: Case) -> list[str]:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"#{i + 1}" for i in range(len(case.args))]


OTHER_INPUTS_NOTE = ("  Note: check() runs these public cases only; the grader judges the same kinds of cases "
                     "with other inputs.")


def _result(part: Part, head: str, cases: list[Case], verdicts: list[str | None], notes: list[str],
            tier: int, substantive: bool = False, fresh: tuple[int, str | None] | None = None) -> CheckResult:
    """The feedback of the shared summary, with the part's head and the notes.

    ``fresh`` is (new cases failed, the warning or None) when new cases of the part's families ran (see
    _fresh_check). When some failed, the score stays the public cases', but the result does not pass
    and the warning comes first among the notes.
    """
    score, text = summarize_part(part, cases, verdicts, tier=tier)
    first, *rest = text.split("\n")
    passed = all(v is None for v in verdicts) and not (fresh and fresh[0])
    notes = ([fresh[1]] if fresh and fresh[1] else []) + notes
    if not draws_fresh_cases(part):
        notes.append(OTHER_INPUTS_NOTE)
    lines = [f"{'✔' if passed else '✘'} {head}: {first}", *(f"  {line}" for line in rest), *notes]
    return CheckResult(part.id, passed, score, part.points, "\n".join(lines), substantive,
                       fresh[0] if fresh else None)


_PUBLIC: dict[str, list[Case]] = {}


def _public_cases(part: Part) -> list[Case]:
    """The part's public cases, drawn once per kernel (each call gets deep copies of the inputs)."""
    if part.id not in _PUBLIC:
        _PUBLIC[part.id] = part.cases(np.random.default_rng(PUBLIC_SEED))
    return _PUBLIC[part.id]


def run_check(part_id: str, func: Any, *, tier: int | None = None, fresh_seed: int | None = None) -> CheckResult:
    """Run the public cases of ``part_id`` on ``func`` and return the result (nothing printed).

    ``tier`` forces the hint's tier; by default it is 1 for a part's first failure
    in this kernel and 2 afterwards. Where the part's judge needs no stored answer, the
    function also runs on new cases of the same families (see :func:`_fresh_check`), drawn
    from ``fresh_seed`` (by default a new seed at every call).
    """
    try:
        part = get_part(part_id)
    except (ValueError, TypeError) as exc:
        return CheckResult(str(part_id), False, 0, 0, f"✘ {exc}")
    head = f"{part.id} {part.title}"
    if isinstance(func, type) or not callable(func):
        called = " (did you pass the result of calling it instead of the function itself?)"
        why = (f"check needs your function `{part.function}` itself; got "
               f"{_describe_arg(func)}{called if not isinstance(func, type) else ''}")
        return CheckResult(part.id, False, 0, part.points, f"✘ {head}: {why}")
    try:
        cases = _public_cases(part)
    except Exception as exc:  # a broken spec must not look like the student's fault
        return CheckResult(part.id, False, 0, part.points,
                           f"✘ {head}: could not build the test cases ({type(exc).__name__}: {exc}); "
                           "please report this to your instructor")
    result = _run_cases(part, head, func, cases, tier, fresh_seed)
    # the hint escalates only after a substantive failure: a result the judge rejected,
    # not a syntax, name or type error, a wrong signature or an unfinished stub
    if result.substantive:
        _failures[part.id] = _failures.get(part.id, 0) + 1
    return result


def _run_cases(part: Part, head: str, func: Callable, cases: list[Case], tier: int | None,
               fresh_seed: int | None = None) -> CheckResult:
    total = len(cases)
    tier = tier if tier is not None else (1 if _failures.get(part.id, 0) == 0 else 2)
    for case in cases:  # cases may pass different keyword arguments (e.g. gain=...)
        problem = _signature_problem(func, part, case)
        if problem:
            return _result(part, head, cases, [problem] * total, [], tier)
    notes: list[str] = []
    if part.from_scratch:
        problem, note = _scratch_problem(func)
        if problem:
            return _result(part, head, cases, [problem] * total, [], tier)
        if note:
            notes.append(note)

    verdicts: list[str | None] = []
    substantive = False
    caught: list[tuple[int, str]] = []  # (case number, "RuntimeWarning: overflow encountered in exp")
    for number, case in enumerate(cases, start=1):
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        start = time.perf_counter()
        try:
            # warnings the function issues are reported here, in this check's feedback, instead of
            # surfacing under some later cell (Python shows each warning once per code location)
            with warnings.catch_warnings(record=True) as issued:
                warnings.simplefilter("always")
                try:
                    result = _call_with_limit(func, args, kwargs, part.time_limit)
                finally:
                    for w in issued:
                        text = f"{w.category.__name__}: {str(w.message).splitlines()[0][:160] if str(w.message) else ''}"
                        if text not in (t for _, t in caught):
                            caught.append((number, text))
        except NotImplementedError as exc:
            other = _OTHER_PART.search(str(exc))
            if other and other.group(1) != part.id:
                why = (f"your function calls the function of exercise {other.group(1)}, which is not "
                       "implemented yet: do that part first")
                return _result(part, head, cases, [why] * total, notes, tier)
            return CheckResult(part.id, False, 0, part.points,
                               f"… {head}: not implemented yet. Replace the `raise NotImplementedError(...)` "
                               f"line in `{part.function}` with your code, run that cell, then this one again.")
        except _TimeLimit:
            verdicts.append(f"took longer than {part.time_limit:g} s; is there an infinite loop, "
                            "or a Python loop over every entry where a numpy operation would do?")
            break
        except RecursionError:
            verdicts.append("RecursionError (a function that calls itself forever?)")
            continue
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            msg = msg if len(msg) <= 240 else msg[:237] + "..."
            verdicts.append(f"your function raised {type(exc).__name__}{': ' + msg if msg else ''}"
                            f"{_where(exc, func)}")
            continue
        except BaseException as exc:  # SystemExit, KeyboardInterrupt from inside the function
            if isinstance(exc, KeyboardInterrupt):
                raise
            verdicts.append(f"your function raised {type(exc).__name__}")
            continue
        if time.perf_counter() - start > part.time_limit:  # a slow C call the alarm could not interrupt
            verdicts.append(f"took longer than {part.time_limit:g} s; use vectorised numpy operations "
                            "instead of loops")
            break
        for name, before, after in zip(_arg_names(func, case), case.args, args, strict=False):
            if isinstance(before, np.ndarray) and isinstance(after, np.ndarray) \
                    and before.shape == after.shape and not np.array_equal(before, after, equal_nan=True):
                note = f"  Note: your function changed its argument `{name}` in place; work on a copy."
                if note not in notes:
                    notes.append(note)
        verdict = judge_result(part, case, result)
        verdicts.append(verdict)
        substantive = substantive or (verdict is not None and not verdict.startswith("your function returned"))
    # like the grader: after a case ran out of time, the part's later cases are not run
    verdicts += ["not run: an earlier case of this part took too long"] * (total - len(verdicts))
    for number, text in caught[:3]:
        notes.append(f"  Note: your function issued a warning in case {number}: {text}")
    fresh = _fresh_check(part, func, cases, verdicts, fresh_seed) \
        if not any(v is not None and v.startswith("took longer") for v in verdicts) else None
    return _result(part, head, cases, verdicts, notes, tier, substantive, fresh)


FRESH_CASES = 3  # new cases check() runs at most, beyond the public ones (check() must stay quick)


def _fresh_check(part: Part, func: Callable, cases: list[Case], verdicts: list[str | None],
                 seed: int | None) -> tuple[int, str | None] | None:
    """(new cases failed, the warning or None), or None when no new case was run.

    The warning says that ``func`` fails new cases of families whose public cases it passed.

    A function can be right on the public cases without being right: a table of them, read from the
    notebook or from coursekit's data, scores full here and 0 in the grader, which draws other inputs.
    Where the part's judge needs no stored answer (``spec.draws_fresh_cases``), the part's generator
    draws a new set of cases from a new seed; of those, the first FRESH_CASES of families (labels) whose
    public cases all passed, one per family in the generator's order, run with the same per-call limit
    and the same judge. A failure there means the grader, which draws new inputs of those families,
    gives less than the public score. The warning names the failing case's family (its label) only,
    never its inputs or its expected answer. Nothing is run when no public case passed: the feedback
    already says the function is wrong.
    """
    public_score = score_part(part, cases, verdicts)
    passed = {c.label for c in cases} - {c.label for c, v in zip(cases, verdicts, strict=True) if v is not None}
    if public_score <= 0 or not passed or not draws_fresh_cases(part):
        return None
    rng = np.random.default_rng(seed if seed is not None else np.random.SeedSequence().entropy)
    try:
        drawn = fresh_cases(part, rng) or []
    except Exception:  # a generator that fails on a seed is the course's problem; the public verdict stands
        return None
    drawn = [c for c in drawn if c.label in passed]
    chosen: list[Case] = []
    for case in drawn:  # one case per family (label), in the generator's order
        if len(chosen) < FRESH_CASES and case.label not in {c.label for c in chosen}:
            chosen.append(case)
    if not chosen:
        return None
    defining = next((c for c in drawn if c.defining), None)
    if defining is not None and not any(c.defining for c in chosen):
        chosen[-1:] = [defining]  # the all-or-nothing family always runs
    verdicts = []
    for case in chosen:
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        try:
            with warnings.catch_warnings():  # reported by the public cases already, if at all
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    value = _call_with_limit(func, args, kwargs, part.time_limit)
        except _TimeLimit:
            verdicts.append("took too long")
            break
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure of the student's code is a failed case
            verdicts.append(type(exc).__name__)
            continue
        verdicts.append(judge_result(part, case, value))
    verdicts += ["not run"] * (len(chosen) - len(verdicts))
    failed = [c for c, v in zip(chosen, verdicts, strict=True) if v is not None]
    if not failed:
        return 0, None
    n, what = len(chosen), failed[0].label or "unlabelled"
    return len(failed), (
        f"  Warning: your function fails on new inputs of the same kinds: {len(failed)} of {n} new "
        f"case{'s' if n != 1 else ''} check() drew failed (first: {what}). The {public_score:g} points above "
        f"count the public cases only; the grader draws new inputs, so it will give less. Write the "
        "function for any valid input of the task, not for the cases shown.")


# ---------------------------------------------------------------- check() used as a search


_SEARCHING = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.IfExp, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.BoolOp)


def _in_search(frame: types.FrameType | None) -> bool:
    """Whether check() was called inside a loop, a condition, a comprehension or a function.

    There its result would steer the student's code (``for c in ...: if check(...).passed: break``).
    The grader cannot judge while the notebook runs, so its stand-in check() returns a result
    without a verdict; inside such code check() returns the same, so a notebook that searches
    with check() ends in the same state in the kernel and in the grader.
    """
    if frame is None or not _is_cell(frame.f_code.co_filename):
        return False  # a test, a script, a module: only notebook code is judged by the grader
    if frame.f_code.co_name != "<module>":
        return True
    lines = linecache.getlines(frame.f_code.co_filename)
    if not lines:
        return False
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return False
    line = frame.f_lineno
    parents: dict[ast.AST, ast.AST] = {}
    calls = []
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
        if isinstance(node, ast.Call) and node.lineno <= line <= (node.end_lineno or node.lineno):
            calls.append(node)
    named = [c for c in calls if getattr(c.func, "id", getattr(c.func, "attr", None)) == "check"]
    for call in named or calls:  # check's call on that line (or, renamed, any call there)
        node = parents.get(call)
        while node is not None:
            if isinstance(node, _SEARCHING):
                return True
            node = parents.get(node)
    return False


NO_VERDICT_NOTE = ("  Note: this check() was called inside a loop, a condition or a function, so the result it "
                   "returns carries no verdict (passed=False, score 0), exactly like the stand-in check() the "
                   "grader runs. Code that searches with check() behaves the same when graded; call "
                   "check() on its own line to see the points.")


class _Feedback:
    """The check result as a block: HTML in JupyterLab, the plain text everywhere else."""

    def __init__(self, result: CheckResult):
        self.result = result

    def __repr__(self) -> str:
        return self.result.message

    def _repr_html_(self) -> str:
        lines = self.result.message.split("\n")
        head = lines[0]
        state = "pass" if head.startswith("✔") else "todo" if head.startswith("…") else "fail"
        colour = {"pass": "#2e7d32", "fail": "#c62828", "todo": "#757575"}[state]
        body = "".join(f'<div style="margin:0.15em 0 0 1em">{html.escape(line.strip())}</div>'
                       for line in lines[1:])
        return (f'<div class="coursekit-check coursekit-check-{state}" style="border-left:4px solid {colour};'
                f'padding:0.3em 0.8em;margin:0.2em 0;font-family:var(--jp-content-font-family, sans-serif);'
                f'white-space:pre-wrap;line-height:1.4">'
                f'<div style="font-weight:600;color:{colour}">{html.escape(head)}</div>{body}</div>')


def _show(result: CheckResult) -> None:
    shell = None
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        try:
            shell = ipython.get_ipython()
        except Exception:  # an IPython too old or half imported: plain text will do
            shell = None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        from IPython.display import display

        display(_Feedback(result))
    else:
        print(result.message)


def check(part_id: str, func: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``func`` against exercise part ``part_id`` ("6.1"), show the feedback, return the result.

    Never raises. ``quiet=True`` shows nothing (for an ``assert check(...).passed``). In a
    Jupyter kernel the feedback is a formatted block (HTML, with the plain text as its
    fallback); elsewhere it is printed. Called inside a loop, a condition or a function,
    the feedback is shown but the result returned carries no verdict (see ``_in_search``).
    """
    try:
        result = run_check(part_id, func)
    except Exception as exc:  # last resort: feedback must never crash the student's notebook
        result = CheckResult(str(part_id), False, 0, 0, f"✘ check failed unexpectedly: {type(exc).__name__}: {exc}")
    try:
        searching = _in_search(sys._getframe(1))
    except Exception:
        searching = False
    if searching:
        result = CheckResult(result.part, False, 0, 0, result.message + "\n" + NO_VERDICT_NOTE)
    if not quiet:
        _show(result)
    return result
