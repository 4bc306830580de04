"""Parameter initialization in numpy, with the meaning and defaults of ``torch.nn.init``.

Weights are stored ``(out, in)`` like ``torch.nn.Linear.weight``, so
``fan_in = shape[1]`` and ``fan_out = shape[0]`` (times the receptive field
``prod(shape[2:])`` for convolution kernels). Every scheme is called as
``f(shape, *, rng=None, ...)``: it returns a *new* array (float64 unless ``dtype``
says otherwise) and draws random numbers only from the explicit ``rng`` (a
``numpy.random.Generator``; the random schemes require it, the deterministic ones
accept and ignore it, so a table of schemes needs no wrapping lambdas).

===============  =============================================  ==================================================================
scheme           distribution                                   torch.nn.init call
===============  =============================================  ==================================================================
zeros            every entry 0                                  zeros_(w)
ones             every entry 1                                  ones_(w)
constant         every entry ``value``                          constant_(w, val)
eye              the identity matrix (2-D only)                 eye_(w)
dirac            identity convolution kernels (3-5-D)           dirac_(w, groups=1)
normal           N(mean, std²)                                  normal_(w, mean=0.0, std=1.0)
uniform          U(a, b)                                        uniform_(w, a=0.0, b=1.0)
trunc_normal     N(mean, std²) redrawn until inside [a, b]      trunc_normal_(w, mean=0.0, std=1.0, a=-2.0, b=2.0)
sparse           N(0, std²) with ⌈sparsity·rows⌉ zeros per col  sparse_(w, sparsity, std=0.01)
lecun_normal     N(0, std²), std = 1/√fan_in                    kaiming_normal_(w, nonlinearity="linear")
lecun_uniform    U(−a, a), a = √(3/fan_in)                      kaiming_uniform_(w, nonlinearity="linear")
xavier_normal    N(0, std²), std = gain·√(2/(fan_in+fan_out))   xavier_normal_(w, gain=1.0)
xavier_uniform   U(−a, a), a = gain·√(6/(fan_in+fan_out))       xavier_uniform_(w, gain=1.0)
kaiming_normal   N(0, std²), std = gain/√fan                    kaiming_normal_(w, a=0, mode="fan_in", nonlinearity="leaky_relu")
kaiming_uniform  U(−a, a), a = √3·gain/√fan                     kaiming_uniform_(w, a=0, mode="fan_in", nonlinearity="leaky_relu")
orthogonal       gain · Q from the QR decomposition of N(0, 1)  orthogonal_(w, gain=1)
===============  =============================================  ==================================================================

Each row is one :class:`Scheme` of :data:`SCHEMES`, the one table of schemes
(:func:`register_scheme` adds one; ``tests/test_init.py`` checks that this docstring
shows the table). :func:`make_weights` draws a stack of (out, in) weights from a scheme.

U(−a, a) has variance a²/3, which is why every uniform bound is √3 times the
matching normal std. Like torch, the fan-based schemes warn and return an empty
array for a shape with a 0 in it (there is nothing to initialize).
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit._checks import (
    Choice,
    Constraint,
    Dtype,
    Instance,
    Int,
    Optional,
    Real,
    Rng,
    check_int,
    check_number,
    describe,
    is_sequence,
    validate,
)

#: Names accepted by :func:`calculate_gain` (the same as torch's).
NONLINEARITIES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)

#: Modes of the Kaiming/He schemes: keep the forward variance (fan_in) or the backward one (fan_out).
MODES = ("fan_in", "fan_out")

Shape = int | Sequence[int]

#: Rejection rounds of :func:`trunc_normal` before giving up; each round redraws every value
#: still outside [a, b], so ~60 rounds already suffice for a million values.
_MAX_ROUNDS = 10_000


# --------------------------------------------------------------------------- declarations


class _Shape(Constraint):
    """A weight's shape: an int or a sequence of ints >= 0, at most 2**31 entries; returned as a tuple.

    ``min_dims``: fewest dimensions (the fan-based schemes need (out, in, ...)); ``dims``: the allowed
    numbers of dimensions (eye and sparse: 2; dirac: 3-5); ``scheme`` names the function in the message.
    """

    def __init__(self, *, min_dims: int = 0, dims: tuple[int, ...] | None = None, scheme: str = ""):
        self.min_dims, self.dims, self.scheme = min_dims, dims, scheme

    def check(self, name, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = (value,)
        if not is_sequence(value) or (isinstance(value, np.ndarray) and value.ndim != 1):
            raise TypeError(f"{name} must be a tuple of integers such as (out, in); got {describe(value)}")
        dims = tuple(check_int(f"{name}[{i}]", d, minimum=0) for i, d in enumerate(value))
        if len(dims) < self.min_dims:
            raise ValueError(
                f"{name} must have at least {self.min_dims} dimensions (out, in, ...) so that {self.scheme} can "
                f"compute fan_in and fan_out; got shape {dims}"
            )
        if self.dims is not None and len(dims) not in self.dims:
            want = ("exactly 2 dimensions (out, in)" if self.dims == (2,)
                    else f"{', '.join(map(str, self.dims[:-1]))} or {self.dims[-1]} dimensions (out, in, *kernel)")
            raise ValueError(f"{name} must have {want} for {self.scheme}; got shape {dims}")
        if math.prod(dims) > 2**31:
            raise ValueError(f"{name} {dims} has {math.prod(dims)} entries, more than this course ever needs (2**31)")
        return dims

    def example(self):
        return (2, 2, 3) if self.dims and 2 not in self.dims else (2, 2)

    def bad_values(self):
        bad = [("str", "3x3"), ("None", None), ("negative", (3, -1)), ("float", (2.5, 3)), ("bool", (True, 2)),
               ("huge", (10**6, 10**6))]
        if self.min_dims >= 2 or self.dims:
            bad.append(("1-D", (3,)))
        if self.dims:
            bad.append((f"{max(self.dims) + 1}-D", (2,) * (max(self.dims) + 1)))
        return bad


class _Mode(Choice):
    """"fan_in" or "fan_out", in any case (torch accepts "FAN_OUT" too); returned in lower case."""

    def __init__(self):
        super().__init__(MODES)

    def check(self, name, value):
        return super().check(name, value.lower() if isinstance(value, str) else value)


class _Slope(Constraint):
    """:func:`calculate_gain`'s ``param``: None or a finite real number; like torch, anything else is a ValueError."""

    def check(self, name, value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} (the negative slope of leaky_relu) must be a real number; got {describe(value)}")
        if not math.isfinite(value):
            raise ValueError(f"{name} (the negative slope of leaky_relu) must be finite; got {value}")
        return float(value)

    def example(self):
        return 0.01

    def bad_values(self):
        return [("str", "0.1"), ("list", [0.1]), ("bool", True), ("complex", 1j), ("nan", math.nan), ("inf", math.inf)]


SHAPE = _Shape()
DTYPE = Dtype(floating=True)
IGNORED_RNG = Optional(Rng())  # accepted and ignored by the deterministic schemes


def _fan_shape(scheme: str) -> _Shape:
    return _Shape(min_dims=2, scheme=scheme)


def _fits(name: str, value: float, dt: np.dtype, *, spread: float = 1.0) -> None:
    """ValueError unless ``spread`` · |value| is representable in ``dt`` (no inf weights)."""
    if spread * abs(value) > float(np.finfo(dt).max):
        raise ValueError(
            f"{name} = {value:g} is too large: the weights would overflow {dt} (largest {np.finfo(dt).max:g})"
        )


def _empty(dims: tuple[int, ...], dt: np.dtype) -> np.ndarray | None:
    """torch's behaviour for a shape with a 0 in it: warn, return the (empty) array."""
    if 0 not in dims:
        return None
    warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
    return np.zeros(dims, dtype=dt)


def _normal(shape: tuple[int, ...], std: float, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    _fits("std", std, dtype, spread=40.0)  # a float64 normal sample stays within ±40 std
    return np.asarray(std * rng.standard_normal(shape)).astype(dtype, copy=False)


def _uniform(shape: tuple[int, ...], low: float, high: float, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    _fits("a", low, dtype)
    _fits("b", high, dtype)
    if not math.isfinite(high - low):
        raise ValueError(f"b - a = {high} - ({low}) overflows float64; use a narrower interval")
    return np.asarray(rng.uniform(low, high, size=shape)).astype(dtype, copy=False)


# --------------------------------------------------------------------------- fans and gains


@validate(shape=_fan_shape("fans"))
def fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` = (out, in, *kernel), as torch computes them.

    fan_in = in · prod(kernel), fan_out = out · prod(kernel). Needs at least 2 dimensions.
    """
    receptive_field = math.prod(shape[2:])  # 1 for a Linear weight (out, in)
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan_pair(dims: tuple[int, ...]) -> tuple[int, int]:
    """:func:`fans` of a declared shape (no second check)."""
    receptive_field = math.prod(dims[2:])
    return dims[1] * receptive_field, dims[0] * receptive_field


def _fan_for(shape: tuple[int, ...], mode: str, scheme: str) -> int:
    fan_in, fan_out = _fan_pair(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:  # unreachable through the schemes, which return early on a zero-element shape
        raise ValueError(f"shape {shape} has {mode} = 0, so {scheme} cannot divide by it")
    return fan


@validate(nonlinearity=Choice(NONLINEARITIES), param=_Slope())
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain torch recommends for ``nonlinearity``: the factor that restores unit variance.

    linear/conv*/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+s²)) with slope s = ``param``
    (default 0.01), selu 3/4. Like torch, a ``param`` that is not a number raises ValueError.
    """
    if nonlinearity in ("tanh",):
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # torch's empirical choice for self-normalizing networks
    return 1.0  # linear, conv*, sigmoid


# --------------------------------------------------------------------------- deterministic schemes


@validate(shape=SHAPE, rng=IGNORED_RNG, dtype=DTYPE)
def zeros(shape: Shape, *, rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """All zeros (``torch.nn.init.zeros_``). Fails to break symmetry: every hidden unit stays the same.

    ``rng`` is accepted and ignored, so every scheme is called the same way.
    """
    return np.zeros(shape, dtype=dtype)


@validate(shape=SHAPE, rng=IGNORED_RNG, dtype=DTYPE)
def ones(shape: Shape, *, rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """All ones (``torch.nn.init.ones_``). Same symmetry problem as :func:`zeros`; ``rng`` is ignored."""
    return np.ones(shape, dtype=dtype)


@validate(shape=SHAPE, value=Real(), rng=IGNORED_RNG, dtype=DTYPE)
def constant(shape: Shape, value: float, *, rng: np.random.Generator | None = None,
             dtype: Any = np.float64) -> np.ndarray:
    """Every entry equal to ``value`` (``torch.nn.init.constant_(w, val)``); ``rng`` is ignored.

    Same symmetry problem as :func:`zeros`.
    """
    _fits("value", value, dtype)
    return np.full(shape, value, dtype=dtype)


@validate(shape=_Shape(dims=(2,), scheme="eye"), rng=IGNORED_RNG, dtype=DTYPE)
def eye(shape: Shape, *, rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """The identity matrix of shape (out, in), ones on the diagonal (``torch.nn.init.eye_``).

    A Linear layer initialized so passes its first min(out, in) inputs through unchanged.
    2-D shapes only (ValueError otherwise, like torch); ``rng`` is ignored.
    """
    return np.eye(*shape, dtype=dtype)


@validate(shape=_Shape(dims=(3, 4, 5), scheme="dirac"), groups=Int(minimum=1), rng=IGNORED_RNG, dtype=DTYPE)
def dirac(shape: Shape, groups: int = 1, *, rng: np.random.Generator | None = None,
          dtype: Any = np.float64) -> np.ndarray:
    """Identity convolution kernels (``torch.nn.init.dirac_(w, groups)``); ``rng`` is ignored.

    ``shape`` = (out, in, *kernel) with 1-3 kernel dimensions. In each of the ``groups`` blocks
    of out/groups output channels, channel d gets a single 1 at the kernel's centre
    (index size // 2 on every kernel axis) of input channel d, for d < min(out/groups, in):
    the convolution copies as many input channels as it can.
    """
    dims = shape
    if dims[0] % groups:
        raise ValueError(f"shape[0] = {dims[0]} (out channels) must be divisible by groups = {groups}")
    w = np.zeros(dims, dtype=dtype)
    per_group = dims[0] // groups
    centre = tuple(k // 2 for k in dims[2:])
    for g in range(groups):
        for d in range(min(per_group, dims[1])):
            w[(g * per_group + d, d, *centre)] = 1
    return w


# --------------------------------------------------------------------------- plain random schemes


@validate(shape=SHAPE, mean=Real(), std=Real(minimum=0.0), rng=Rng(), dtype=DTYPE)
def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, *, rng: np.random.Generator | None = None,
           dtype: Any = np.float64) -> np.ndarray:
    """``W ~ N(mean, std²)`` (``torch.nn.init.normal_``, defaults mean 0, std 1). ``rng`` is required."""
    dims, dt = shape, dtype
    _fits("mean", mean, dt)
    _fits("std", std, dt, spread=40.0)
    w = _normal(dims, std, rng, np.dtype(np.float64))
    w += mean  # in place: a 0-d array stays a 0-d array (mean + w would give a numpy scalar)
    return w.astype(dt, copy=False)


@validate(shape=SHAPE, a=Real(), b=Real(), rng=Rng(), dtype=DTYPE)
def uniform(shape: Shape, a: float = 0.0, b: float = 1.0, *, rng: np.random.Generator | None = None,
            dtype: Any = np.float64) -> np.ndarray:
    """``W ~ U(a, b)`` (``torch.nn.init.uniform_``, defaults a = 0, b = 1); variance (b − a)²/12."""
    if b < a:
        raise ValueError(f"uniform needs a <= b (the lower bound first); got a={a}, b={b}")
    return np.asarray(_uniform(shape, a, b, rng, dtype))


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@validate(shape=SHAPE, mean=Real(), std=Real(positive=True), a=Real(), b=Real(), rng=Rng(), dtype=DTYPE)
def trunc_normal(shape: Shape, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, *,
                 rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """``W ~ N(mean, std²)`` truncated to [a, b] (``torch.nn.init.trunc_normal_``, same defaults).

    Note that a and b are absolute bounds, not multiples of std: the default [−2, 2] with
    std 0.02 truncates nothing. Sampled as torch 2.13 does: when [a, b] holds more than 30 % of
    the normal's mass, values outside are redrawn from the normal; otherwise candidates are
    drawn from U(a, b) and accepted with probability exp(−(x − mean)²/(2 std²)) relative to
    the density's peak on [a, b]. Drawn in float64 and rounded once to ``dtype``.
    """
    dims, dt = shape, dtype
    if not a < b:
        raise ValueError(f"trunc_normal needs a < b (the lower bound first); got a={a}, b={b}")
    _fits("a", a, dt)
    _fits("b", b, dt)
    if not math.isfinite((b - a) / std):
        raise ValueError(f"(b - a) / std = ({b} - ({a})) / {std} overflows float64; use a narrower interval")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in trunc_normal. "
                      "The distribution of values may be incorrect.", UserWarning, stacklevel=2)
    n = math.prod(dims)
    if _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std) > 0.3:
        out = mean + std * rng.standard_normal(n)

        def proposal(k: int) -> np.ndarray:
            return mean + std * rng.standard_normal(k)

        def reject(x: np.ndarray) -> np.ndarray:
            return (x < a) | (x > b)
    else:
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2  # the density's peak on [a, b]

        def proposal(k: int) -> np.ndarray:
            return rng.uniform(a, b, size=k)

        def reject(x: np.ndarray) -> np.ndarray:
            log_density = -0.5 * ((x - mean) / std) ** 2 - log_peak
            return np.log(rng.random(x.size)) > log_density

        out = proposal(n)
    pending = np.flatnonzero(reject(out))
    for _ in range(_MAX_ROUNDS):
        if pending.size == 0:
            break
        out[pending] = proposal(pending.size)
        pending = pending[reject(out[pending])]
    else:  # pragma: no cover - needs an acceptance rate far below anything [a, b] can give
        raise RuntimeError(f"trunc_normal: {pending.size} values still outside [a, b] after {_MAX_ROUNDS} rounds")
    return out.reshape(dims).astype(dt, copy=False)


@validate(shape=_Shape(dims=(2,), scheme="sparse"), sparsity=Real(minimum=0.0, maximum=1.0),
          std=Real(minimum=0.0), rng=Rng(), dtype=DTYPE)
def sparse(shape: Shape, sparsity: float, std: float = 0.01, *, rng: np.random.Generator | None = None,
           dtype: Any = np.float64) -> np.ndarray:
    """A sparse (out, in) matrix (``torch.nn.init.sparse_(w, sparsity, std)``, Martens 2010).

    ``W ~ N(0, std²)``, then in every column ⌈sparsity · out⌉ entries, at rows chosen at
    random, are set to 0. ``sparsity`` in [0, 1] is required, as in torch; std defaults to 0.01.
    2-D shapes only.
    """
    dims = shape
    rows, cols = dims
    w = _normal(dims, std, rng, np.dtype(np.float64))
    n_zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        w[rng.permutation(rows)[:n_zeros], col] = 0.0
    return w.astype(dtype, copy=False)


# --------------------------------------------------------------------------- fan-based schemes


@validate(shape=_fan_shape("lecun_normal"), rng=Rng(), dtype=DTYPE)
def lecun_normal(shape: Shape, *, rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, 1/fan_in)``, std = 1/√fan_in.

    torch has no function of this name: it is ``kaiming_normal_(w, nonlinearity="linear")``.
    """
    dims, dt = shape, dtype
    if (empty := _empty(dims, dt)) is not None:
        return empty
    std = 1.0 / math.sqrt(_fan_for(dims, "fan_in", "lecun_normal"))
    return _normal(dims, std, rng, dt)


@validate(shape=_fan_shape("lecun_uniform"), rng=Rng(), dtype=DTYPE)
def lecun_uniform(shape: Shape, *, rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """LeCun uniform: ``W ~ U(−a, a)``, a = √(3/fan_in) (variance 1/fan_in).

    Equals ``kaiming_uniform_(w, nonlinearity="linear")``.
    """
    dims, dt = shape, dtype
    if (empty := _empty(dims, dt)) is not None:
        return empty
    bound = math.sqrt(3.0 / _fan_for(dims, "fan_in", "lecun_uniform"))
    return _uniform(dims, -bound, bound, rng, dt)


def _xavier_std(dims: tuple[int, ...], gain: float, scheme: str) -> float:
    """gain·√(2/(fan_in+fan_out)): the std both Xavier schemes share."""
    fan_in, fan_out = _fan_pair(dims)
    if fan_in + fan_out == 0:  # unreachable through the schemes (zero-element shapes return early)
        raise ValueError(f"shape {dims} has fan_in + fan_out = 0, so {scheme} cannot divide by it")
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


@validate(shape=_fan_shape("xavier_normal"), gain=Real(minimum=0.0), rng=Rng(), dtype=DTYPE)
def xavier_normal(shape: Shape, gain: float = 1.0, *, rng: np.random.Generator | None = None,
                  dtype: Any = np.float64) -> np.ndarray:
    """Xavier/Glorot normal: ``W ~ N(0, std²)``, std = gain·√(2/(fan_in+fan_out)).

    Same as ``torch.nn.init.xavier_normal_(w, gain)``. The *variance* is gain²·2/(fan_in+fan_out).
    """
    dims, dt = shape, dtype
    _fits("gain", gain, dt, spread=40.0)  # std <= gain: the same bound as for a std
    if (empty := _empty(dims, dt)) is not None:
        return empty
    return _normal(dims, _xavier_std(dims, gain, "xavier_normal"), rng, dt)


@validate(shape=_fan_shape("xavier_uniform"), gain=Real(minimum=0.0), rng=Rng(), dtype=DTYPE)
def xavier_uniform(shape: Shape, gain: float = 1.0, *, rng: np.random.Generator | None = None,
                   dtype: Any = np.float64) -> np.ndarray:
    """Xavier/Glorot uniform: ``W ~ U(−a, a)``, a = gain·√(6/(fan_in+fan_out)).

    Same as ``torch.nn.init.xavier_uniform_(w, gain)``; variance a²/3 = gain²·2/(fan_in+fan_out).
    """
    dims, dt = shape, dtype
    _fits("gain", gain, dt, spread=40.0)  # std <= gain: the same bound as for a std
    if (empty := _empty(dims, dt)) is not None:
        return empty
    bound = math.sqrt(3.0) * _xavier_std(dims, gain, "xavier_uniform")  # U(-a, a) has variance a²/3
    return _uniform(dims, -bound, bound, rng, dt)


def _kaiming_std(dims: tuple[int, ...], a: float, mode: str, nonlinearity: str, scheme: str) -> float:
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(_fan_for(dims, mode, scheme))


@validate(shape=_fan_shape("kaiming_normal"), a=Real(), mode=_Mode(), nonlinearity=Choice(NONLINEARITIES), rng=Rng(),
          dtype=DTYPE)
def kaiming_normal(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                   rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """Kaiming/He normal: ``W ~ N(0, std²)``, std = gain/√fan (``torch.nn.init.kaiming_normal_``).

    ``a`` is the negative slope used when nonlinearity is "leaky_relu" (the default, with a = 0:
    gain √2, the same as ReLU, so std = √(2/fan_in)). ``mode`` picks fan_in or fan_out
    (case-insensitive, as in torch).
    """
    dims, dt = shape, dtype
    if (empty := _empty(dims, dt)) is not None:
        return empty
    return _normal(dims, _kaiming_std(dims, a, mode, nonlinearity, "kaiming_normal"), rng, dt)


@validate(shape=_fan_shape("kaiming_uniform"), a=Real(), mode=_Mode(), nonlinearity=Choice(NONLINEARITIES), rng=Rng(),
          dtype=DTYPE)
def kaiming_uniform(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                    rng: np.random.Generator | None = None, dtype: Any = np.float64) -> np.ndarray:
    """Kaiming/He uniform: ``W ~ U(−b, b)``, b = √3·gain/√fan (``torch.nn.init.kaiming_uniform_``).

    For ReLU (gain √2) and fan_in, b = √(6/fan_in). ``nn.Linear`` uses a = √5, which gives
    gain √(1/3) and b = 1/√fan_in.
    """
    dims, dt = shape, dtype
    if (empty := _empty(dims, dt)) is not None:
        return empty
    bound = math.sqrt(3.0) * _kaiming_std(dims, a, mode, nonlinearity, "kaiming_uniform")
    return _uniform(dims, -bound, bound, rng, dt)


@validate(shape=_fan_shape("orthogonal"), gain=Real(minimum=0.0), rng=Rng(), dtype=DTYPE)
def orthogonal(shape: Shape, gain: float = 1.0, *, rng: np.random.Generator | None = None,
               dtype: Any = np.float64) -> np.ndarray:
    """A (semi-)orthogonal matrix times ``gain`` (``torch.nn.init.orthogonal_``).

    Reshaped to (rows, cols) = (shape[0], prod(shape[1:])): rows are orthonormal if rows <= cols,
    columns otherwise. Q comes from the QR decomposition of a N(0, 1) matrix, with the signs of
    R's diagonal folded in so that Q is uniformly distributed.
    """
    dims, dt = shape, dtype
    _fits("gain", gain, dt)
    rows = dims[0]
    cols = math.prod(dims[1:])
    if rows == 0 or cols == 0:
        return np.zeros(dims, dtype=dt)  # torch: a no-op, without a warning
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T  # QR of the tall matrix; transposed back below
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # without this Q would be biased towards R having a positive diagonal
    if rows < cols:
        q = q.T
    return (gain * q).reshape(dims).astype(dt, copy=False)


# --------------------------------------------------------------------------- the table of schemes


@dataclass(frozen=True, eq=False)
class Scheme:
    """Everything the package knows about one initialization scheme; :func:`register_scheme` adds one.

    ``function(shape, *, rng=None, ...)`` draws the weights; ``torch_call`` is the
    ``torch.nn.init`` call it reproduces, as text (``w`` the tensor); ``distribution`` says what
    it draws, for the table in this module's docstring; ``shape_only``: it needs no argument
    beyond ``shape`` and ``rng`` and takes any (out, in) weight, so :func:`make_weights` and the
    experiments can use it by name; ``in_explorer``: chapter 05's live explorer offers it,
    under ``label`` (the name when empty).
    """

    name: str
    function: Callable[..., np.ndarray]
    torch_call: str
    distribution: str = ""
    shape_only: bool = True
    in_explorer: bool = False
    label: str = ""


#: name -> :class:`Scheme`, in the order of this module's docstring table. The one table to edit.
SCHEMES: dict[str, Scheme] = {}


@validate(scheme=Instance("coursekit.init", "Scheme", what="an init.Scheme",
                          make=lambda: Scheme("example_zeros", zeros, "zeros_(w)")))
def register_scheme(scheme: Scheme) -> Scheme:
    """Add ``scheme`` to :data:`SCHEMES`; :func:`get`, :func:`make_weights` and the explorer see it at once."""
    if not scheme.name.isidentifier() or scheme.name in SCHEMES:
        raise ValueError(f"scheme.name must be a new identifier; got {scheme.name!r} (registered: {', '.join(SCHEMES)})")
    if not callable(scheme.function):
        raise TypeError(f"scheme.function must be callable as f(shape, *, rng=None); got {describe(scheme.function)}")
    if not isinstance(scheme.torch_call, str) or "(" not in scheme.torch_call:
        raise ValueError(f"scheme.torch_call must be the torch.nn.init call as text, like 'normal_(w)'; "
                         f"got {scheme.torch_call!r}")
    SCHEMES[scheme.name] = scheme
    return scheme


for _scheme in (
    Scheme("zeros", zeros, "zeros_(w)", "every entry 0", in_explorer=True),
    Scheme("ones", ones, "ones_(w)", "every entry 1", in_explorer=True),
    Scheme("constant", constant, "constant_(w, val)", "every entry ``value``", shape_only=False),
    Scheme("eye", eye, "eye_(w)", "the identity matrix (2-D only)"),
    Scheme("dirac", dirac, "dirac_(w, groups=1)", "identity convolution kernels (3-5-D)", shape_only=False),
    Scheme("normal", normal, "normal_(w, mean=0.0, std=1.0)", "N(mean, std²)", in_explorer=True,
           label="normal N(0, 1)"),
    Scheme("uniform", uniform, "uniform_(w, a=0.0, b=1.0)", "U(a, b)", in_explorer=True,
           label="uniform U(0, 1): NOT centred"),
    Scheme("trunc_normal", trunc_normal, "trunc_normal_(w, mean=0.0, std=1.0, a=-2.0, b=2.0)",
           "N(mean, std²) redrawn until inside [a, b]"),
    Scheme("sparse", sparse, "sparse_(w, sparsity, std=0.01)", "N(0, std²) with ⌈sparsity·rows⌉ zeros per col",
           shape_only=False),
    Scheme("lecun_normal", lecun_normal, 'kaiming_normal_(w, nonlinearity="linear")',
           "N(0, std²), std = 1/√fan_in", in_explorer=True),
    Scheme("lecun_uniform", lecun_uniform, 'kaiming_uniform_(w, nonlinearity="linear")',
           "U(−a, a), a = √(3/fan_in)", in_explorer=True),
    Scheme("xavier_normal", xavier_normal, "xavier_normal_(w, gain=1.0)",
           "N(0, std²), std = gain·√(2/(fan_in+fan_out))", in_explorer=True),
    Scheme("xavier_uniform", xavier_uniform, "xavier_uniform_(w, gain=1.0)",
           "U(−a, a), a = gain·√(6/(fan_in+fan_out))", in_explorer=True),
    Scheme("kaiming_normal", kaiming_normal, 'kaiming_normal_(w, a=0, mode="fan_in", nonlinearity="leaky_relu")',
           "N(0, std²), std = gain/√fan", in_explorer=True),
    Scheme("kaiming_uniform", kaiming_uniform,
           'kaiming_uniform_(w, a=0, mode="fan_in", nonlinearity="leaky_relu")',
           "U(−a, a), a = √3·gain/√fan", in_explorer=True),
    Scheme("orthogonal", orthogonal, "orthogonal_(w, gain=1)", "gain · Q from the QR decomposition of N(0, 1)",
           in_explorer=True),
):
    register_scheme(_scheme)
del _scheme


class _Column(Mapping):
    """A live, read-only mapping name -> one field of each registered :class:`Scheme`."""

    def __init__(self, read: Callable[[Scheme], Any]) -> None:
        self._read = read

    def __getitem__(self, name: str) -> Any:
        return self._read(SCHEMES[name])

    def __iter__(self) -> Iterator[str]:
        return iter(SCHEMES)

    def __len__(self) -> int:
        return len(SCHEMES)

    def __repr__(self) -> str:
        return repr(dict(self))


#: Every scheme by name, each callable as ``f(shape, *, rng=None, ...)``: a live view of :data:`SCHEMES`.
INITIALIZERS: Mapping[str, Callable[..., np.ndarray]] = _Column(lambda s: s.function)

#: The torch.nn.init call that each scheme reproduces: a live view of :data:`SCHEMES`.
TORCH_CALLS: Mapping[str, str] = _Column(lambda s: s.torch_call)


def scheme_table() -> str:
    """The table of :data:`SCHEMES` as reStructuredText (this module's docstring holds it; a test compares)."""
    rows = [("scheme", "distribution", "torch.nn.init call")]
    rows += [(s.name, s.distribution, s.torch_call) for s in SCHEMES.values()]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(c.ljust(w) for c, w in zip(rows[0], widths)).rstrip(), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows[1:]]
    return "\n".join([*lines, rule])


def _shape_only() -> list[str]:
    return [name for name, s in SCHEMES.items() if s.shape_only]


@validate(name=Choice(SCHEMES, label="scheme"))
def get(name: str) -> Callable[..., np.ndarray]:
    """The function of the scheme called ``name`` (any of :data:`SCHEMES`), to call as ``get(name)(shape, rng=rng)``."""
    return SCHEMES[name].function


@validate(name=Choice(SCHEMES, label="scheme"), shape=SHAPE, rng=IGNORED_RNG, dtype=DTYPE)
def initialize(name: str, shape: Shape, *, rng: np.random.Generator | None = None,
               dtype: Any = np.float64) -> np.ndarray:
    """``get(name)(shape, rng=rng, dtype=dtype)``: one scheme, by name, with its default arguments."""
    return get(name)(shape, rng=rng, dtype=dtype)


# --------------------------------------------------------------------------- a stack of weights

#: What :func:`make_weights` takes as ``init``: a scheme name, a weight std, or a function f(shape, rng=rng).
InitSpec = str | float | Callable[..., np.ndarray]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class _Init(Constraint):
    """An :data:`InitSpec`: a shape-only scheme name of :data:`SCHEMES` (read live), a weight std >= 0
    (returned as float) or a function f(shape, rng=rng) (returned as is)."""

    def check(self, name, value):
        usable = _shape_only()
        if isinstance(value, str):
            if value not in usable:
                needs = (f" ({value!r} needs more arguments: pass a function f(shape, rng=rng))"
                         if value in SCHEMES else "")
                raise ValueError(f"unknown scheme {value!r} for {name}{needs}; valid choices: "
                                 f"{', '.join(map(repr, usable))}")
            return value
        if callable(value):
            return value
        if _is_real(value):  # int, float and numpy scalars such as np.float32: the std of N(0, std²)
            return check_number(name, value, minimum=0.0)
        raise TypeError(
            f"{name} must be a scheme name (one of {', '.join(map(repr, usable))}), a weight std, "
            f"or a function f(shape, rng=rng); got {describe(value)}"
        )

    def example(self):
        return "normal"

    def bad_values(self):
        return [("None", None), ("unknown", "nope"), ("needs arguments", "sparse"), ("list", ["normal"]),
                ("negative", -1.0), ("nan", math.nan)]


#: The declaration of an ``init`` argument (:func:`make_weights`, and the training runs that call it).
INIT_SPEC = _Init()


@validate(depth=Int(minimum=1), width=Int(minimum=1), init=INIT_SPEC, rng=Rng(), scale=Real(minimum=0.0),
          n_inputs=Optional(Int(minimum=1)))
def make_weights(depth: int, width: int, init: InitSpec = "normal", *, rng: np.random.Generator,
                 scale: float = 1.0, n_inputs: int | None = None) -> list[np.ndarray]:
    """``depth`` weight matrices W_l = scale · init((width, fan_in)), each stored (out, in).

    ``init``: the name of a scheme of :data:`SCHEMES` that needs nothing but the shape
    (``shape_only``, with its default arguments), a number (the std of N(0, std²)), or a
    function ``f(shape, rng=rng)``. The first layer takes ``n_inputs`` features (default ``width``).
    """
    n_inputs = width if n_inputs is None else n_inputs
    if isinstance(init, str):
        scheme = SCHEMES[init].function
    elif callable(init):
        scheme = init
    else:  # a number means "normal with this std"
        scheme = functools.partial(normal, std=init)
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
