"""Chapter 03: activation functions, their derivatives, saturation and dead units.

Flat pairs first, as in *Deep Learning from Scratch*: ``sigmoid`` / ``sigmoid_grad``,
``relu`` / ``relu_grad`` ... Every numpy function takes an array of any shape and
returns an array of the same shape (a 0-d array for a number); float32 stays float32,
float16 is computed in float32 and rounded once (as torch does), integers and bools
become float64. ``get(name, **params)`` bundles a function, its analytic derivative and
the matching torch function into one :class:`Activation`.

Every activation is registered once, in :data:`REGISTRY` (see :func:`register`); the
other tables — :data:`NAMES`, :data:`PARAMS`, :data:`HIST_RANGES`, :data:`TORCH`,
:data:`MODULES`, :data:`DIFFERENTIABLE`, :data:`EXPLORER_NAMES`, :data:`TITLES`, :data:`KINKED`,
:data:`SLOPES`, :func:`peak_grad`,
:func:`saturation_bounds`, :func:`get` — are read from it.

Conventions where a derivative does not exist follow torch's autograd: ReLU'(0) = 0,
LeakyReLU'(0) = negative_slope, step'(0) = 0 (see :func:`step_grad`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursekit._checks import (
    Array,
    Choice,
    Constraint,
    Instance,
    Real,
    as_float_array,
    check_number,
    describe,
    validate,
)
from coursekit._lazy import lazy_import
from coursekit.neurons import step  # one source of truth: the perceptron's step from chapter 01

torch = lazy_import("torch")  # imported on first use: chapters that never call it stay light
F = lazy_import("torch.nn.functional")

#: Default threshold of :func:`saturated_fraction`: a unit is saturated where
#: |f'(z)| < 5 % of the largest value |f'| can take.
SATURATION_THRESHOLD = 0.05

__all__ = [
    "REGISTRY", "Spec", "register", "NAMES", "PARAMS", "HIST_RANGES", "TORCH", "MODULES", "DIFFERENTIABLE", "TITLES",
    "KINKED", "SLOPES", "EXPLORER_NAMES", "SATURATION_THRESHOLD", "Activation", "get", "saturation_bounds",
    "step", "step_grad", "identity", "identity_grad", "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    "gelu", "gelu_grad", "silu", "silu_grad", "autograd_grad", "peak_grad",
    "saturated_fraction", "dead_fraction", "zero_fraction", "variance_split", "slope_stats",
]


def _elementwise(core: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Wrap ``core(x, *params)``: compute float16 in float32, return x's shape and dtype (x is declared above it).

    float16 has 10 bits of mantissa and underflows below 6e-8: torch computes half-precision
    activations in float32 and rounds the result once, and so do we (``sigmoid(-9)`` is
    1.2e-4, not 0). Underflow to a subnormal or 0 is never an error here: it is the right
    answer to the precision there is.
    """

    @functools.wraps(core)
    def f(x, *args: Any, **kwargs: Any) -> np.ndarray:
        x = np.asarray(x)  # declared (@validate(x=X)): already a float array
        wide = x.astype(np.float32) if x.dtype == np.float16 else x
        with np.errstate(under="ignore"):
            out = core(wide, *args, **kwargs)
        return np.asarray(out).astype(x.dtype, copy=False).reshape(x.shape)

    return f


# --- step and identity ----------------------------------------------------------------------


@validate(x=Array())
@_elementwise
def step_grad(x) -> np.ndarray:
    """Derivative of the step function: 0 everywhere, same shape and dtype as ``x``.

    At x = 0 the step jumps, so no derivative exists there (as a distribution it
    is a Dirac delta). We return 0 there too, like every sample away from 0:
    gradient descent gets no signal from a step, which is why networks trained by
    back-propagation do not use it. torch refuses instead: ``torch.heaviside``
    has no autograd formula and ``backward()`` raises a RuntimeError.
    """
    return np.zeros_like(x)


@validate(x=Array())
@_elementwise
def identity(x) -> np.ndarray:
    """Identity (linear) activation: f(x) = x. Same shape and float dtype as ``x``."""
    return x.copy()


@validate(x=Array())
@_elementwise
def identity_grad(x) -> np.ndarray:
    """Derivative of the identity: f'(x) = 1 everywhere."""
    return np.ones_like(x)


# --- sigmoid and tanh -------------------------------------------------------------------------


@validate(x=Array())
@_elementwise
def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid: σ(x) = 1 / (1 + exp(−x)), in (0, 1). Same shape and float dtype as ``x``.

    Stable: exp is only taken of −|x| <= 0, so it never overflows; sigmoid(±1000) = 0 and 1.
    In the far negative tail it returns what torch returns: the tiny (subnormal) value
    while torch's 1/(1 + exp(−x)) is finite, and exactly 0 once exp(−x) would exceed the
    largest float (x < −88.72 in float32, x < −709.78 in float64).
    """
    e = np.exp(-np.abs(x))  # exp(−|x|) in [0, 1]: no overflow guard needed
    # x >= 0: 1 / (1 + e^−x);  x < 0: e^x / (1 + e^x), the same value without exp(+|x|).
    s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    overflows = x < np.float64(-math.log(np.finfo(x.dtype).max))  # compared in float64: exactly exp's limit
    return np.where(overflows, 0.0, s)  # torch's 1 / (1 + inf)


@validate(x=Array())
@_elementwise
def sigmoid_grad(x) -> np.ndarray:
    """Derivative of the sigmoid: σ'(x) = σ(x)(1 − σ(x)), largest at x = 0 where it is 0.25."""
    s = sigmoid(x)
    return s * (1.0 - s)  # the formula torch's backward uses


@validate(x=Array())
@_elementwise
def tanh(x) -> np.ndarray:
    """Hyperbolic tangent: tanh(x) = (e^x − e^−x) / (e^x + e^−x) = 2σ(2x) − 1, in (−1, 1)."""
    return np.tanh(x)


@validate(x=Array())
@_elementwise
def tanh_grad(x) -> np.ndarray:
    """Derivative of tanh: tanh'(x) = 1 − tanh(x)², largest at x = 0 where it is 1."""
    t = np.tanh(x)
    return 1.0 - t * t  # the formula torch's backward uses, so the two agree to rounding


# --- the ReLU family ------------------------------------------------------------------------


@validate(x=Array())
@_elementwise
def relu(x) -> np.ndarray:
    """Rectified linear unit: relu(x) = max(x, 0). Same shape and float dtype as ``x``.

    As in torch, NaN stays NaN and −0.0 stays −0.0 (only x < 0 is replaced by 0).
    """
    return np.where(x < 0, np.zeros((), x.dtype), x)


@validate(x=Array())
@_elementwise
def relu_grad(x) -> np.ndarray:
    """Derivative of ReLU: 1 where x > 0, else 0 — including x = 0, torch's convention.

    At NaN it returns 1, as torch's backward does (it zeroes the gradient where x <= 0,
    and NaN <= 0 is false).
    """
    return (~(x <= 0)).astype(x.dtype)


@validate(x=Array(), negative_slope=Real())
@_elementwise
def leaky_relu(x, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: x where x > 0, negative_slope · x elsewhere (torch's default slope 0.01)."""
    out = x.copy()
    np.multiply(x, negative_slope, out=out, where=~(x > 0))  # only where it is used: +inf · 0 would warn
    return out


@validate(x=Array(), negative_slope=Real())
@_elementwise
def leaky_relu_grad(x, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of leaky ReLU: 1 where x > 0, else negative_slope (also at x = 0 and NaN, as torch)."""
    return np.where(x > 0, 1.0, negative_slope)


# --- smooth ReLUs: GELU and SiLU ------------------------------------------------------------


def _erf(x: np.ndarray) -> np.ndarray:
    # numpy has no erf, scipy is only a test dependency, and math.erf element by element
    # is ~100x slower. torch is a runtime dependency and its erf is correct to rounding,
    # so we borrow it: as_tensor shares memory, nothing is copied for contiguous input.
    return torch.special.erf(torch.as_tensor(np.ascontiguousarray(x))).numpy().reshape(x.shape)


@validate(x=Array())
@_elementwise
def gelu(x) -> np.ndarray:
    """GELU, exact form (torch's default): gelu(x) = x · Φ(x) = x · ½(1 + erf(x/√2))."""
    return x * (0.5 * (1.0 + _erf(x * np.sqrt(0.5).astype(x.dtype))))


@validate(x=Array())
@_elementwise
def gelu_grad(x) -> np.ndarray:
    """Derivative of GELU: Φ(x) + x·φ(x), φ(x) = exp(−x²/2) / √(2π) the normal density."""
    cdf = 0.5 * (1.0 + _erf(x * np.sqrt(0.5).astype(x.dtype)))
    # φ(x) underflows (and x² overflows) for large |x|: compute it only where it is not 0.
    small = np.abs(x) < 40.0
    x2 = np.zeros_like(x)
    np.square(x, out=x2, where=small)
    pdf = np.exp(np.where(small, -0.5 * x2, -np.inf).astype(x.dtype)) / math.sqrt(2 * math.pi)
    return cdf + x * pdf.astype(x.dtype)


@validate(x=Array())
@_elementwise
def silu(x) -> np.ndarray:
    """SiLU (also called swish): silu(x) = x · σ(x)."""
    return x * sigmoid(x)


@validate(x=Array())
@_elementwise
def silu_grad(x) -> np.ndarray:
    """Derivative of SiLU: σ(x) · (1 + x(1 − σ(x)))."""
    s = sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


# --- the torch counterparts -----------------------------------------------------------------


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


def _torch_identity(t: torch.Tensor) -> torch.Tensor:
    return _as_tensor(t)  # like nn.Identity


def _torch_sigmoid(t: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(_as_tensor(t))


def _torch_tanh(t: torch.Tensor) -> torch.Tensor:
    return torch.tanh(_as_tensor(t))


def _torch_relu(t: torch.Tensor) -> torch.Tensor:
    return torch.relu(_as_tensor(t))


def _torch_leaky_relu(t: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    return F.leaky_relu(_as_tensor(t), negative_slope)


def _torch_gelu(t: torch.Tensor) -> torch.Tensor:
    return F.gelu(_as_tensor(t))


def _torch_silu(t: torch.Tensor) -> torch.Tensor:
    return F.silu(_as_tensor(t))


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


def _constant(value: float) -> Callable[..., float]:
    return lambda **_: value


# --- the registry: one entry per activation ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class Spec:
    """Everything the package knows about one activation; :func:`register` adds one.

    ``numpy(x, **params)`` and ``grad(x, **params)`` are the numpy function and its analytic
    derivative, ``torch(t, **params)`` the torch function it must agree with, ``params`` the
    parameters with torch's defaults, ``peak(**params)`` the largest |f'(x)| over all x (the
    scale of the saturation threshold), ``hist_range`` the x-range of histograms of f's
    outputs (the whole range of a bounded f: tanh is negative too), ``autograd`` whether
    torch can differentiate it (the step cannot), ``title`` its name in words for figures,
    ``kink`` whether f' jumps at 0 (ReLU, LeakyReLU: autograd then returns one side's value),
    ``module(**params)`` the ``torch.nn.Module`` a network uses for it (default: a module that
    applies ``torch``; the built-in ones give torch's own ``nn.ReLU`` ...), ``slopes(**params)``,
    for a piecewise-linear f only, the pair (a, b) with f(z) = a·z below 0 and b·z above (the
    variance theory of chapter 05 then uses exact half-normal moments instead of quadrature).
    """

    name: str
    numpy: Callable[..., np.ndarray]
    grad: Callable[..., np.ndarray]
    torch: Callable[..., torch.Tensor]
    peak: Callable[..., float]
    hist_range: tuple[float, float]
    params: Mapping[str, float] = field(default_factory=dict)
    autograd: bool = True
    title: str = ""
    kink: bool = False
    module: Callable[..., Any] | None = None
    slopes: Callable[..., tuple[float, float]] | None = None


#: name -> :class:`Spec`, in the order chapter 03 teaches them. The one table to edit.
REGISTRY: dict[str, Spec] = {}


@validate(spec=Instance("coursekit.activations", "Spec", what="an activations.Spec",
                        make=lambda: Spec("example_identity", identity, identity_grad, _torch_identity, _constant(1.0),
                                          (-3.0, 3.0))))
def register(spec: Spec) -> Spec:
    """Add ``spec`` to :data:`REGISTRY`; every derived table sees it at once."""
    if not spec.name.isidentifier() or spec.name in REGISTRY:
        raise ValueError(f"spec.name must be a new identifier; got {spec.name!r} (registered: {', '.join(REGISTRY)})")
    lo, hi = spec.hist_range
    if not lo < hi:
        raise ValueError(f"spec.hist_range must be (lo, hi) with lo < hi; got {spec.hist_range}")
    REGISTRY[spec.name] = spec
    return spec


def _nn(cls_name: str) -> Callable[..., Any]:
    """``torch.nn.<cls_name>(**params)``, looked up when called (torch is imported on first use)."""
    return lambda **params: getattr(torch.nn, cls_name)(**params)


register(Spec("step", step, step_grad, _torch_step, _constant(math.inf),  # a jump: f' is a Dirac delta
              (-0.1, 1.1), autograd=False, title="Step"))
register(Spec("identity", identity, identity_grad, _torch_identity, _constant(1.0), (-4.0, 4.0), title="Identity",
              module=_nn("Identity"), slopes=lambda: (1.0, 1.0)))
register(Spec("sigmoid", sigmoid, sigmoid_grad, _torch_sigmoid, _constant(0.25),  # σ'(0) = ½ · ½
              (0.0, 1.0), title="Sigmoid", module=_nn("Sigmoid")))
register(Spec("tanh", tanh, tanh_grad, _torch_tanh, _constant(1.0), (-1.0, 1.0), title="Tanh",  # tanh'(0) = 1
              module=_nn("Tanh")))
register(Spec("relu", relu, relu_grad, _torch_relu, _constant(1.0), (0.0, 4.0), title="ReLU", kink=True,
              module=_nn("ReLU"), slopes=lambda: (0.0, 1.0)))
register(Spec("leaky_relu", leaky_relu, leaky_relu_grad, _torch_leaky_relu,
              lambda negative_slope=0.01: max(1.0, abs(negative_slope)), (-0.25, 4.0),
              params={"negative_slope": 0.01}, title="LeakyReLU", kink=True, module=_nn("LeakyReLU"),
              slopes=lambda negative_slope=0.01: (negative_slope, 1.0)))
# gelu''(x) = φ(x)(2 − x²): the peak is at x = √2, Φ(√2) + √2·φ(√2) = ½(1 + erf 1) + e⁻¹/√π
register(Spec("gelu", gelu, gelu_grad, _torch_gelu,
              _constant(0.5 * (1.0 + math.erf(1.0)) + math.exp(-1.0) / math.sqrt(math.pi)), (-0.5, 4.0),
              title="GELU", module=_nn("GELU")))
register(Spec("silu", silu, silu_grad, _torch_silu, _constant(_silu_peak()), (-0.5, 4.0), title="SiLU (swish)",
              module=_nn("SiLU")))


class _Names(Sequence):
    """A live, read-only tuple of registered names (optionally those passing ``keep``)."""

    def __init__(self, keep: Callable[[Spec], bool] | None = None) -> None:
        self._keep = keep

    def _names(self) -> tuple[str, ...]:
        return tuple(n for n, s in REGISTRY.items() if self._keep is None or self._keep(s))

    def __getitem__(self, i):  # type: ignore[override]
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __eq__(self, other: object) -> bool:
        return self._names() == (tuple(other) if isinstance(other, (tuple, list, _Names)) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._names())


class _Column(Mapping):
    """A live, read-only mapping name -> one field of each registered :class:`Spec` (those passing ``keep``)."""

    def __init__(self, read: Callable[[Spec], Any], keep: Callable[[Spec], bool] | None = None) -> None:
        self._read = read
        self._keep = keep or (lambda s: True)

    def __getitem__(self, name: str) -> Any:
        spec = REGISTRY[name]
        if not self._keep(spec):
            raise KeyError(name)
        return self._read(spec)

    def __iter__(self) -> Iterator[str]:
        return (n for n, s in list(REGISTRY.items()) if self._keep(s))

    def __len__(self) -> int:
        return sum(1 for s in REGISTRY.values() if self._keep(s))

    def __repr__(self) -> str:
        return repr(dict(self))


#: The activations :func:`get` knows, in the order chapter 03 teaches them.
NAMES: Sequence[str] = _Names()

#: The parameters each activation takes, with their defaults (torch's defaults).
PARAMS: Mapping[str, Mapping[str, float]] = _Column(lambda s: dict(s.params))

#: Histogram x-range of each activation's outputs.
HIST_RANGES: Mapping[str, tuple[float, float]] = _Column(lambda s: tuple(s.hist_range))

#: The torch function each activation is checked against, called as ``TORCH[name](t, **params)``.
TORCH: Mapping[str, Callable[..., torch.Tensor]] = _Column(lambda s: s.torch)

#: The ``torch.nn.Module`` a network puts between its layers, built as ``MODULES[name](**params)``
#: (parameters checked, defaults filled in as :func:`get` does): torch's own module for the
#: built-in activations, else a module that applies the registered torch function.
MODULES: Mapping[str, Callable[..., Any]] = _Column(lambda s: functools.partial(_build_module, s))

#: The activations autograd can differentiate (all but the step): those a network trains with.
DIFFERENTIABLE: Sequence[str] = _Names(lambda s: s.autograd)

#: How figures name each activation, in words ("LeakyReLU", "SiLU (swish)").
TITLES: Mapping[str, str] = _Column(lambda s: s.title or s.name)

#: The activations whose derivative jumps at 0 (autograd returns one side's value there).
KINKED: Sequence[str] = _Names(lambda s: s.kink)

#: The piecewise-linear activations, name -> (a, b) with f(z) = a·z below 0 and b·z above, at
#: the default parameters: (1, 1) for the identity, (0, 1) for ReLU, (0.01, 1) for LeakyReLU.
SLOPES: Mapping[str, tuple[float, float]] = _Column(lambda s: tuple(map(float, s.slopes(**s.params))),
                                                    keep=lambda s: s.slopes is not None)


def _one_interval(spec: Spec) -> bool:
    try:
        _saturation_bounds(spec, SATURATION_THRESHOLD, ())
    except ValueError:
        return False
    return spec.autograd


#: The activations the live histogram explorer can offer: differentiable and saturated exactly
#: outside one interval (:func:`saturation_bounds`), which its fast statistics need.
EXPLORER_NAMES: Sequence[str] = _Names(_one_interval)


# --- the lookup -----------------------------------------------------------------------------


#: The declaration of an activation's name: one of :data:`NAMES`, read live (a registered one too).
NAME = Choice(NAMES)

#: The saturation threshold: a fraction of the derivative's peak in (0, 1].
THRESHOLD = Real(positive=True, maximum=1.0)

#: An activation's parameter, given by keyword (``negative_slope=0.1``); which exist is the registry's.
PARAM = Real()


class _ActivationArg(Constraint):
    """An activation: a registered name (returned as is) or an :class:`Activation` from :func:`get`."""

    def check(self, name, value):
        return value if isinstance(value, Activation) else NAME.check(name, value)

    def example(self):
        return "sigmoid"

    def bad_values(self):
        return NAME.bad_values()


ACTIVATION = _ActivationArg()


def _values(spec: Spec, params: Mapping[str, Any]) -> dict[str, float]:
    for key in params:
        if key not in spec.params:
            valid = ", ".join(map(repr, spec.params)) if spec.params else "none"
            raise TypeError(f"activation {spec.name!r} takes no parameter {key!r}; its parameters: {valid}")
    return {key: check_number(key, params.get(key, default)) for key, default in spec.params.items()}


@validate(name=NAME, params=PARAM)
def peak_grad(name: str, **params: Any) -> float:
    """The largest value |f'(x)| takes over all x, e.g. 0.25 for the sigmoid, inf for the step."""
    spec = REGISTRY[name]
    return float(spec.peak(**_values(spec, params)))


@functools.cache
def _function_module() -> type:
    """``nn.Module`` subclass applying a registered torch function; made on first use (torch is lazy)."""

    class ActivationModule(torch.nn.Module):
        """Applies ``activations.TORCH[name]`` with fixed parameters, like ``nn.Tanh`` applies tanh."""

        def __init__(self, name: str, function: Callable[..., Any], params: Mapping[str, float]) -> None:
            super().__init__()
            self.name, self.function, self.params = name, function, dict(params)

        def forward(self, t):
            return self.function(t, **self.params)

        def extra_repr(self) -> str:
            return ", ".join([repr(self.name), *(f"{k}={v!r}" for k, v in self.params.items())])

    return ActivationModule


def _build_module(spec: Spec, **params: Any):
    values = _values(spec, params)
    if spec.module is not None:
        return spec.module(**values)
    return _function_module()(spec.name, spec.torch, values)


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


@validate(name=NAME, params=PARAM)
def get(name: str, **params: Any) -> Activation:
    """Look up an activation by name (one of ``NAMES``); ``params`` such as ``negative_slope``.

    >>> get("leaky_relu", negative_slope=0.1).numpy([-1.0, 2.0])
    array([-0.1,  2. ])
    """
    spec = REGISTRY[name]
    values = _values(spec, params)
    if not values:
        return Activation(spec.name, spec.numpy, spec.grad, spec.torch, values)
    return Activation(spec.name, functools.partial(spec.numpy, **values), functools.partial(spec.grad, **values),
                      functools.partial(spec.torch, **values), values)


@functools.cache
def _saturation_bounds(spec: Spec, threshold: float, params: tuple) -> tuple[float, float]:
    grad = functools.partial(spec.grad, **dict(params))
    limit = threshold * spec.peak(**dict(params))

    def saturated(z: float) -> bool:
        return bool(abs(float(grad(z))) < limit)

    grid = np.linspace(-50.0, 50.0, 100_001)  # includes 0 exactly
    ok = np.abs(grad(grid)) >= limit
    inside = np.flatnonzero(ok)
    if inside.size == 0 or not np.all(ok[inside[0]:inside[-1] + 1]):
        raise ValueError(f"name {spec.name!r}: the activation has no single unsaturated interval")

    def edge(sat: float, unsat: float) -> float:
        for _ in range(80):  # bisection: 80 halvings of 1e-3 reach float64 resolution
            mid = 0.5 * (sat + unsat)
            if mid in (sat, unsat):
                break
            if saturated(mid):
                sat = mid
            else:
                unsat = mid
        return sat

    lo = -math.inf if inside[0] == 0 else edge(grid[inside[0] - 1], grid[inside[0]])
    hi = math.inf if inside[-1] == grid.size - 1 else edge(grid[inside[-1] + 1], grid[inside[-1]])
    return float(lo), float(hi)


@validate(name=NAME, threshold=THRESHOLD, params=PARAM)
def saturation_bounds(name: str, *, threshold: float = SATURATION_THRESHOLD, **params: Any) -> tuple[float, float]:
    """``(lo, hi)`` such that ``name`` is saturated exactly where z <= lo or z >= hi.

    Saturated as in :func:`saturated_fraction`: |f'(z)| < threshold · max|f'|. About
    (−4.36, 4.36) for the sigmoid, (−2.18, 2.18) for tanh, (0, inf) for ReLU (and LeakyReLU
    with its default slope 0.01 < 5 %), (−inf, inf) for the identity. Found on a grid over
    [−50, 50] and refined by bisection. Raises ValueError where the unsaturated set is not
    one interval (GELU and SiLU, whose derivatives cross the threshold more often; the step).
    """
    spec = REGISTRY[name]
    return _saturation_bounds(spec, threshold, tuple(_values(spec, params).items()))


@validate(activation=ACTIVATION, x=Array())
def autograd_grad(activation: str | Activation, x) -> np.ndarray:
    """The derivative of ``activation`` at each point of ``x`` computed by torch autograd.

    Each output depends only on its own input, so d(sum f(x))/dx_i = f'(x_i).
    Raises torch's RuntimeError for the step (``heaviside`` has no autograd formula).
    """
    act = activation if isinstance(activation, Activation) else get(activation)
    t = torch.tensor(x, requires_grad=True)
    act.torch(t).sum().backward()
    return t.grad.numpy()


# --- saturation and dead units --------------------------------------------------------------


@validate(z=Array(), activation=ACTIVATION, threshold=THRESHOLD, params=PARAM)
def saturated_fraction(z, activation: str | Activation = "sigmoid", *,
                       threshold: float = SATURATION_THRESHOLD, **params: Any) -> float:
    """Fraction of pre-activations ``z`` (any shape) where the activation is saturated.

    Saturated means |f'(z)| < threshold · max|f'|, by default below 5 % of the
    derivative's peak: σ'(z) < 0.0125 (|z| > 4.4) for the sigmoid, tanh'(z) < 0.05
    (|z| > 2.2) for tanh; for ReLU every z <= 0 counts, for the step everything.
    """
    act = activation if isinstance(activation, Activation) else get(activation, **params)
    if z.size == 0:
        raise ValueError(f"z must contain at least one value; got {describe(z)}")
    peak = peak_grad(act.name, **act.params)
    return float(np.mean(np.abs(act.grad(z)) < threshold * peak))


def _check_batch(h: Any, name: str = "h") -> np.ndarray:
    """An (N, n_units) batch, refused when it has no sample or no unit (no statistic to take).

    The declared functions below get ``h`` converted already; the slope explorer
    (:mod:`coursekit.widgets.slope`) calls this on its raw argument.
    """
    h = as_float_array(name, h, ndim=2)
    if h.shape[0] == 0 or h.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sample and one unit, shape (N, n_units); got {describe(h)}")
    return h


@validate(h=Array(ndim=2))
def dead_fraction(h) -> float:
    """Fraction of units that are dead on this batch: output exactly 0 on every sample.

    ``h`` has shape (N, n_units), one row per sample (a layer's outputs after ReLU).
    A dead ReLU unit gets gradient exactly 0 from every sample, so gradient
    descent never changes its weights: on this data it stays dead.
    """
    h = _check_batch(h)
    return float(np.mean(np.all(h == 0, axis=0)))


@validate(h=Array(ndim=2))
def variance_split(h) -> tuple[float, float, float]:
    """``(std, unit_std, input_share)`` of a layer's outputs ``h`` (N, n_units), population variances.

    The pooled variance splits in two (law of total variance): std² = mean_j Var_n(h_nj) +
    Var_j(mean_n h_nj), how much each unit varies across inputs plus how much the units' fixed
    offsets differ. ``unit_std`` = √(mean_j Var_n(h_nj)); ``input_share`` = unit_std² / std²,
    the input-dependent share of the variance (NaN when std is 0).
    """
    h = _check_batch(h)
    std = float(h.std())
    unit_var = float(h.var(axis=0).mean())  # each unit's variance across the N samples, averaged
    return std, math.sqrt(unit_var), unit_var / std**2 if std > 0 else math.nan


@validate(h=Array(ndim=2))
def zero_fraction(h) -> float:
    """Fraction of all outputs in ``h`` (N, n_units) that are exactly 0, over samples and units.

    For ReLU about half the outputs are 0 when pre-activations are centred; that
    sparsity is normal. Only units that are 0 for *every* sample are dead (:func:`dead_fraction`).
    """
    h = _check_batch(h)
    return float(np.mean(h == 0))


# --- the LeakyReLU slope explorer's numbers (the explorer: coursekit.widgets.slope) ------------


@validate(z=Array(ndim=2), negative_slope=Real())
def slope_stats(z, negative_slope: float) -> dict[str, float]:
    """Statistics of a LeakyReLU layer with pre-activations ``z`` (N, n_units).

    ``zero_grad_units``: fraction of units whose derivative is 0 on every sample
    (dead: they cannot learn); ``dead``: :func:`dead_fraction` of the outputs;
    ``mean_grad``: mean derivative over all entries.
    """
    z = _check_batch(z, "z")
    a = negative_slope
    d = leaky_relu_grad(z, a)
    return {
        "negative_slope": a,
        "dead": dead_fraction(leaky_relu(z, a)),
        "zero_grad_units": float(np.mean(np.all(d == 0, axis=0))),
        "mean_grad": float(np.mean(d)),
    }
