"""Exercise 01 · Neurons: the weighted sum, the perceptron, which gates one perceptron can compute, the rule."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from coursekit.exercises.judging import (
    Case,
    Part,
    as_array,
    as_number,
    compare_array,
    pair,
    torch_module,
)

EXERCISE = "01_neurons"

BINARY_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
# the 16 truth tables of a 2-input gate, outputs for the inputs (0,0), (0,1), (1,0), (1,1)
TABLES = [np.array(t, dtype=float) for t in itertools.product([0.0, 1.0], repeat=4)]
INSEPARABLE = {(0.0, 1.0, 1.0, 0.0), (1.0, 0.0, 0.0, 1.0)}  # XOR and XNOR: 1s on opposite corners


def _cases_1_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, label in [(4, 2, "4 inputs with 2 features"), (10, 3, "10 inputs with 3 features"),
                        (1, 5, "a single input with 5 features"), (64, 16, "64 inputs with 16 features")]:
        cases.append(Case((rng.normal(size=(n, d)), rng.normal(size=d), float(rng.normal())), {}, label))
    return cases


def _judge_1_1(case: Case, got: Any) -> str | None:
    torch = torch_module()
    X, w, b = case.args
    z = torch.from_numpy(X) @ torch.from_numpy(w) + b
    return compare_array(z.numpy(), got, what="z")


def _cases_1_2(rng: np.random.Generator) -> list[Case]:
    # integer-valued inputs and weights put some points exactly on the boundary z = 0
    X = np.vstack([rng.integers(-2, 3, size=(10, 2)), [[0, 1], [2, -1]]]).astype(np.float64)
    X = X[rng.permutation(len(X))]  # at least two rows on the boundary, anywhere
    return [
        Case((X, np.array([1.0, 1.0]), -1.0), {}, "12 inputs, some exactly on the boundary (z = 0)"),
        Case((BINARY_INPUTS.copy(), rng.normal(size=2), float(rng.normal())), {}, "the four binary inputs"),
        Case((rng.normal(size=(50, 3)), rng.normal(size=3), float(rng.normal())), {}, "50 random inputs with 3 features"),
    ]


def _judge_1_2(case: Case, got: Any) -> str | None:
    torch = torch_module()
    X, w, b = case.args
    z = torch.from_numpy(X) @ torch.from_numpy(w) + b
    expected = (z > 0).double().numpy()  # step(z) = 1 if z > 0 else 0
    arr, msg = as_array(got, "the output")
    if msg:
        return msg
    if arr.shape == expected.shape and arr.dtype.kind in "biuf":
        a = arr.astype(np.float64)
        if not np.all((a == 0) | (a == 1)):
            return "the output should contain only 0 and 1 (the step function of z)"
        on_boundary = np.isclose(z.numpy(), 0.0) & (a != expected)
        if on_boundary.any():
            return "inputs with z = 0 exactly should give 0 (step(z) = 1 only when z > 0)"
    return compare_array(expected, arr, what="the output", floating=False)


def _cases_1_3(rng: np.random.Generator) -> list[Case]:
    separable = [t for t in TABLES if tuple(t) not in INSEPARABLE]
    chosen = [separable[i].copy() for i in rng.choice(len(separable), size=4, replace=False)]
    chosen.insert(int(rng.integers(0, 5)), TABLES[int(rng.choice([6, 9]))].copy())  # XOR or XNOR, anywhere
    return [Case((t,), {}, f"truth table {k} of 5") for k, t in enumerate(chosen, start=1)]


def _judge_1_3(case: Case, got: Any) -> str | None:
    table = case.args[0]
    if tuple(table) in INSEPARABLE:
        if got is None:
            return None
        return ("this table has its 1s on opposite corners of the square: no single perceptron "
                "computes it, so the answer is None")
    if got is None:
        return "this table can be computed by one perceptron, but you returned None"
    wb, msg = pair(got, "the answer")
    if msg:
        return msg + " (w, b), or None"
    w, msg = as_array(wb[0], "w")
    if msg:
        return msg
    if w.shape != (2,):
        return f"w should have shape (2,), one weight per input; got {w.shape}"
    b, msg = as_number(wb[1], "b")
    if msg:
        return msg
    out = (BINARY_INPUTS @ w.astype(np.float64) + b > 0).astype(np.float64)
    for x, o, t in zip(BINARY_INPUTS, out, table, strict=True):
        if o != t:
            return (f"for input ({int(x[0])}, {int(x[1])}) your perceptron outputs {int(o)}, "
                    f"but the table says {int(t)}")
    return None


def _separable(rng: np.random.Generator, n: int, d: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """n points in d dimensions labelled by a random hyperplane, none closer to it than ``margin``."""
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    b = float(rng.uniform(-0.5, 0.5))
    X = np.empty((0, d))
    for _ in range(100):  # bounded: each round keeps most of the candidates
        cand = rng.uniform(-2, 2, size=(4 * n, d))
        X = np.vstack([X, cand[np.abs(cand @ w + b) >= margin]])
        if len(X) >= n:
            break
    X = X[:n]
    return X, (X @ w + b > 0).astype(np.float64)


def _cases_1_4(rng: np.random.Generator) -> list[Case]:
    separable = [t for t in TABLES if tuple(t) not in INSEPARABLE and 0 < t.sum() < 4]
    cases = [Case((BINARY_INPUTS.copy(), separable[i].copy()), {"lr": 1.0, "epochs": 100},
                  f"a separable truth table ({k} of 2)")
             for k, i in enumerate(rng.choice(len(separable), size=2, replace=False), start=1)]
    X, y = _separable(rng, 40, 2, 0.15)
    cases.append(Case((X, y), {"lr": 0.5, "epochs": 1000}, "40 separable points in 2-D"))
    X, y = _separable(rng, 60, 4, 0.2)
    cases.append(Case((X, y), {"lr": 1.0, "epochs": 1000}, "60 separable points in 4-D"))
    return cases


def _judge_1_4(case: Case, got: Any) -> str | None:
    X, y = case.args
    wb, msg = pair(got, "train_perceptron(...)")
    if msg:
        return msg + " (w, b)"
    w, msg = as_array(wb[0], "w")
    if msg:
        return msg
    if w.shape != (X.shape[1],):
        return f"w should have shape ({X.shape[1]},), one weight per feature; got {w.shape}"
    b, msg = as_number(wb[1], "b")
    if msg:
        return msg
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


PARTS = [
    Part(id="1.1", title="Weighted sum", function="weighted_sum", points=2,
         cases=_cases_1_1, judge=_judge_1_1,
         hints=("The weighted sum is one number per input row: that row's features times their weights, "
                "added up, plus the bias.",
                "The result has shape (N,), one z per row of X, and the bias is added once per row, "
                "not once per feature.")),
    Part(id="1.2", title="Perceptron output", function="perceptron", points=2,
         cases=_cases_1_2, judge=_judge_1_2,
         hints=("A perceptron outputs step(z) of its weighted sum: 1 when z is strictly positive, 0 otherwise.",
                "Look at the inputs that lie exactly on the boundary z = 0: the course's step gives 0 there, "
                "and the output is an array of floats 0.0 / 1.0.")),
    Part(id="1.3", title="Which gates one perceptron computes", function="gate_weights", points=3,
         cases=_cases_1_3, judge=_judge_1_3,
         hints=("One perceptron answers 1 on one side of a straight line through the unit square. Mark the "
                "corners where the table says 1 and ask whether a single line cuts them off from the others.",
                "Pick the line first, then the numbers: w points towards the side that answers 1 and b shifts "
                "the line. Two of the sixteen tables put their 1s on opposite corners; no line separates those, "
                "so the answer there is None. You may also let your own code search for w and b.")),
    Part(id="1.4", title="Perceptron learning rule", function="train_perceptron", points=3,
         cases=_cases_1_4, judge=_judge_1_4,
         hints=("The rule changes the weights only after a mistake, by lr · (target − output) · x, and the bias "
                "by lr · (target − output); on separable data the mistakes stop after finitely many epochs.",
                "Start from zero weights, visit the rows in order and update after each row (not once per "
                "epoch); stop after the first epoch without a mistake, or after `epochs` epochs.")),
]
