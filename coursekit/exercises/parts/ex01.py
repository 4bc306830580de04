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
    reference,
    torch_module,
)

EXERCISE = "01_neurons"
# not in the student edition: the case generators and the reference answers (see coursekit release)
HIDDEN = ("TABLES", "INSEPARABLE", "_cases_1_1", "_cases_1_2", "_both_sides", "_cases_1_3", "_separable",
          "perceptron_rule", "_RULE_TABLES", "_cases_1_4")

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
        Case((BINARY_INPUTS.copy(), *_both_sides(rng, BINARY_INPUTS)), {}, "the four binary inputs"),
        Case((X3 := rng.normal(size=(50, 3)), *_both_sides(rng, X3)), {}, "50 random inputs with 3 features"),
    ]


def _both_sides(rng: np.random.Generator, X: np.ndarray) -> tuple[np.ndarray, float]:
    """Random (w, b) that put some rows of X on each side of the boundary, none within 0.05 of it."""
    for _ in range(100):  # bounded: about half the draws qualify
        w, b = rng.normal(size=X.shape[1]), float(rng.normal())
        z = X @ w + b
        if (z > 0.05).any() and (z < -0.05).any() and not (np.abs(z) <= 0.05).any():
            return w, b
    raise RuntimeError("no weights with inputs on both sides in 100 draws")


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
    # every one of the 16 tables in every draw: a search that misses one gate misses it everywhere
    return [Case((t.copy(),), {}, f"truth table {k} of 16") for k, t in enumerate(TABLES, start=1)]


def _judge_1_3(case: Case, got: Any) -> str | None:
    table = case.args[0]
    if reference(case, lambda: tuple(table) in INSEPARABLE):
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
    """n points in d dimensions labelled by a random hyperplane, none closer to it than ``margin``.

    The hyperplane's offset is at least 0.6 from the origin, so no hyperplane through the origin
    separates the points as labelled: a rule that never updates the bias cannot get them right.
    """
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    b = float(rng.uniform(0.6, 1.0)) * float(rng.choice([-1.0, 1.0]))
    X = np.empty((0, d))
    for _ in range(100):  # bounded: each round keeps most of the candidates
        cand = rng.uniform(-2, 2, size=(4 * n, d))
        X = np.vstack([X, cand[np.abs(cand @ w + b) >= margin]])
        if len(X) >= n:
            break
    X = X[:n]
    # the origin's side of the plane: at least one point on each side, and one at the origin itself
    X[0] = 0.0
    return X, (X @ w + b > 0).astype(np.float64)


def perceptron_rule(X: np.ndarray, y: np.ndarray, lr: float, epochs: int) -> tuple[np.ndarray, float]:
    """The rule as the exercise states it: from zero, rows in order, stop after an epoch without mistakes."""
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        mistakes = 0
        for x, t in zip(X, y, strict=True):
            o = 1.0 if float(x @ w) + b > 0 else 0.0
            if o != t:
                w = w + lr * (t - o) * x
                b = b + lr * (t - o)
                mistakes += 1
        if mistakes == 0:
            break
    return w, b


# AND and NAND: no line through the origin computes them, so the bias update is what the rule needs
_RULE_TABLES = [("AND", (0.0, 0.0, 0.0, 1.0)), ("NAND", (1.0, 1.0, 1.0, 0.0))]


def _cases_1_4(rng: np.random.Generator) -> list[Case]:
    cases = [Case((BINARY_INPUTS.copy(), np.array(t)), {"lr": float(rng.choice([0.5, 1.0])), "epochs": 100},
                  f"the {name} gate", defining=True)
             for name, t in _RULE_TABLES]
    X, y = _separable(rng, 40, 2, 0.15)
    cases.append(Case((X, y), {"lr": 0.5, "epochs": 1000}, "40 separable points in 2-D, plane off the origin"))
    X, y = _separable(rng, 60, 4, 0.2)
    cases.append(Case((X, y), {"lr": 1.0, "epochs": 1000}, "60 separable points in 4-D, plane off the origin"))
    return cases


def _judge_1_4(case: Case, got: Any) -> str | None:
    X, y = case.args
    w_rule, b_rule = reference(case, lambda: perceptron_rule(X, y, case.kwargs["lr"], case.kwargs["epochs"]))
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
    if np.allclose(w, w_rule, rtol=1e-9, atol=1e-9) and math.isclose(b, b_rule, rel_tol=1e-9, abs_tol=1e-9):
        return None
    pred = (X @ w.astype(np.float64) + b > 0).astype(np.float64)
    wrong = np.flatnonzero(pred != y)
    if wrong.size:
        i = int(wrong[0])
        return (f"the trained perceptron misclassifies {wrong.size} of {len(y)} training points "
                f"(e.g. row {i}: label {int(y[i])}, prediction {int(pred[i])}); the data are separable, "
                f"so the rule reaches zero errors")
    if b == 0 and b_rule != 0:
        return "(w, b) separates the data but b is still 0: the rule updates the bias after every mistake too"
    return ("(w, b) separates the data but is not what the perceptron rule gives from w = 0, b = 0 "
            "(the rule is deterministic: rows in order, one update after each mistake)")


PARTS = [
    Part(id="1.1", title="Weighted sum", function="weighted_sum", points=2,
         cases=_cases_1_1, judge=_judge_1_1,
         hints=("Each row of X is one input to the neuron, and the neuron gives one number per input: the result needs one "
                "entry per row, with the bias counted once in each.",
                "Chapter 01, §2 (the artificial neuron) writes the neuron for a single input. What changes when N inputs "
                "are stacked as the rows of a matrix, and what shape must the answer then have?")),
    Part(id="1.2", title="Perceptron output", function="perceptron", points=2,
         cases=_cases_1_2, judge=_judge_1_2,
         hints=("A perceptron's output is binary, and the course fixes what happens exactly on the boundary: your outputs "
                "disagree with the chapter's step function for some inputs.",
                "Chapter 01, §3 (the perceptron and logic gates) defines the step function. Which output does it give for "
                "a weighted sum of exactly zero, and which of the check's inputs land there?")),
    Part(id="1.3", title="Which gates one perceptron computes", function="gate_weights", points=3,
         cases=_cases_1_3, judge=_judge_1_3,
         hints=("One perceptron answers 1 on one side of a straight line and 0 on the other. Where a line can cut off the "
                "table's 1s you need such a line; where none can, the answer is None.",
                "Chapter 01, §3 and §5 (XOR with two layers): draw the unit square and mark the corners where a table says "
                "1. Which tables put their 1s where no line separates them, and for the others, where would a line go?")),
    Part(id="1.4", title="Perceptron learning rule", function="train_perceptron", points=3,
         cases=_cases_1_4, judge=_judge_1_4,
         hints=("The rule is deterministic: the same data, start and order always end at the same (w, b). Yours ends "
                "elsewhere, so some step of your training differs from the rule the task states.",
                "Chapter 01, §4 (the perceptron learning rule): follow the rule by hand on the AND gate for one epoch. "
                "Which parameters change after a mistake, when does an update happen, and does yours match at every row?")),
]
