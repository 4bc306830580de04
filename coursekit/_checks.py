"""Argument checks shared by the whole package.

Every public function validates its arguments with these, so a student who
passes the wrong thing reads *which* argument is wrong, what was expected and
what was given, instead of a traceback from deep inside numpy.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from types import MappingProxyType
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
    maximum: float | None = None,
) -> float:
    """Return ``value`` as float if it is a finite real number (not bool), optionally bounded."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}; got {value:g}")
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
    value = _from_tensor(name, value, widen_bfloat16=False)
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


# --------------------------------------------------------------------------- one meaning of "a sequence"


def is_sequence(value: Any) -> bool:
    """True for a list, a tuple, a range or a numpy array with at least one axis; the package's one test.

    Strings and bytes are sequences to Python but never a list of things here ("16" is not
    [1, 6]); dicts, sets and generators have no order or length to check. A numpy array
    counts: ``np.array([3, 4, 2])`` or ``np.arange(1, 4)`` is how numpy users write widths,
    and iterating an (L, out, in) array gives L matrices, which is what a list of layers
    means, so refusing an array that prints like a list would be an error nobody can act
    on. A torch tensor does not count (its items are 0-d tensors): ``.tolist()`` converts it.
    """
    if isinstance(value, np.ndarray):
        return value.ndim >= 1
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


# --------------------------------------------------------------------------- declared constraints
#
# scikit-learn's ``validate_params`` is the model: each public function declares one
# constraint per argument, a decorator checks (and converts) every argument before the
# body runs, and a test walks the declarations. Here each constraint also offers a value
# it accepts (``example``) and representative values it must refuse (``bad_values``), so
# tests/test_bad_input.py derives its table from the declarations instead of a hand row.


class ArgumentTypeError(TypeError):
    """A declared argument has the wrong type; ``.argument`` is its name."""

    def __init__(self, message: str, argument: str):
        super().__init__(message)
        self.argument = argument


class ArgumentValueError(ValueError):
    """A declared argument has the right type but a wrong value or shape; ``.argument`` is its name."""

    def __init__(self, message: str, argument: str):
        super().__init__(message)
        self.argument = argument


class Constraint:
    """What one argument must be. ``check(name, value)`` returns the value converted (an array,
    an int, ...) or raises TypeError/ValueError naming ``name``, what was expected and what was
    given. ``example()`` is a value it accepts; ``bad_values()`` is a short list of
    ``(label, value)`` it refuses, one per way of being wrong, for tests to walk."""

    def check(self, name: str, value: Any) -> Any:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def example(self) -> Any:  # pragma: no cover
        raise NotImplementedError

    def bad_values(self) -> list[tuple[str, Any]]:
        return [("None", None), ("str", "abc"), ("object", object())]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None and not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Int(Constraint):
    """An integer (numpy's too; never bool or a float such as 3.0) in [minimum, maximum]; returns int."""

    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum

    def check(self, name, value):
        return check_int(name, value, minimum=self.minimum, maximum=self.maximum)

    def example(self):
        return self.minimum if self.minimum is not None else min(1, self.maximum if self.maximum is not None else 1)

    def bad_values(self):
        bad = [("None", None), ("str", "3"), ("float", 2.5), ("bool", True), ("list", [3])]
        if self.minimum is not None:
            bad.append(("below minimum", self.minimum - 1))
        if self.maximum is not None:
            bad.append(("above maximum", self.maximum + 1))
        return bad


class Real(Constraint):
    """A finite real number (numpy's too, e.g. np.float32; never bool), optionally > 0, >= minimum, <= maximum;
    returns float."""

    def __init__(self, *, minimum: float | None = None, positive: bool = False, maximum: float | None = None):
        self.minimum, self.positive, self.maximum = minimum, positive or None, maximum

    def check(self, name, value):
        return check_number(name, value, minimum=self.minimum, positive=bool(self.positive), maximum=self.maximum)

    def example(self):
        good = max(0.5, self.minimum if self.minimum is not None else 0.5)
        return good if self.maximum is None else min(good, self.maximum)

    def bad_values(self):
        # (an array fails the number test as a list does: one of the two is walked)
        bad = [("None", None), ("str", "0.1"), ("list", [0.1]), ("bool", True), ("complex", 1j),
               ("nan", float("nan")), ("inf", float("inf"))]
        if self.positive:
            bad.append(("zero", 0.0))
        if self.minimum is not None:
            bad.append(("below minimum", self.minimum - 1.0))
        if self.maximum is not None:
            bad.append(("above maximum", self.maximum + max(1.0, abs(self.maximum))))
        return bad


class Bool(Constraint):
    """True or False (numpy's bool too), never a truthy stand-in such as "no" or 1; returns bool."""

    def check(self, name, value):
        return check_bool(name, value)

    def example(self):
        return True

    def bad_values(self):
        return [("None", None), ("str", "no"), ("int", 2), ("list", [True])]


class Text(Constraint):
    """A string (a title, a label); returned as is."""

    def check(self, name, value):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string; got {describe(value)}")
        return value

    def example(self):
        return "text"

    def bad_values(self):
        return [("None", None), ("int", 3), ("list", ["text"])]


class Choice(Constraint):
    """One of a set of strings. ``label`` is the word the message uses ("unknown gate 'XNOR'").

    A list, tuple, dict or live view (e.g. ``activations.DIFFERENTIABLE``) is kept, not copied,
    and read at every check: a name registered after the declaration is a valid choice.
    """

    def __init__(self, options: Iterable[str], *, label: str | None = None):
        self.options = options if isinstance(options, Collection) else tuple(options)
        self.label = label

    def check(self, name, value):
        return check_choice(self.label or name, value, self.options)

    def example(self):
        return next(iter(self.options))

    def bad_values(self):
        return [("None", None), ("int", 3), ("unknown", "no such " + "-".join(self.options)), ("list", [self.example()])]


class Choices(Constraint):
    """A sequence (see :func:`is_sequence`) of at least ``min_len`` strings, each one of ``options`` (read live,
    as :class:`Choice`); returns a list. ``what`` completes "must be a list of ..."."""

    def __init__(self, options: Iterable[str], *, min_len: int = 1, what: str = "names"):
        self.options = options if isinstance(options, Collection) else tuple(options)
        self.min_len, self.what = min_len, what

    def check(self, name, value):
        if not is_sequence(value) or len(value) < self.min_len:
            size = f"at least {self.min_len} " if self.min_len else ""
            raise TypeError(f"{name} must be a list of {size}{self.what}; got {describe(value)}")
        return [check_choice(f"{name}[{k}]", item, self.options) for k, item in enumerate(value)]

    def example(self):
        return [next(iter(self.options))] * max(self.min_len, 1)

    def bad_values(self):
        bad = [("None", None), ("str", next(iter(self.options))), ("int", 3), ("unknown", ["no such name"]),
               ("ints", [1])]
        if self.min_len:
            bad.append(("empty", []))
        return bad


class Rng(Constraint):
    """A ``numpy.random.Generator`` (the legacy RandomState and seeds are refused: say which stream you use).

    A default of None is allowed and still means "required": ``f(shape, *, rng=None)`` is the one
    signature every init scheme shares, and a scheme that draws refuses the None (wrap it in
    :class:`Optional` where None is a real choice).
    """

    none_default_required = True

    def check(self, name, value):
        return check_rng(name, value)

    def example(self):
        return np.random.default_rng(0)

    def bad_values(self):
        return [("None", None), ("int", 42), ("legacy", np.random.RandomState(0))]  # noqa: NPY002 - refused on purpose


class Function(Constraint):
    """A callable, e.g. an activation; with ``none_means`` None is allowed too and means that."""

    def __init__(self, what: str = "a function", *, none_means: str | None = None):
        self.what, self.none_means = what, none_means

    def check(self, name, value):
        if value is None and self.none_means:
            return None
        if not callable(value):
            extra = f" or None for {self.none_means}" if self.none_means else ""
            raise TypeError(f"{name} must be {self.what}{extra}; got {describe(value)}")
        return value

    def example(self):
        return np.tanh

    def bad_values(self):
        bad = [("str", "relu"), ("int", 3)]
        return bad if self.none_means else [("None", None), *bad]


class Optional(Constraint):
    """None, or what ``inner`` accepts."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def check(self, name, value):
        return None if value is None else self.inner.check(name, value)

    def example(self):
        return self.inner.example()

    def bad_values(self):
        return [(label, value) for label, value in self.inner.bad_values() if value is not None]


def _from_tensor(name: str, value: Any, *, widen_bfloat16: bool) -> Any:
    """A torch tensor as a numpy array (only if torch is already imported); anything else unchanged."""
    torch = sys.modules.get("torch")  # only then can a value be a tensor (see _torch_if_loaded)
    if torch is None or not isinstance(value, torch.Tensor):
        return value
    if value.is_complex():
        raise TypeError(f"{name} must contain real numbers; got {describe(value)}")
    value = value.detach().cpu()
    if value.dtype == torch.bfloat16 and widen_bfloat16:  # numpy has no bfloat16: widen (exactly) to float32
        value = value.float()
    try:
        return value.numpy()
    except TypeError:  # bfloat16 and the float8 types have no numpy dtype
        raise TypeError(
            f"{name} is a tensor of dtype {value.dtype}, which numpy has no dtype for; "
            f"convert it first, e.g. {name}.float() (float32)"
        ) from None


def as_logits(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a floating-point array, its dtype kept; integer and bool arrays raise TypeError.

    Unlike :func:`as_float_array` this refuses integers on purpose: softmax of an int array is
    almost always a mix-up (class labels passed where logits were meant), and float64 output
    from int input would break the promise that the output has the input's dtype. A bfloat16
    tensor is widened exactly to float32, as torch does on CPU. 0-D values are refused: there
    is no axis of classes.
    """
    value = _from_tensor(name, value, widen_bfloat16=True)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of floats; got {describe(value)} ({exc})") from None
    if arr.dtype.kind in "biu":
        raise TypeError(
            f"{name} must be a floating-point array (logits are real numbers); got {describe(arr)}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=np.float64)"
        )
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array; got {describe(value)} with dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one axis of classes; got a 0-D value, {describe(arr)}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got {describe(arr)}")
    return arr


def as_indices(name: str, value: Any) -> np.ndarray:
    """``value`` as an int64 array of class indices; bool and float arrays raise TypeError (shape unchecked)."""
    value = _from_tensor(name, value, widen_bfloat16=True)
    try:
        t = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be an array of integer class indices; got {describe(value)} ({exc})") from None
    if t.dtype.kind not in "iu":  # bool ("b") is refused too: True/False are not class indices
        hint = ""
        if t.dtype.kind == "f":
            hint = (" (not probabilities or one-hot rows; "
                    f"convert whole-number floats with {name}.astype(np.int64))")
        raise TypeError(f"{name} must be integer class indices{hint}; got {describe(t)}")
    return t.astype(np.int64, copy=False)


def _ndims(ndim: int | Sequence[int] | None) -> tuple[int, ...] | None:
    return None if ndim is None else (ndim,) if isinstance(ndim, int) else tuple(ndim)


class Array(Constraint):
    """An array of real numbers (list, numpy array or tensor) of ``ndim`` axes (an int or a tuple).

    Default: :func:`as_float_array` (ints and bools become float64, a bfloat16 tensor is refused).
    ``logits=True``: :func:`as_logits` (integers refused, the float dtype kept, bfloat16 widened).
    """

    def __init__(self, ndim: int | Sequence[int] | None = None, *, logits: bool = False):
        self.ndim, self.logits = _ndims(ndim), logits or None
        if logits and self.ndim is not None and len(self.ndim) != 1:
            raise ValueError("Array(logits=True) takes one ndim")

    def check(self, name, value):
        if self.logits:
            return as_logits(name, value, ndim=None if self.ndim is None else self.ndim[0])
        return as_float_array(name, value, ndim=self.ndim)

    def example(self):
        return np.ones((2,) * (self.ndim[0] if self.ndim else 1))  # ones: also valid 0/1 targets

    def bad_values(self):
        # (a lone string fails the dtype test as a list of strings does: the list is walked)
        bad = [("None", None), ("dict", {"a": 1}), ("strings", ["a", "b"]),
               ("ragged", [[1.0], [1.0, 2.0]]), ("complex", np.array([1 + 2j]))]
        torch = sys.modules.get("torch")
        if torch is not None and not self.logits:
            bad.append(("bfloat16", torch.ones(3, dtype=torch.bfloat16)))
        if self.logits:
            bad.append(("ints", np.ones((2,) * (self.ndim[0] if self.ndim else 1), dtype=int)))
            if self.ndim is None:
                bad.append(("0-D", np.float64(1.0)))
        if self.ndim is not None:
            bad.append((f"{max(self.ndim) + 1}-D", np.ones((2,) * (max(self.ndim) + 1))))
            if min(self.ndim) > 0:
                bad.append((f"{min(self.ndim) - 1}-D", np.ones((2,) * (min(self.ndim) - 1))))
        return bad


class Indices(Constraint):
    """Integer class indices (bool and floats refused); returns int64. Shapes are the caller's check."""

    def check(self, name, value):
        return as_indices(name, value)

    def example(self):
        return np.array([0, 0])  # class 0 exists however many classes there are

    def bad_values(self):
        return [("None", None), ("str", "abc"), ("ragged", [[0], [0, 1]]), ("floats", [0.0, 1.0]),
                ("bools", [True, False])]


class Distribution(Constraint):
    """Probability distributions, one per row: (K,) or (N, K), entries >= 0, each row summing to 1; float64."""

    def check(self, name, value):
        p = as_float_array(name, _from_tensor(name, value, widen_bfloat16=True), ndim=(1, 2)).astype(np.float64)
        if np.any(p < 0) or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-9):
            raise ValueError(f"{name} must hold probability distributions (entries >= 0, each row summing to 1)")
        return p

    def example(self):
        return np.array([0.25, 0.75])

    def bad_values(self):
        return [("None", None), ("str", "abc"), ("strings", ["a", "b"]), ("complex", np.array([1 + 2j])),
                ("negative", [-0.5, 1.5]), ("not summing to 1", [0.5, 0.2]), ("nan", [float("nan"), 1.0]),
                ("3-D", np.full((2, 2, 2), 0.5))]


class Dtype(Constraint):
    """Anything ``numpy.dtype`` understands (np.float32, "float64", ...); returns the numpy dtype.

    ``floating=True``: a floating dtype only (float16/32/64), as weights are.
    """

    def __init__(self, *, floating: bool = False):
        self.floating = floating or None

    def check(self, name, value):
        try:
            dt = np.dtype(value)
        except TypeError as exc:
            what = "floating dtype" if self.floating else "dtype"
            raise TypeError(f"{name} must be a numpy {what} such as np.float32; got {describe(value)} ({exc})") from None
        if self.floating and dt.kind != "f":
            raise TypeError(f"{name} must be a floating dtype (float16/32/64); got {dt}")
        return dt

    def example(self):
        return np.float64

    def bad_values(self):
        bad = [("str", "abc"), ("object", object())]
        return bad + [("int", np.int64), ("complex", np.complex128)] if self.floating else bad


class Ints(Constraint):
    """A sequence (see :func:`is_sequence`) of at least ``min_len`` integers in [minimum, maximum]; returns list[int].

    ``what`` completes "must be a list of ..."; ``too_short`` completes "needs ..." (default "at least n items").
    """

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, min_len: int = 0,
                 what: str = "integers", too_short: str | None = None):
        self.minimum, self.maximum, self.min_len, self.what, self.too_short = minimum, maximum, min_len, what, too_short

    def check(self, name, value):
        if not is_sequence(value):
            raise TypeError(f"{name} must be a list of {self.what}; got {describe(value)}")
        if len(value) < self.min_len:
            raise ValueError(f"{name} needs {self.too_short or f'at least {self.min_len} items'}; got {list(value)}")
        return [check_int(f"{name}[{k}]", n, minimum=self.minimum, maximum=self.maximum) for k, n in enumerate(value)]

    def example(self):
        return [max(self.minimum or 0, 2)] * max(self.min_len, 1)

    def bad_values(self):
        n = max(self.min_len, 2)
        bad = [("None", None), ("str", "16"), ("int", 16), ("strs", [16] * (n - 1) + ["a"]),
               ("floats", [16] * (n - 1) + [2.5])]
        if self.minimum is not None:
            bad.append(("below minimum", [max(self.minimum, 2)] * (n - 1) + [self.minimum - 1]))
        if self.maximum is not None:
            bad.append(("above maximum", [self.maximum + 1] * n))
        if self.min_len > 1:
            bad.append(("too short", [2] * (self.min_len - 1)))
        return bad


class Arrays(Constraint):
    """A non-empty (``min_len``) sequence of ``ndim``-D real arrays, e.g. one weight matrix per layer; returns a list.

    Items are checked as :func:`as_float_array` and named ``name[k]``. With ``items_optional``
    an item may be None (no bias for that layer). A numpy array counts as the sequence of its
    rows only if it has ``ndim + 1`` axes: a single (out, in) matrix where a list of them is
    expected is the usual slip (``W`` for ``[W]``) and gets a TypeError, not "weights[0] must be 2-D".
    """

    def __init__(self, ndim: int, *, what: str, min_len: int = 0, items_optional: bool = False):
        self.ndim, self.what, self.min_len, self.items_optional = ndim, what, min_len, items_optional or None

    def check(self, name, value):
        if (not is_sequence(value) or len(value) < self.min_len
                or (isinstance(value, np.ndarray) and value.ndim != self.ndim + 1)):
            size = "non-empty " if self.min_len else ""
            raise TypeError(f"{name} must be a {size}list of {self.what}; got {describe(value)}")
        return [None if item is None and self.items_optional else as_float_array(f"{name}[{k}]", item, ndim=self.ndim)
                for k, item in enumerate(value)]

    def example(self):
        return [np.eye(2)] * 2 if self.ndim == 2 else [np.full((2,) * self.ndim, 0.5)] * 2

    def bad_values(self):
        bad = [("None", None), ("int", 5), ("str", "abc"), ("one array", np.ones((2,) * self.ndim)),
               ("strings", ["a"]), (f"{self.ndim - 1}-D item", [np.ones((2,) * (self.ndim - 1))])]
        if self.min_len:
            bad.append(("empty", []))
        return bad


class Instance(Constraint):
    """An instance of ``module.cls`` (imported when first checked, e.g. torch.nn.Sequential); ``make`` builds an example."""

    def __init__(self, module: str, cls: str, *, what: str, hint: str = "", make: Callable[[], Any] | None = None):
        self.module, self.cls, self.what, self.hint, self._make = module, cls, what, hint, make

    def check(self, name, value):
        import importlib

        kind = getattr(importlib.import_module(self.module), self.cls)
        if not isinstance(value, kind):
            hint = f" ({self.hint})" if self.hint else ""
            raise TypeError(f"{name} must be {self.what}; got {describe(value)}{hint}")
        return value

    def example(self):
        return self._make() if self._make else None

    def bad_values(self):
        return [("None", None), ("str", "abc"), ("int", 3), ("list", [self.example()])]


def validate(**constraints: Constraint) -> Callable[[Callable], Callable]:
    """Declare what each argument of a public function must be; checked and converted before the body runs.

    ::

        @validate(x=Array(ndim=(1, 2)), w=Array(ndim=1), b=Real())
        def weighted_sum(x, w, b=0.0): ...

    Every parameter gets exactly one constraint (a missing or misspelt one is an error when
    the module is imported, and so is a default its constraint refuses). A ``**params``
    parameter's constraint applies to each extra keyword, named by its keyword (which keywords
    exist is the body's check); ``*args`` cannot be declared. The body receives
    the converted values (float arrays, ints, floats). A bad argument raises
    :class:`ArgumentTypeError` or :class:`ArgumentValueError` (subclasses of TypeError and
    ValueError) whose ``.argument`` is the parameter's name. Checks that relate two
    arguments (x's width against w's length) stay in the body. The declarations are
    readable as ``func.__constraints__``.
    """

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func)
        names = list(sig.parameters)
        missing = [n for n in names if n not in constraints]
        unknown = [n for n in constraints if n not in sig.parameters]
        if missing or unknown:
            raise TypeError(f"@validate on {func.__qualname__}: every parameter needs exactly one constraint; "
                            f"missing {missing}, not parameters {unknown}")
        var_keyword = next((n for n, p in sig.parameters.items() if p.kind == p.VAR_KEYWORD), None)
        for name, param in sig.parameters.items():
            if param.kind == param.VAR_POSITIONAL:
                raise TypeError(f"@validate on {func.__qualname__}: *{name} cannot be declared")
            if param.default is not param.empty and not (
                    param.default is None and getattr(constraints[name], "none_default_required", False)):
                _checked(constraints[name], name, param.default)  # a default its own rule refuses is a bug
        ordered = [(n, constraints[n]) for n in names if n != var_keyword]
        extra_rule = constraints.get(var_keyword)
        positional = [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        keyword = [n for n, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY]
        by_keyword = (set(names) - {n for n, p in sig.parameters.items() if p.kind == p.POSITIONAL_ONLY}
                      - {var_keyword})
        defaults = {n: p.default for n, p in sig.parameters.items() if p.default is not p.empty}

        @functools.wraps(func)
        def checked(*args, **kwargs):
            # Binding by hand: inspect.Signature.bind costs about 10 us a call, three times the checks.
            extra = {}
            if len(args) > len(positional) or not by_keyword.issuperset(kwargs):
                if var_keyword is None or len(args) > len(positional):
                    sig.bind(*args, **kwargs)  # raises Python's own TypeError (too many, unexpected keyword)
                extra = {k: _checked(extra_rule, k, v) for k, v in kwargs.items() if k not in by_keyword}
                kwargs = {k: v for k, v in kwargs.items() if k in by_keyword}
            values = dict(zip(positional, args))
            for name, value in kwargs.items():
                if name in values:
                    sig.bind(*args, **kwargs)  # "multiple values for argument"
                values[name] = value
            for name, constraint in ordered:
                try:
                    value = values[name]
                except KeyError:
                    if name not in defaults:
                        sig.bind(*args, **kwargs)  # "missing a required argument"
                    value = defaults[name]
                values[name] = _checked(constraint, name, value)
            return func(*[values[n] for n in positional], **{n: values[n] for n in keyword}, **extra)

        checked.__constraints__ = MappingProxyType({n: constraints[n] for n in names})
        return checked

    return decorate


def _checked(constraint: Constraint, name: str, value: Any) -> Any:
    try:
        return constraint.check(name, value)
    except (ArgumentTypeError, ArgumentValueError):
        raise
    except TypeError as exc:
        raise ArgumentTypeError(str(exc), name) from None
    except ValueError as exc:
        raise ArgumentValueError(str(exc), name) from None
