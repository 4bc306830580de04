"""How an answer is judged and scored: the part and case records, plain data, comparisons, the rule.

One :class:`Part` per graded function. ``part.cases(rng)`` draws the inputs;
``part.judge(case, result)`` returns ``None`` when the (plain-data) result is
right, else a message in words. Judges compute the expected value themselves,
with torch (an implementation independent of the course's numpy code) or a
small reference written in the part's module, never with the chapter modules,
and never trust anything that came from the student beyond the plain data of
the result.

Everything here is shared by ``check()`` in the notebooks (cases drawn from
``PUBLIC_SEED``) and the batch grader (cases drawn from a secret seed):
:func:`judge_result` gives the verdict on one result, :func:`score_part` the
points, :func:`summarize_part` the text a student reads. Messages never print
the inputs of a case (they change at grade time); they describe the case
through its ``label``, and they never contain solution code.
"""

from __future__ import annotations

import dataclasses
import fractions
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PUBLIC_SEED = 20261125  # check() in the notebooks draws its cases from default_rng(PUBLIC_SEED)
# Seconds one call of a student's function may take: a part's default ``time_limit``, which check() and
# the grader both apply (the grader's own limits are in coursekit.grading.limits, which re-exports this).
CALL_SECONDS = 2.0

# The from-scratch rule, one list for both sides of the contract: besides the standard library,
# a from-scratch part may import these distributions and nothing else. The grader's sandbox
# mounts exactly these (coursekit.grading.sandbox builds its "numpy" profile from this list);
# check() refuses a function that reaches, or whose cell imports, anything else.
FROM_SCRATCH_ALLOWED = ("numpy",)
# Named in messages: what students most often reach for in a from-scratch part.
FORBIDDEN_LIBRARIES = ("torch", "scipy", "coursekit")


def from_scratch_words() -> str:
    """What a from-scratch part may import, in words: "numpy and Python's standard library"."""
    names = ", ".join(FROM_SCRATCH_ALLOWED)
    return f"{names} and Python's standard library" if names else "Python's standard library"


def allowed_from_scratch(module: str) -> bool:
    """Whether a from-scratch part may import ``module`` ("numpy.linalg", "math", "torch"...).

    The standard library and :data:`FROM_SCRATCH_ALLOWED` are allowed; so is
    ``coursekit.exercises`` itself, for ``check`` (the grader provides a stand-in).
    """
    if module == "coursekit.exercises" or module.startswith("coursekit.exercises."):
        return module == "coursekit.exercises"
    top = module.split(".")[0]
    return top in FROM_SCRATCH_ALLOWED or top in sys.stdlib_module_names or top in ("", "__main__", "builtins")


class _NoAnswer:
    """A singleton sentinel: copies and pickles of a case keep ``answer is NO_ANSWER`` true
    (the grader deep-copies each batch's cases per submission)."""

    def __repr__(self) -> str:
        return "NO_ANSWER"

    def __copy__(self) -> _NoAnswer:
        return self

    def __deepcopy__(self, memo: dict) -> _NoAnswer:
        return self

    def __reduce__(self) -> str:
        return "NO_ANSWER"  # unpickled as the module's NO_ANSWER


NO_ANSWER = _NoAnswer()  # a case that carries no stored reference answer (every case, in this repository)


@dataclass(frozen=True)
class Case:
    """One call of the student's function: ``f(*args, **kwargs)``, described by ``label``.

    ``defining=True`` marks a case that tests the property the part exists for
    (stability on huge logits, drawing from the given rng, no overflow): failing
    it scores the whole part 0, whatever else passed.
    """

    args: tuple  # positional arguments for the student's function
    kwargs: dict = field(default_factory=dict)  # keyword arguments (may be {})
    label: str = ""  # the case in words, without the concrete inputs
    defining: bool = False
    # the student edition's public cases carry the reference answer as data (see reference())
    answer: Any = field(default=NO_ANSWER, compare=False, repr=False)


_recorded: list | None = None  # while the student edition is built: the answers reference() computed
_probing = False  # while judges_by_reference() asks a part's judge whether it needs a stored answer


class _AskedReference(BaseException):  # BaseException: a judge's `except Exception` must not swallow it
    pass


def reference(case: Case, compute: Callable[[], Any] | None) -> Any:
    """The reference answer of ``case``: stored in the case (student edition) or computed here.

    Judges that need an answer only the instructor's code can compute (which tables are
    inseparable, the rule's (w, b), the diagnosis of a log …) get it through this function.
    In the student edition the public cases carry it as data and the code that computes it is
    not there (``coursekit release --student-edition``).
    """
    if _probing:
        raise _AskedReference
    if case.answer is not NO_ANSWER:
        return case.answer
    if compute is None:
        raise RuntimeError("this case has no stored answer, and the student edition cannot compute one")
    value = compute()
    if _recorded is not None:
        _recorded.append(value)
    return value


def with_stored_answer(part: Part, case: Case) -> Case:
    """``case`` carrying its reference answer as data, if the part's judge asks reference() for one."""
    global _recorded
    _recorded = []
    try:
        part.judge(case, None)  # the judges ask for the reference before they look at the result
        found = list(_recorded)
    finally:
        _recorded = None
    if not found:
        return case
    if len(found) > 1:
        raise ValueError(f"part {part.id}: the judge asked reference() {len(found)} times for one case")
    return dataclasses.replace(case, answer=found[0])


def judges_by_reference(part: Part, cases: Sequence[Case]) -> bool:
    """Whether ``part``'s judge compares some of ``cases`` with a reference answer (see reference()).

    Such a part can be judged only on cases whose answer is known: in the student edition, the public
    cases, which carry it as data. A part whose judge needs none (it judges by properties, or with torch
    as the oracle) can be judged on any case its generator draws. Asked of the judge itself, which stops
    at its first call of reference(); nothing is computed.
    """
    global _probing
    _probing = True
    try:
        for case in cases:
            try:
                part.judge(case, None)
            except _AskedReference:
                return True
            except Exception:  # noqa: S112 - a judge that cannot handle None did not ask for a reference first
                continue
    finally:
        _probing = False
    return False


class hidden:  # noqa: N801 - reads as a marker: ``name = hidden("name")``
    """Stands in, in the student edition, for a definition only the instructor's repository has."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.name} is part of the hidden checks and not in the student edition")

    def __repr__(self) -> str:
        return f"hidden({self.name!r})"


@dataclass(frozen=True, kw_only=True)
class Part:
    """One graded function of an exercise notebook.

    ``exercise`` is filled in by the registry from the module that defines the
    part; ``grade_id`` is derived from ``id`` and ``function``.
    """

    id: str  # "6.1"
    title: str  # "Stable softmax"
    function: str  # name of the function the student defines
    points: int
    cases: Callable[[np.random.Generator], list[Case]]
    judge: Callable[[Case, Any], str | None]
    hints: tuple[str, ...]  # tier 1: the idea (what property, why); tier 2: more specific. Never code.
    from_scratch: bool = True  # True: torch / scipy / coursekit may not be used
    time_limit: float = CALL_SECONDS  # seconds for one call
    exercise: str = ""  # "06_softmax" (the notebook stem), set by the registry

    def __post_init__(self) -> None:
        if not self.hints or not all(isinstance(h, str) and h for h in self.hints):
            raise ValueError(f"part {self.id}: hints must be a non-empty tuple of texts")

    @property
    def grade_id(self) -> str:
        """nbgrader grade_id of the solution cell: 'ex6_1_softmax'."""
        chapter, number = self.id.split(".")
        return f"ex{chapter}_{number}_{self.function}"

    @property
    def hint(self) -> str:
        """The first-tier (conceptual) hint."""
        return self.hints[0]

    def hint_at(self, tier: int) -> str:
        """The hint of ``tier`` (1 = conceptual, 2 = more specific; beyond the last, the last)."""
        return self.hints[min(max(int(tier), 1), len(self.hints)) - 1]


# --------------------------------------------------------------------------
# Plain data: what a student's result is reduced to before judging
# --------------------------------------------------------------------------

_MAX_DEPTH = 4  # tuples of lists of arrays is as deep as any answer goes
MAX_INT = 2**63  # answers are integers of at most 64 bits (the grader's wire carries no more; no answer needs more)


def _real_scalar(value: Any) -> bool | int | float:
    """A numpy scalar (or a 0-d array's item) as a Python bool / int / float; TypeError otherwise."""
    kind = value.dtype.kind
    if kind == "b":
        return bool(value)
    if kind in "iu":
        return int(value)
    if kind == "f":
        return float(value)  # float16 .. long double: a Python float (long double loses its extra bits)
    raise TypeError(f"returned a numpy {value.dtype} value; expected a real number")


def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a student's return value to plain data, or raise TypeError saying why not.

    The one conversion of the grading contract: ``check()`` applies it to the
    value the function returned, the grader to the value that came back over the
    sandbox's wire (whose encoder only transports, see
    ``coursekit.grading._runner.encode_value``), so both judge the same plain data:

    - Python bool / int / float / None stay (int and float subclasses become int / float);
    - numpy scalars and 0-d arrays become Python bool / int / float (``np.True_`` is ``True``,
      ``np.longdouble(2.5)`` is ``2.5``);
    - ``fractions.Fraction`` becomes a float;
    - arrays of a real dtype are copied as plain ndarrays (long double arrays as float64),
      torch tensors first go through ``.detach().cpu().numpy()``;
    - tuples and lists are converted item by item and stay tuples / lists.
    """
    if _depth > _MAX_DEPTH:
        raise TypeError("returned a structure nested too deeply; return an array, a number or a short tuple")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        v = int.__index__(value)
        if not -MAX_INT <= v < 2 * MAX_INT:
            raise TypeError("returned an integer too large to grade (more than 64 bits)")
        return v
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, np.generic):
        return _real_scalar(value)
    if type(value) is fractions.Fraction:
        return float(value)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"returned a complex tensor of dtype {value.dtype}; expected real numbers")
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        arr = np.ndarray.__array__(value)  # the base class's data, none of a subclass's code
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"returned an array of dtype {arr.dtype}; expected real numbers (bool, int or float)"
            )
        if arr.ndim == 0:
            return _real_scalar(arr[()])
        if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
            return arr.astype(np.float64)  # long double: the wire carries at most float64
        return np.array(arr, copy=True, order="C")  # a plain ndarray, not a subclass or a view
    if isinstance(value, (tuple, list)):
        items = [to_plain(v, _depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    raise TypeError(f"returned {_kind(value)}; expected a numpy array, a number or a tuple of them")


def _kind(value: Any) -> str:
    """A short description of a value's type for messages (never its contents)."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, complex):
        return "a complex number"
    return f"an object of type {type(value).__name__}"


def judge_result(part: Part, case: Case, value: Any) -> str | None:
    """The verdict on one result of a student's function: None when right, else what is wrong.

    One definition for both places that judge: ``check()`` in the student's kernel and
    ``coursekit grade`` in the grader's own process. ``value`` is converted with
    :func:`to_plain` first, so the judge only ever sees plain data.
    """
    try:
        plain = to_plain(value)
    except TypeError as exc:
        return f"your function {exc}"
    try:
        return part.judge(case, plain)
    except Exception as exc:  # the judge met a result it did not foresee: still the result's fault
        return f"the result could not be compared ({type(exc).__name__}: {exc})"


# --------------------------------------------------------------------------
# The scoring rule and the feedback text (check() and the grader)
# --------------------------------------------------------------------------


def score_part(part: Part, cases: Sequence[Case], verdicts: Sequence[str | None]) -> float:
    """The points ``part`` earns when ``cases[k]`` got ``verdicts[k]`` (None = right).

    The one scoring rule, used by both ``check()`` and ``coursekit grade``:
    a failing defining case scores 0; otherwise points in proportion to the
    cases passed, rounded to 2 decimals.
    """
    if len(verdicts) != len(cases):
        raise ValueError(f"score_part: {len(cases)} cases but {len(verdicts)} verdicts")
    if not cases:
        return 0.0
    if any(c.defining and v is not None for c, v in zip(cases, verdicts, strict=True)):
        return 0.0
    passed = sum(v is None for v in verdicts)
    return round(part.points * passed / len(cases), 2)


def scoring_rule(part: Part, cases: Sequence[Case] | None = None) -> str:
    """The scoring rule of ``part`` in words, as the notebook states it above the part."""
    cases = part.cases(np.random.default_rng(PUBLIC_SEED)) if cases is None else cases
    defining = [c.label for c in cases if c.defining]
    if not defining:
        return (f"Scoring: {part.points} points in proportion to the {len(cases)} checks passed "
                f"(they test independent things).")
    what = "; ".join(defining)
    n = len(defining)
    return (f"Scoring: {'this check is' if n == 1 else 'these checks are'} all or nothing — {what}. "
            f"Failing {'it' if n == 1 else 'any of them'} scores 0 for the part. Otherwise "
            f"{part.points} points in proportion to the {len(cases)} checks passed.")


def summarize_part(part: Part, cases: Sequence[Case], verdicts: Sequence[str | None], *,
                   tier: int = 1) -> tuple[float, str]:
    """The points and the feedback text for one part: what check() prints and the grader writes.

    ``verdicts[k]`` is None when ``cases[k]`` was right, else why not (a judge's
    verdict, or what went wrong when calling the function). ``tier`` chooses the
    hint (1: conceptual, for the grader's feedback files and a first failure;
    2: more specific, for a repeated failure in the same kernel). The text is one
    or more lines, without the part's id and title.
    """
    score = score_part(part, cases, verdicts)
    total = len(cases)
    passed = sum(v is None for v in verdicts)
    if passed == total and total:
        return score, f"all {total} checks passed. {part.points}/{part.points} points."
    lines = [f"{passed} of {total} checks passed ({score:g}/{part.points} points)."]
    failed_defining = [c.label for c, v in zip(cases, verdicts, strict=True) if c.defining and v is not None]
    first = next(k for k, v in enumerate(verdicts) if v is not None)
    # name the all-or-nothing check only when it failed for its own reason: not when every case failed
    # the same way (nothing returned, an exception, a forbidden import, an unfinished earlier part)
    same_everywhere = len({v for v in verdicts}) == 1
    if failed_defining and not same_everywhere:
        lines[0] += f" The all-or-nothing check ({failed_defining[0]}) failed, so the part scores 0."
    case = cases[first]
    lines.append(f"First failure, case {first + 1} of {total} ({case.label or 'unlabelled'}): {verdicts[first]}")
    lines.append(f"Hint: {part.hint_at(tier)}")
    return score, "\n".join(lines)


# --------------------------------------------------------------------------
# Comparison helpers shared by the judges
# --------------------------------------------------------------------------


def torch_module():
    """torch, imported on first judge call, so ``coursekit release`` stays fast."""
    import torch

    return torch


def fmt(x: float) -> str:
    """A number for a message: 4 significant digits, so the text is stable across machines."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if not np.isfinite(x):
        return str(float(x))
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def fmt_pair(expected: float, got: float) -> tuple[str, str]:
    """Two numbers with just enough digits to show that they differ."""
    if not (math.isfinite(expected) and math.isfinite(got)):
        return fmt(expected), fmt(got)
    for digits in (4, 7, 10, 13, 17):
        want, have = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if want != have:
            break
    return (fmt(expected) if digits == 4 else want), (fmt(got) if digits == 4 else have)


def describe_got(got: Any) -> str:
    if got is None:
        return "None (did you forget to return?)"
    if isinstance(got, np.ndarray):
        return f"an array of shape {got.shape}"
    if isinstance(got, tuple):
        return f"a tuple of {len(got)} items"
    if isinstance(got, list):
        return f"a list of {len(got)} items"
    return f"{type(got).__name__} {fmt(got) if isinstance(got, (int, float)) else ''}".strip()


def as_array(got: Any, what: str = "the result") -> tuple[np.ndarray | None, str | None]:
    """Accept an array or a (nested) list of numbers; return (array, None) or (None, message)."""
    if isinstance(got, np.ndarray):
        return got, None
    if isinstance(got, (list, tuple)):
        try:
            arr = np.asarray(got)
        except ValueError:
            return None, f"{what} should be a numpy array; got a ragged {type(got).__name__}"
        if arr.dtype.kind in "biuf":
            return arr, None
    return None, f"{what} should be a numpy array; got {describe_got(got)}"


def as_number(got: Any, what: str) -> tuple[float | None, str | None]:
    """Accept a number or a 1-element array; return (number, None) or (None, message)."""
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(()).item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return None, f"{what} should be a single number; got {describe_got(got)}"
    return got, None


def pair(got: Any, what: str, n: int = 2) -> tuple[tuple | None, str | None]:
    if not isinstance(got, (tuple, list)) or len(got) != n:
        return None, f"{what} should be a tuple of {n} items; got {describe_got(got)}"
    return tuple(got), None


def compare_array(
    expected: np.ndarray,
    got: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    what: str = "the result",
    floating: bool = True,
) -> str | None:
    """None if ``got`` matches ``expected`` (shape, kind of dtype, finiteness, values); else why not."""
    expected = np.asarray(expected)
    arr, msg = as_array(got, what)
    if msg:
        return msg
    if arr.shape != expected.shape:
        extra = ""
        if arr.ndim == 2 and arr.shape == expected.shape[::-1] and expected.ndim == 2:
            extra = " (transposed?)"
        elif arr.ndim == expected.ndim + 1 and 1 in arr.shape and arr.size == expected.size:
            extra = " (an extra axis of length 1: did you keep a dimension you should drop?)"
        elif arr.size == expected.size:
            extra = " (same number of entries: check which axis you reduced over)"
        return f"{what} should have shape {expected.shape}, got {arr.shape}{extra}"
    if floating and arr.dtype.kind != "f":
        return f"{what} should hold floating-point numbers, got dtype {arr.dtype} (integer division or rounding?)"
    if arr.dtype.kind == "f":
        nan = int(np.isnan(arr).sum())
        if nan and not np.isnan(expected).any():
            return f"{what} contains NaN in {nan} of {arr.size} entries (overflow, 0/0 or inf - inf?)"
        inf = int(np.isinf(arr).sum())
        if inf and not np.isinf(expected).any():
            return f"{what} contains inf or -inf in {inf} of {arr.size} entries (overflow, or log of 0?)"
    a = arr.astype(np.float64)
    e = expected.astype(np.float64)
    if np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
        return None
    if arr.size and not np.any(a) and np.any(e):
        return f"{what} is all zeros; expected non-zero values (still a placeholder?)"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.allclose(a.T, e, rtol=rtol, atol=atol):
        return f"{what} is the transpose of the expected one"
    if arr.dtype.itemsize < 8 and np.allclose(a, e, rtol=1e-4, atol=max(atol, 1e-6)):
        return (f"{what} is right only to {arr.dtype} precision; the check needs float64 "
                f"(keep the input's dtype, don't convert to {arr.dtype})")
    err = np.abs(a - e)
    err = np.where(np.isnan(err), np.inf, err)
    bad = int((err > atol + rtol * np.abs(e)).sum())
    idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    where = f" at index {tuple(int(i) for i in idx)}" if err.ndim else ""
    want, have = fmt_pair(float(e[idx]), float(a[idx]))
    return f"{what}: {bad} of {max(arr.size, 1)} values differ; worst{where}: expected {want}, got {have}"


EPSILONS = (1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3)


def compare_number(
    expected: float, got: Any, *, rtol: float = 1e-6, atol: float = 1e-9, what: str = "the result",
    integer: bool = False, with_epsilon: Callable[[float], float] | None = None,
    epsilon_words: str = "a small epsilon",
) -> str | None:
    """None if ``got`` is a number (or a 1-element array) close to ``expected``; else why not.

    The message shows as many digits as it takes to see the difference.
    ``with_epsilon(eps)``, if given, is the value an answer with a guard
    epsilon (``epsilon_words`` says where, e.g. "inside the log") would give:
    a match names the epsilon.
    """
    value, msg = as_number(got, what)
    if msg:
        return msg
    if integer and not float(value).is_integer():
        return f"{what} should be a whole number; got {fmt(value)}"
    if not math.isfinite(value) and math.isfinite(expected):
        return f"{what} is {value}; expected a finite number (overflow, or log of 0?)"
    if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        return None
    want, have = fmt_pair(expected, value)
    msg = f"{what} should be {want}, got {have}"
    if with_epsilon is not None:
        for eps in EPSILONS:
            alt = with_epsilon(eps)
            if math.isfinite(alt) and math.isclose(value, alt, rel_tol=1e-9, abs_tol=1e-12) \
                    and not math.isclose(alt, expected, rel_tol=rtol, abs_tol=atol):
                return msg + (f" — exactly what adding an epsilon of {eps:g} {epsilon_words} gives; "
                              "that guard changes the value, and a stable formula needs none")
    return msg
