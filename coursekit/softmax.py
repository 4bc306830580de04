"""Softmax, log-softmax and cross-entropy in numpy, stable for any finite input (ch. 06).

Every function works along one axis of an array of logits ``z`` (any shape,
classes on ``axis``, the last by default) and returns the input's float dtype
(float16, float32 or float64). Integer and bool arrays are rejected: logits
are real numbers, and a silent int -> float64 conversion would hide a bug
upstream (e.g. class labels passed where logits were meant).

The stable versions rely on shift invariance, softmax(z + c) = softmax(z):
subtracting the row maximum makes the largest exponent exp(0) = 1, so nothing
overflows and the denominator lies in [1, K].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit._checks import check_int, describe

__all__ = [
    "softmax",
    "log_softmax",
    "naive_softmax",
    "softmax_jacobian",
    "cross_entropy",
    "cross_entropy_grad",
    "one_hot",
]


def _to_numpy(value: Any) -> Any:
    """Tensors become numpy arrays (so the functions accept torch input too); the rest is unchanged."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


def _as_logits(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float array (dtype kept); integer/bool arrays raise TypeError.

    Unlike ``_checks.as_float_array`` this refuses integers on purpose: softmax of
    an int array is almost always a mix-up, and float64 output from int input
    would break the promise that the output has the input's dtype.
    """
    value = _to_numpy(value)
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


def _check_axis(name: str, arr: np.ndarray, axis: Any) -> int:
    """Return ``axis`` normalised to [0, ndim); the class axis must exist and be non-empty."""
    axis = check_int("axis", axis)
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis {axis} is out of range for {name} with {arr.ndim} axes ({describe(arr)})")
    axis %= arr.ndim
    if arr.shape[axis] == 0:
        raise ValueError(f"{name} has an empty class axis (axis {axis}); softmax needs at least one class; "
                         f"got {describe(arr)}")
    return axis


def _work_dtype(dtype: np.dtype) -> np.dtype:
    # float16 has only ~3 significant digits and max 65504: sum and log in float32,
    # as torch does on CPU, then round once at the end.
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def softmax(z: Any, axis: int = -1) -> np.ndarray:
    """Stable softmax along ``axis``: softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z).

    ``z``: float array of any shape (e.g. (N, K) logits); returns the same shape
    and dtype, every slice along ``axis`` positive (up to underflow) and summing to 1.
    """
    z = _as_logits("z", z)
    axis = _check_axis("z", z, axis)
    work = z.astype(_work_dtype(z.dtype), copy=False)
    with np.errstate(over="ignore"):  # a gap beyond float max gives -inf, and exp(-inf) = 0 is right
        shifted = work - np.max(work, axis=axis, keepdims=True)  # overflow guard: largest exponent is 0
    e = np.exp(shifted)
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(z.dtype, copy=False)


def log_softmax(z: Any, axis: int = -1) -> np.ndarray:
    """Stable log-softmax along ``axis``: z_i - max z - log sum_j exp(z_j - max z).

    Same shape and dtype as ``z``. Never -inf for finite input, unlike
    ``np.log(softmax(z))``, whose probabilities can underflow to exactly 0.
    """
    z = _as_logits("z", z)
    axis = _check_axis("z", z, axis)
    work = z.astype(_work_dtype(z.dtype), copy=False)
    with np.errstate(over="ignore"):  # a gap beyond float max is -inf: the correctly rounded answer
        shifted = work - np.max(work, axis=axis, keepdims=True)
    # log of a sum in [1, K]: finite, and at most log K.
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out.astype(z.dtype, copy=False)


def naive_softmax(z: Any, axis: int = -1) -> np.ndarray:
    """The textbook formula exp(z_i) / sum_j exp(z_j) **without** the max shift: a demonstration.

    Computed in ``z``'s own dtype, so it overflows as soon as some z_i exceeds
    log(finfo(dtype).max) (≈ 11.09 in float16, 88.72 in float32, 709.78 in float64)
    and returns nan (inf / inf), and returns nan (0 / 0) when every exp underflows.
    Numpy's overflow warnings are silenced here so the nan itself is the lesson;
    use :func:`softmax` for real work.
    """
    z = _as_logits("z", z)
    axis = _check_axis("z", z, axis)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        e = np.exp(z)
        return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(z: Any) -> np.ndarray:
    """Jacobian of softmax over the last axis: J_ij = d p_i / d z_j = p_i (δ_ij - p_j).

    ``z``: (..., K) float array; returns (..., K, K), i.e. diag(p) - p pᵀ per row.
    """
    p = softmax(z, axis=-1)
    return p[..., :, None] * (np.eye(p.shape[-1], dtype=p.dtype) - p[..., None, :])  # p_i (δ_ij - p_j)


def _check_targets(targets: Any, n: int, k: int) -> np.ndarray:
    """``targets`` as an int64 array of shape (n,) with values in [0, k), or a clear error (n = -1: the caller saw targets are not 1-D)."""
    targets = _to_numpy(targets)
    try:
        t = np.asarray(targets)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"targets must be an array of integer class indices; got {describe(targets)} ({exc})") from None
    if t.dtype.kind not in "iu":  # bool ("b") is refused too: True/False are not class indices
        hint = ""
        if t.dtype.kind == "f":
            hint = (" (not probabilities or one-hot rows; "
                    "convert whole-number floats with targets.astype(np.int64))")
        raise TypeError(f"targets must be integer class indices{hint}; got {describe(t)}")
    if t.shape != (n,):
        want = f"({n},), one class index per row of logits" if n >= 0 else "(N,), a 1-D array"
        raise ValueError(f"targets must have shape {want}; got {describe(t)}")
    if n and (t.min() < 0 or t.max() >= k):
        bad = t[(t < 0) | (t >= k)]
        raise ValueError(f"targets must be class indices in [0, {k - 1}] for {k} classes; "
                         f"got {bad.size} out of range, e.g. {int(bad[0])}")
    return t.astype(np.int64, copy=False)


def _logits_and_targets(logits: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    logits = _as_logits("logits", logits, ndim=2)
    n, k = logits.shape
    if n == 0:
        raise ValueError(f"logits must hold at least one row (the loss is a mean over rows); got {describe(logits)}")
    if k == 0:
        raise ValueError(f"logits must have at least one class (columns); got {describe(logits)}")
    return logits, _check_targets(targets, n, k)


def one_hot(targets: Any, num_classes: int, dtype: Any = np.float64) -> np.ndarray:
    """One-hot rows: (N,) integer class indices -> (N, num_classes) with a 1 at each target."""
    num_classes = check_int("num_classes", num_classes, minimum=1)
    targets = _to_numpy(targets)
    n = np.shape(targets)[0] if np.ndim(targets) == 1 else -1  # -1: any other shape is rejected below
    t = _check_targets(targets, n, num_classes)
    out = np.zeros((t.shape[0], num_classes), dtype=dtype)
    out[np.arange(t.shape[0]), t] = 1
    return out


def cross_entropy(logits: Any, targets: Any) -> np.floating:
    """Mean cross-entropy from raw logits, as ``torch.nn.functional.cross_entropy``.

    ``logits``: (N, K) floats (not probabilities), ``targets``: (N,) integers in [0, K).
    L = mean_n [ log sum_k exp(z_nk) - z_n,y_n ] = -mean_n log_softmax(z_n)[y_n].
    Returns a numpy scalar of ``logits``' dtype.
    """
    logits, t = _logits_and_targets(logits, targets)
    logp = log_softmax(logits.astype(_work_dtype(logits.dtype), copy=False), axis=-1)
    loss = -np.mean(logp[np.arange(t.shape[0]), t])
    return logits.dtype.type(loss)


def cross_entropy_grad(logits: Any, targets: Any) -> np.ndarray:
    """Gradient of :func:`cross_entropy` w.r.t. the logits: (softmax(z) - onehot(y)) / N, shape (N, K)."""
    logits, t = _logits_and_targets(logits, targets)
    work = logits.astype(_work_dtype(logits.dtype), copy=False)
    grad = softmax(work, axis=-1)
    grad[np.arange(t.shape[0]), t] -= 1  # p - y: only the target column differs from p
    return (grad / t.shape[0]).astype(logits.dtype, copy=False)
