"""Exercise 05 · Parameter initialization: Xavier and He from the given rng, layer statistics, tanh's scale, symmetry.

Random answers are judged statistically (bands of 8 standard errors), never
seed-exact, except for the one property that is exact: weights drawn from
the generator the function was given are the generator's next draws, scaled.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from coursekit.exercises.judging import (
    Case,
    Part,
    as_array,
    as_number,
    compare_array,
    fmt,
    reference,
    torch_module,
)
from coursekit.exercises.parts.ex03 import torch_activation

EXERCISE = "05_initialization"
# not in the student edition: the case generators and the reference answers (see coursekit release)
HIDDEN = ("_init_cases", "_fans", "_cases_5_1", "_cases_5_2", "_cases_5_3", "_cases_5_4", "_count_rows", "_trained_w1",
          "_spread", "_cases_5_5")
_SIGMAS = 8.0  # bands of 8 standard errors: a right answer fails with probability < 1e-14


def _weights_array(case: Case, got: Any) -> tuple[np.ndarray | None, str | None]:
    fan_in, fan_out = case.args[0], case.args[1]
    arr, msg = as_array(got, "the weights")
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


def _drawn_from(case: Case, w: np.ndarray, kind: str) -> str | None:
    """None if ``w`` is the generator's next w.size draws of ``kind``, times one scale (any arrangement)."""
    rng = copy.deepcopy(case.args[2])  # the judge's own copy, still in the state the student received
    z = rng.standard_normal(w.size) if kind == "normal" else 2 * rng.random(w.size) - 1
    zs, ws = np.sort(z), np.sort(w.reshape(-1))
    scale = float(ws @ zs / (zs @ zs))
    if scale > 0 and np.allclose(ws, scale * zs, rtol=1e-9, atol=1e-12 * scale):
        return None
    return ("your weights are not drawn from the rng argument: with a generator in a given state, the "
            "weights must be its next draws (one call such as rng.normal or rng.uniform), so that the same "
            "seed gives the same network. Draws from np.random.* or a generator of your own fail this check")


def _check_spread(w: np.ndarray, std: float, what: str, formula: str) -> str | None:
    n = w.size
    mean, s = float(w.mean()), float(w.std())
    if abs(mean) > _SIGMAS * std / math.sqrt(n):
        return f"the weights' mean is {fmt(mean)}; it should be 0 (up to sampling noise)"
    if s == 0:
        return "all weights are equal: draw them at random with the rng you are given"
    # the sample std of n draws has relative standard error about 1/sqrt(2n) (normal) or 0.45/sqrt(n) (uniform)
    if abs(s / std - 1) > _SIGMAS * 0.75 / math.sqrt(n):
        return f"the weights' std is {fmt(s)}, but {what} has std {formula} = {fmt(std)}"
    return None


def _init_cases(rng: np.random.Generator, specs: list[tuple[int, int, dict, str, bool]]) -> list[Case]:
    # each case gets its own generator, so a student's draws in one case do not affect another
    return [Case((fi, fo, np.random.default_rng(rng.integers(2**63))), kw, label, defining)
            for fi, fo, kw, label, defining in specs]


def _fans(rng: np.random.Generator) -> tuple[int, int]:
    """fan_in and fan_out at least 1.5 times apart (either larger): swapping them always shows."""
    a = int(rng.integers(100, 300))
    b = int(a * rng.uniform(1.5, 2.5))
    return (a, b) if rng.random() < 0.5 else (b, a)


def _cases_5_1(rng: np.random.Generator) -> list[Case]:
    (a, b), (c, d), (e, _) = _fans(rng), _fans(rng), _fans(rng)
    return _init_cases(rng, [(a, b, {}, "defaults: drawn from the given rng", True),
                             (c, d, {"gain": 5 / 3}, "gain 5/3 (tanh)", False),
                             (e, e, {}, "a square layer", False),
                             (b, a, {"gain": math.sqrt(2)}, "gain √2 (ReLU)", False)])


def _judge_5_1(case: Case, got: Any) -> str | None:
    w, msg = _weights_array(case, got)
    if msg:
        return msg
    if case.defining:
        return _drawn_from(case, w, "uniform")
    fan_in, fan_out = case.args[0], case.args[1]
    gain = case.kwargs.get("gain", 1.0)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    top = float(np.abs(w).max())
    if top > a * (1 + 1e-9):
        return f"some weights reach {fmt(top)}, beyond the bound of Xavier uniform for these fans ({fmt(a)})"
    if top < a * (1 - 50 / w.size):  # the largest of n uniform draws is this close to a with prob 1 - e^-50
        return f"the largest weight is {fmt(top)}, clearly below the bound of Xavier uniform ({fmt(a)}): is the bound right?"
    msg = _check_spread(w, a / math.sqrt(3), "U(-a, a)", "a/√3")
    if msg:
        return msg
    inner = float(np.mean(np.abs(w) < a / 2))  # exactly half of a uniform lies within ±a/2
    if abs(inner - 0.5) > _SIGMAS * 0.5 / math.sqrt(w.size):
        return f"{fmt(100 * inner)}% of the weights lie within ±a/2; a uniform distribution puts 50% there"
    return None


def _cases_5_2(rng: np.random.Generator) -> list[Case]:
    (a, b), (c, d), (e, _), (f, g) = _fans(rng), _fans(rng), _fans(rng), _fans(rng)
    return _init_cases(rng, [(a, b, {}, "defaults: drawn from the given rng", True),
                             (c, d, {"mode": "fan_out"}, "mode 'fan_out'", False),
                             (e, e, {"gain": 1.0}, "gain 1", False),
                             (1000, f, {"mode": "fan_in", "gain": math.sqrt(2)}, "a wide fan_in of 1000", False),
                             (g, f, {}, "defaults", False)])


def _judge_5_2(case: Case, got: Any) -> str | None:
    w, msg = _weights_array(case, got)
    if msg:
        return msg
    if case.defining:
        return _drawn_from(case, w, "normal")
    fan_in, fan_out = case.args[0], case.args[1]
    mode = case.kwargs.get("mode", "fan_in")
    gain = case.kwargs.get("gain", math.sqrt(2))
    fan = {"fan_in": fan_in, "fan_out": fan_out}[mode]
    std = gain / math.sqrt(fan)
    msg = _check_spread(w, std, f"He normal (mode {mode!r})", "gain/√fan")
    if msg:
        s = float(w.std())
        other = fan_out if mode == "fan_in" else fan_in
        if math.isclose(s, gain / math.sqrt(other), rel_tol=0.03) and abs(fan_in - fan_out) > 0.1 * fan:
            return msg + f" (you used the other fan: mode {mode!r} divides by {mode})"
        if math.isclose(s, std**2, rel_tol=0.03):
            return msg + " (that is the variance gain²/fan used as a std)"
        return msg
    beyond = float(np.mean(np.abs(w) > 2 * std))  # a normal puts 4.55% beyond 2 std; a uniform 0%
    p = math.erfc(2 / math.sqrt(2))
    if abs(beyond - p) > _SIGMAS * math.sqrt(p * (1 - p) / w.size):
        return (f"{fmt(100 * beyond)}% of the weights lie beyond 2 std; a normal distribution puts "
                f"{fmt(100 * p)}% there")
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
    torch = torch_module()
    X, weights, act = case.args
    f = torch_activation(act)
    h = torch.from_numpy(X)
    rows, pre = [], []
    for W in weights:
        z = h @ torch.from_numpy(W).T
        h = f(z)
        rows.append([h.mean().item(), h.std(correction=0).item()])  # population std, like np.std
        pre.append([z.mean().item(), z.std(correction=0).item()])
    expected = np.array(rows)
    msg = compare_array(expected, got, what="the statistics", rtol=1e-6, atol=1e-9)
    if msg and isinstance(got, np.ndarray) and got.shape == expected.shape:
        if np.allclose(got, pre, rtol=1e-6, atol=1e-9):
            return "these are the statistics before the activation; report them after it"
        n = np.array([X.shape[0] * W.shape[0] for W in weights], dtype=float)  # entries of each layer's output
        sample = expected[:, 1] * np.sqrt(n / (n - 1))
        if np.allclose(got[:, 0], expected[:, 0], rtol=1e-6, atol=1e-9) and np.allclose(got[:, 1], sample, rtol=1e-6):
            return msg + " (the means are right and the stds are the sample std: the one asked for is ddof = 0)"
        if np.allclose(got[:, 0], expected[:, 0], rtol=1e-6, atol=1e-9):
            return msg + " (the means are right, the stds are not: over which entries did you take the std?)"
    return msg


TANH_LAYERS = 10
TANH_TOL = 0.03  # the mean std of layers 5..10 must be within this of the target


def _tanh_stds(fan_in: int, std: float) -> list[float]:
    """Std of each of 10 tanh layers of width fan_in, weights N(0, std²), 500 standard-normal inputs (torch)."""
    torch = torch_module()
    g = torch.Generator().manual_seed(fan_in)
    h = torch.randn(500, fan_in, generator=g, dtype=torch.float64)
    out = []
    for _ in range(TANH_LAYERS):
        W = torch.randn(fan_in, fan_in, generator=g, dtype=torch.float64) * std
        h = torch.tanh(h @ W.T)
        out.append(h.std(correction=0).item())
    return out


def _cases_5_4(rng: np.random.Generator) -> list[Case]:
    """Widths from 64 to 512 and targets in three bands, none near what tanh's gain 5/3 gives (about 0.63)."""
    return [Case((int(rng.integers(lo, hi)), round(float(rng.uniform(t0, t1)), 3)), {}, label)
            for lo, hi, t0, t1, label in [(64, 128, 0.50, 0.55, "a narrow layer, a low target"),
                                          (128, 256, 0.70, 0.74, "a medium layer, a high target"),
                                          (256, 400, 0.77, 0.81, "a wide layer, a very high target"),
                                          (400, 512, 0.51, 0.56, "a very wide layer, a low target")]]


def _judge_5_4(case: Case, got: Any) -> str | None:
    fan_in, target = case.args
    value, msg = as_number(got, "the weight std")
    if msg:
        return msg
    if not (math.isfinite(value) and value > 0):
        return f"the weight std should be a positive number; got {fmt(value)}"
    if value > 100:
        return f"a weight std of {fmt(value)} saturates every unit at ±1"
    late = float(np.mean(_tanh_stds(fan_in, value)[4:]))
    if late < target - TANH_TOL:
        return (f"with weight std {fmt(value)} the activations' std in layers 5 to 10 is {fmt(late)} on average, "
                f"below the target {fmt(target)}: the weights are too small")
    if late > target + TANH_TOL:
        return (f"with weight std {fmt(value)} the activations' std in layers 5 to 10 is {fmt(late)} on average, "
                f"above the target {fmt(target)}: the weights are too large")
    return None


UNIT_TOL = 1e-8  # two rows of W1 are the same unit when every entry agrees within this


def _count_rows(W: np.ndarray, tol: float = UNIT_TOL) -> int:
    """The number of distinct rows of W, two rows being equal when every entry agrees within ``tol``."""
    reps: list[np.ndarray] = []
    for row in W:
        if not any(float(np.max(np.abs(row - r))) <= tol for r in reps):
            reps.append(row)
    return len(reps)


def _trained_w1(case: Case) -> np.ndarray:
    """W1 after ``steps`` full-batch gradient-descent steps on the MSE, computed with torch's autograd."""
    torch = torch_module()
    W1, b1, W2, b2, X, y, lr, steps = case.args
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (W1, b1, W2, b2)]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(steps):
        w1, c1, w2, c2 = params
        loss = ((torch.tanh(Xt @ w1.T + c1) @ w2.T + c2 - yt) ** 2).mean()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            params = [(p - lr * g).requires_grad_(True) for p, g in zip(params, grads, strict=True)]
    return params[0].detach().numpy()


def _spread(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Random (rows, cols) values whose columns differ by at least 0.05 in the first row (no near-twins).

    So "distinct" never hinges on a tolerance: units that differ, differ clearly, in every draw.
    """
    out = rng.normal(size=(rows, cols))
    out[0] = np.linspace(-1.5, 1.5, cols)[rng.permutation(cols)] + rng.uniform(-0.01, 0.01, size=cols)
    return out


def _cases_5_5(rng: np.random.Generator) -> list[Case]:
    cases = []

    def shapes():
        return int(rng.integers(2, 6)), int(rng.integers(6, 13)), int(rng.integers(1, 3)), int(rng.integers(20, 41))

    def add(W1, b1, W2, b2, N, d, k, label, defining=False):
        X = rng.normal(size=(N, d))
        y = rng.normal(size=(N, k))
        lr, steps = float(rng.uniform(0.05, 0.3)), int(rng.integers(50, 151))
        cases.append(Case((W1, b1, W2, b2, X, y, lr, steps), {}, label, defining))

    d, H, k, N = shapes()
    c = rng.uniform(0.2, 0.8, size=3)
    add(np.full((H, d), c[0]), np.full(H, c[1]), np.full((k, H), c[2]), np.zeros(k), N, d, k,
        "constant init: every weight of a layer equal", True)
    d, H, k, N = shapes()
    add(np.zeros((H, d)), np.zeros(H), np.zeros((k, H)), np.zeros(k), N, d, k, "zero init")
    d, H, k, N = shapes()
    add(np.full((H, d), c[0]), np.full(H, c[1]), _spread(rng, k, H) / math.sqrt(H), np.zeros(k), N, d, k,
        "constant first layer, random second layer", True)
    d, H, k, N = shapes()
    add(np.full((H, d), c[0]) + 1e-4 * rng.normal(size=(H, d)), np.full(H, c[1]),
        np.full((k, H), c[2]) + 1e-4 * rng.normal(size=(k, H)), np.zeros(k), N, d, k,
        "constant init plus noise of size 1e-4")
    d, H, k, N = shapes()
    add(rng.uniform(-1, 1, size=(H, d)) / math.sqrt(d), rng.uniform(-1, 1, size=H) / math.sqrt(d),
        rng.uniform(-1, 1, size=(k, H)) / math.sqrt(H), rng.uniform(-1, 1, size=k) / math.sqrt(H), N, d, k,
        "nn.Linear's default init, U(±1/√fan_in)")
    d, H, k, N = shapes()
    groups = int(rng.integers(2, H // 2))  # 2 .. H/2 - 1, so the answer groups + 1 is at most H/2
    member = np.concatenate([np.arange(groups), rng.integers(0, groups, size=H - groups)])
    member = member[rng.permutation(H)]  # every group has at least one unit, in any order
    # one second-layer weight shared by all units but one, which sits in a group of two or more: counting the
    # units of one layer, first-layer rows with second-layer columns as a tie-break, or a rule fitted to the
    # other kinds (1 or the width) all miss the answer, groups + 1
    W2 = np.repeat(rng.normal(size=(k, 1)) / math.sqrt(H), H, axis=1)
    sizes = np.bincount(member, minlength=groups)
    odd = int(rng.choice(np.flatnonzero(sizes[member] >= 2)))
    W2[:, odd] += rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.3, 0.6, size=k) / math.sqrt(H)
    add(_spread(rng, d, groups).T[member] / math.sqrt(d), rng.normal(size=groups)[member] * 0.1, W2, np.zeros(k),
        N, d, k, "random first layer copied in groups, one second-layer weight for all units but one", True)
    return cases


def _judge_5_5(case: Case, got: Any) -> str | None:
    expected, before = reference(case, lambda: (_count_rows(_trained_w1(case)), _count_rows(case.args[0])))
    value, msg = as_number(got, "the number of distinct units")
    if msg:
        return msg
    if not (math.isfinite(value) and float(value).is_integer()):
        return f"the number of distinct units should be a whole number; got {fmt(value)}"
    width = case.args[0].shape[0]
    if int(value) == expected:
        return None
    units = "there is 1 distinct hidden unit" if expected == 1 else f"there are {expected} distinct hidden units"
    msg = f"after training {units}, you said {fmt(value)}"
    if int(value) == width and expected < width:
        msg += (" (that is the width: units that start identical, in every weight that touches them, "
                "receive identical updates)")
    elif int(value) == before and expected != int(value):
        msg += " (that is how many distinct rows W1 has before training)"
    return msg


PARTS = [
    Part(id="5.1", title="Xavier uniform initializer", function="xavier_uniform", points=2,
         cases=_cases_5_1, judge=_judge_5_1,
         hints=("Your weights have the wrong spread for Xavier, or do not come from the generator you were given: a "
                "network is reproducible only if one seed gives one set of weights, and keeps its signal's scale only with "
                "the right variance.",
                "Chapter 05, §4 (LeCun, Xavier/Glorot, He/Kaiming): which variance does Xavier aim for, and what is the "
                "variance of a uniform distribution on a symmetric interval? Which bound matches the two?")),
    Part(id="5.2", title="He (Kaiming) normal initializer", function="kaiming_normal", points=2,
         cases=_cases_5_2, judge=_judge_5_2,
         hints=("He initialization scales the weights by the fan that mode chooses; a normal distribution is given by its "
                "standard deviation, and every weight comes from the generator you were given.",
                "Chapter 05, §4 and §5 (calculate_gain): which fan does each mode use, does rng.normal take a variance or "
                "a standard deviation as its scale, and where does the gain enter?")),
    Part(id="5.3", title="Per-layer activation statistics", function="layer_stats", points=2,
         cases=_cases_5_3, judge=_judge_5_3,
         hints=("The statistics describe what each layer passes on: its activations after the nonlinearity, over all "
                "entries of the layer's output, with numpy's default std.",
                "Chapter 05, §7 (the classic experiment) prints these numbers beside each histogram. Which array does it "
                "measure, over which entries, and how are the weights stored?")),
    Part(id="5.4", title="A scale that keeps tanh alive", function="tanh_std", points=2,
         cases=_cases_5_4, judge=_judge_5_4, time_limit=5.0,
         hints=("Too small a weight scale and tanh is almost linear, so the signal shrinks layer after layer; too "
                "large and the units saturate. Each target spread needs its own scale, and the scale must follow "
                "the width.",
                "Chapter 05, §5 and §7.5 (tanh with Xavier): try a few scales on a stack of your own. How does the "
                "spread of a sum of fan_in weighted inputs grow with fan_in, and which single number is then left "
                "to find for a given target?")),
    Part(id="5.5", title="Symmetry: how many hidden units survive", function="distinct_units", points=2,
         cases=_cases_5_5, judge=_judge_5_5,
         hints=("Your count is not the number of hidden units that are still distinct after training. It matters because "
                "units that stay identical compute the same thing: the layer is narrower than it looks.",
                "Chapter 05, §2 (constant initialization and the symmetry problem): which parameters belong to one hidden "
                "unit, which of them start equal in each case, and what does an update do to two units equal in all of "
                "them, or in all but one?")),
]
