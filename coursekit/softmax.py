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

from coursekit._checks import (
    Array,
    Distribution,
    Dtype,
    Indices,
    Int,
    Real,
    as_float_array,
    describe,
    validate,
)

__all__ = [
    "softmax",
    "log_softmax",
    "naive_softmax",
    "softmax_jacobian",
    "cross_entropy",
    "cross_entropy_grad",
    "one_hot",
    "entropy",
    "cross_entropy_dist",
    "kl_divergence",
    "softmax_temperature",
    "temperature_stats",
]


#: Logits: a float array of any shape with at least one axis (integers refused, dtype kept; see _checks.as_logits).
LOGITS = Array(logits=True)


def _check_axis(name: str, arr: np.ndarray, axis: int) -> int:
    """Return the (declared int) ``axis`` normalised to [0, ndim); the class axis must exist and be non-empty."""
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


@validate(z=LOGITS, axis=Int())
def softmax(z: Any, axis: int = -1) -> np.ndarray:
    """Stable softmax along ``axis``: softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z).

    ``z``: float array of any shape (e.g. (N, K) logits); returns the same shape
    and dtype, every slice along ``axis`` positive (up to underflow) and summing to 1.
    """
    axis = _check_axis("z", z, axis)
    work = z.astype(_work_dtype(z.dtype), copy=False)
    with np.errstate(over="ignore"):  # a gap beyond float max gives -inf, and exp(-inf) = 0 is right
        shifted = work - np.max(work, axis=axis, keepdims=True)  # overflow guard: largest exponent is 0
    e = np.exp(shifted)
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(z.dtype, copy=False)


@validate(z=LOGITS, axis=Int())
def log_softmax(z: Any, axis: int = -1) -> np.ndarray:
    """Stable log-softmax along ``axis``: z_i - max z - log sum_j exp(z_j - max z).

    Same shape and dtype as ``z``. Never -inf for finite input, unlike
    ``np.log(softmax(z))``, whose probabilities can underflow to exactly 0.
    """
    axis = _check_axis("z", z, axis)
    work = z.astype(_work_dtype(z.dtype), copy=False)
    with np.errstate(over="ignore"):  # a gap beyond float max is -inf: the correctly rounded answer
        shifted = work - np.max(work, axis=axis, keepdims=True)
    # log of a sum in [1, K]: finite, and at most log K.
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out.astype(z.dtype, copy=False)


@validate(z=LOGITS, axis=Int())
def naive_softmax(z: Any, axis: int = -1) -> np.ndarray:
    """The textbook formula exp(z_i) / sum_j exp(z_j) **without** the max shift: a demonstration.

    Computed in ``z``'s own dtype, so it overflows as soon as some z_i exceeds
    log(finfo(dtype).max) (≈ 11.09 in float16, 88.72 in float32, 709.78 in float64)
    and returns nan (inf / inf), and returns nan (0 / 0) when every exp underflows.
    Numpy's overflow warnings are silenced here so the nan itself is the lesson;
    use :func:`softmax` for real work.
    """
    axis = _check_axis("z", z, axis)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        e = np.exp(z)
        return e / np.sum(e, axis=axis, keepdims=True)


@validate(z=LOGITS)
def softmax_jacobian(z: Any) -> np.ndarray:
    """Jacobian of softmax over the last axis: J_ij = d p_i / d z_j = p_i (δ_ij - p_j).

    ``z``: (..., K) float array; returns (..., K, K), i.e. diag(p) - p pᵀ per row.
    """
    p = softmax(z, axis=-1)
    return p[..., :, None] * (np.eye(p.shape[-1], dtype=p.dtype) - p[..., None, :])  # p_i (δ_ij - p_j)


def _check_targets(t: np.ndarray, n: int, k: int, name: str = "targets", rows: str = "logits") -> np.ndarray:
    """Declared class indices ``t`` (called ``name``, int64) have shape (n,) and values in [0, k), or a clear error (n = -1: the caller saw they are not 1-D)."""
    if t.shape != (n,):
        want = f"({n},), one class index per row of {rows}" if n >= 0 else "(N,), a 1-D array"
        raise ValueError(f"{name} must have shape {want}; got {describe(t)}")
    if n and (t.min() < 0 or t.max() >= k):
        bad = t[(t < 0) | (t >= k)]
        raise ValueError(f"{name} must be class indices in [0, {k - 1}] for {k} classes; "
                         f"got {bad.size} out of range, e.g. {int(bad[0])}")
    return t


def _logits_and_targets(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, k = logits.shape
    if n == 0:
        raise ValueError(f"logits must hold at least one row (the loss is a mean over rows); got {describe(logits)}")
    if k == 0:
        raise ValueError(f"logits must have at least one class (columns); got {describe(logits)}")
    return logits, _check_targets(targets, n, k)


@validate(targets=Indices(), num_classes=Int(minimum=1), dtype=Dtype())
def one_hot(targets: Any, num_classes: int, dtype: Any = np.float64) -> np.ndarray:
    """One-hot rows: (N,) integer class indices -> (N, num_classes) with a 1 at each target."""
    n = targets.shape[0] if targets.ndim == 1 else -1  # -1: any other shape is rejected below
    t = _check_targets(targets, n, num_classes)
    out = np.zeros((t.shape[0], num_classes), dtype=dtype)
    out[np.arange(t.shape[0]), t] = 1
    return out


@validate(logits=Array(ndim=2, logits=True), targets=Indices())
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


@validate(logits=Array(ndim=2, logits=True), targets=Indices())
def cross_entropy_grad(logits: Any, targets: Any) -> np.ndarray:
    """Gradient of :func:`cross_entropy` w.r.t. the logits: (softmax(z) - onehot(y)) / N, shape (N, K)."""
    logits, t = _logits_and_targets(logits, targets)
    work = logits.astype(_work_dtype(logits.dtype), copy=False)
    grad = softmax(work, axis=-1)
    grad[np.arange(t.shape[0]), t] -= 1  # p - y: only the target column differs from p
    return (grad / t.shape[0]).astype(logits.dtype, copy=False)



# --------------------------------------------------------------------------- why cross-entropy: information


@validate(p=Distribution())
def entropy(p: Any) -> np.ndarray:
    """H(p) = −Σ_k p_k ln p_k in nats, per row of p (K,) or (N, K); 0 · ln 0 counts as 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)


@validate(p=Distribution(), q=Distribution())
def cross_entropy_dist(p: Any, q: Any) -> np.ndarray:
    """H(p, q) = −Σ_k p_k ln q_k per row: the cost of coding p with q. H(p, q) = H(p) + KL(p ‖ q) >= H(p)."""
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {p.shape} and {q.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(q), 0.0), axis=-1)


@validate(p=Distribution(), q=Distribution())
def kl_divergence(p: Any, q: Any) -> np.ndarray:
    """KL(p ‖ q) = Σ_k p_k ln(p_k / q_k) per row (>= 0, 0 only for p = q); torch's ``F.kl_div(log q, p)``."""
    return cross_entropy_dist(p, q) - entropy(p)


# --- temperature: softmax(z / T) ------------------------------------------------------------


@validate(logits=LOGITS, temperature=Real(positive=True), axis=Int())
def softmax_temperature(logits: Any, temperature: float, axis: int = -1) -> np.ndarray:
    """Softmax with temperature: p_i = exp(z_i / T) / sum_j exp(z_j / T); same shape and dtype as ``logits``.

    T < 1 sharpens the distribution towards the argmax (one-hot as T -> 0), T > 1 flattens it
    towards uniform (1/K as T -> inf); the ranking of the classes never changes.
    """
    z = logits
    # Divide in float64: in float16, z / T overflows already for |z / T| > 65504.
    with np.errstate(over="ignore"):  # reported below as a clear error instead
        scaled = z.astype(np.float64) / temperature
    if not np.all(np.isfinite(scaled)) and np.all(np.isfinite(z)):
        raise ValueError(f"temperature {temperature} is too small for these logits: logits / temperature "
                         "overflows float64")
    return softmax(scaled, axis=axis).astype(z.dtype, copy=False)


def _check_class_logits(logits: Any) -> np.ndarray:
    """1-D finite logits of at least 2 classes, as float64 (what :func:`temperature_stats` and the explorer take)."""
    z = as_float_array("logits", logits, ndim=1).astype(np.float64)  # also called by the explorer, undeclared
    if z.size < 2:
        raise ValueError(f"logits must hold at least 2 classes; got {describe(z)}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"logits must be finite; got {describe(z)} containing inf or nan")
    return z


@validate(logits=Array(ndim=1), temperature=Real(positive=True))
def temperature_stats(logits: Any, temperature: float) -> dict[str, Any]:
    """Numbers describing softmax(logits / T) for 1-D ``logits`` (K,).

    Returns ``temperature``, ``probs`` (K,), ``max_prob``, ``argmax``, ``entropy`` in nats
    (H = -sum p log p, between 0 and ln K, :func:`entropy`) and ``entropy_fraction`` = H / ln K
    (0: one-hot, 1: uniform).

    Integer logits are accepted here (and by the explorer), unlike :func:`softmax_temperature`:
    the one rule is that a function whose output keeps the input's dtype refuses integers
    (int in, float64 out would break that promise), while one that always returns float64
    converts them.
    """
    z = _check_class_logits(logits)
    p = softmax(z / temperature)
    h = float(entropy(p))
    return {
        "temperature": temperature,
        "probs": p,
        "max_prob": float(p.max()),
        "argmax": int(p.argmax()),
        "entropy": h,
        "entropy_fraction": h / float(np.log(z.size)),
    }
