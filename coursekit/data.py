"""Data sets made in code, seeded: the course's every data maker.

Each maker takes an explicit ``rng`` (a ``numpy.random.Generator``), so a data set never
depends on what an earlier cell drew, and returns ``X`` (N, 2) float64 and ``y`` (N,) of
0.0 / 1.0. Numbers only: the figures live in :mod:`coursekit.plotting`, the training runs
that use these sets in :mod:`coursekit.training`.
"""

from __future__ import annotations

import math

import numpy as np

from coursekit._checks import (
    as_float_array,
    check_bool,
    check_int,
    check_number,
    check_rng,
    describe,
)

__all__ = ["make_xor", "make_moons", "rotate"]

#: Most points a data set made here has.
MAX_SAMPLES = 1_000_000


def _check_spread(name: str, value: float, spread: float = 40.0) -> float:
    """ValueError unless ``spread`` · |value| is finite in float64: Gaussian draws never reach 40 sd."""
    if spread * abs(value) > float(np.finfo(np.float64).max):
        raise ValueError(f"{name} = {value:g} is too large: the numbers drawn with it would overflow float64 "
                         f"(largest {np.finfo(np.float64).max:g})")
    return value


def make_xor(n_per_corner: int = 25, noise: float = 0.15, *, rng: np.random.Generator):
    """Noisy XOR: points around the four corners of the unit square, class = x1 XOR x2.

    Returns ``X`` (4·n_per_corner, 2) float64 and ``y`` (4·n_per_corner,) of 0.0 / 1.0;
    ``noise`` is the standard deviation of the Gaussian jitter around each corner.
    """
    n = check_int("n_per_corner", n_per_corner, minimum=1, maximum=100_000)
    noise = _check_spread("noise", check_number("noise", noise, minimum=0.0))
    rng = check_rng("rng", rng)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    labels = np.array([0, 1, 1, 0], dtype=float)
    X = np.repeat(corners, n, axis=0) + noise * rng.normal(size=(4 * n, 2))
    return X, np.repeat(labels, n)


def make_moons(n: int = 200, noise: float = 0.15, *, rng: np.random.Generator, standardize: bool = False):
    """Two interleaving half circles ("two moons"): the first n // 2 points class 0, the rest class 1.

    Class 0: (cos t, sin t), class 1: (1 − cos t, 0.5 − sin t), t uniform in [0, π], plus
    Gaussian noise of standard deviation ``noise``. Returns ``X`` (n, 2) and ``y`` (n,) of
    0.0 / 1.0. ``standardize=True`` shifts and scales each column of X to mean 0 and std 1
    (as the inputs of chapter 05's experiments): the same points, drawn from the same ``rng``.
    """
    n = check_int("n", n, minimum=2, maximum=MAX_SAMPLES)
    noise = _check_spread("noise", check_number("noise", noise, minimum=0.0))
    rng = check_rng("rng", rng)
    standardize = check_bool("standardize", standardize)
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


def rotate(X, degrees: float) -> np.ndarray:
    """2-D points X (N, 2) rotated by ``degrees`` about the origin (a shifted task for transfer)."""
    X = as_float_array("X", X, ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (points in the plane); got {describe(X)}")
    t = math.radians(check_number("degrees", degrees))
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return X @ R.T
