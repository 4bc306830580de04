"""What every exercise part asks for, and how an answer is judged.

One :class:`Part` per graded function. ``part.cases(rng)`` draws the inputs;
``part.judge(case, result)`` returns ``None`` when the (plain-data) result is
right, else a message in words. Judges compute the expected value themselves,
with torch (an implementation independent of the course's numpy code) or a
small reference written here, never with the chapter modules, and never trust
anything that came from the student beyond the plain data of the result.

The same specs drive the instant feedback of ``check()`` in the notebooks
(with ``PUBLIC_SEED``) and the batch grader (with a seed drawn at grade time).
Messages never print the inputs of a case (they change at grade time); they
describe the case through its ``label``.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

PUBLIC_SEED = 20261125  # check() in the notebooks draws its cases from default_rng(PUBLIC_SEED)


@dataclass(frozen=True)
class Case:
    args: tuple  # positional arguments for the student's function
    kwargs: dict = field(default_factory=dict)  # keyword arguments (may be {})
    label: str = ""  # the case in words, without the concrete inputs


@dataclass(frozen=True)
class Part:
    id: str  # "6.1"
    exercise: str  # "06_softmax" (the notebook stem)
    title: str  # "Stable softmax"
    function: str  # name of the function the student defines
    points: int
    grade_id: str  # nbgrader grade_id of the solution cell
    from_scratch: bool  # True: calling torch / scipy / coursekit is not allowed
    cases: Callable[[np.random.Generator], list[Case]]
    judge: Callable[[Case, Any], str | None]
    hint: str  # one line of help shown on failure
    time_limit: float = 2.0  # seconds for one call


# --------------------------------------------------------------------------
# Plain data: what a student's result is reduced to before judging
# --------------------------------------------------------------------------

_MAX_DEPTH = 4  # tuples of lists of arrays is as deep as any answer goes


def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a student's return value to plain data, or raise TypeError saying why not.

    Accepted: numpy arrays of a real dtype (bool, int, float), numpy scalars,
    Python bool / int / float / None, torch tensors (converted with
    ``.detach().cpu().numpy()``), and tuples / lists of those (kept as tuple / list).
    """
    if _depth > _MAX_DEPTH:
        raise TypeError("returned a structure nested too deeply; return an array, a number or a short tuple")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind in "biuf":
            return value.item()
        raise TypeError(f"returned a numpy {value.dtype} scalar; expected a real number")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"returned a complex tensor of dtype {value.dtype}; expected real numbers")
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"returned an array of dtype {value.dtype}; expected real numbers (bool, int or float)"
            )
        return np.array(value, copy=True, order="C")  # a plain ndarray, not a subclass or a view
    if isinstance(value, (tuple, list)):
        items = [to_plain(v, _depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, numbers.Real):  # e.g. fractions.Fraction, an int subclass
        return float(value) if not isinstance(value, numbers.Integral) else int(value)
    raise TypeError(f"returned {_kind(value)}; expected a numpy array, a number or a tuple of them")


def score_part(part: Part, cases: list[Case], verdicts: list[str | None]) -> float:
    """The points ``part`` earns when ``cases[k]`` got ``verdicts[k]`` (None = right).

    The one scoring rule, used by both ``check()`` and ``coursekit grade``.
    """
    if len(verdicts) != len(cases):
        raise ValueError(f"score_part: {len(cases)} cases but {len(verdicts)} verdicts")
    if not cases:
        return 0.0
    passed = sum(v is None for v in verdicts)
    return round(part.points * passed / len(cases), 2)


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


def _kind(value: Any) -> str:
    """A short description of a value's type for messages (never its contents)."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, complex):
        return "a complex number"
    return f"an object of type {type(value).__name__}"


# --------------------------------------------------------------------------
# Comparison helpers shared by the judges
# --------------------------------------------------------------------------


def _torch():
    import torch  # imported on first judge call, so ``coursekit release`` stays fast

    return torch


def _fmt(x: float) -> str:
    """A number for a message: 4 significant digits, so the text is stable across machines."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if not np.isfinite(x):
        return str(float(x))
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def _describe_got(got: Any) -> str:
    if got is None:
        return "None (did you forget to return?)"
    if isinstance(got, np.ndarray):
        return f"an array of shape {got.shape}"
    if isinstance(got, tuple):
        return f"a tuple of {len(got)} items"
    if isinstance(got, list):
        return f"a list of {len(got)} items"
    return f"{type(got).__name__} {_fmt(got) if isinstance(got, (int, float)) else ''}".strip()


def _as_array(got: Any, what: str = "the result") -> tuple[np.ndarray | None, str | None]:
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
    return None, f"{what} should be a numpy array; got {_describe_got(got)}"


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
    arr, msg = _as_array(got, what)
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
    want, have = _fmt_pair(float(e[idx]), float(a[idx]))
    return f"{what}: {bad} of {max(arr.size, 1)} values differ; worst{where}: expected {want}, got {have}"


def _fmt_pair(expected: float, got: float) -> tuple[str, str]:
    """Two numbers with just enough digits to show that they differ."""
    for digits in (4, 7, 10, 17):
        want, have = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if want != have:
            break
    return (_fmt(expected) if digits == 4 else want), (_fmt(got) if digits == 4 else have)


def compare_number(
    expected: float, got: Any, *, rtol: float = 1e-6, atol: float = 1e-9, what: str = "the result",
    integer: bool = False,
) -> str | None:
    """None if ``got`` is a number (or a 0-d / 1-element array) close to ``expected``."""
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(()).item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return f"{what} should be a single number; got {_describe_got(got)}"
    if integer and not float(got).is_integer():
        return f"{what} should be a whole number; got {_fmt(got)}"
    if not math.isfinite(got) and math.isfinite(expected):
        return f"{what} is {got}; expected a finite number (overflow, or log of 0?)"
    if math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
        return None
    return f"{what} should be {_fmt(expected)}, got {_fmt(got)}"


def _pair(got: Any, what: str) -> tuple[tuple | None, str | None]:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None, f"{what} should be a pair (tuple of 2 items); got {_describe_got(got)}"
    return tuple(got), None


# --------------------------------------------------------------------------
# 01 · Neurons
# --------------------------------------------------------------------------

_BINARY_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_GATES = {
    "AND": np.array([0.0, 0.0, 0.0, 1.0]),
    "OR": np.array([0.0, 1.0, 1.0, 1.0]),
    "NAND": np.array([1.0, 1.0, 1.0, 0.0]),
}


def _cases_1_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, label in [(4, 2, "4 inputs with 2 features"), (10, 3, "10 inputs with 3 features"),
                        (1, 5, "a single input with 5 features"), (64, 16, "64 inputs with 16 features")]:
        X = rng.normal(size=(n, d))
        w = rng.normal(size=d)
        b = float(rng.normal())
        cases.append(Case((X, w, b), {}, label))
    return cases


def _judge_1_1(case: Case, got: Any) -> str | None:
    torch = _torch()
    X, w, b = case.args
    z = torch.from_numpy(X) @ torch.from_numpy(w) + b
    return compare_array(z.numpy(), got, what="z")


def _cases_1_2(rng: np.random.Generator) -> list[Case]:
    cases = []
    # integer-valued inputs and weights put some points exactly on the boundary z = 0
    X = rng.integers(-2, 3, size=(12, 2)).astype(np.float64)
    cases.append(Case((X, np.array([1.0, 1.0]), -1.0), {}, "12 inputs, some exactly on the boundary (z = 0)"))
    cases.append(Case((_BINARY_INPUTS.copy(), np.array([1.0, 1.0]), -1.5), {}, "the four binary inputs"))
    X = rng.normal(size=(50, 3))
    cases.append(Case((X, rng.normal(size=3), float(rng.normal())), {}, "50 random inputs with 3 features"))
    return cases


def _judge_1_2(case: Case, got: Any) -> str | None:
    torch = _torch()
    X, w, b = case.args
    z = torch.from_numpy(X) @ torch.from_numpy(w) + b
    expected = (z > 0).double().numpy()  # step(z) = 1 if z > 0 else 0
    arr, msg = _as_array(got, "the output")
    if msg:
        return msg
    if arr.shape == expected.shape and arr.dtype.kind in "biuf":
        a = arr.astype(np.float64)
        if not np.all((a == 0) | (a == 1)):
            return "the output should contain only 0 and 1 (apply the step function to z)"
        on_boundary = np.isclose(z.numpy(), 0.0) & (a != expected)
        if on_boundary.any():
            return "inputs with z = 0 exactly should give 0 (step(z) = 1 only when z > 0)"
    return compare_array(expected, arr, what="the output", floating=False)


def _cases_1_3(rng: np.random.Generator) -> list[Case]:
    return [Case((g,), {}, f"the {g} gate") for g in ("AND", "OR", "NAND", "XOR")]


def _judge_1_3(case: Case, got: Any) -> str | None:
    gate = case.args[0]
    if gate == "XOR":
        if got is None:
            return None
        return "no single perceptron computes XOR (it is not linearly separable): return None for 'XOR'"
    pair, msg = _pair(got, f"gate_weights({gate!r})")
    if msg:
        return msg
    w, msg = _as_array(pair[0], "w")
    if msg:
        return msg
    if w.shape != (2,):
        return f"w should have shape (2,), one weight per input; got {w.shape}"
    b = pair[1]
    if isinstance(b, np.ndarray) and b.size == 1:
        b = b.reshape(()).item()
    if isinstance(b, bool) or not isinstance(b, (int, float)):
        return f"b should be a single number; got {_describe_got(b)}"
    out = (_BINARY_INPUTS @ w.astype(np.float64) + b > 0).astype(np.float64)
    want = _GATES[gate]
    for x, o, t in zip(_BINARY_INPUTS, out, want, strict=True):
        if o != t:
            return (f"for input ({int(x[0])}, {int(x[1])}) your perceptron outputs {int(o)}, "
                    f"but {gate} is {int(t)}")
    return None


def _separable(rng: np.random.Generator, n: int, d: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """n points in d dimensions labelled by a random hyperplane, none closer to it than ``margin``."""
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    b = float(rng.uniform(-0.5, 0.5))
    X = np.empty((0, d))
    for _ in range(100):  # bounded: each round keeps most of the candidates
        cand = rng.uniform(-2, 2, size=(4 * n, d))
        keep = np.abs(cand @ w + b) >= margin
        X = np.vstack([X, cand[keep]])
        if len(X) >= n:
            break
    X = X[:n]
    return X, (X @ w + b > 0).astype(np.float64)


def _cases_1_4(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_BINARY_INPUTS.copy(), _GATES[g].copy()), {"lr": 1.0, "epochs": 100},
                  f"the {g} truth table") for g in ("AND", "OR", "NAND")]
    X, y = _separable(rng, 40, 2, 0.15)
    cases.append(Case((X, y), {"lr": 0.5, "epochs": 1000}, "40 separable points in 2-D"))
    X, y = _separable(rng, 60, 4, 0.2)
    cases.append(Case((X, y), {"lr": 1.0, "epochs": 1000}, "60 separable points in 4-D"))
    return cases


def _judge_1_4(case: Case, got: Any) -> str | None:
    X, y = case.args
    pair, msg = _pair(got, "train_perceptron(...)")
    if msg:
        return msg
    w, msg = _as_array(pair[0], "w")
    if msg:
        return msg
    if w.shape != (X.shape[1],):
        return f"w should have shape ({X.shape[1]},), one weight per feature; got {w.shape}"
    b = pair[1]
    if isinstance(b, np.ndarray) and b.size == 1:
        b = b.reshape(()).item()
    if isinstance(b, bool) or not isinstance(b, (int, float)):
        return f"b should be a single number; got {_describe_got(b)}"
    if not (np.all(np.isfinite(w)) and math.isfinite(b)):
        return "w or b is not finite (NaN or inf)"
    pred = (X @ w.astype(np.float64) + b > 0).astype(np.float64)
    wrong = np.flatnonzero(pred != y)
    if wrong.size:
        i = int(wrong[0])
        return (f"the trained perceptron misclassifies {wrong.size} of {len(y)} training points "
                f"(e.g. row {i}: label {int(y[i])}, prediction {int(pred[i])}); the data are separable, "
                f"so the rule should reach zero errors")
    return None


EX01 = [
    Part("1.1", "01_neurons", "Weighted sum", "weighted_sum", 2, "ex1_1_weighted_sum", True,
         _cases_1_1, _judge_1_1, "z = X @ w + b: one number per row of X, shape (N,)"),
    Part("1.2", "01_neurons", "Perceptron output", "perceptron", 2, "ex1_2_perceptron", True,
         _cases_1_2, _judge_1_2, "compute z as in 1.1, then step(z): 1.0 where z > 0, else 0.0"),
    Part("1.3", "01_neurons", "Weights for logic gates", "gate_weights", 3, "ex1_3_gate_weights", True,
         _cases_1_3, _judge_1_3,
         "draw the four inputs in the plane and place a line with the 1-outputs on its positive side"),
    Part("1.4", "01_neurons", "Perceptron learning rule", "train_perceptron", 3,
         "ex1_4_train_perceptron", True, _cases_1_4, _judge_1_4,
         "start from w = 0, b = 0; for each row: error = y - step(w·x + b); w += lr·error·x; "
         "b += lr·error; stop after an epoch with no errors"),
]


# --------------------------------------------------------------------------
# 02 · Fully connected networks
# --------------------------------------------------------------------------


def _cases_2_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d_in, d_out, label in [(5, 3, 4, "a batch of 5 inputs, 3 -> 4 units"),
                                  (1, 10, 2, "a single input, 10 -> 2 units"),
                                  (32, 8, 8, "a batch of 32, a square 8 -> 8 layer"),
                                  (16, 2, 6, "a batch of 16, 2 -> 6 units")]:
        cases.append(Case((rng.normal(size=(n, d_in)), rng.normal(size=(d_out, d_in)),
                           rng.normal(size=d_out)), {}, label))
    return cases


def _judge_2_1(case: Case, got: Any) -> str | None:
    torch = _torch()
    X, W, b = case.args
    expected = torch.nn.functional.linear(torch.from_numpy(X), torch.from_numpy(W), torch.from_numpy(b))
    msg = compare_array(expected.numpy(), got, what="the output")
    if msg and W.shape[0] == W.shape[1] and isinstance(got, np.ndarray) and got.shape == (len(X), len(W)) \
            and np.allclose(got, X @ W + b):
        return "the output equals X @ W + b: W is stored (out, in), so the layer computes X @ W.T + b"
    return msg


def _mlp_case(rng: np.random.Generator, sizes: list[int], n: int, label: str) -> Case:
    weights = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in pairwise(sizes)]
    biases = [rng.normal(size=o) * 0.5 for o in sizes[1:]]
    return Case((rng.normal(size=(n, sizes[0])), weights, biases), {}, label)


def _cases_2_2(rng: np.random.Generator) -> list[Case]:
    return [
        _mlp_case(rng, [3, 4, 2], 5, "a 3-4-2 network on a batch of 5"),
        _mlp_case(rng, [4, 3], 6, "a single layer (no hidden layer), batch of 6"),
        _mlp_case(rng, [2, 8, 8, 8, 1], 10, "a 2-8-8-8-1 network on a batch of 10"),
        _mlp_case(rng, [10, 5, 3], 1, "a 10-5-3 network on a single input"),
    ]


def _mlp_reference(X, weights, biases, relu_last: bool = False, relu: bool = True) -> np.ndarray:
    torch = _torch()
    F = torch.nn.functional
    h = torch.from_numpy(X)
    for k, (W, b) in enumerate(zip(weights, biases, strict=False)):
        h = F.linear(h, torch.from_numpy(W), torch.from_numpy(b))
        if relu and (k < len(weights) - 1 or relu_last):
            h = F.relu(h)
    return h.numpy()


def _judge_2_2(case: Case, got: Any) -> str | None:
    X, weights, biases = case.args
    msg = compare_array(_mlp_reference(X, weights, biases), got, what="the output")
    if msg and isinstance(got, np.ndarray):
        for kwargs, why in [({"relu_last": True}, "the output layer should have no activation "
                                                  "(ReLU only between layers)"),
                            ({"relu": False}, "ReLU is missing after the hidden layers")]:
            alt = _mlp_reference(X, weights, biases, **kwargs)
            if got.shape == alt.shape and np.allclose(got, alt):
                return why
    return msg


def _cases_2_3(rng: np.random.Generator) -> list[Case]:
    sizes = [[2, 3, 1], [784, 128, 10], [4], [10, 10, 10, 10]]
    sizes.append([int(v) for v in rng.integers(1, 300, size=5)])
    labels = ["a 2-3-1 network", "a 784-128-10 network", "only an input layer",
              "three 10 -> 10 layers", "a random 5-layer-size network"]
    return [Case((list(s),), {}, lab) for s, lab in zip(sizes, labels, strict=True)]


def _judge_2_3(case: Case, got: Any) -> str | None:
    torch = _torch()
    sizes = case.args[0]
    layers = [torch.nn.Linear(i, o, device="meta") for i, o in pairwise(sizes)]
    expected = sum(p.numel() for layer in layers for p in layer.parameters())
    msg = compare_number(expected, got, what="the parameter count", integer=True, rtol=0, atol=0)
    if msg and isinstance(got, (int, float)):
        weights_only = sum(i * o for i, o in pairwise(sizes))
        if got == weights_only and expected != weights_only:
            return msg + " (you counted the weights only: each layer also has one bias per output unit)"
        if got == expected + sizes[0]:
            return msg + " (the input layer has no parameters)"
    return msg


EX02 = [
    Part("2.1", "02_fully_connected", "Dense layer forward pass", "dense_forward", 3, "ex2_1_dense_forward", True,
         _cases_2_1, _judge_2_1, "W has shape (out, in) like torch: y = X @ W.T + b, shape (N, out)"),
    Part("2.2", "02_fully_connected", "Forward pass of a network", "mlp_forward", 4, "ex2_2_mlp_forward", True,
         _cases_2_2, _judge_2_2,
         "loop over (W, b) pairs: h = h @ W.T + b, then ReLU (np.maximum(h, 0)) except after the last layer"),
    Part("2.3", "02_fully_connected", "Parameter count", "count_parameters", 3, "ex2_3_count_parameters", True,
         _cases_2_3, _judge_2_3, "a layer from n_in to n_out units has n_in·n_out weights and n_out biases"),
]


# --------------------------------------------------------------------------
# 03 · Activation functions
# --------------------------------------------------------------------------


def _with_zeros(z: np.ndarray, rng: np.random.Generator, k: int = 3) -> np.ndarray:
    """Put exact zeros into z: the kinks of ReLU-like functions live there."""
    z = z.copy()
    z.flat[rng.choice(z.size, size=min(k, z.size), replace=False)] = 0.0
    return z


def _cases_3_1(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.linspace(-6, 6, 13),), {}, "13 evenly spaced values from -6 to 6"),
        Case((rng.normal(size=(4, 5)) * 3,), {}, "a (4, 5) matrix"),
        Case((np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),), {}, "very large positive and negative inputs"),
    ]


def _judge_3_1(case: Case, got: Any) -> str | None:
    torch = _torch()
    return compare_array(torch.sigmoid(torch.from_numpy(case.args[0])).numpy(), got, what="sigmoid(z)")


def _cases_3_2(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_with_zeros(rng.normal(size=10), rng),), {}, "10 values including exact zeros"),
        Case((_with_zeros(rng.normal(size=(3, 4)), rng),), {"slope": 0.2}, "a (3, 4) matrix with slope 0.2"),
        Case((np.linspace(-3, 3, 7),), {"slope": 0.0}, "slope 0 (plain ReLU)"),
    ]


def _judge_3_2(case: Case, got: Any) -> str | None:
    torch = _torch()
    slope = case.kwargs.get("slope", 0.01)
    expected = torch.nn.functional.leaky_relu(torch.from_numpy(case.args[0]), slope).numpy()
    return compare_array(expected, got, what="leaky_relu(z)")


_GRAD_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu")


def _cases_3_3(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name in _GRAD_NAMES:
        z = _with_zeros(rng.normal(size=12) * 2.5, rng)
        cases.append(Case((z, name), {}, f"the derivative of {name}, inputs including exact zeros"))
    cases.append(Case((rng.normal(size=(3, 4)), "tanh"), {}, "the derivative of tanh on a (3, 4) matrix"))
    return cases


def _torch_activation(name: str):
    torch = _torch()
    F = torch.nn.functional
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
            "leaky_relu": lambda t: F.leaky_relu(t, 0.01)}[name]


def _judge_3_3(case: Case, got: Any) -> str | None:
    torch = _torch()
    z, name = case.args
    t = torch.from_numpy(z).requires_grad_(True)
    f = _torch_activation(name)
    (grad,) = torch.autograd.grad(f(t).sum(), t)  # autograd: the reference derivative, kinks included
    msg = compare_array(grad.numpy(), got, what=f"the derivative of {name}")
    if msg and isinstance(got, np.ndarray) and got.shape == z.shape:
        value = f(torch.from_numpy(z)).numpy()
        if np.allclose(got, value):
            return f"you returned {name}(z) itself, not its derivative"
        at_zero = (z == 0) & ~np.isclose(got, grad.numpy())
        if at_zero.any() and np.allclose(got[z != 0], grad.numpy()[z != 0]):
            return (f"wrong value at z = 0 exactly: the course follows torch, where the derivative of "
                    f"{name} at 0 is {_fmt(grad.numpy()[z == 0][0])}")
    return msg


def _cases_3_4(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, units, shift, label in [(100, 5, 20, -2.0, "100 inputs, 20 units, negative biases"),
                                      (50, 3, 10, 0.0, "50 inputs, 10 units, zero biases"),
                                      (200, 10, 40, -4.0, "200 inputs, 40 units, strongly negative biases")]:
        X = rng.normal(size=(n, d))
        W = rng.normal(size=(units, d))
        b = rng.normal(size=units) + shift
        cases.append(Case((X, W, b), {}, label))
    W = np.ones((4, 3))
    cases.append(Case((np.abs(rng.normal(size=(8, 3))), W, np.array([-100.0, 1.0, -100.0, 0.0])), {},
                      "4 units of which 2 are dead"))
    return cases


def _judge_3_4(case: Case, got: Any) -> str | None:
    torch = _torch()
    X, W, b = case.args
    z = torch.nn.functional.linear(torch.from_numpy(X), torch.from_numpy(W), torch.from_numpy(b))
    h = torch.relu(z)
    dead = (h == 0).all(dim=0)  # a dead unit outputs 0 for every input of the batch
    msg = compare_number(dead.double().mean().item(), got, what="the dead fraction", atol=1e-12)
    if msg and isinstance(got, (int, float)):
        if math.isclose(got, (h == 0).double().mean().item()):
            return msg + (" (that is the fraction of zero outputs; a unit is dead only when its "
                          "output is 0 for every input)")
        if math.isclose(got, dead.double().sum().item()) and dead.sum() >= 1:
            return msg + " (that looks like the number of dead units; divide by the number of units)"
    return msg


EX03 = [
    Part("3.1", "03_activations", "Sigmoid", "sigmoid", 2, "ex3_1_sigmoid", True,
         _cases_3_1, _judge_3_1,
         "sigmoid(z) = 1 / (1 + exp(-z)); for large |z| make sure no inf / inf or 0 · inf appears"),
    Part("3.2", "03_activations", "Leaky ReLU", "leaky_relu", 2, "ex3_2_leaky_relu", True,
         _cases_3_2, _judge_3_2, "z where z > 0, slope·z elsewhere: np.where(z > 0, z, slope * z)"),
    Part("3.3", "03_activations", "Derivatives of activations", "activation_grad", 4,
         "ex3_3_activation_grad", True, _cases_3_3, _judge_3_3,
         "sigmoid' = s(1 - s); tanh' = 1 - tanh²; relu' = 1 where z > 0 else 0; "
         "leaky_relu' = 1 where z > 0 else 0.01"),
    Part("3.4", "03_activations", "Fraction of dead ReLU units", "dead_fraction", 2,
         "ex3_4_dead_fraction", True, _cases_3_4, _judge_3_4,
         "compute relu(X @ W.T + b), shape (N, units); a unit (a column) is dead if all its N outputs are 0"),
]


# --------------------------------------------------------------------------
# 04 · The linear-collapse proof
# --------------------------------------------------------------------------


def _stack(rng: np.random.Generator, sizes: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights = [rng.normal(size=(o, i)) for i, o in pairwise(sizes)]
    return weights, [rng.normal(size=o) for o in sizes[1:]]


def _cases_4_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sizes, label in [([3, 4, 2], "3 -> 4 -> 2"), ([5, 5, 5], "square layers 5 -> 5 -> 5"),
                         ([2, 1, 3], "a bottleneck 2 -> 1 -> 3")]:
        (W1, W2), (b1, b2) = _stack(rng, sizes)
        cases.append(Case((W1, b1, W2, b2), {}, label))
    return cases


def _collapse_reference(weights: list[np.ndarray], biases: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Read W and b off the stack's behaviour: b = f(0), column i of W = f(e_i) - f(0) (computed by torch)."""
    torch = _torch()
    F = torch.nn.functional
    d = weights[0].shape[1]
    h = torch.cat([torch.zeros(1, d, dtype=torch.float64), torch.eye(d, dtype=torch.float64)])
    for W, b in zip(weights, biases, strict=False):
        h = F.linear(h, torch.from_numpy(W), torch.from_numpy(b))
    b = h[0]
    return (h[1:] - b).T.numpy(), b.numpy()


def _judge_collapse(weights, biases, got: Any) -> str | None:
    W_exp, b_exp = _collapse_reference(weights, biases)
    pair, msg = _pair(got, "the result")
    if msg:
        return msg
    W, b = pair
    msg = compare_array(W_exp, W, what="W", rtol=1e-7, atol=1e-9)
    if msg and isinstance(W, np.ndarray) and len(weights) >= 2:
        rev = weights[0]
        for M in weights[1:]:
            rev = rev @ M if rev.shape[1] == M.shape[0] else None
            if rev is None:
                break
        if rev is not None and rev.shape == W.shape and np.allclose(W, rev):
            return "W multiplies the matrices in the wrong order: the first layer acts first, so W = W_L ⋯ W_2 W_1"
        if W.shape == W_exp.shape[::-1]:
            return msg + "; the collapsed W maps the input to the output, so it has shape (out, in)"
    if msg:
        return msg
    msg = compare_array(b_exp, b, what="b", rtol=1e-7, atol=1e-9)
    if msg and isinstance(b, np.ndarray) and b.shape == b_exp.shape and np.allclose(b, sum(biases[-1:])) \
            and len(weights) >= 2:
        return "b is only the last layer's bias: earlier biases pass through the later layers' weights too"
    return msg


def _judge_4_1(case: Case, got: Any) -> str | None:
    W1, b1, W2, b2 = case.args
    return _judge_collapse([W1, W2], [b1, b2], got)


def _cases_4_2(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sizes, label in [([3, 2], "a single layer"), ([4, 6, 5, 2], "three layers 4 -> 6 -> 5 -> 2"),
                         ([3, 3, 3, 3, 3, 3], "five square layers"), ([6, 8, 1, 8, 4], "four layers with a bottleneck")]:
        weights, biases = _stack(rng, sizes)
        scale = 1 / np.sqrt(np.array(sizes[:-1], dtype=float))  # keep products of order 1
        weights = [W * s for W, s in zip(weights, scale, strict=True)]
        cases.append(Case((weights, biases), {}, label))
    return cases


def _judge_4_2(case: Case, got: Any) -> str | None:
    return _judge_collapse(*case.args, got)


def _cases_4_3(rng: np.random.Generator) -> list[Case]:
    sizes = [[3, 5, 2, 4], [10, 10], [784, 1, 10], [8, 4, 16, 8], [2, 100, 100, 3]]
    labels = ["widths 3, 5, 2, 4", "a single 10 -> 10 layer", "a 1-unit bottleneck",
              "a narrow first hidden layer", "wide hidden layers"]
    return [Case((s,), {}, lab) for s, lab in zip(sizes, labels, strict=True)]


def _judge_4_3(case: Case, got: Any) -> str | None:
    sizes = case.args[0]
    # the reference: the rank of the product of generic matrices of these shapes, computed numerically
    rng = np.random.default_rng(0)
    W = np.eye(sizes[0])
    for i, o in pairwise(sizes):
        W = rng.normal(size=(o, i)) @ W
    expected = int(np.linalg.matrix_rank(W))
    msg = compare_number(expected, got, what="the rank bound", integer=True, rtol=0, atol=0)
    if msg and isinstance(got, (int, float)) and got == min(sizes[0], sizes[-1]):
        return msg + " (the hidden layers count too: every layer's width bounds the rank)"
    return msg


EX04 = [
    Part("4.1", "04_linear_collapse", "Collapse two linear layers", "collapse_two", 3, "ex4_1_collapse_two", True,
         _cases_4_1, _judge_4_1, "W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)"),
    Part("4.2", "04_linear_collapse", "Collapse any stack", "collapse", 5, "ex4_2_collapse", True,
         _cases_4_2, _judge_4_2,
         "start from W = W_1, b = b_1; for each next layer: W = W_k @ W, b = W_k @ b + b_k"),
    Part("4.3", "04_linear_collapse", "The rank bound", "rank_bound", 2, "ex4_3_rank_bound", True,
         _cases_4_3, _judge_4_3, "rank(A B) <= min(rank A, rank B): the narrowest layer, input and output included"),
]


# --------------------------------------------------------------------------
# 05 · Parameter initialization (random: judged statistically, never seed-exact)
# --------------------------------------------------------------------------

_SIGMAS = 8.0  # bands of 8 standard errors: a right answer fails with probability < 1e-14


def _weights_array(case: Case, got: Any) -> tuple[np.ndarray | None, str | None]:
    fan_in, fan_out = case.args[0], case.args[1]
    arr, msg = _as_array(got, "the weights")
    if msg:
        return None, msg
    if arr.shape != (fan_out, fan_in):
        extra = " (weights are stored (out, in) like torch: rows are output units)" \
            if arr.shape == (fan_in, fan_out) else ""
        return None, f"the weights should have shape (fan_out, fan_in) = {(fan_out, fan_in)}, got {arr.shape}{extra}"
    if arr.dtype.kind != "f":
        return None, f"the weights should be floating-point numbers, got dtype {arr.dtype}"
    if not np.all(np.isfinite(arr)):
        return None, "the weights contain NaN or inf"
    return arr.astype(np.float64), None


def _check_spread(w: np.ndarray, std: float, what: str, formula: str) -> str | None:
    n = w.size
    mean, s = float(w.mean()), float(w.std())
    if abs(mean) > _SIGMAS * std / math.sqrt(n):
        return f"the weights' mean is {_fmt(mean)}; it should be 0 (up to sampling noise)"
    if s == 0:
        return "all weights are equal: draw them at random with the rng you are given"
    # the sample std of n draws has relative standard error about 1/sqrt(2n) (normal) or 0.45/sqrt(n) (uniform)
    if abs(s / std - 1) > _SIGMAS * 0.75 / math.sqrt(n):
        return f"the weights' std is {_fmt(s)}, but {what} has std {formula} = {_fmt(std)}"
    return None


def _init_cases(rng: np.random.Generator, specs: list[tuple[int, int, dict, str]]) -> list[Case]:
    # each case gets its own generator, so a student's draws in one case do not affect another
    return [Case((fi, fo, np.random.default_rng(rng.integers(2**63))), kw, label) for fi, fo, kw, label in specs]


def _cases_5_1(rng: np.random.Generator) -> list[Case]:
    return _init_cases(rng, [(300, 400, {}, "fan_in 300, fan_out 400"),
                             (400, 100, {"gain": 5 / 3}, "fan_in 400, fan_out 100, gain 5/3 (tanh)"),
                             (250, 250, {}, "a square 250 x 250 layer")])


def _judge_5_1(case: Case, got: Any) -> str | None:
    w, msg = _weights_array(case, got)
    if msg:
        return msg
    fan_in, fan_out = case.args[0], case.args[1]
    gain = case.kwargs.get("gain", 1.0)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    top = float(np.abs(w).max())
    if top > a * (1 + 1e-9):
        return (f"some weights reach {_fmt(top)}, beyond the bound a = gain·√(6/(fan_in+fan_out)) = {_fmt(a)}: "
                f"draw from U(-a, a)")
    if top < a * (1 - 50 / w.size):  # the largest of n uniform draws is this close to a with prob 1 - e^-50
        return f"the largest weight is {_fmt(top)}, clearly below the bound a = {_fmt(a)}: is the bound right?"
    msg = _check_spread(w, a / math.sqrt(3), "U(-a, a)", "a/√3")
    if msg:
        return msg
    inner = float(np.mean(np.abs(w) < a / 2))  # exactly half of a uniform lies within ±a/2
    if abs(inner - 0.5) > _SIGMAS * 0.5 / math.sqrt(w.size):
        return f"{_fmt(100 * inner)}% of the weights lie within ±a/2; a uniform distribution puts 50% there"
    return None


def _cases_5_2(rng: np.random.Generator) -> list[Case]:
    return _init_cases(rng, [(300, 400, {}, "fan_in 300, fan_out 400, defaults"),
                             (400, 100, {"mode": "fan_out"}, "mode 'fan_out'"),
                             (256, 256, {"gain": 1.0}, "gain 1"),
                             (1000, 50, {"mode": "fan_in", "gain": math.sqrt(2)}, "a wide fan_in of 1000")])


def _judge_5_2(case: Case, got: Any) -> str | None:
    w, msg = _weights_array(case, got)
    if msg:
        return msg
    fan_in, fan_out = case.args[0], case.args[1]
    mode = case.kwargs.get("mode", "fan_in")
    gain = case.kwargs.get("gain", math.sqrt(2))
    fan = fan_in if mode == "fan_in" else fan_out
    std = gain / math.sqrt(fan)
    msg = _check_spread(w, std, f"He normal (mode {mode!r})", "gain/√fan")
    if msg:
        s = float(w.std())
        other = fan_out if mode == "fan_in" else fan_in
        if math.isclose(s, gain / math.sqrt(other), rel_tol=0.03) and fan_in != fan_out:
            return msg + f" (you used the other fan: mode {mode!r} divides by {mode})"
        if math.isclose(s, std**2, rel_tol=0.03):
            return msg + " (that is the variance gain²/fan used as a std: take its square root)"
        return msg
    beyond = float(np.mean(np.abs(w) > 2 * std))  # a normal puts 4.55% beyond 2 std; a uniform 0%
    p = math.erfc(2 / math.sqrt(2))
    if abs(beyond - p) > _SIGMAS * math.sqrt(p * (1 - p) / w.size):
        return (f"{_fmt(100 * beyond)}% of the weights lie beyond 2 std; a normal distribution puts "
                f"{_fmt(100 * p)}% there: draw with rng.normal")
    return None


def _cases_5_3(rng: np.random.Generator) -> list[Case]:
    cases = []
    X = rng.normal(size=(200, 100))
    for act, scale, label in [("sigmoid", 1.0, "sigmoid, weight std 1"),
                              ("tanh", 0.01, "tanh, weight std 0.01"),
                              ("tanh", 0.1, "tanh, weight std 1/√100"),
                              ("relu", math.sqrt(2 / 100), "ReLU, He std √(2/100)")]:
        weights = [rng.normal(size=(100, 100)) * scale for _ in range(5)]
        cases.append(Case((X, weights, act), {}, label + ", 5 layers of 100 units"))
    weights = [rng.normal(size=(30, 20)) * 0.3, rng.normal(size=(10, 30)) * 0.3]
    cases.append(Case((rng.normal(size=(50, 20)), weights, "tanh"), {}, "tanh, layers of different widths"))
    return cases


def _judge_5_3(case: Case, got: Any) -> str | None:
    torch = _torch()
    X, weights, act = case.args
    f = _torch_activation(act)
    h = torch.from_numpy(X)
    rows = []
    for W in weights:
        h = f(h @ torch.from_numpy(W).T)
        rows.append([h.mean().item(), h.std(correction=0).item()])  # population std, like np.std
    expected = np.array(rows)
    msg = compare_array(expected, got, what="the statistics", rtol=1e-6, atol=1e-9)
    if msg and isinstance(got, np.ndarray) and got.shape == expected.shape:
        h = torch.from_numpy(X)
        pre = []
        for W in weights:
            z = h @ torch.from_numpy(W).T
            h = f(z)
            pre.append([z.mean().item(), z.std(correction=0).item()])
        if np.allclose(got, pre, rtol=1e-6, atol=1e-9):
            return "these are the statistics before the activation; report them after it"
        if np.allclose(got[:, 0], expected[:, 0], rtol=1e-6, atol=1e-9):
            return msg + " (the means are right: use the population std, np.std with ddof=0)"
    return msg


EX05 = [
    Part("5.1", "05_initialization", "Xavier uniform initializer", "xavier_uniform", 3, "ex5_1_xavier_uniform", True,
         _cases_5_1, _judge_5_1,
         "a = gain·√(6/(fan_in + fan_out)); rng.uniform(-a, a, size=(fan_out, fan_in))"),
    Part("5.2", "05_initialization", "He (Kaiming) normal initializer", "kaiming_normal", 3, "ex5_2_kaiming_normal",
         True, _cases_5_2, _judge_5_2,
         "std = gain/√fan, with fan = fan_in or fan_out by mode; rng.normal(0, std, size=(fan_out, fan_in))"),
    Part("5.3", "05_initialization", "Per-layer activation statistics", "layer_stats", 4, "ex5_3_layer_stats", True,
         _cases_5_3, _judge_5_3,
         "h = X; for each W: h = act(h @ W.T); record [h.mean(), h.std()]; return an array of shape (L, 2)"),
]


# --------------------------------------------------------------------------
# 06 · Softmax and the output layer
# --------------------------------------------------------------------------


def _cases_6_1(rng: np.random.Generator) -> list[Case]:
    big = rng.normal(size=(4, 6))
    big[1, 2] = 1e4
    return [
        Case((rng.normal(size=5),), {}, "a single vector of 5 logits"),
        Case((rng.normal(size=(4, 3)) * 2,), {}, "a batch of 4 rows of 3 logits"),
        Case((big,), {}, "a batch of 4 rows with one logit of 1e4"),
        Case(((rng.normal(size=(3, 5)) * 5 + 100).astype(np.float32),), {}, "float32 logits around 100"),
        Case((rng.normal(size=(2, 3, 4)),), {}, "a (2, 3, 4) array: softmax over the last axis"),
    ]


def _softmax_tol(z: np.ndarray) -> dict:
    return {"rtol": 1e-5, "atol": 1e-7} if z.dtype == np.float32 else {"rtol": 1e-7, "atol": 1e-12}


def _judge_6_1(case: Case, got: Any) -> str | None:
    torch = _torch()
    z = case.args[0]
    expected = torch.softmax(torch.from_numpy(z).double(), dim=-1).numpy()
    msg = compare_array(expected, got, what="softmax(z)", **_softmax_tol(z))
    if msg and isinstance(got, np.ndarray) and got.shape == z.shape and z.ndim >= 2 \
            and np.all(np.isfinite(got)):
        if np.allclose(got.sum(axis=0), 1) and not np.allclose(got.sum(axis=-1), 1):
            return "your values sum to 1 down each column: normalise along the last axis (keepdims=True)"
    if msg and "NaN" in msg:
        msg += "; exp overflowed: subtract each row's max first"
    return msg


def _cases_6_2(rng: np.random.Generator) -> list[Case]:
    far = rng.normal(size=(3, 4))
    far[0, 0] = 1000.0
    return [
        Case((rng.normal(size=6),), {}, "a single vector of 6 logits"),
        Case((rng.normal(size=(5, 3)),), {}, "a batch of 5 rows of 3 logits"),
        Case((far,), {}, "a row where one logit is 1000 above the others"),
        Case((rng.normal(size=(2, 4)) + 800,), {}, "logits around 800"),
    ]


def _judge_6_2(case: Case, got: Any) -> str | None:
    torch = _torch()
    z = case.args[0]
    expected = torch.log_softmax(torch.from_numpy(z), dim=-1).numpy()
    msg = compare_array(expected, got, what="log_softmax(z)", rtol=1e-7, atol=1e-9)
    if msg and "inf" in msg:
        msg += "; log(softmax(z)) underflows to log(0): use z - max - log(sum(exp(z - max)))"
    return msg


def _ce_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, k, scale, label in [(4, 3, 1.0, "a batch of 4, 3 classes"), (32, 10, 2.0, "a batch of 32, 10 classes"),
                               (5, 7, 0.0, "all-zero logits (a uniform start)"),
                               (6, 4, 300.0, "large logits (hundreds)")]:
        logits = rng.normal(size=(n, k)) * scale
        cases.append(Case((logits, rng.integers(0, k, size=n)), {}, label))
    return cases


def _judge_6_3(case: Case, got: Any) -> str | None:
    torch = _torch()
    logits, targets = case.args
    F = torch.nn.functional
    lt, tt = torch.from_numpy(logits), torch.from_numpy(targets).long()
    expected = F.cross_entropy(lt, tt).item()
    msg = compare_number(expected, got, what="the loss", rtol=1e-7, atol=1e-9)
    if msg and isinstance(got, (int, float)) and math.isfinite(got):
        if math.isclose(got, F.cross_entropy(lt, tt, reduction="sum").item(), rel_tol=1e-6):
            return msg + " (that is the sum over the batch; the loss is the mean)"
        if math.isclose(got, F.cross_entropy(torch.softmax(lt, dim=1), tt).item(), rel_tol=1e-6):
            return msg + " (softmax was applied twice: cross-entropy takes raw logits)"
    if msg and isinstance(got, (int, float)) and not math.isfinite(got):
        msg += "; compute it from a stable log-softmax of the logits, not log(softmax)"
    return msg


def _judge_6_4(case: Case, got: Any) -> str | None:
    torch = _torch()
    logits, targets = case.args
    lt = torch.from_numpy(logits).requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(lt, torch.from_numpy(targets).long())
    (grad,) = torch.autograd.grad(loss, lt)
    expected = grad.numpy()
    msg = compare_array(expected, got, what="the gradient", rtol=1e-6, atol=1e-10)
    if msg and isinstance(got, np.ndarray) and got.shape == expected.shape:
        n = len(logits)
        if np.allclose(got, expected * n, rtol=1e-6, atol=1e-10) and n > 1:
            return "the gradient is N times too large: the loss is a mean, so divide by the batch size N"
        if np.allclose(got, -expected, rtol=1e-6, atol=1e-10):
            return "the gradient has the wrong sign: it is softmax(z) - onehot(y), not onehot(y) - softmax(z)"
    return msg


EX06 = [
    Part("6.1", "06_softmax", "Stable softmax", "softmax", 2, "ex6_1_softmax", True,
         _cases_6_1, _judge_6_1,
         "subtract each row's maximum before exp (keepdims=True), then divide by the row sums"),
    Part("6.2", "06_softmax", "Log-softmax", "log_softmax", 3, "ex6_2_log_softmax", True,
         _cases_6_2, _judge_6_2, "log_softmax(z) = (z - m) - log(sum(exp(z - m))) with m the row maximum"),
    Part("6.3", "06_softmax", "Cross-entropy from logits", "cross_entropy", 3, "ex6_3_cross_entropy", True,
         _ce_cases, _judge_6_3,
         "mean over the batch of -log_softmax(logits)[i, y_i]; index with logp[np.arange(N), y]"),
    Part("6.4", "06_softmax", "Gradient of the cross-entropy", "cross_entropy_grad", 2,
         "ex6_4_cross_entropy_grad", True, _ce_cases, _judge_6_4,
         "(softmax(logits) - onehot(y)) / N, shape (N, K)"),
]


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------

EXERCISES: dict[str, list[Part]] = {
    "01_neurons": EX01,
    "02_fully_connected": EX02,
    "03_activations": EX03,
    "04_linear_collapse": EX04,
    "05_initialization": EX05,
    "06_softmax": EX06,
}


def all_parts() -> list[Part]:
    """Every part of every exercise, in course order."""
    return [p for parts in EXERCISES.values() for p in parts]


def get_part(part_id: str) -> Part:
    """The part with id ``part_id`` ("6.1"); ValueError listing the valid ids otherwise."""
    for part in all_parts():
        if part.id == part_id:
            return part
    valid = ", ".join(p.id for p in all_parts())
    raise ValueError(f"unknown exercise part {part_id!r}; valid parts: {valid}")
