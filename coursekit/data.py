"""Data sets made in code, seeded: the course's every data maker.

Each maker takes an explicit ``rng`` (a ``numpy.random.Generator``), so a data set never
depends on what an earlier cell drew. The two-class sets return ``X`` (N, 2) float64 and
``y`` (N,) of 0.0 / 1.0; :func:`make_blobs` returns int64 class indices. Numbers only: the
figures live in :mod:`coursekit.plotting`, the training runs that use these sets in
:mod:`coursekit.training`.
"""

from __future__ import annotations

import math

import numpy as np

from coursekit._checks import Array, Bool, Int, Real, Rng, describe, validate

__all__ = ["make_xor", "make_moons", "make_blobs", "rotate"]

#: Most points a data set made here has.
MAX_SAMPLES = 1_000_000

#: Most classes :func:`make_blobs` makes (a classifier on them has a (2, K) weight matrix).
MAX_CLASSES = 100_000

#: Largest standard deviation of a Gaussian jitter: draws never reach 40 sd, so every number
#: drawn with it stays finite in float64.
MAX_SPREAD = float(np.finfo(np.float64).max) / 40

#: A noise level: the standard deviation of the Gaussian jitter, >= 0.
NOISE = Real(minimum=0.0, maximum=MAX_SPREAD)


@validate(n_per_corner=Int(minimum=1, maximum=MAX_SAMPLES // 4), noise=NOISE, rng=Rng())
def make_xor(n_per_corner: int = 25, noise: float = 0.15, *, rng: np.random.Generator):
    """Noisy XOR: points around the four corners of the unit square, class = x1 XOR x2.

    Returns ``X`` (4·n_per_corner, 2) float64 and ``y`` (4·n_per_corner,) of 0.0 / 1.0;
    ``noise`` is the standard deviation of the Gaussian jitter around each corner.
    """
    n = n_per_corner
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    labels = np.array([0, 1, 1, 0], dtype=float)
    X = np.repeat(corners, n, axis=0) + noise * rng.normal(size=(4 * n, 2))
    return X, np.repeat(labels, n)


@validate(n=Int(minimum=2, maximum=MAX_SAMPLES), noise=NOISE, rng=Rng(), standardize=Bool())
def make_moons(n: int = 200, noise: float = 0.15, *, rng: np.random.Generator, standardize: bool = False):
    """Two interleaving half circles ("two moons"): the first n // 2 points class 0, the rest class 1.

    Class 0: (cos t, sin t), class 1: (1 − cos t, 0.5 − sin t), t uniform in [0, π], plus
    Gaussian noise of standard deviation ``noise``. Returns ``X`` (n, 2) and ``y`` (n,) of
    0.0 / 1.0. ``standardize=True`` shifts and scales each column of X to mean 0 and std 1
    (as the inputs of chapter 05's experiments): the same points, drawn from the same ``rng``.
    """
    n0 = n // 2
    t = rng.uniform(0.0, np.pi, size=n)
    X = np.where(
        (np.arange(n) < n0)[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    X = X + noise * rng.normal(size=(n, 2))
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)  # population std, per column
    y = (np.arange(n) >= n0).astype(float)
    return X, y


@validate(num_classes=Int(minimum=1, maximum=MAX_CLASSES), n_per_class=Int(minimum=1, maximum=MAX_SAMPLES),
          radius=Real(minimum=0.0), rng=Rng())
def make_blobs(num_classes: int = 10, n_per_class: int = 100, *, radius: float = 6.0,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``num_classes`` unit-variance Gaussian blobs with centres evenly on a circle of ``radius`` (chapter 06).

    Returns X (num_classes · n_per_class, 2) and y (N,) int64 class indices, class by class.
    """
    if num_classes * n_per_class > MAX_SAMPLES:
        raise ValueError(f"num_classes · n_per_class must be <= {MAX_SAMPLES:,} points; got "
                         f"{num_classes} · {n_per_class}")
    angles = 2 * np.pi * np.arange(num_classes) / num_classes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (K, 2)
    X = np.concatenate([c + rng.normal(size=(n_per_class, 2)) for c in centers])
    return X, np.repeat(np.arange(num_classes), n_per_class)


@validate(X=Array(ndim=2), degrees=Real())
def rotate(X, degrees: float) -> np.ndarray:
    """2-D points X (N, 2) rotated by ``degrees`` about the origin (a shifted task for transfer)."""
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (points in the plane); got {describe(X)}")
    t = math.radians(degrees)
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return X @ R.T
