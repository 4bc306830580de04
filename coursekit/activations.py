"""Chapter 03: activation functions, their derivatives, saturation and dead units.

Flat pairs first, as in *Deep Learning from Scratch*: ``sigmoid`` / ``sigmoid_grad``,
``relu`` / ``relu_grad`` ... Every numpy function takes an array of any shape and
returns an array of the same shape; float32 stays float32, integers and bools
become float64. ``get(name, **params)`` bundles a function, its analytic
derivative and the matching torch function into one :class:`Activation`.

Conventions at the kinks (a derivative that does not exist there) follow torch:
ReLU'(0) = 0, LeakyReLU'(0) = negative_slope, step'(0) = 0 (see :func:`step_grad`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from coursekit._checks import as_float_array, check_choice, check_number, describe
from coursekit.neurons import step  # one source of truth: the perceptron's step from chapter 01

#: The activations :func:`get` knows, in the order chapter 03 teaches them.
NAMES: tuple[str, ...] = ("step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu")

#: The parameters each activation takes, with their defaults (torch's defaults).
PARAMS: dict[str, dict[str, float]] = {name: {} for name in NAMES}
PARAMS["leaky_relu"] = {"negative_slope": 0.01}

#: Default threshold of :func:`saturated_fraction`: a unit is saturated where
#: |f'(z)| < 5 % of the largest value |f'| can take.
SATURATION_THRESHOLD = 0.05

__all__ = [
    "NAMES", "PARAMS", "SATURATION_THRESHOLD", "Activation", "get",
    "step", "step_grad", "identity", "identity_grad", "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    "gelu", "gelu_grad", "silu", "silu_grad", "autograd_grad", "peak_grad",
    "saturated_fraction", "dead_fraction", "zero_fraction",
    "plot_activation", "slope_explorer", "slope_stats", "SlopePlot",
]


def _exp_no_underflow(x: np.ndarray) -> np.ndarray:
    """exp(x) for x <= 0, with 0 where the result would underflow (no FloatingPointError/warning).

    numpy flags an underflow when exp returns a subnormal number; those results
    are below float precision relative to the 1 they are added to, so 0 is exact enough.
    """
    limit = -math.log(np.finfo(x.dtype).tiny) - 1.0  # one unit of margin keeps exp(x) normal
    out = np.zeros_like(x)
    np.exp(x, out=out, where=~(x <= -limit))  # NaN is not <= anything: it passes through as NaN
    return out


# --- step and identity ----------------------------------------------------------------------


def step_grad(x) -> np.ndarray:
    """Derivative of the step function: 0 everywhere, same shape and dtype as ``x``.

    At x = 0 the step jumps, so no derivative exists there (as a distribution it
    is a Dirac delta). We return 0 there too, like every sample away from 0:
    gradient descent gets no signal from a step, which is why networks trained by
    back-propagation do not use it. torch refuses instead: ``torch.heaviside``
    has no autograd formula and ``backward()`` raises a RuntimeError.
    """
    x = as_float_array("x", x)
    return np.zeros_like(x)


def identity(x) -> np.ndarray:
    """Identity (linear) activation: f(x) = x. Same shape and float dtype as ``x``."""
    return as_float_array("x", x).copy()


def identity_grad(x) -> np.ndarray:
    """Derivative of the identity: f'(x) = 1 everywhere."""
    return np.ones_like(as_float_array("x", x))


# --- sigmoid and tanh -------------------------------------------------------------------------


def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid: σ(x) = 1 / (1 + exp(−x)), in (0, 1). Same shape and float dtype as ``x``.

    Stable: exp is only taken of −|x| <= 0, so it never overflows; sigmoid(±1000) = 1 / 0 exactly.
    """
    x = as_float_array("x", x)
    e = _exp_no_underflow(-np.abs(x))  # exp(−|x|) in [0, 1]: no overflow guard
    # x >= 0: 1 / (1 + e^−x);  x < 0: e^x / (1 + e^x), the same value without exp(+|x|).
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def sigmoid_grad(x) -> np.ndarray:
    """Derivative of the sigmoid: σ'(x) = σ(x)(1 − σ(x)), largest at x = 0 where it is 0.25."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent: tanh(x) = (e^x − e^−x) / (e^x + e^−x) = 2σ(2x) − 1, in (−1, 1)."""
    return np.tanh(as_float_array("x", x))


def tanh_grad(x) -> np.ndarray:
    """Derivative of tanh: tanh'(x) = 1 − tanh(x)², largest at x = 0 where it is 1."""
    t = tanh(x)
    return 1.0 - t * t  # the formula torch's backward uses, so the two agree to rounding


# --- the ReLU family ------------------------------------------------------------------------


def relu(x) -> np.ndarray:
    """Rectified linear unit: relu(x) = max(x, 0). Same shape and float dtype as ``x``."""
    x = as_float_array("x", x)
    return np.maximum(x, 0)  # maximum propagates NaN, as torch.relu does


def relu_grad(x) -> np.ndarray:
    """Derivative of ReLU: 1 where x > 0, else 0 — including x = 0, torch's convention."""
    x = as_float_array("x", x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: x where x > 0, negative_slope · x elsewhere (torch's default slope 0.01)."""
    x = as_float_array("x", x)
    a = check_number("negative_slope", negative_slope)
    return np.where(x > 0, x, x * a).astype(x.dtype, copy=False)


def leaky_relu_grad(x, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of leaky ReLU: 1 where x > 0, else negative_slope (also at x = 0, as torch)."""
    x = as_float_array("x", x)
    a = check_number("negative_slope", negative_slope)
    return np.where(x > 0, 1.0, a).astype(x.dtype)


# --- smooth ReLUs: GELU and SiLU ------------------------------------------------------------


def _erf(x: np.ndarray) -> np.ndarray:
    # numpy has no erf, scipy is only a test dependency, and math.erf element by element
    # is ~100x slower. torch is a runtime dependency and its erf is correct to rounding,
    # so we borrow it: from_numpy shares memory, nothing is copied for contiguous input.
    return torch.special.erf(torch.from_numpy(np.ascontiguousarray(x))).numpy()


def gelu(x) -> np.ndarray:
    """GELU, exact form (torch's default): gelu(x) = x · Φ(x) = x · ½(1 + erf(x/√2))."""
    x = as_float_array("x", x)
    return (x * (0.5 * (1.0 + _erf(x * np.sqrt(0.5).astype(x.dtype))))).astype(x.dtype, copy=False)


def gelu_grad(x) -> np.ndarray:
    """Derivative of GELU: Φ(x) + x·φ(x), φ(x) = exp(−x²/2) / √(2π) the normal density."""
    x = as_float_array("x", x)
    cdf = 0.5 * (1.0 + _erf(x * np.sqrt(0.5).astype(x.dtype)))
    # φ(x) underflows (and x² overflows) for large |x|: compute it only where it is not 0.
    small = np.abs(x) < 40.0
    x2 = np.zeros_like(x)
    np.square(x, out=x2, where=small)
    pdf = _exp_no_underflow(np.where(small, -0.5 * x2, -np.inf).astype(x.dtype)) / math.sqrt(2 * math.pi)
    return (cdf + x * pdf.astype(x.dtype)).astype(x.dtype, copy=False)


def silu(x) -> np.ndarray:
    """SiLU (also called swish): silu(x) = x · σ(x)."""
    x = as_float_array("x", x)
    return x * sigmoid(x)


def silu_grad(x) -> np.ndarray:
    """Derivative of SiLU: σ(x) · (1 + x(1 − σ(x)))."""
    x = as_float_array("x", x)
    s = sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


# --- peaks of the derivatives (for the saturation threshold) --------------------------------


def _silu_peak() -> float:
    # silu''(x) = σ'(x) · (2 + x(1 − 2σ(x))): the peak of silu' is the root of the bracket,
    # which lies in (2, 3). Bisection, bounded at 100 steps (60 already reach float64).
    def bracket(x: float) -> float:
        return 2.0 + x * (1.0 - 2.0 / (1.0 + math.exp(-x)))

    lo, hi = 2.0, 3.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if bracket(mid) > 0:
            lo = mid
        else:
            hi = mid
    s = 1.0 / (1.0 + math.exp(-lo))
    return s * (1.0 + lo * (1.0 - s))


_PEAKS: dict[str, float] = {
    "step": math.inf,  # a jump: the derivative is a Dirac delta, "infinitely" tall at 0
    "identity": 1.0,
    "sigmoid": 0.25,  # σ'(0) = ½ · ½
    "tanh": 1.0,  # tanh'(0) = 1 − 0²
    "relu": 1.0,
    # gelu''(x) = φ(x)(2 − x²): the peak is at x = √2, Φ(√2) + √2·φ(√2) = ½(1 + erf 1) + e⁻¹/√π
    "gelu": 0.5 * (1.0 + math.erf(1.0)) + math.exp(-1.0) / math.sqrt(math.pi),
    "silu": _silu_peak(),
}


def peak_grad(name: str, **params: Any) -> float:
    """The largest value |f'(x)| takes over all x, e.g. 0.25 for the sigmoid, inf for the step."""
    act = get(name, **params)
    if act.name == "leaky_relu":
        return max(1.0, abs(act.params["negative_slope"]))
    return _PEAKS[act.name]


# --- the lookup -----------------------------------------------------------------------------


def _as_tensor(t: Any) -> torch.Tensor:
    """Check the argument of a torch activation: a real tensor; integers become the default float."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a torch.Tensor (make one with torch.as_tensor(x)); got {describe(t)}")
    if t.is_complex():
        raise TypeError(f"t must be a real tensor; got {describe(t)}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def _torch_step(t: torch.Tensor) -> torch.Tensor:
    t = _as_tensor(t)
    return torch.heaviside(t, torch.zeros((), dtype=t.dtype))  # value 0 at t = 0, as `step`


_FUNCTIONS: dict[str, tuple[Callable, Callable, Callable]] = {
    "step": (step, step_grad, _torch_step),
    "identity": (identity, identity_grad, lambda t: _as_tensor(t)),  # like nn.Identity
    "sigmoid": (sigmoid, sigmoid_grad, lambda t: torch.sigmoid(_as_tensor(t))),
    "tanh": (tanh, tanh_grad, lambda t: torch.tanh(_as_tensor(t))),
    "relu": (relu, relu_grad, lambda t: torch.relu(_as_tensor(t))),
    "gelu": (gelu, gelu_grad, lambda t: F.gelu(_as_tensor(t))),
    "silu": (silu, silu_grad, lambda t: F.silu(_as_tensor(t))),
}


@dataclass(frozen=True, eq=False)  # compared by identity: two lambdas are never "equal"
class Activation:
    """An activation by name: ``numpy(x)``, its analytic derivative ``grad(x)``, and ``torch(t)``."""

    name: str
    numpy: Callable[[Any], np.ndarray]
    grad: Callable[[Any], np.ndarray]
    torch: Callable[[torch.Tensor], torch.Tensor]
    params: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Activation({self.name!r}{args})"


def get(name: str, **params: Any) -> Activation:
    """Look up an activation by name (one of ``NAMES``); ``params`` such as ``negative_slope``.

    >>> get("leaky_relu", negative_slope=0.1).numpy([-1.0, 2.0])
    array([-0.1,  2. ])
    """
    check_choice("name", name, NAMES)
    allowed = PARAMS[name]
    for key in params:
        if key not in allowed:
            valid = ", ".join(map(repr, allowed)) if allowed else "none"
            raise TypeError(
                f"activation {name!r} takes no parameter {key!r}; its parameters: {valid}"
            )
    values = {key: check_number(key, params.get(key, default)) for key, default in allowed.items()}
    if name == "leaky_relu":
        a = values["negative_slope"]
        return Activation(
            name,
            lambda x: leaky_relu(x, a),
            lambda x: leaky_relu_grad(x, a),
            lambda t: F.leaky_relu(_as_tensor(t), a),
            values,
        )
    f, df, ft = _FUNCTIONS[name]
    return Activation(name, f, df, ft, values)


def autograd_grad(activation: str | Activation, x) -> np.ndarray:
    """The derivative of ``activation`` at each point of ``x`` computed by torch autograd.

    Each output depends only on its own input, so d(sum f(x))/dx_i = f'(x_i).
    Raises torch's RuntimeError for the step (``heaviside`` has no autograd formula).
    """
    act = activation if isinstance(activation, Activation) else get(activation)
    x = as_float_array("x", x)
    t = torch.tensor(x, requires_grad=True)
    act.torch(t).sum().backward()
    return t.grad.numpy()


# --- saturation and dead units --------------------------------------------------------------


def saturated_fraction(z, activation: str | Activation = "sigmoid", *,
                       threshold: float = SATURATION_THRESHOLD, **params: Any) -> float:
    """Fraction of pre-activations ``z`` (any shape) where the activation is saturated.

    Saturated means |f'(z)| < threshold · max|f'|, by default below 5 % of the
    derivative's peak: σ'(z) < 0.0125 (|z| > 4.4) for the sigmoid, tanh'(z) < 0.05
    (|z| > 2.2) for tanh; for ReLU every z <= 0 counts, for the step everything.
    """
    act = activation if isinstance(activation, Activation) else get(activation, **params)
    z = as_float_array("z", z)
    threshold = check_number("threshold", threshold, positive=True)
    if z.size == 0:
        raise ValueError(f"z must contain at least one value; got {describe(z)}")
    peak = peak_grad(act.name, **act.params)
    return float(np.mean(np.abs(act.grad(z)) < threshold * peak))


def _check_batch(h) -> np.ndarray:
    h = as_float_array("h", h, ndim=2)
    if h.shape[0] == 0 or h.shape[1] == 0:
        raise ValueError(f"h must have at least one sample and one unit, shape (N, n_units); got {describe(h)}")
    return h


def dead_fraction(h) -> float:
    """Fraction of units that are dead on this batch: output exactly 0 on every sample.

    ``h`` has shape (N, n_units), one row per sample (a layer's outputs after ReLU).
    A dead ReLU unit gets gradient exactly 0 from every sample, so gradient
    descent never changes its weights: on this data it stays dead.
    """
    h = _check_batch(h)
    return float(np.mean(np.all(h == 0, axis=0)))


def zero_fraction(h) -> float:
    """Fraction of all outputs in ``h`` (N, n_units) that are exactly 0, over samples and units.

    For ReLU about half the outputs are 0 when pre-activations are centred; that
    sparsity is normal. Only units that are 0 for *every* sample are dead (:func:`dead_fraction`).
    """
    h = _check_batch(h)
    return float(np.mean(h == 0))


# --- figures --------------------------------------------------------------------------------


def plot_activation(activation: str | Activation, x=None, *, axes=None, **params: Any):
    """Draw f(x) (left) and f'(x) (right): the analytic derivative with autograd's on top.

    ``x`` (1-D) defaults to 401 points on [−6, 6]; ``axes`` is a pair of axes or None
    (a new 1×2 figure). For the step, which autograd cannot differentiate, only the
    analytic derivative is drawn. Returns the two axes.
    """
    act = activation if isinstance(activation, Activation) else get(activation, **params)
    x = np.linspace(-6.0, 6.0, 401) if x is None else as_float_array("x", x, ndim=1)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.0))
    ax_f, ax_d = axes
    ax_f.plot(x, act.numpy(x), color="C0")
    args = ", ".join(f"{k}={v:g}" for k, v in act.params.items())
    ax_f.set_title(f"{act.name}({args})" if args else act.name)
    ax_f.set_xlabel("x")
    ax_f.set_ylabel("f(x)")
    ax_d.plot(x, act.grad(x), color="C1", lw=3, alpha=0.6, label="analytic")
    if act.name != "step":
        ax_d.plot(x, autograd_grad(act, x), "k--", lw=1.2, label="autograd")
    ax_d.set_title("derivative: analytic and autograd" if act.name != "step" else "derivative (analytic)")
    ax_d.set_xlabel("x")
    ax_d.set_ylabel("f'(x)")
    ax_d.legend()
    return axes


# --- the LeakyReLU slope explorer -----------------------------------------------------------


def slope_stats(z, negative_slope: float) -> dict[str, float]:
    """Statistics of a LeakyReLU layer with pre-activations ``z`` (N, n_units).

    ``zero_grad_units``: fraction of units whose derivative is 0 on every sample
    (dead: they cannot learn); ``dead``: :func:`dead_fraction` of the outputs;
    ``mean_grad``: mean derivative over all entries.
    """
    z = _check_batch(z)
    a = check_number("negative_slope", negative_slope)
    d = leaky_relu_grad(z, a)
    return {
        "negative_slope": a,
        "dead": dead_fraction(leaky_relu(z, a)),
        "zero_grad_units": float(np.mean(np.all(d == 0, axis=0))),
        "mean_grad": float(np.mean(d)),
    }


class SlopePlot:
    """A persistent figure of LeakyReLU (left) and its derivative (right) on x in [−4, 4].

    It keeps state so that a slider stays fast: the axes, ticks and labels are drawn
    once and kept as a background bitmap (fixed axis limits make it reusable); each
    :meth:`draw` restores that bitmap and redraws only the two curves and the label
    ("blitting"). Built on ``matplotlib.figure.Figure`` + Agg, without pyplot.
    """

    def __init__(self, negative_slope: float = 0.01, *, figsize: tuple[float, float] = (7.0, 2.6),
                 dpi: int = 80) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.x = np.linspace(-4.0, 4.0, 401)
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        ax_f, ax_d = self.fig.subplots(1, 2)
        ax_f.plot(self.x, relu(self.x), ":", color="gray", label="ReLU (slope 0)")
        ax_f.set(title="LeakyReLU", xlabel="x", ylabel="f(x)", xlim=(-4, 4), ylim=(-2.2, 4.2))
        ax_d.set(title="derivative", xlabel="x", ylabel="f'(x)", xlim=(-4, 4), ylim=(-0.1, 1.15))
        # animated artists are left out of the background and drawn by hand in draw()
        (self.line_f,) = ax_f.plot(self.x, self.x, color="C0", animated=True, label="LeakyReLU")
        (self.line_d,) = ax_d.plot(self.x, self.x, color="C1", animated=True)
        self.label = ax_d.text(0.04, 0.5, "", transform=ax_d.transAxes, animated=True)
        ax_f.legend(loc="upper left")
        self.fig.tight_layout()
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.draw(negative_slope)

    def draw(self, negative_slope: float) -> None:
        """Redraw the curves for ``negative_slope`` (only the changed artists)."""
        a = check_number("negative_slope", negative_slope)
        self.negative_slope = a
        self.line_f.set_ydata(leaky_relu(self.x, a))
        self.line_d.set_ydata(leaky_relu_grad(self.x, a))
        self.label.set_text(f"slope a = {a:.2f}")
        self.canvas.restore_region(self._background)
        for artist in (self.line_f, self.line_d, self.label):
            artist.axes.draw_artist(artist)

    def png(self) -> bytes:
        """The current picture as PNG bytes (fast, lightly compressed)."""
        from coursekit.widgets import encode_png

        return encode_png(np.asarray(self.canvas.buffer_rgba()))


def slope_explorer(z, negative_slope: float = 0.01):
    """A live explorer: a slider for LeakyReLU's slope, a plot and the stats of layer ``z`` (N, n_units).

    Follows the course's DOM contract: the box has class ``coursekit-explorer``, the
    statistics (an HTML) ``coursekit-stats``, the picture (a PNG Image) ``coursekit-plot``.
    One persistent :class:`SlopePlot` is redrawn per move (blitting; no pyplot, no new figure).
    Updates are synchronous when the slider's ``.value`` is set.
    """
    import ipywidgets as widgets

    z = _check_batch(z)
    a = check_number("negative_slope", negative_slope, minimum=0.0)
    plot = SlopePlot(a)
    slider = widgets.FloatSlider(value=a, min=0.0, max=0.5, step=0.01, description="slope",
                                 readout_format=".2f", continuous_update=True)
    stats = widgets.HTML().add_class("coursekit-stats")
    image = widgets.Image(format="png").add_class("coursekit-plot")

    def update(*_: Any) -> None:
        s = slope_stats(z, slider.value)
        stats.value = (
            f"negative_slope = {s['negative_slope']:.2f} · dead units (output 0 on every sample): "
            f"{s['dead']:.1%} · units with zero gradient everywhere: {s['zero_grad_units']:.1%} · "
            f"mean f'(z): {s['mean_grad']:.3f}"
        )
        plot.draw(slider.value)
        image.value = plot.png()

    slider.observe(update, names="value")
    update()
    return widgets.VBox([slider, stats, image]).add_class("coursekit-explorer")
