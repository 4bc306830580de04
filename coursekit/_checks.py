"""Argument checks shared by the whole package.

Every public function validates its arguments with these, so a student who
passes the wrong thing reads *which* argument is wrong, what was expected and
what was given, instead of a traceback from deep inside numpy.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def _torch_if_loaded():
    """torch if something imported it (only then can a value be a tensor), else ImportError:
    checking an argument must not load torch (1.5 s, 260 MiB) into a kernel that never uses it."""
    torch = sys.modules.get("torch")
    if torch is None:
        raise ImportError("torch is not imported")
    return torch


def describe(value: Any) -> str:
    """A short description of a value for error messages: type, and shape/dtype for arrays."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    try:
        torch = _torch_if_loaded()

        if isinstance(value, torch.Tensor):
            return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    except ImportError:  # pragma: no cover
        pass
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), else raise ValueError listing them."""
    choices = list(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(map(repr, choices))}; got {describe(value)}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; valid choices: {', '.join(map(repr, choices))}")
    return value


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer (not bool) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    """Return ``value`` as float if it is a finite real number (not bool), optionally bounded."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def as_float_array(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: Any = None,
) -> np.ndarray:
    """Convert ``value`` to a floating-point numpy array, or raise a clear error.

    Real inputs (bool, int, float) are accepted; integer and bool arrays become
    float64, float arrays keep their dtype unless ``dtype`` is given. Strings,
    objects and complex numbers raise TypeError naming ``name``. ``ndim``
    (an int or a list of allowed ints) is checked too.
    """
    try:
        torch = _torch_if_loaded()

        if isinstance(value, torch.Tensor):
            if value.is_complex():
                raise TypeError(f"{name} must contain real numbers; got {describe(value)}")
            try:
                value = value.detach().cpu().numpy()
            except TypeError:  # bfloat16 and the float8 types have no numpy dtype
                raise TypeError(
                    f"{name} is a tensor of dtype {value.dtype}, which numpy has no dtype for; "
                    f"convert it first, e.g. {name}.float() (float32)"
                ) from None
    except ImportError:  # pragma: no cover
        pass
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers; got {describe(value)} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must contain real numbers; got {describe(value)} with dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got {describe(arr)}")
    return arr


def check_rng(name: str, rng: Any) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``; else TypeError saying how to make one."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (make one with numpy.random.default_rng(seed)); "
            f"got {describe(rng)}"
        )
    return rng


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (numpy's bool too); else TypeError.

    A flag is never taken by truthiness: ``bias="no"`` would count as True.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {describe(value)}")
    return bool(value)


def check_ax(name: str, ax: Any, *, optional: bool = True):
    """Return ``ax`` if it is a matplotlib Axes (or None when ``optional``); else TypeError."""
    from matplotlib.axes import Axes

    if ax is None and optional:
        return None
    if not isinstance(ax, Axes):
        allowed = "a matplotlib Axes (e.g. from plt.subplots()) or None" if optional else "a matplotlib Axes"
        raise TypeError(f"{name} must be {allowed}; got {describe(ax)}")
    return ax
