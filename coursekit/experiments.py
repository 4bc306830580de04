"""The initialization experiments of chapter 05: activations and gradients through a deep stack.

The classic set-up: ``X`` holds ``n_samples`` standard-normal inputs of ``width``
features, passed through ``depth`` fully connected layers of ``width`` units,
``h_l = f(z_l)``, ``z_l = h_{l-1} W_lᵀ`` (no bias, ``W_l`` stored (out, in) like torch),
with ``W_l = scale · scheme((width, width))``. We watch what each layer's
activations look like (mean, std, saturated and dead fractions), how large the
gradients are on the way back, and compare with the variance the theory predicts.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit import activations as acts
from coursekit import init as ckinit
from coursekit._checks import (
    as_float_array,
    check_choice,
    check_int,
    check_number,
    check_rng,
    describe,
)
from coursekit._lazy import lazy_import

torch = lazy_import("torch")  # imported on first use: chapters that never call it stay light

#: Activations the experiments accept: the registry's differentiable ones (the step is left out:
#: its gradient is 0 everywhere). A live view, so an activation registered later is in it too.
ACTIVATIONS: Sequence[str] = acts.DIFFERENTIABLE

InitSpec = str | float | Callable[..., np.ndarray]


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one layer's activations h (N, width) over all samples and units.

    ``mean``, ``std``: over all N·width entries, samples and units pooled.
    ``saturated``: fraction of entries where |f'(z)| < 5 % of its peak (see
    ``coursekit.activations.saturated_fraction``; for ReLU every z <= 0 counts);
    ``dead``: fraction of units whose output is 0 on every sample; ``zeros``: fraction of outputs == 0.

    The pooled variance splits into two parts (law of total variance, population variances):
    std² = mean_j Var_n(h_nj) + Var_j(mean_n h_nj) — how much each unit varies *across inputs*,
    plus how much the units' fixed offsets differ. ``unit_std`` = √(mean_j Var_n(h_nj)), the
    per-unit spread across samples; ``input_share`` = unit_std² / std², the input-dependent
    share of the layer's variance (NaN when std is 0). A layer with a large std but a tiny
    input share gives (almost) the same output for every input. ``cosine``: mean cosine
    similarity of the representations h_n of the sample pairs (0, 1), (2, 3), …; near 1 means
    different inputs look alike (NaN if every pair has a zero vector).
    """

    mean: float
    std: float
    saturated: float
    dead: float
    zeros: float
    unit_std: float = math.nan
    input_share: float = math.nan
    cosine: float = math.nan


@dataclass(frozen=True)
class ForwardResult:
    """What :func:`forward_experiment` returns. Lists have one entry per layer (layer 1 first)."""

    activation: str
    X: np.ndarray  # (n_samples, width), the input
    weights: list[np.ndarray]  # (width, width) each, stored (out, in)
    pre_activations: list[np.ndarray]  # z_l, (n_samples, width)
    activations: list[np.ndarray]  # h_l = f(z_l), (n_samples, width)
    stats: list[LayerStats]


@dataclass(frozen=True)
class BackwardResult:
    """What :func:`backward_experiment` returns: per-layer gradient sizes, layer 1 first.

    ``grad_h_std[l]``: std of ∂L/∂h_l; ``grad_w_std[l]``: std of ∂L/∂W_l (the update size).
    """

    activation: str
    grad_h_std: list[float]
    grad_w_std: list[float]
    grad_weights: list[np.ndarray]  # ∂L/∂W_l, (width, width) each


# --------------------------------------------------------------------------- checks


def _activation(name: Any) -> acts.Activation:
    return acts.get(check_choice("activation", name, ACTIVATIONS))


def _weight_list(name: str, weights: Any) -> list:
    """``weights`` as a non-empty list (of what will be checked as (out, in) matrices)."""
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list of (out, in) weight matrices; got {describe(weights)}")
    weights = list(weights)
    if not weights:
        raise ValueError(f"{name} must hold at least one (out, in) matrix; got none")
    return weights


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _seed_or_rng(seed: Any, rng: Any) -> np.random.Generator:
    if rng is not None:
        return check_rng("rng", rng)
    return np.random.default_rng(check_int("seed", seed, minimum=0))


# --------------------------------------------------------------------------- building blocks


def make_weights(depth: int, width: int, init: InitSpec = "normal", *, rng: np.random.Generator,
                 scale: float = 1.0, n_inputs: int | None = None) -> list[np.ndarray]:
    """``depth`` weight matrices W_l = scale · init((width, fan_in)), each stored (out, in).

    ``init``: a scheme name from ``coursekit.init.SCHEMES`` (with its default arguments),
    a number (the std of N(0, std²)), or a function ``f(shape, rng=rng)``.
    The first layer takes ``n_inputs`` features (default ``width``).
    """
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    n_inputs = width if n_inputs is None else check_int("n_inputs", n_inputs, minimum=1)
    scale = check_number("scale", scale, minimum=0.0)
    rng = check_rng("rng", rng)
    if isinstance(init, str):
        if init not in ckinit.SCHEMES:  # also those of init.get that need more than (shape, rng)
            needs = (f" ({init!r} needs more arguments: pass a function f(shape, rng=rng))"
                     if init in ckinit.INITIALIZERS else "")
            raise ValueError(f"unknown scheme {init!r} for init{needs}; valid choices: "
                             f"{', '.join(map(repr, ckinit.SCHEMES))}")
        scheme = ckinit.SCHEMES[init]
    elif callable(init):
        scheme = init
    elif _is_real(init):  # int, float and numpy scalars such as np.float32
        # a number means "normal with this std"
        scheme = functools.partial(ckinit.normal, std=check_number("init", init, minimum=0.0))
    else:
        raise TypeError(
            "init must be a scheme name (one of "
            f"{', '.join(map(repr, ckinit.SCHEMES))}), a weight std, or a function f(shape, rng=rng); "
            f"got {describe(init)}"
        )
    weights = []
    fan_in = n_inputs
    for _ in range(depth):
        W = np.asarray(scheme((width, fan_in), rng=rng), dtype=np.float64)
        if scale != 1.0:
            with np.errstate(over="ignore", invalid="ignore"):
                W = scale * W
                finite = np.isfinite(W).all() and np.isfinite(np.sum(W * W))  # Var(z) sums squares
            if not finite:
                raise ValueError(f"scale={scale:g} makes the weights (or their squares, in every variance) "
                                 "overflow float64; use a smaller scale")
        weights.append(W)
        fan_in = width
    return weights


def forward(X, weights: Sequence[np.ndarray], activation: str = "sigmoid", *,
            shift: float = 0.0) -> tuple[list, list]:
    """Propagate X (N, D) through the layers: z_l = h_{l-1} W_lᵀ, h_l = f(z_l) − shift, h_0 = X.

    ``shift`` moves every output (``shift=0.5`` with the sigmoid gives the centred σ − ½, a control
    that separates what the sigmoid's mean does from what its slope does).
    Returns ``(zs, hs)``: lists of the pre-activations and activations, each (N, out_l).
    """
    act = _activation(activation)
    shift = check_number("shift", shift)
    h = as_float_array("X", X, ndim=2)
    weights = _weight_list("weights", weights)
    zs, hs = [], []
    for i, W in enumerate(weights):
        W = as_float_array(f"weights[{i}]", W, ndim=2)
        if W.shape[1] != h.shape[1]:
            raise ValueError(
                f"weights[{i}] has shape {W.shape} (out, in) but its input has {h.shape[1]} features"
            )
        z = h @ W.T  # (N, out)
        h = act.numpy(z) - shift if shift else act.numpy(z)
        zs.append(z)
        hs.append(h)
    return zs, hs


def layer_stats(z, h, activation: str = "sigmoid") -> LayerStats:
    """Mean, std, saturated, dead and zero fractions of one layer with pre-activations z and outputs h (N, width)."""
    act = _activation(activation)
    h = as_float_array("h", h, ndim=2)
    z = as_float_array("z", z, ndim=2)
    if z.shape != h.shape:
        raise ValueError(f"z and h must have the same shape (N, width); got {z.shape} and {h.shape}")
    std = float(h.std())
    unit_var = float(h.var(axis=0).mean())  # each unit's variance across the N samples, averaged
    return LayerStats(
        mean=float(h.mean()),
        std=std,
        saturated=acts.saturated_fraction(z, act),
        dead=acts.dead_fraction(h),
        zeros=acts.zero_fraction(h),
        unit_std=math.sqrt(unit_var),
        input_share=unit_var / std**2 if std > 0 else math.nan,
        cosine=pair_cosine(h),
    )


def pair_cosine(h) -> float:
    """Mean cosine similarity of rows (0, 1), (2, 3), … of h (N, width); pairs with a zero row are skipped."""
    h = as_float_array("h", h, ndim=2)
    n = h.shape[0] // 2
    a, b = h[0:2 * n:2], h[1:2 * n:2]
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    ok = norms > 0
    if not ok.any():
        return math.nan
    return float(np.mean(np.sum(a[ok] * b[ok], axis=1) / norms[ok]))


def format_stats(stats: Sequence[LayerStats], activation: str, *, per_unit: bool = True) -> list[str]:
    """One line per layer, e.g. ``layer 1 (tanh): mean +0.001, std 0.628, saturated 4.56%, dead 0.00%``.

    With ``per_unit`` (default) each line ends with the per-unit spread across samples and the
    input-dependent share of the variance, e.g. ``| unit std 0.627, input share 99.9%``.
    """
    activation = _activation(activation).name
    if isinstance(stats, (str, bytes)) or not isinstance(stats, Sequence):
        raise TypeError(f"stats must be a list of LayerStats (e.g. forward_experiment(...).stats); got {describe(stats)}")
    for i, s in enumerate(stats):
        if not isinstance(s, LayerStats):
            raise TypeError(f"stats[{i}] must be a LayerStats; got {describe(s)}")
    lines = []
    for i, s in enumerate(stats, start=1):
        mean = f"{s.mean:+.3f}" if abs(s.mean) < 100 else f"{s.mean:+.3g}"
        line = (f"layer {i} ({activation}): mean {mean}, std {s.std:.3g}, "
                f"saturated {s.saturated:.2%}, dead {s.dead:.2%}")
        if per_unit:
            line += f" | unit std {s.unit_std:.2g}, input share {_share(s.input_share)}"
        lines.append(line)
    return lines


def _share(x: float) -> str:
    """A share printed so that 0.1 %, 0.004 % and 99.9 % all stay readable."""
    if not math.isfinite(x):
        return "  n/a"
    return f"{x:.1%}" if x >= 0.001 else f"{x:.0e}"


# --------------------------------------------------------------------------- the experiments


def forward_experiment(*, depth: int = 5, width: int = 100, n_samples: int = 1000,
                       activation: str = "sigmoid", init: InitSpec = 1.0, scale: float = 1.0,
                       shift: float = 0.0, seed: int = 0,
                       rng: np.random.Generator | None = None) -> ForwardResult:
    """The classic experiment: X ~ N(0, 1) of shape (n_samples, width) through ``depth`` layers.

    ``init`` is a scheme name, a weight std (default 1.0, i.e. N(0, 1)) or a function
    (see :func:`make_weights`); ``scale`` multiplies the weights; ``shift`` is subtracted from
    every activation (see :func:`forward`; the statistics are those of f(z) − shift). Randomness comes from
    ``rng`` if given, else from ``numpy.random.default_rng(seed)``: first X, then the weights.
    """
    _activation(activation)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    width = check_int("width", width, minimum=1)
    rng = _seed_or_rng(seed, rng)
    X = rng.standard_normal((n_samples, width))
    weights = make_weights(depth, width, init, rng=rng, scale=scale)
    zs, hs = forward(X, weights, activation, shift=shift)
    stats = [layer_stats(z, h, activation) for z, h in zip(zs, hs, strict=True)]
    return ForwardResult(activation, X, weights, zs, hs, stats)


def backward(grad_out, X, weights: Sequence[np.ndarray], zs: Sequence[np.ndarray],
             activation: str = "sigmoid") -> tuple[list, list]:
    """Back-propagate ∂L/∂h_L = ``grad_out`` (N, out_L) through the layers of :func:`forward`.

    ∂L/∂z_l = ∂L/∂h_l · f'(z_l);  ∂L/∂W_l = (∂L/∂z_l)ᵀ h_{l-1}  (out, in);  ∂L/∂h_{l-1} = ∂L/∂z_l W_l.
    Returns ``(grad_hs, grad_ws)``, layer 1 first; grad_hs[l] is ∂L/∂h_l.
    """
    act = _activation(activation)
    g = as_float_array("grad_out", grad_out, ndim=2)
    X = as_float_array("X", X, ndim=2)
    weights = [as_float_array(f"weights[{i}]", W, ndim=2) for i, W in enumerate(_weight_list("weights", weights))]
    zs = [as_float_array(f"zs[{i}]", z, ndim=2) for i, z in enumerate(_weight_list("zs", zs))]
    if len(zs) != len(weights):
        raise ValueError(f"zs must hold one pre-activation per layer ({len(weights)}); got {len(zs)}")
    h_shape = X.shape
    for i, (W, z) in enumerate(zip(weights, zs, strict=True)):
        if W.shape[1] != h_shape[1] or z.shape != (X.shape[0], W.shape[0]):
            raise ValueError(f"weights[{i}] {W.shape} (out, in) and zs[{i}] {z.shape} do not fit an input of "
                             f"{h_shape[1]} features and {X.shape[0]} samples (see forward)")
        h_shape = z.shape
    if g.shape != zs[-1].shape:
        raise ValueError(f"grad_out must have the shape of the last layer's output {zs[-1].shape}; got {g.shape}")
    hs_in = [X] + [act.numpy(z) for z in zs[:-1]]  # the input of each layer
    grad_hs: list[np.ndarray] = []
    grad_ws: list[np.ndarray] = []
    for W, z, h_in in zip(reversed(weights), reversed(zs), reversed(hs_in), strict=True):
        grad_hs.append(g)
        gz = g * act.grad(z)  # (N, out): the chain rule through f
        grad_ws.append(gz.T @ h_in)  # (out, in), the same layout as W
        g = gz @ W  # (N, in)
    return grad_hs[::-1], grad_ws[::-1]


def backward_experiment(*, depth: int = 5, width: int = 100, n_samples: int = 1000,
                        activation: str = "sigmoid", init: InitSpec = 1.0, scale: float = 1.0,
                        seed: int = 0, rng: np.random.Generator | None = None) -> BackwardResult:
    """Gradient sizes per layer for the network of :func:`forward_experiment` (same arguments).

    The loss is a fixed random read-out of the last layer, L = Σ (h_L ⊙ G) / N with G ~ N(0, 1)
    (drawn after the weights), so every layer's gradient comes from the same upstream signal.
    """
    rng = _seed_or_rng(seed, rng)
    fwd = forward_experiment(depth=depth, width=width, n_samples=n_samples, activation=activation,
                             init=init, scale=scale, rng=rng)
    G = rng.standard_normal(fwd.activations[-1].shape)
    grad_hs, grad_ws = backward(G / n_samples, fwd.X, fwd.weights, fwd.pre_activations, activation)
    return BackwardResult(
        activation,
        grad_h_std=[float(g.std()) for g in grad_hs],
        grad_w_std=[float(g.std()) for g in grad_ws],
        grad_weights=grad_ws,
    )


# --------------------------------------------------------------------------- theory


def _normal_expectation(g: Callable[[np.ndarray], np.ndarray], var: float) -> float:
    """E[g(z)] for z ~ N(0, var) > 0: Gauss–Legendre on each half-line, z = ±sd·t, t in [0, 12].

    Split at 0, where activations bend or jump (ReLU; softsign's |z|): a kink there makes one
    Gauss–Hermite rule over the whole line converge slowly (5 % off for softsign's E[f'²]). The
    Legendre nodes crowd at t = 0, so a large var, which squeezes f's bend into |t| < 1/sd, still
    resolves it (one Hermite rule of 201 nodes gave E[σ'(z)²] 8× too large at var = 10⁴).
    The mass beyond 12 sd is below 1e-32.
    """
    t, w = _HALF_LINE
    sd = math.sqrt(var)
    return float(w @ g(sd * t) + w @ g(-sd * t))


def _half_line_rule(nodes: int = 200, span: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(nodes)
    t = (x + 1.0) * span / 2.0
    return t, w * span / 2.0 * np.exp(-t * t / 2.0) / math.sqrt(2.0 * math.pi)


_HALF_LINE = _half_line_rule()


def _gauss_moments(activation: str, var: float) -> tuple[float, float]:
    """(E[f(z)], E[f(z)²]) for z ~ N(0, var)."""
    if var == 0.0:
        f0 = float(acts.get(activation).numpy(np.zeros(1))[0])
        return f0, f0 * f0
    sd = math.sqrt(var)
    if activation == "identity":
        return 0.0, var
    if activation in ("relu", "leaky_relu"):
        s = 0.0 if activation == "relu" else acts.PARAMS["leaky_relu"]["negative_slope"]
        # half-normal moments: E[max(z,0)] = sd/√(2π), E[max(z,0)²] = var/2
        return (1 - s) * sd / math.sqrt(2 * math.pi), (1 + s * s) * var / 2
    f = acts.get(activation).numpy
    return _normal_expectation(f, var), _normal_expectation(lambda z: f(z) ** 2, var)


def slope_second_moment(activation: str, var: float = 1.0) -> float:
    """E[f'(z)²] for z ~ N(0, var): how much of the backward variance one activation lets through.

    1 for the identity, 1/2 for ReLU (f' is 1 on half of the inputs, 0 on the other), below
    1/16 for the sigmoid (f' <= 1/4). Quadrature split at 0, like :func:`variance_recursion`.
    """
    act = _activation(activation)
    var = check_number("var", var, minimum=0.0)
    if var == 0.0:
        return float(act.grad(np.zeros(1))[0] ** 2)
    if act.name in ("relu", "leaky_relu", "identity"):  # a step in f': exact, quadrature would not be
        s = {"relu": 0.0, "identity": 1.0}.get(act.name, acts.PARAMS["leaky_relu"]["negative_slope"])
        return (1.0 + s * s) / 2.0
    return _normal_expectation(lambda z: act.grad(z) ** 2, var)


def backward_factor(activation: str, *, fan_out: int, weight_std: float, z_var: float = 1.0) -> float:
    """The factor by which one layer multiplies the variance of ∂L/∂h on the way back.

    ∂L/∂h_{l-1} = (∂L/∂h_l ⊙ f'(z_l)) W_l sums fan_out terms, so with independent zero-mean
    weights Var(∂L/∂h_{l-1}) = fan_out · σ_w² · E[f'(z_l)²] · Var(∂L/∂h_l). A factor of 1 keeps the
    gradient's size: σ_w² = 1/(fan_out · E[f'²]), the backward twin of the forward condition
    σ_w² = 1/(fan_in · E[f²]/Var(z)). ``z_var``: the variance of the layer's pre-activations.
    """
    fan_out = check_int("fan_out", fan_out, minimum=1)
    weight_std = check_number("weight_std", weight_std, minimum=0.0)
    z_var = check_number("z_var", z_var, minimum=0.0)
    with np.errstate(over="ignore", invalid="ignore"):  # numpy floats: inf on overflow (python's ** raises)
        factor = float(np.float64(fan_out) * np.float64(weight_std) ** 2 * slope_second_moment(activation, z_var))
    if not math.isfinite(factor):
        raise ValueError(f"weight_std={weight_std:g} makes the factor fan_out · weight_std² · E[f'²] overflow float64")
    return factor


def variance_recursion(*, depth: int = 5, width: int = 100, weight_std: float = 1.0,
                       activation: str = "sigmoid", input_var: float = 1.0) -> dict[str, list[float]]:
    """The mean-field prediction for the experiment with W ~ N(0, weight_std²) (any zero-mean scheme).

    Var(z_l) = width · weight_std² · E[h_{l-1}²], with z_l ≈ N(0, Var(z_l)); h_0 = X with E[x²] = input_var.
    Returns lists (layer 1 first) ``z_var``, ``h_mean``, ``h_std`` (the predicted activation std).
    """
    act = _activation(activation)
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    weight_std = check_number("weight_std", weight_std, minimum=0.0)
    second_moment = check_number("input_var", input_var, minimum=0.0)
    out: dict[str, list[float]] = {"z_var": [], "h_mean": [], "h_std": []}
    for layer in range(1, depth + 1):
        with np.errstate(over="ignore"):
            z_var = float(np.float64(width) * np.float64(weight_std) ** 2 * np.float64(second_moment))
        if not math.isfinite(z_var):
            raise ValueError(f"weight_std={weight_std:g} makes Var(z) overflow float64 at layer {layer} "
                             f"(of depth={depth}, width={width}, input_var={input_var:g}): the signal explodes")
        mean, second_moment = _gauss_moments(act.name, z_var)
        out["z_var"].append(z_var)
        out["h_mean"].append(mean)
        out["h_std"].append(math.sqrt(max(second_moment - mean * mean, 0.0)))
    return out


# --------------------------------------------------------------------------- training


def make_moons(n_samples: int = 200, *, noise: float = 0.15, rng: np.random.Generator) -> tuple:
    """Two interleaving half circles in 2-D: X (n_samples, 2) standardized, y (n_samples,) of 0/1."""
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_number("noise", noise, minimum=0.0)
    rng = check_rng("rng", rng)
    n0 = n_samples // 2
    t = rng.uniform(0.0, math.pi, n_samples)
    upper = np.stack([np.cos(t[:n0]), np.sin(t[:n0])], axis=1)
    lower = np.stack([1.0 - np.cos(t[n0:]), 0.5 - np.sin(t[n0:])], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardized, as the classic experiment's inputs
    y = np.concatenate([np.zeros(n0), np.ones(n_samples - n0)])
    return X, y


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns; lists have one entry per epoch (before each update, then final)."""

    losses: list[float]  # binary cross-entropy on the training set
    accuracy: float  # final training accuracy
    row_spread: list[float]  # max over hidden layers of max_i |W[i] − W[0]|: 0 means all units identical
    weights: list[np.ndarray]  # final hidden weights (out, in) then the output weight (1, n_hidden)


def _row_spread(weights: Sequence[np.ndarray]) -> float:
    return max(float(np.max(np.abs(W - W[0]))) for W in weights)


def _binary_data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X (N, D) and y (N,) of 0/1 labels, checked: what the training runs take."""
    X = as_float_array("X", X, ndim=2)
    y = as_float_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one label per row of X ({X.shape[0]}); got {describe(y)}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1 (binary labels)")
    return X, y


def train(X, y, *, init: InitSpec = "xavier_normal", activation: str = "tanh",
          hidden: Sequence[int] = (16, 16), epochs: int = 300, lr: float = 0.5,
          rng: np.random.Generator) -> TrainResult:
    """Full-batch gradient descent on a small MLP for binary classification, biases starting at 0.

    X (N, D), y (N,) of 0/1; layers h_l = f(h_{l-1} W_lᵀ + b_l), logit = h_L w_outᵀ + b_out,
    loss = mean binary cross-entropy of sigmoid(logit). Every weight matrix, the output one
    included, is drawn with ``init`` (see :func:`make_weights`).
    """
    X, y = _binary_data(X, y)
    act = _activation(activation)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence | np.ndarray):
        raise TypeError(f"hidden must be a list of layer sizes, e.g. (16, 16); got {describe(hidden)}")
    sizes = [check_int(f"hidden[{i}]", n, minimum=1) for i, n in enumerate(hidden)]
    if not sizes:
        raise ValueError("hidden must list at least one layer size, e.g. (16, 16)")
    epochs = check_int("epochs", epochs, minimum=0)
    lr = check_number("lr", lr, positive=True)
    rng = check_rng("rng", rng)
    Ws, fan_in = [], X.shape[1]
    for n in [*sizes, 1]:
        Ws.append(make_weights(1, n, init, rng=rng, n_inputs=fan_in)[0])
        fan_in = n
    bs = [np.zeros(W.shape[0]) for W in Ws]
    N = X.shape[0]
    losses, spread = [], []
    for _ in range(epochs + 1):  # epochs updates, and one last evaluation
        hs, zs, h = [X], [], X
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            z = h @ W.T + b
            h = act.numpy(z)
            zs.append(z)
            hs.append(h)
        logit = (h @ Ws[-1].T + bs[-1])[:, 0]  # (N,)
        # BCE from logits, stable: log(1 + e^{-|t|}) + max(t, 0) − y·t
        losses.append(float(np.mean(np.logaddexp(0.0, logit) - y * logit)))
        spread.append(_row_spread(Ws[:-1]))
        if len(losses) > epochs:
            break
        g = ((acts.sigmoid(logit) - y) / N)[:, None]  # ∂L/∂logit, (N, 1)
        grads_W = [g.T @ hs[-1]]
        grads_b = [g.sum(axis=0)]
        g = g @ Ws[-1]
        for W, z, h_in in zip(reversed(Ws[:-1]), reversed(zs), reversed(hs[:-1]), strict=True):
            gz = g * act.grad(z)
            grads_W.append(gz.T @ h_in)
            grads_b.append(gz.sum(axis=0))
            g = gz @ W
        for W, b, gW, gb in zip(Ws, bs, reversed(grads_W), reversed(grads_b), strict=True):
            W -= lr * gW
            b -= lr * gb
    accuracy = float(np.mean((logit > 0) == (y == 1)))
    return TrainResult(losses, accuracy, spread, [W.copy() for W in Ws])


# --------------------------------------------------------------------------- the fast path of the live explorer


def saturation_bounds(activation: str) -> tuple[float, float]:
    """``(lo, hi)`` such that f is saturated exactly where z <= lo or z >= hi.

    Derived from ``coursekit.activations``' derivative and 5 % threshold, not re-typed:
    about (−4.36, 4.36) for the sigmoid, (−2.18, 2.18) for tanh, (0, inf) for ReLU,
    (−inf, inf) for the identity. Raises ValueError where the unsaturated set is not one
    interval (GELU, SiLU): use ``coursekit.activations.saturated_fraction`` for those.
    """
    return acts.saturation_bounds(check_choice("activation", activation, ACTIVATIONS))


@contextlib.contextmanager
def _one_torch_thread():
    # 10⁵-element tensors are too small to gain from threads: on a busy 2-core machine a
    # two-thread sigmoid took 12 ms, a one-thread one 0.14 ms. Restore the user's setting after.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


# --------------------------------------------------------------------------- depth decides: a deep MLP trained


@dataclass(frozen=True)
class DeepRun:
    """What :func:`train_deep` returns. Per-layer lists run over the hidden layers, then the output layer.

    ``losses``: training BCE before each update, then after the last one (``steps + 1`` values;
    inf or NaN once a run has exploded, and then it stops); ``diverged_at``: the first step whose
    loss is not finite, else None. ``act_std`` / ``input_share``: :class:`LayerStats` of each
    hidden layer's output at the start; ``grad_w_std``: std of ∂L/∂W per layer at the start
    and ``grad_weights`` the gradients themselves (for histograms); ``update_ratio``
    (steps, layers): std(lr · ∂L/∂W) / std(W) at every step, the update:data ratio;
    ``start_accuracy``: the training accuracy of the initial weights (``accuracy`` is the final one).
    """

    losses: list[float]
    accuracy: float
    diverged_at: int | None
    act_std: list[float]
    input_share: list[float]
    grad_w_std: list[float]
    grad_weights: list[np.ndarray]
    update_ratio: np.ndarray
    start_accuracy: float = math.nan


def train_deep(X, y, *, depth: int = 15, width: int = 64, init: InitSpec = "kaiming_normal",
               activation: str = "relu", batchnorm: Sequence[int] = (), steps: int = 200, lr: float = 0.05,
               seed: int = 0) -> DeepRun:
    """Full-batch SGD on a deep MLP for binary labels: ``depth`` hidden layers of ``width`` units.

    X (N, D), y (N,) of 0/1. h_l = f(BN?(h_{l-1} W_lᵀ + b_l)), logit = h_depth w_outᵀ + b_out, loss =
    mean binary cross-entropy from the logit (``BCEWithLogits``), float32 as torch trains by default.
    Every weight matrix (the output one included) is drawn with ``init`` from
    ``numpy.random.default_rng(seed)`` (see :func:`make_weights`); biases start at 0.
    ``batchnorm``: the hidden layers (1 … depth) after whose linear part a ``BatchNorm1d`` sits
    (batch statistics of the full batch, learnable scale and shift starting at 1 and 0).
    """
    X, y = _binary_data(X, y)
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    act = _activation(activation).torch  # the registry's torch function (any registered activation)
    if isinstance(batchnorm, (str, bytes)) or not isinstance(batchnorm, Sequence | np.ndarray):
        raise TypeError(f"batchnorm must be a list of hidden-layer numbers (1 … {depth}); got {describe(batchnorm)}")
    bn_layers = {check_int(f"batchnorm[{i}]", k, minimum=1, maximum=depth) for i, k in enumerate(batchnorm)}
    steps = check_int("steps", steps, minimum=0)
    lr = check_number("lr", lr, positive=True)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))

    arrays = make_weights(depth, width, init, rng=rng, n_inputs=X.shape[1])
    arrays += make_weights(1, 1, init, rng=rng, n_inputs=width)
    Ws = [torch.tensor(W, dtype=torch.float32, requires_grad=True) for W in arrays]
    bs = [torch.zeros(W.shape[0], requires_grad=True) for W in arrays]
    bns = {k: torch.nn.BatchNorm1d(width) for k in sorted(bn_layers)}
    params = [*Ws, *bs, *(p for bn in bns.values() for p in bn.parameters())]
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)

    def run() -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        h, hidden = Xt, []
        for k, (W, b) in enumerate(zip(Ws[:-1], bs[:-1], strict=True), start=1):
            z = h @ W.T + b
            h = act(bns[k](z) if k in bns else z)
            hidden.append(h)
        logit = (h @ Ws[-1].T + bs[-1])[:, 0]
        return torch.nn.functional.binary_cross_entropy_with_logits(logit, yt), hidden, logit

    losses: list[float] = []
    ratios: list[list[float]] = []
    diverged_at = None
    act_std = input_share = grad_w_std = None
    start_accuracy = math.nan
    grad_weights: list[np.ndarray] = []
    with _one_torch_thread():
        for step in range(steps + 1):
            loss, hidden, logit = run()
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                diverged_at = step
                break
            if step == 0:
                start_accuracy = float(np.mean((logit.detach().numpy() > 0) == (y == 1)))
                stats = [layer_stats(h.detach().numpy(), h.detach().numpy(), "identity") for h in hidden]
                act_std = [s.std for s in stats]
                input_share = [s.input_share for s in stats]
            if step == steps:
                break
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                if step == 0:
                    grad_weights = [W.grad.numpy().copy() for W in Ws]
                    grad_w_std = [float(g.std()) for g in grad_weights]
                ratios.append([float(lr * W.grad.std() / W.std()) if float(W.std()) > 0 else math.inf
                               for W in Ws])
                for p in params:
                    p -= lr * p.grad
    if grad_w_std is None:  # steps == 0, or it exploded at once: the gradients of the start all the same
        for p in params:
            p.grad = None
        with _one_torch_thread():
            loss, _, _ = run()
            if math.isfinite(float(loss.detach())):
                loss.backward()
                grad_weights = [W.grad.numpy().copy() for W in Ws]
        grad_w_std = [float(g.std()) for g in grad_weights]
    accuracy = float(np.mean((logit.detach().numpy() > 0) == (y == 1))) if diverged_at is None else math.nan
    return DeepRun(losses, accuracy, diverged_at, act_std or [], input_share or [], grad_w_std, grad_weights,
                   np.array(ratios).reshape(len(ratios), len(Ws)), start_accuracy)


# --------------------------------------------------------------------------- transfer


def rotate(X, degrees: float) -> np.ndarray:
    """2-D points X (N, 2) rotated by ``degrees`` about the origin (a shifted task for transfer)."""
    X = as_float_array("X", X, ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (points in the plane); got {describe(X)}")
    t = math.radians(check_number("degrees", degrees))
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return X @ R.T


def from_weights(weights: Sequence[np.ndarray]) -> Callable[..., np.ndarray]:
    """An ``init`` for :func:`train` that hands out copies of ``weights`` in layer order (pretrained start)."""
    weights = [as_float_array(f"weights[{i}]", W, ndim=2).copy() for i, W in enumerate(_weight_list("weights", weights))]
    it = iter(weights)

    def init(shape, rng=None):
        W = next(it, None)
        if W is None:
            raise ValueError(f"from_weights: more layers asked for than the {len(weights)} matrices given")
        if W.shape != tuple(shape):
            raise ValueError(f"from_weights: the next matrix has shape {W.shape} but the layer needs {tuple(shape)}")
        return W.copy()

    return init


def _logits(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """net(X), or a ValueError naming net where a net for other inputs fails deep inside torch."""
    try:
        out = net(X)
    except RuntimeError as exc:  # another input width or dtype
        raise ValueError(f"net cannot take X of shape {tuple(X.shape)} as float32: {exc}") from None
    if not isinstance(out, torch.Tensor) or out.shape != y.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else describe(out)
        raise ValueError(f"net must return logits of shape {tuple(y.shape)} (one per row of X); got {got}")
    return out


def fit_binary(net: torch.nn.Module, X, y, *, steps: int = 1000, lr: float = 0.01) -> tuple[float, float]:
    """Train ``net`` (logits out, shape (N, 1)) with Adam on ``BCEWithLogitsLoss``; return (final loss, accuracy).

    X (N, D) and y (N, 1) of 0/1 as float tensors (or arrays). Full batch, one torch thread
    (tiny matrices are slower split across threads). Chapter 04 trains its XOR networks with it.
    """
    X = torch.as_tensor(as_float_array("X", X, ndim=2), dtype=torch.float32)
    y = torch.as_tensor(as_float_array("y", y, ndim=2), dtype=torch.float32)
    if y.shape != (X.shape[0], 1):
        raise ValueError(f"y must have shape ({X.shape[0]}, 1), one 0/1 label per row of X; got {tuple(y.shape)}")
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1 (binary labels)")
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module; got {describe(net)}")
    if not any(p.requires_grad for p in net.parameters()):
        raise ValueError(f"net has no trainable parameters; got {describe(net)}")
    steps = check_int("steps", steps, minimum=0)
    lr = check_number("lr", lr, positive=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()  # sigmoid + cross-entropy, on the logit
    with _one_torch_thread():
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(_logits(net, X, y), y)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            logits = _logits(net, X, y)
            loss = loss_fn(logits, y).item()
            acc = ((logits > 0).float() == y).float().mean().item()
    return loss, acc
