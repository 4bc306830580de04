"""Chapter 06's live explorer: softmax(z / T) beside a control for T.

The numbers are :func:`coursekit.widgets.numbers.temperature_frame` (from
:func:`coursekit.softmax.temperature_stats`), one frame per temperature of
:data:`coursekit.widgets.numbers.TEMPERATURE_GRID`, all computed once in the kernel and drawn
by ``explorer.js`` on a canvas. :func:`draw_temperature` is the static matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coursekit._checks import check_number, describe
from coursekit.plotting import PALETTE
from coursekit.softmax import (
    _check_class_logits,
    entropy,
    softmax,
    softmax_temperature,
    temperature_stats,
)
from coursekit.widgets import numbers as nb
from coursekit.widgets._common import Control, Explorer
from coursekit.widgets.png import encode_png

__all__ = [
    "DEFAULT_LOGITS",
    "T_MIN",
    "T_MAX",
    "softmax_temperature",
    "temperature_stats",
    "draw_temperature",
    "render_png",
    "TemperatureExplorer",
    "TEMPERATURE_LEGEND",
    "temperature_explorer",
]

#: Logits of a made-up 5-class classifier, used when none are given.
DEFAULT_LOGITS: tuple[float, ...] = (2.0, 1.0, 0.5, 0.0, -1.0)

#: The control's range (:data:`coursekit.widgets.numbers.TEMPERATURE_GRID`, 0.1 … 10).
T_MIN, T_MAX = nb.TEMPERATURE_GRID[0], nb.TEMPERATURE_GRID[-1]


def _check_labels(labels: Sequence[str] | None, k: int) -> list[str]:
    if labels is None:
        return [f"class {i}" for i in range(k)]
    if isinstance(labels, str) or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"labels must be a list of {k} strings; got {describe(labels)}")
    labels = list(labels)
    if len(labels) != k:
        raise ValueError(f"labels must hold one name per logit ({k}); got {len(labels)} labels")
    return labels


class _TemperaturePlot:
    """One figure (pyplot-free) whose artists are updated in place for each new temperature."""

    def __init__(self, z: np.ndarray, labels: list[str], temperature: float,
                 figsize: tuple[float, float] = (8.0, 3.0), dpi: float = 90):
        self.z = z
        self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.fig)  # attaches itself as fig.canvas
        ax_p, ax_h = self.fig.subplots(1, 2, width_ratios=[1.2, 1])
        k = z.size
        x = np.arange(k)
        # Fixed axis limits: only bar heights and the marker move, so frames are comparable.
        self.bars = ax_p.bar(x, np.zeros(k), color=PALETTE[0], label="softmax(z / T)")
        (self.reference,) = ax_p.step(np.r_[x - 0.5, k - 0.5], np.r_[softmax(z), softmax(z)[-1]], where="post",
                  color=PALETTE[1], ls="--", lw=1.2, label="T = 1")
        self.uniform = ax_p.axhline(1 / k, color=PALETTE[-1], alpha=0.55, lw=0.8, ls=":", label="uniform 1/K")
        ax_p.set_xticks(x, labels, fontsize=8)
        ax_p.set_ylim(0, 1)
        ax_p.set_ylabel("probability")
        ax_p.legend(loc="upper right", fontsize=8)
        self.ax_p = ax_p

        grid = np.geomspace(T_MIN, T_MAX, 121)
        probs = softmax(z[None, :] / grid[:, None])
        ax_h.plot(grid, entropy(probs) / np.log(k), color=PALETTE[2], label="entropy / ln K")
        ax_h.plot(grid, probs.max(axis=1), color=PALETTE[0], label="max p")
        ax_h.set_xscale("log")
        ax_h.set_xlim(T_MIN, T_MAX)
        ax_h.set_ylim(0, 1.02)
        ax_h.set_xlabel("temperature T (log scale)")
        ax_h.legend(loc="center right", fontsize=8)
        (self.marker_h,) = ax_h.plot([], [], "o", color=PALETTE[2])
        (self.marker_p,) = ax_h.plot([], [], "o", color=PALETTE[0])
        self.vline = ax_h.axvline(1.0, color=PALETTE[-1], alpha=0.7, lw=0.8)
        self.update(temperature)
        # Lay the figure out once, then freeze it: re-running constrained layout on every
        # slider step would cost more than the drawing itself.
        self.fig.canvas.draw()
        self.fig.set_layout_engine("none")

    def update(self, temperature: float) -> dict[str, Any]:
        stats = temperature_stats(self.z, temperature)
        for bar, p in zip(self.bars, stats["probs"], strict=True):
            bar.set_height(p)
        self.marker_h.set_data([temperature], [stats["entropy_fraction"]])
        self.marker_p.set_data([temperature], [stats["max_prob"]])
        self.vline.set_xdata([temperature, temperature])
        self.ax_p.set_title(f"T = {temperature:.3f}: max p = {stats['max_prob']:.3f}")
        return stats


def draw_temperature(logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                     labels: Sequence[str] | None = None) -> Figure:
    """Figure of softmax(logits / T): bars beside the T = 1 outline, and entropy / max p against T.

    ``logits``: (K,) with K >= 2; ``temperature`` > 0. Returns a new
    ``matplotlib.figure.Figure`` (not registered with pyplot; show it with
    ``display(fig)`` or save it with ``fig.savefig``).
    """
    z = _check_class_logits(logits)
    temperature = check_number("temperature", temperature, positive=True)
    return _TemperaturePlot(z, _check_labels(labels, z.size), temperature).fig


def render_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, drawn with the Agg canvas (no pyplot, no display needed)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return encode_png(np.asarray(canvas.buffer_rgba()))



TEMPERATURE_LEGEND = (
    "Bars: softmax(z / T), the probability of each class; dashed outline: T = 1; dotted line: uniform 1/K. "
    "Right: entropy / ln K (0: one class certain, 1: uniform) and max p against T, the current T marked · "
    "max p: the largest probability (its class in brackets) · entropy: −Σ p ln p in nats."
)


class TemperatureExplorer(Explorer):
    """A control for T (0.1 … 10, :data:`coursekit.widgets.numbers.TEMPERATURE_GRID`), softmax(z / T) drawn from numbers.

    ``widget`` is what is displayed; ``controls`` maps "temperature" to its :class:`Control`;
    :meth:`frame` gives the numbers for a temperature (:func:`coursekit.widgets.numbers.temperature_frame`).
    """

    def __init__(self, logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                 labels: Sequence[str] | None = None) -> None:
        z = _check_class_logits(logits)
        temperature = check_number("temperature", temperature, positive=True)
        if not T_MIN <= temperature <= T_MAX:
            raise ValueError(f"temperature must be in [{T_MIN}, {T_MAX}] (the control's range); got {temperature}")
        index = nb.grid_index("temperature", temperature, nb.TEMPERATURE_GRID)
        self.z = z
        self.labels = _check_labels(labels, z.size)
        grid = nb.TEMPERATURE_GRID
        self.controls = {"temperature": Control(self, "temperature", "T", "range", grid=grid,
                                                check=lambda v: nb.grid_index("temperature", v, grid))}
        spec = {
            "kind": "temperature", "title": "Softmax temperature", "legend": TEMPERATURE_LEGEND,
            "labels": self.labels, "reference": [nb.round_sig(p, 4) for p in softmax(z)],
            "curves": nb.temperature_curves(z, grid),
            "controls": [{"name": "temperature", "label": "temperature T", "type": "range",
                          "texts": [f"{t:g}" for t in grid], "values": list(grid)}],
            "table": [nb.temperature_frame(z, t) for t in grid], "table_key": "temperature",
        }
        self._start(spec, {"temperature": index})

    def frame(self, temperature: float) -> dict[str, Any]:
        """The numbers shown for ``temperature`` (no drawing)."""
        return nb.temperature_frame(self.z, temperature)


def temperature_explorer(logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                         labels: Sequence[str] | None = None) -> TemperatureExplorer:
    """Build a :class:`TemperatureExplorer`; display it by ending a cell with it."""
    return TemperatureExplorer(logits, temperature, labels=labels)
