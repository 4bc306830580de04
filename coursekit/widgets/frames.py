"""The live histogram explorer's numbers: per-layer histograms and statistics, fast.

:class:`HistogramFrames` keeps one network (inputs and weights, float32, as torch tensors)
and computes a frame per control move; :func:`histogram_frame` is one frame, the pure
function tests call. Numbers only (no widget); it sits here, beside the explorer it serves,
so that :mod:`coursekit.experiments` stays the chapter's experiments.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence

import numpy as np
import torch

from coursekit import activations as acts
from coursekit._checks import (
    as_float_array,
    check_choice,
    check_int,
    check_number,
    describe,
    is_sequence,
)
from coursekit._lazy import one_torch_thread
from coursekit.experiments import LayerStats
from coursekit.widgets.numbers import BINS, axis_range, finish, histogram_frame_dict

__all__ = ["HistogramFrames", "histogram_frame"]


def _weight_list(weights) -> list:
    if not is_sequence(weights):
        raise TypeError(f"weights must be a non-empty list of (out, in) weight matrices; got {describe(weights)}")
    weights = list(weights)
    if not weights:
        raise ValueError("weights must be a non-empty list of (out, in) weight matrices; got an empty one")
    return weights


def _finite(name: str, a: np.ndarray) -> np.ndarray:
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} must be finite (as float32); entry {tuple(int(k) for k in bad)} is "
                         f"{a[tuple(bad)]}")
    return a


class HistogramFrames:
    """Frames of the live explorer for one network: ``X`` and ``weights`` fixed, the rest per call.

    Checks and converts the inputs once (float32, as torch tensors) and keeps the first layer's
    product ``X W_1ᵀ``: a weight-scale move only rescales it, so a frame of a depth-L network
    costs L − 1 matrix products. Calling it returns what :func:`histogram_frame` returns.
    """

    def __init__(self, X, weights: Sequence[np.ndarray]) -> None:
        X = _finite("X", as_float_array("X", X, ndim=2, dtype=np.float32))
        weights = _weight_list(weights)
        ws = []
        fan_in = X.shape[1]
        for i, W in enumerate(weights):
            W = _finite(f"weights[{i}]", as_float_array(f"weights[{i}]", W, ndim=2, dtype=np.float32))
            if W.shape[1] != fan_in:
                what = "X has" if i == 0 else f"weights[{i - 1}] gives"
                raise ValueError(f"weights[{i}] has shape {W.shape} (out, in): {what} {fan_in} "
                                 f"features, so it needs {fan_in} columns")
            fan_in = W.shape[0]
            ws.append(torch.from_numpy(np.ascontiguousarray(W)))
        self.weights = ws
        with one_torch_thread(), torch.no_grad():
            self._first = torch.from_numpy(np.ascontiguousarray(X)) @ ws[0].T  # unscaled z_1
        self._buffers: dict = {}

    def __call__(self, activation: str = "sigmoid", *, scale: float = 1.0, bins: int = BINS,
                 value_range: tuple[float, float] | None = (0.0, 1.0)) -> tuple[np.ndarray, list]:
        """``(fractions, stats)`` of every layer; ``value_range`` None: each layer's own axis range
        (:func:`coursekit.widgets.numbers.axis_range`, kept in :attr:`ranges`)."""
        fractions, stats, self.ranges = finish(self.steps(activation, scale=scale, bins=bins,
                                                          value_range=value_range))
        return fractions, stats

    def steps(self, activation: str = "sigmoid", *, scale: float = 1.0, bins: int = BINS,
              value_range: tuple[float, float] | None = (0.0, 1.0),
              ) -> Generator[None, None, tuple[np.ndarray, list, list]]:
        """What :meth:`__call__` computes, one layer per step: a generator that yields after each layer
        and returns ``(fractions, stats, ranges)``. The explorer computes a frame nobody asked for yet
        this way, a step at a time between the kernel's messages, so that it never delays one that was
        asked for. The arguments are checked at once, before the first step."""
        act = acts.get(check_choice("activation", activation, acts.DIFFERENTIABLE))
        scale = check_number("scale", scale, minimum=0.0)
        bins = check_int("bins", bins, minimum=1)
        if value_range is not None:
            if isinstance(value_range, (str, bytes)) or not isinstance(value_range, Sequence | np.ndarray) \
                    or len(value_range) != 2:
                raise TypeError(f"value_range must be a pair (low, high) or None; got {describe(value_range)}")
            lo_r, hi_r = (check_number("value_range[0]", value_range[0]),
                          check_number("value_range[1]", value_range[1]))
            if not lo_r < hi_r:
                raise ValueError(f"value_range must be (low, high) with low < high; got {value_range}")
            value_range = (lo_r, hi_r)
        return self._steps(act, scale, bins, value_range)

    def _steps(self, act, scale: float, bins: int, value_range) -> Generator[None, None, tuple]:
        sat_lo, sat_hi = acts.saturation_bounds(act.name)
        fractions = np.empty((len(self.weights), bins))
        stats, ranges = [], []
        h = None
        for k, W in enumerate(self.weights):
            if k:
                yield  # between layers: nothing kept in the shared scratch buffers
            with one_torch_thread(), torch.no_grad():
                if h is None:
                    z = self._first * scale
                else:  # scale the (out, in) weights, not the (N, out) products
                    z = h @ (W * scale if scale != 1.0 else W).T
                h = act.torch(z)
                scratch, index = self._scratch(z.shape)
                s = self._stats(z.numpy(), h.numpy(), sat_lo, sat_hi, scratch.numpy())
                stats.append(s)
                lo, hi = value_range if value_range is not None else axis_range(act.name, s.mean, s.std)
                ranges.append((lo, hi))
                per_unit = bins / (hi - lo)
                # bin index = floor((h - low) · bins / (high - low)); values outside the range (and
                # NaN, from inf − inf beyond float32) go in no bin: a clipped edge bin would show a
                # spike at the axis end that is not in the data. h == high counts in the last bin.
                if lo:
                    torch.sub(h, lo, out=scratch).mul_(per_unit)
                else:
                    torch.mul(h, per_unit, out=scratch)
                low, high = torch.aminmax(scratch)  # one pass; NaN propagates into both
                inside = None
                if not (float(low) >= 0 and float(high) <= bins):  # some values off the axis (or NaN)
                    inside = (scratch >= 0) & (scratch <= bins)
                index.copy_(scratch.clamp_(0, bins - 1))  # to integers: truncation = floor here
                flat = index.view(-1)
                if inside is not None:
                    flat = flat[inside.view(-1)]
                counts = torch.bincount(flat, minlength=bins).numpy()
                np.divide(counts, index.numel(), out=fractions[k])
        return fractions, stats, ranges

    def frame(self, activation: str = "sigmoid", *, scale: float = 1.0, bins: int = BINS,
              depth: int | None = None) -> list[dict]:
        """The explorer's frame: one JSON-ready dict per layer (bin counts, x-range, statistics).

        Each layer's x-range follows its data (:func:`coursekit.widgets.numbers.axis_range`);
        ``depth`` keeps the first layers only (the weights of a shallower network are the first
        of a deeper one's, so one computation serves every depth).
        """
        return finish(self.frame_steps(activation, scale=scale, bins=bins, depth=depth))

    def frame_steps(self, activation: str = "sigmoid", *, scale: float = 1.0, bins: int = BINS,
                    depth: int | None = None) -> Generator[None, None, list[dict]]:
        """:meth:`frame` one layer per step (see :meth:`steps`): a generator that returns the frame."""
        steps = self.steps(activation, scale=scale, bins=bins, value_range=None)
        total = self._first.numel()

        def run():
            fractions, stats, ranges = yield from steps
            self.ranges = ranges
            counts = [np.rint(f * total).astype(np.int64) for f in fractions]
            layers = histogram_frame_dict(counts, stats, ranges, total)
            return layers if depth is None else layers[:depth]

        return run()

    def _scratch(self, shape) -> tuple[torch.Tensor, torch.Tensor]:
        """A float32 and an int32 buffer of ``shape``, kept between frames (no page faults per frame)."""
        if shape not in self._buffers:
            self._buffers[shape] = (torch.empty(shape), torch.empty(shape, dtype=torch.int32))
        return self._buffers[shape]

    @staticmethod
    def _stats(zn: np.ndarray, hn: np.ndarray, sat_lo: float, sat_hi: float, buf: np.ndarray) -> LayerStats:
        """LayerStats of one layer in a few vectorised passes (float32 with pairwise sums); ``buf``: scratch."""
        n = hn.size
        if sat_lo == -sat_hi:  # symmetric (sigmoid, tanh): one comparison instead of two
            saturated = np.count_nonzero(np.abs(zn, out=buf) >= sat_hi)
        else:  # (0, inf) for ReLU, (-inf, inf) for the identity: skip infinite bounds
            saturated = (np.count_nonzero(zn <= sat_lo) if sat_lo > -math.inf else 0) + (
                np.count_nonzero(zn >= sat_hi) if sat_hi < math.inf else 0)
        zeros = np.count_nonzero(hn == 0)
        # a dead unit needs zeros, so skip the column scan when there are none
        dead = np.count_nonzero(~hn.any(axis=0)) if zeros else 0
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32's range: redone in float64 below
            # law of total variance, both parts >= 0 (no cancellation): the pooled variance is the
            # units' mean variance across samples plus the variance of the units' means
            col_mean = hn.mean(axis=0)  # (width,)
            np.subtract(hn, col_mean, out=buf)  # two passes per column: no cancellation
            unit_var = float(np.square(buf, out=buf).sum()) / n  # numpy sums float32 pairwise
            col_mean = col_mean.astype(np.float64)
            mean = float(col_mean.mean())
            var = unit_var + float(np.mean((col_mean - mean) ** 2))
        if not (math.isfinite(mean) and math.isfinite(var) and math.isfinite(unit_var)) and np.isfinite(hn).all():
            h64 = hn.astype(np.float64)  # beyond float32's range: the slow, exact way
            mean, var, unit_var = float(h64.mean()), float(h64.var()), float(h64.var(axis=0).mean())
        # units alike: mean cosine between the output columns of unit pairs (0, 1), (2, 3), … across the
        # samples; near 1 when the units all give the same answer (a layer of copies of one unit)
        half = hn.shape[1] // 2
        a, b = hn[:, 0:2 * half:2], hn[:, 1:2 * half:2]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # float32 column sums (a few units in the 6th digit; the readout shows 3)
            norms = np.sqrt(np.einsum("ij,ij->j", a, a).astype(np.float64) * np.einsum("ij,ij->j", b, b))
            ok = norms > 0
            cosine = (float(np.mean(np.einsum("ij,ij->j", a, b)[ok] / norms[ok]))
                      if ok.any() else math.nan)
        return LayerStats(mean=mean, std=math.sqrt(var) if var >= 0 else math.nan, cosine=cosine,
                          saturated=int(saturated) / n, dead=int(dead) / hn.shape[1],
                          zeros=int(zeros) / n, unit_std=math.sqrt(unit_var) if unit_var >= 0 else math.nan,
                          input_share=unit_var / var if var > 0 else math.nan)


def histogram_frame(X, weights: Sequence[np.ndarray], activation: str = "sigmoid", *, scale: float = 1.0,
                    bins: int = BINS, value_range: tuple[float, float] = (0.0, 1.0)) -> tuple[np.ndarray, list]:
    """One frame of the live explorer: per-layer histograms and :class:`LayerStats`, fast.

    The network of :func:`coursekit.experiments.forward` with weights ``scale · W_l``, computed in float32 with torch
    on one thread. Returns ``(fractions, stats)``: ``fractions`` (depth, bins) is the fraction
    of each layer's values per bin of ``value_range``; values outside the range (and NaN, from
    inf − inf once values pass float32's range) are in no bin, so ``1 − fractions.sum(axis=1)``
    is the share beyond the axis. ``cosine`` here is the *units alike* cosine (unit pairs' output columns), not LayerStats' sample-pair cosine. Statistics
    agree with :func:`coursekit.experiments.layer_stats` to float32 rounding. For many
    frames of one network, make a :class:`HistogramFrames` once and call it.
    """
    if value_range is None:  # the per-layer ranges are HistogramFrames.frame's business
        raise TypeError("value_range must be a pair (low, high); got None")
    return HistogramFrames(X, weights)(activation, scale=scale, bins=bins, value_range=value_range)
