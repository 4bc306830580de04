"""The initialization experiments of chapter 05: activations and gradients through a deep stack.

The classic set-up: ``X`` holds ``n_samples`` standard-normal inputs of ``width``
features, passed through ``depth`` fully connected layers of ``width`` units,
``h_l = f(z_l)``, ``z_l = h_{l-1} W_lᵀ`` (no bias, ``W_l`` stored (out, in) like torch),
with ``W_l = scale · scheme((width, width))``. We watch what each layer's
activations look like (mean, std, saturated and dead fractions), how large the
gradients are on the way back, and compare with the variance the theory predicts.

Numbers only, statistics and mean-field theory: the data sets live in :mod:`coursekit.data`,
the chapter's training runs (:func:`~coursekit.training.train`,
:func:`~coursekit.training.train_deep`) in :mod:`coursekit.training`, the figures in
:mod:`coursekit.plotting` and the explorer in :mod:`coursekit.widgets`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coursekit import activations as acts
from coursekit._checks import (
    Array,
    Arrays,
    Bool,
    Constraint,
    Int,
    Optional,
    Real,
    Rng,
    describe,
    is_sequence,
    validate,
)

# Moved down a level (issue #27); still importable from here. The one definition of each lives
# in coursekit.init (make_weights), coursekit.data (rotate), coursekit.training (the training
# runs) and coursekit._lazy (one_torch_thread).
from coursekit._lazy import one_torch_thread as _one_torch_thread  # noqa: F401
from coursekit.data import rotate  # noqa: F401
from coursekit.init import INIT_SPEC, InitSpec, make_weights
from coursekit.training import (  # noqa: F401
    ACTIVATION,
    ACTIVATIONS,
    SEED,
    DeepRun,
    TrainResult,
    fit_binary,
    from_weights,
    train,
    train_deep,
)


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


# --------------------------------------------------------------------------- declarations

#: A list of (out, in) weight matrices, one per layer.
WEIGHTS = Arrays(2, what="(out, in) weight matrices", min_len=1)


class _Stats(Constraint):
    """A list of :class:`LayerStats`, e.g. ``forward_experiment(...).stats``; returned as a list."""

    def check(self, name, value):
        if not is_sequence(value):
            raise TypeError(f"{name} must be a list of LayerStats (e.g. forward_experiment(...).stats); "
                            f"got {describe(value)}")
        for i, s in enumerate(value):
            if not isinstance(s, LayerStats):
                raise TypeError(f"{name}[{i}] must be a LayerStats; got {describe(s)}")
        return list(value)

    def example(self):
        return [LayerStats(mean=0.0, std=1.0, saturated=0.0, dead=0.0, zeros=0.0)]

    def bad_values(self):
        return [("None", None), ("str", "s"), ("ints", [1, 2]), ("LayerStats", self.example()[0])]


# The experiments' shared arguments: the network's size, weights and randomness.
SIZE = Int(minimum=1)
EXPERIMENT = dict(depth=SIZE, width=SIZE, n_samples=SIZE, activation=ACTIVATION, init=INIT_SPEC,
                  scale=Real(minimum=0.0), seed=SEED, rng=Optional(Rng()))


# --------------------------------------------------------------------------- building blocks


@validate(X=Array(ndim=2), weights=WEIGHTS, activation=ACTIVATION, shift=Real())
def forward(X, weights: Sequence[np.ndarray], activation: str = "sigmoid", *,
            shift: float = 0.0) -> tuple[list, list]:
    """Propagate X (N, D) through the layers: z_l = h_{l-1} W_lᵀ, h_l = f(z_l) − shift, h_0 = X.

    ``shift`` moves every output (``shift=0.5`` with the sigmoid gives the centred σ − ½, a control
    that separates what the sigmoid's mean does from what its slope does).
    Returns ``(zs, hs)``: lists of the pre-activations and activations, each (N, out_l).
    """
    act = acts.get(activation)
    h = X
    zs, hs = [], []
    for i, W in enumerate(weights):
        if W.shape[1] != h.shape[1]:
            raise ValueError(
                f"weights[{i}] has shape {W.shape} (out, in) but its input has {h.shape[1]} features"
            )
        z = h @ W.T  # (N, out)
        h = act.numpy(z) - shift if shift else act.numpy(z)
        zs.append(z)
        hs.append(h)
    return zs, hs


@validate(z=Array(ndim=2), h=Array(ndim=2), activation=ACTIVATION)
def layer_stats(z, h, activation: str = "sigmoid") -> LayerStats:
    """Mean, std, saturated, dead and zero fractions of one layer with pre-activations z and outputs h (N, width)."""
    act = acts.get(activation)
    if z.shape != h.shape:
        raise ValueError(f"z and h must have the same shape (N, width); got {z.shape} and {h.shape}")
    std, unit_std, input_share = acts.variance_split(h)
    return LayerStats(
        mean=float(h.mean()),
        std=std,
        saturated=acts.saturated_fraction(z, act),
        dead=acts.dead_fraction(h),
        zeros=acts.zero_fraction(h),
        unit_std=unit_std,
        input_share=input_share,
        cosine=pair_cosine(h),
    )


@validate(h=Array(ndim=2))
def pair_cosine(h) -> float:
    """Mean cosine similarity of rows (0, 1), (2, 3), … of h (N, width); pairs with a zero row are skipped."""
    n = h.shape[0] // 2
    a, b = h[0:2 * n:2], h[1:2 * n:2]
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    ok = norms > 0
    if not ok.any():
        return math.nan
    return float(np.mean(np.sum(a[ok] * b[ok], axis=1) / norms[ok]))


@validate(stats=_Stats(), activation=ACTIVATION, per_unit=Bool())
def format_stats(stats: Sequence[LayerStats], activation: str, *, per_unit: bool = True) -> list[str]:
    """One line per layer, e.g. ``layer 1 (tanh): mean +0.001, std 0.628, saturated 4.56%, dead 0.00%``.

    With ``per_unit`` (default) each line ends with the per-unit spread across samples and the
    input-dependent share of the variance, e.g. ``| unit std 0.627, input share 99.9%``.
    """
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


@validate(**EXPERIMENT, shift=Real())
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
    rng = np.random.default_rng(seed) if rng is None else rng
    X = rng.standard_normal((n_samples, width))
    weights = make_weights(depth, width, init, rng=rng, scale=scale)
    zs, hs = forward(X, weights, activation, shift=shift)
    stats = [layer_stats(z, h, activation) for z, h in zip(zs, hs, strict=True)]
    return ForwardResult(activation, X, weights, zs, hs, stats)


@validate(grad_out=Array(ndim=2), X=Array(ndim=2), weights=WEIGHTS,
          zs=Arrays(2, what="(N, out) pre-activations, one per layer", min_len=1), activation=ACTIVATION)
def backward(grad_out, X, weights: Sequence[np.ndarray], zs: Sequence[np.ndarray],
             activation: str = "sigmoid") -> tuple[list, list]:
    """Back-propagate ∂L/∂h_L = ``grad_out`` (N, out_L) through the layers of :func:`forward`.

    ∂L/∂z_l = ∂L/∂h_l · f'(z_l);  ∂L/∂W_l = (∂L/∂z_l)ᵀ h_{l-1}  (out, in);  ∂L/∂h_{l-1} = ∂L/∂z_l W_l.
    Returns ``(grad_hs, grad_ws)``, layer 1 first; grad_hs[l] is ∂L/∂h_l.
    """
    act = acts.get(activation)
    g = grad_out
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


@validate(**EXPERIMENT)
def backward_experiment(*, depth: int = 5, width: int = 100, n_samples: int = 1000,
                        activation: str = "sigmoid", init: InitSpec = 1.0, scale: float = 1.0,
                        seed: int = 0, rng: np.random.Generator | None = None) -> BackwardResult:
    """Gradient sizes per layer for the network of :func:`forward_experiment` (same arguments).

    The loss is a fixed random read-out of the last layer, L = Σ (h_L ⊙ G) / N with G ~ N(0, 1)
    (drawn after the weights), so every layer's gradient comes from the same upstream signal.
    """
    rng = np.random.default_rng(seed) if rng is None else rng
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
    if activation in acts.SLOPES:  # piecewise linear: f(z) = a·z below 0, b·z above
        a, b = acts.SLOPES[activation]
        # half-normal moments: E[max(z,0)] = sd/√(2π), E[max(z,0)²] = var/2 (the same below 0)
        return (b - a) * sd / math.sqrt(2 * math.pi), (a * a + b * b) * var / 2
    f = acts.get(activation).numpy
    return _normal_expectation(f, var), _normal_expectation(lambda z: f(z) ** 2, var)


@validate(activation=ACTIVATION, var=Real(minimum=0.0))
def slope_second_moment(activation: str, var: float = 1.0) -> float:
    """E[f'(z)²] for z ~ N(0, var): how much of the backward variance one activation lets through.

    1 for the identity, 1/2 for ReLU (f' is 1 on half of the inputs, 0 on the other), below
    1/16 for the sigmoid (f' <= 1/4). Quadrature split at 0, like :func:`variance_recursion`.
    """
    act = acts.get(activation)
    if var == 0.0:
        return float(act.grad(np.zeros(1))[0] ** 2)
    if act.name in acts.SLOPES:  # f' is a on one half-line, b on the other: exact
        a, b = acts.SLOPES[act.name]
        return (a * a + b * b) / 2.0
    return _normal_expectation(lambda z: act.grad(z) ** 2, var)


@validate(activation=ACTIVATION, fan_out=Int(minimum=1), weight_std=Real(minimum=0.0), z_var=Real(minimum=0.0))
def backward_factor(activation: str, *, fan_out: int, weight_std: float, z_var: float = 1.0) -> float:
    """The factor by which one layer multiplies the variance of ∂L/∂h on the way back.

    ∂L/∂h_{l-1} = (∂L/∂h_l ⊙ f'(z_l)) W_l sums fan_out terms, so with independent zero-mean
    weights Var(∂L/∂h_{l-1}) = fan_out · σ_w² · E[f'(z_l)²] · Var(∂L/∂h_l). A factor of 1 keeps the
    gradient's size: σ_w² = 1/(fan_out · E[f'²]), the backward twin of the forward condition
    σ_w² = 1/(fan_in · E[f²]/Var(z)). ``z_var``: the variance of the layer's pre-activations.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # numpy floats: inf on overflow (python's ** raises)
        factor = float(np.float64(fan_out) * np.float64(weight_std) ** 2 * slope_second_moment(activation, z_var))
    if not math.isfinite(factor):
        raise ValueError(f"weight_std={weight_std:g} makes the factor fan_out · weight_std² · E[f'²] overflow float64")
    return factor


@validate(depth=SIZE, width=SIZE, weight_std=Real(minimum=0.0), activation=ACTIVATION, input_var=Real(minimum=0.0))
def variance_recursion(*, depth: int = 5, width: int = 100, weight_std: float = 1.0,
                       activation: str = "sigmoid", input_var: float = 1.0) -> dict[str, list[float]]:
    """The mean-field prediction for the experiment with W ~ N(0, weight_std²) (any zero-mean scheme).

    Var(z_l) = width · weight_std² · E[h_{l-1}²], with z_l ≈ N(0, Var(z_l)); h_0 = X with E[x²] = input_var.
    Returns lists (layer 1 first) ``z_var``, ``h_mean``, ``h_std`` (the predicted activation std).
    """
    act = acts.get(activation)
    second_moment = input_var
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


# --------------------------------------------------------------------------- the fast path of the live explorer


@validate(activation=ACTIVATION)
def saturation_bounds(activation: str) -> tuple[float, float]:
    """``(lo, hi)`` such that f is saturated exactly where z <= lo or z >= hi.

    Derived from ``coursekit.activations``' derivative and 5 % threshold, not re-typed:
    about (−4.36, 4.36) for the sigmoid, (−2.18, 2.18) for tanh, (0, inf) for ReLU,
    (−inf, inf) for the identity. Raises ValueError where the unsaturated set is not one
    interval (GELU, SiLU): use ``coursekit.activations.saturated_fraction`` for those.
    """
    return acts.saturation_bounds(activation)


