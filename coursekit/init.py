"""Parameter initialization in numpy, with the meaning and defaults of ``torch.nn.init``.

Weights are stored ``(out, in)`` like ``torch.nn.Linear.weight``, so
``fan_in = shape[1]`` and ``fan_out = shape[0]`` (times the receptive field
``prod(shape[2:])`` for convolution kernels). Every function takes ``shape``,
returns a *new* array (float64 unless ``dtype`` says otherwise) and draws
random numbers only from the explicit ``rng`` (a ``numpy.random.Generator``).

=================  ==============================================  ====================================
scheme             distribution                                    torch.nn.init call
=================  ==============================================  ====================================
lecun_normal       N(0, std²), std = 1/√fan_in                     kaiming_normal_(w, nonlinearity="linear")
lecun_uniform      U(−a, a), a = √(3/fan_in)                       kaiming_uniform_(w, nonlinearity="linear")
xavier_normal      N(0, std²), std = gain·√(2/(fan_in+fan_out))    xavier_normal_(w, gain)
xavier_uniform     U(−a, a), a = gain·√(6/(fan_in+fan_out))        xavier_uniform_(w, gain)
kaiming_normal     N(0, std²), std = gain/√fan                     kaiming_normal_(w, a, mode, nonlinearity)
kaiming_uniform    U(−a, a), a = √3·gain/√fan                      kaiming_uniform_(w, a, mode, nonlinearity)
orthogonal         gain · Q from the QR decomposition of N(0, 1)   orthogonal_(w, gain)
=================  ==============================================  ====================================

U(−a, a) has variance a²/3, which is why every uniform bound is √3 times the
matching normal std.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from coursekit._checks import check_choice, check_int, check_number, check_rng, describe

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


# --------------------------------------------------------------------------- checks


def _shape(shape: Any, *, min_dims: int = 0, scheme: str = "") -> tuple[int, ...]:
    """Validate ``shape`` (an int or a sequence of non-negative ints) and return it as a tuple."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Sequence) or isinstance(shape, str):
        raise TypeError(f"shape must be a tuple of integers such as (out, in); got {describe(shape)}")
    dims = tuple(check_int(f"shape[{i}]", d, minimum=0) for i, d in enumerate(shape))
    if len(dims) < min_dims:
        raise ValueError(
            f"shape must have at least {min_dims} dimensions (out, in, ...) so that {scheme} can compute "
            f"fan_in and fan_out; got shape {dims}"
        )
    return dims


def _dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a numpy floating dtype such as numpy.float32; got {describe(dtype)}") from None
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating dtype (float16/32/64); got {dt}")
    return dt


def _normal(shape: tuple[int, ...], std: float, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    return (std * rng.standard_normal(shape)).astype(dtype, copy=False)


def _uniform(shape: tuple[int, ...], low: float, high: float, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    return rng.uniform(low, high, size=shape).astype(dtype, copy=False)


# --------------------------------------------------------------------------- fans and gains


def fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` = (out, in, *kernel), as torch computes them.

    fan_in = in · prod(kernel), fan_out = out · prod(kernel). Needs at least 2 dimensions.
    """
    dims = _shape(shape, min_dims=2, scheme="fans")
    receptive_field = math.prod(dims[2:])  # 1 for a Linear weight (out, in)
    return dims[1] * receptive_field, dims[0] * receptive_field


def _fan_for(shape: tuple[int, ...], mode: str, scheme: str) -> int:
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"shape {shape} has {mode} = 0, so {scheme} cannot divide by it")
    return fan


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain torch recommends for ``nonlinearity``: the factor that restores unit variance.

    linear/conv*/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+s²)) with slope s = ``param``
    (default 0.01), selu 3/4.
    """
    nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if nonlinearity in ("tanh",):
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else check_number("param", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # torch's empirical choice for self-normalizing networks
    return 1.0  # linear, conv*, sigmoid


# --------------------------------------------------------------------------- constant schemes


def zeros(shape: Shape, *, dtype: Any = np.float64) -> np.ndarray:
    """All zeros (``torch.nn.init.zeros_``). Fails to break symmetry: every hidden unit stays the same."""
    return np.zeros(_shape(shape), dtype=_dtype(dtype))


def ones(shape: Shape, *, dtype: Any = np.float64) -> np.ndarray:
    """All ones (``torch.nn.init.ones_``). Same symmetry problem as :func:`zeros`."""
    return np.ones(_shape(shape), dtype=_dtype(dtype))


def constant(shape: Shape, value: float, *, dtype: Any = np.float64) -> np.ndarray:
    """Every entry equal to ``value`` (``torch.nn.init.constant_``). Same symmetry problem as :func:`zeros`."""
    value = check_number("value", value)
    return np.full(_shape(shape), value, dtype=_dtype(dtype))


# --------------------------------------------------------------------------- plain random schemes


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, *, rng: np.random.Generator,
           dtype: Any = np.float64) -> np.ndarray:
    """``W ~ N(mean, std²)`` (``torch.nn.init.normal_``, defaults mean 0, std 1)."""
    dims = _shape(shape)
    mean = check_number("mean", mean)
    std = check_number("std", std, minimum=0.0)
    rng = check_rng("rng", rng)
    return (mean + _normal(dims, std, rng, np.dtype(np.float64))).astype(_dtype(dtype), copy=False)


def uniform(shape: Shape, a: float = 0.0, b: float = 1.0, *, rng: np.random.Generator,
            dtype: Any = np.float64) -> np.ndarray:
    """``W ~ U(a, b)`` (``torch.nn.init.uniform_``, defaults a = 0, b = 1); variance (b − a)²/12."""
    dims = _shape(shape)
    a = check_number("a", a)
    b = check_number("b", b)
    if b < a:
        raise ValueError(f"uniform needs a <= b (the lower bound first); got a={a}, b={b}")
    rng = check_rng("rng", rng)
    return _uniform(dims, a, b, rng, _dtype(dtype))


# --------------------------------------------------------------------------- fan-based schemes


def lecun_normal(shape: Shape, *, rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, 1/fan_in)``, std = 1/√fan_in.

    torch has no function of this name: it is ``kaiming_normal_(w, nonlinearity="linear")``.
    """
    dims = _shape(shape, min_dims=2, scheme="lecun_normal")
    rng = check_rng("rng", rng)
    std = 1.0 / math.sqrt(_fan_for(dims, "fan_in", "lecun_normal"))
    return _normal(dims, std, rng, _dtype(dtype))


def lecun_uniform(shape: Shape, *, rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    """LeCun uniform: ``W ~ U(−a, a)``, a = √(3/fan_in) (variance 1/fan_in).

    Equals ``kaiming_uniform_(w, nonlinearity="linear")``.
    """
    dims = _shape(shape, min_dims=2, scheme="lecun_uniform")
    rng = check_rng("rng", rng)
    bound = math.sqrt(3.0 / _fan_for(dims, "fan_in", "lecun_uniform"))
    return _uniform(dims, -bound, bound, rng, _dtype(dtype))


def _xavier_std(dims: tuple[int, ...], gain: float, scheme: str) -> float:
    """gain·√(2/(fan_in+fan_out)): the std both Xavier schemes share."""
    gain = check_number("gain", gain, minimum=0.0)
    fan_in, fan_out = fans(dims)
    if fan_in + fan_out == 0:
        raise ValueError(f"shape {dims} has fan_in + fan_out = 0, so {scheme} cannot divide by it")
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_normal(shape: Shape, gain: float = 1.0, *, rng: np.random.Generator,
                  dtype: Any = np.float64) -> np.ndarray:
    """Xavier/Glorot normal: ``W ~ N(0, std²)``, std = gain·√(2/(fan_in+fan_out)).

    Same as ``torch.nn.init.xavier_normal_(w, gain)``. The *variance* is gain²·2/(fan_in+fan_out).
    """
    dims = _shape(shape, min_dims=2, scheme="xavier_normal")
    std = _xavier_std(dims, gain, "xavier_normal")
    rng = check_rng("rng", rng)
    return _normal(dims, std, rng, _dtype(dtype))


def xavier_uniform(shape: Shape, gain: float = 1.0, *, rng: np.random.Generator,
                   dtype: Any = np.float64) -> np.ndarray:
    """Xavier/Glorot uniform: ``W ~ U(−a, a)``, a = gain·√(6/(fan_in+fan_out)).

    Same as ``torch.nn.init.xavier_uniform_(w, gain)``; variance a²/3 = gain²·2/(fan_in+fan_out).
    """
    dims = _shape(shape, min_dims=2, scheme="xavier_uniform")
    bound = math.sqrt(3.0) * _xavier_std(dims, gain, "xavier_uniform")  # U(-a, a) has variance a²/3
    rng = check_rng("rng", rng)
    return _uniform(dims, -bound, bound, rng, _dtype(dtype))


def _kaiming_std(dims: tuple[int, ...], a: float, mode: str, nonlinearity: str, scheme: str) -> float:
    a = check_number("a", a)
    mode = check_choice("mode", mode, MODES)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(_fan_for(dims, mode, scheme))


def kaiming_normal(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                   rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    """Kaiming/He normal: ``W ~ N(0, std²)``, std = gain/√fan (``torch.nn.init.kaiming_normal_``).

    ``a`` is the negative slope used when nonlinearity is "leaky_relu" (the default, with a = 0:
    gain √2, the same as ReLU, so std = √(2/fan_in)). ``mode`` picks fan_in or fan_out.
    """
    dims = _shape(shape, min_dims=2, scheme="kaiming_normal")
    std = _kaiming_std(dims, a, mode, nonlinearity, "kaiming_normal")
    rng = check_rng("rng", rng)
    return _normal(dims, std, rng, _dtype(dtype))


def kaiming_uniform(shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                    rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    """Kaiming/He uniform: ``W ~ U(−b, b)``, b = √3·gain/√fan (``torch.nn.init.kaiming_uniform_``).

    For ReLU (gain √2) and fan_in, b = √(6/fan_in). ``nn.Linear`` uses a = √5, which gives
    gain √(1/3) and b = 1/√fan_in.
    """
    dims = _shape(shape, min_dims=2, scheme="kaiming_uniform")
    bound = math.sqrt(3.0) * _kaiming_std(dims, a, mode, nonlinearity, "kaiming_uniform")
    rng = check_rng("rng", rng)
    return _uniform(dims, -bound, bound, rng, _dtype(dtype))


def orthogonal(shape: Shape, gain: float = 1.0, *, rng: np.random.Generator,
               dtype: Any = np.float64) -> np.ndarray:
    """A (semi-)orthogonal matrix times ``gain`` (``torch.nn.init.orthogonal_``).

    Reshaped to (rows, cols) = (shape[0], prod(shape[1:])): rows are orthonormal if rows <= cols,
    columns otherwise. Q comes from the QR decomposition of a N(0, 1) matrix, with the signs of
    R's diagonal folded in so that Q is uniformly distributed.
    """
    dims = _shape(shape, min_dims=2, scheme="orthogonal")
    gain = check_number("gain", gain, minimum=0.0)
    rng = check_rng("rng", rng)
    rows = dims[0]
    cols = math.prod(dims[1:])
    if rows == 0 or cols == 0:
        return np.zeros(dims, dtype=_dtype(dtype))
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T  # QR of the tall matrix; transposed back below
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # without this Q would be biased towards R having a positive diagonal
    if rows < cols:
        q = q.T
    return (gain * q).reshape(dims).astype(_dtype(dtype), copy=False)


#: Schemes callable as ``SCHEMES[name](shape, rng=rng)`` with their default arguments.
SCHEMES: dict[str, Callable[..., np.ndarray]] = {
    "zeros": lambda shape, *, rng=None, dtype=np.float64: zeros(shape, dtype=dtype),
    "ones": lambda shape, *, rng=None, dtype=np.float64: ones(shape, dtype=dtype),
    "normal": normal,
    "uniform": uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "orthogonal": orthogonal,
}


def get(name: str) -> Callable[..., np.ndarray]:
    """The scheme called ``name`` (see :data:`SCHEMES`), to call as ``get(name)(shape, rng=rng)``."""
    return SCHEMES[check_choice("scheme", name, SCHEMES)]


def initialize(name: str, shape: Shape, *, rng: np.random.Generator, dtype: Any = np.float64) -> np.ndarray:
    """``get(name)(shape, rng=rng, dtype=dtype)``: one scheme, by name, with its default arguments."""
    return get(name)(shape, rng=rng, dtype=dtype)
