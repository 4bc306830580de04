"""The numbers every live explorer draws: one Python implementation for JupyterLab and the website.

The kernel computes a *frame* (a JSON-ready dict of numbers: bin counts, statistics, curve
points) for a setting of the controls and sends it to the browser, where one ES module
(``explorer.js``) draws it on a canvas. ``make site`` calls the same functions ahead of time
and stores their frames as JSON files that the same ES module fetches. Nothing here draws.

Control grids are lists of exact values: a slider position is an index into its grid, so the
values the chapters ask for (weight scale 0.75, √2, 5/3; T = 0.25) are exact and the text
shown for a position is one number, the same in the readout, the header and the screen reader's
announcement.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Generator, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "BINS", "SCALE_GRID", "SCALE_TEXTS", "SCALE_PRESETS", "TEMPERATURE_GRID", "SLOPE_GRID",
    "grid_index", "round_sig", "scale_text", "axis_range", "bounded", "histogram_frame_dict",
    "slope_frame", "temperature_frame", "temperature_curves", "finish",
]

T = TypeVar("T")


def finish(steps: Generator[None, None, T]) -> T:
    """Run a step-by-step computation (a generator that yields between its steps) to the end; its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def _grid(*parts: Sequence[float]) -> tuple[float, ...]:
    return tuple(sorted({round(v, 12) if v not in (math.sqrt(2.0), 5.0 / 3.0) else v
                         for part in parts for v in part}))


#: Bins per histogram, in the live explorer, on the website and in chapter 05's static figures
#: (the one place to change it).
BINS = 40

#: Weight scales of chapter 05's explorer, 0.001 … 10: 0.01 steps up to 0.1, 0.05 steps up to 1,
#: 0.1 steps up to 2 (with √2 and 5/3, exact), then 2.5, 3, 4, 5, 6, 8, 10. One arrow key = one step.
SCALE_GRID: tuple[float, ...] = _grid(
    (0.001, 0.002, 0.005),
    [k / 100 for k in range(1, 10)],
    [k / 20 for k in range(2, 20)],
    [k / 10 for k in range(10, 21)],
    (math.sqrt(2.0), 5.0 / 3.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0),
)


def scale_text(value: float) -> str:
    """A grid value as the one number shown everywhere: 0.75, 1, 1.414 (√2), 1.667 (5/3)."""
    if value == math.sqrt(2.0):
        return "1.414 (√2)"
    if value == 5.0 / 3.0:
        return "1.667 (5/3)"
    return f"{value:g}"


SCALE_TEXTS: tuple[str, ...] = tuple(scale_text(v) for v in SCALE_GRID)

#: The exact scales the chapter's text asks for, as (button text, value): each is on SCALE_GRID.
SCALE_PRESETS: tuple[tuple[str, float], ...] = (
    ("0.01", 0.01), ("0.1", 0.1), ("0.7", 0.7), ("0.75", 0.75), ("1", 1.0), ("√2", math.sqrt(2.0)),
    ("5/3", 5.0 / 3.0),
)

#: Temperatures of chapter 06's explorer (each shown as itself: 0.25 is 0.25).
TEMPERATURE_GRID: tuple[float, ...] = (0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
                                       1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)

#: LeakyReLU slopes of chapter 03's explorer: 0, 0.01, …, 0.5.
SLOPE_GRID: tuple[float, ...] = tuple(round(k / 100, 2) for k in range(51))


def grid_index(name: str, value: Any, grid: Sequence[float]) -> int:
    """The position of ``value`` on ``grid``; a ValueError naming ``name`` and the nearest values if absent."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    v = float(value)
    for i, g in enumerate(grid):
        if v == g or abs(v - g) <= 1e-6 * abs(g):  # float32 inputs (np.float32(0.1)) find their point
            return i
    if not math.isfinite(v) or v < grid[0] or v > grid[-1]:
        raise ValueError(f"{name} must be between {grid[0]:g} and {grid[-1]:g} (the control's range); got {v:g}")
    k = int(np.searchsorted(grid, v))
    raise ValueError(f"{name} must be one of the control's values; {v:g} lies between {grid[k - 1]:.6g} "
                     f"and {grid[k]:.6g}")


def round_sig(x: float, digits: int = 6) -> float | None:
    """``x`` to ``digits`` significant digits (JSON-ready: None for NaN, ±1e308 kept as is)."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x) or x == 0:
        return x if x == 0 else (1e308 if x > 0 else -1e308)
    return float(f"{x:.{digits}g}")


# --------------------------------------------------------------------------- chapter 05: histograms

def _nice_ceil(x: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is >= x (x > 0)."""
    k = math.floor(math.log10(x))
    for m in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * 10.0**k >= x * (1 - 1e-12):
            return m * 10.0**k
    return 10.0 ** (k + 1)  # pragma: no cover


def axis_range(activation: str, mean: float, std: float) -> tuple[float, float]:
    """A layer's histogram x-range: the whole output range of a bounded activation (sigmoid (0, 1),
    tanh (−1, 1)); for an unbounded one it follows the layer: the upper end is a round number
    >= |mean| + 4 std (values beyond it are counted in "beyond"), the lower end keeps the
    registry range's proportion (ReLU 0, identity −upper, LeakyReLU −upper/16)."""
    from coursekit import activations as acts

    lo, hi = acts.HIST_RANGES[activation]
    if bounded(activation):
        return lo, hi
    spread = abs(mean) + 4 * std
    if not math.isfinite(spread) or spread <= 0:
        return lo, hi
    top = _nice_ceil(min(spread, 1e30))
    return (lo * top / hi, top)


def bounded(activation: str) -> bool:
    """Does ``activation`` keep every output inside its histogram range (sigmoid, tanh, softsign)?"""
    from coursekit import activations as acts

    return _bounded(acts.REGISTRY[activation])  # keyed by the entry: a name registered anew is asked anew


@functools.lru_cache(maxsize=64)
def _bounded(spec) -> bool:
    lo, hi = spec.hist_range
    ends = spec.numpy(np.array([-1e6, -10.0, 10.0, 1e6]), **spec.params)
    return bool(np.all((ends >= lo - 1e-9) & (ends <= hi + 1e-9)))


def histogram_frame_dict(counts: Sequence[np.ndarray], stats: Sequence[Any], ranges: Sequence[tuple[float, float]],
                         total: int) -> list[dict]:
    """Per-layer JSON-ready numbers: bin ``counts`` (ints, out of ``total`` values), the x-range and the stats."""
    layers = []
    for c, s, (lo, hi) in zip(counts, stats, ranges, strict=True):
        inside = int(np.sum(c))
        layers.append({
            "counts": [int(v) for v in c], "lo": round_sig(lo), "hi": round_sig(hi),
            "beyond": round_sig((total - inside) / total, 4),
            "mean": round_sig(s.mean, 4), "std": round_sig(s.std, 4), "flat": round_sig(s.saturated, 4),
            "dead": round_sig(s.dead, 4), "unit_std": round_sig(s.unit_std, 4),
            "input_share": round_sig(s.input_share, 4), "alike": round_sig(s.cosine, 4),
        })
    return layers


# --------------------------------------------------------------------------- chapter 03: LeakyReLU slope

#: x positions of the slope explorer's curves (LeakyReLU is linear between them).
SLOPE_X = (-4.0, -2.0, 0.0, 2.0, 4.0)


def slope_frame(z: np.ndarray, negative_slope: float) -> dict[str, Any]:
    """Chapter 03's numbers for a layer with pre-activations ``z`` (N, units) and slope ``a``.

    ``negative_units``: units whose input is negative on every sample (with a = 0 they are dead:
    output 0, gradient 0; with a > 0 they output a·z, never exactly 0, and still learn);
    ``zero_grad_units``: units whose derivative is 0 on every sample (:func:`slope_stats`);
    ``mean_grad``: mean f'(z); ``f`` and ``d``: LeakyReLU and its derivative at ``SLOPE_X``
    (the derivative as its values left and right of 0).
    """
    from coursekit import activations as acts

    s = acts.slope_stats(z, negative_slope)
    a = s["negative_slope"]
    x = np.asarray(SLOPE_X)
    return {
        "a": a,
        "negative_units": round_sig(float(np.mean(np.all(np.asarray(z) < 0, axis=0))), 4),
        "zero_grad_units": round_sig(s["zero_grad_units"], 4),
        "mean_grad": round_sig(s["mean_grad"], 4),
        "f": [round_sig(v) for v in acts.leaky_relu(x, a)],
        "d": [round_sig(v) for v in acts.leaky_relu_grad(np.array([-1.0, 1.0]), a)],
    }


# --------------------------------------------------------------------------- chapter 06: temperature

def temperature_frame(logits: np.ndarray, temperature: float) -> dict[str, Any]:
    """Chapter 06's numbers for softmax(z / T): the probabilities, max p, its class, the entropy."""
    from coursekit.softmax import temperature_stats

    s = temperature_stats(logits, temperature)
    return {
        "T": s["temperature"], "probs": [round_sig(p, 4) for p in s["probs"]],
        "max_prob": round_sig(s["max_prob"], 4), "argmax": s["argmax"],
        "entropy": round_sig(s["entropy"], 4), "entropy_fraction": round_sig(s["entropy_fraction"], 4),
    }


def temperature_curves(logits: np.ndarray, grid: Sequence[float] = TEMPERATURE_GRID) -> dict[str, list]:
    """Entropy / ln K and max p at every temperature of ``grid`` (the right-hand panel's curves)."""
    frames = [temperature_frame(logits, t) for t in grid]
    return {"T": list(grid), "entropy_fraction": [f["entropy_fraction"] for f in frames],
            "max_prob": [f["max_prob"] for f in frames]}
