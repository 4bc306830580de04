"""Softmax temperature: softmax(z / T), its statistics, a figure, and a live slider (ch. 06).

T < 1 sharpens the distribution towards the argmax (one-hot as T -> 0), T > 1
flattens it towards uniform (1/K as T -> inf); the ranking of the classes never
changes. :func:`draw_temperature` is the pure draw function the tests call;
:func:`temperature_explorer` wraps the same drawing in a slider widget that
re-renders a PNG synchronously whenever the slider's ``value`` is set.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coursekit._checks import as_float_array, check_number, describe
from coursekit.softmax import _as_logits, softmax

__all__ = [
    "DEFAULT_LOGITS",
    "softmax_temperature",
    "temperature_stats",
    "draw_temperature",
    "render_png",
    "stats_html",
    "TemperatureExplorer",
    "temperature_explorer",
]

#: Logits of a made-up 5-class classifier, used when none are given.
DEFAULT_LOGITS: tuple[float, ...] = (2.0, 1.0, 0.5, 0.0, -1.0)

#: The slider's range: a log scale, so T = 0.1 and T = 10 are equally far from 1.
T_MIN, T_MAX = 0.1, 10.0


def _check_logits(logits: Any) -> np.ndarray:
    z = as_float_array("logits", logits, ndim=1).astype(np.float64)
    if z.size < 2:
        raise ValueError(f"logits must hold at least 2 classes; got {describe(z)}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"logits must be finite; got {describe(z)} containing inf or nan")
    return z


def _check_labels(labels: Sequence[str] | None, k: int) -> list[str]:
    if labels is None:
        return [f"class {i}" for i in range(k)]
    if isinstance(labels, str) or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"labels must be a list of {k} strings; got {describe(labels)}")
    labels = list(labels)
    if len(labels) != k:
        raise ValueError(f"labels must hold one name per logit ({k}); got {len(labels)} labels")
    return labels


def softmax_temperature(logits: Any, temperature: float, axis: int = -1) -> np.ndarray:
    """Softmax with temperature: p_i = exp(z_i / T) / sum_j exp(z_j / T); same shape and dtype as ``logits``."""
    temperature = check_number("temperature", temperature, positive=True)
    z = _as_logits("logits", logits)
    # Divide in float64: in float16, z / T overflows already for |z / T| > 65504.
    with np.errstate(over="ignore"):  # reported below as a clear error instead
        scaled = z.astype(np.float64) / temperature
    if not np.all(np.isfinite(scaled)) and np.all(np.isfinite(z)):
        raise ValueError(f"temperature {temperature} is too small for these logits: logits / temperature "
                         "overflows float64")
    return softmax(scaled, axis=axis).astype(z.dtype, copy=False)


def _entropy(p: np.ndarray) -> np.ndarray:
    # 0 * log 0 = 0 by continuity; where p underflowed to 0 it contributes nothing.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=-1)


def temperature_stats(logits: Any, temperature: float) -> dict[str, Any]:
    """Numbers describing softmax(logits / T) for 1-D ``logits`` (K,).

    Returns ``probs`` (K,), ``max_prob``, ``argmax``, ``entropy`` in nats
    (H = -sum p log p, between 0 and ln K) and ``entropy_fraction`` = H / ln K
    (0: one-hot, 1: uniform).
    """
    z = _check_logits(logits)
    temperature = check_number("temperature", temperature, positive=True)
    p = softmax(z / temperature)
    h = float(_entropy(p))
    return {
        "temperature": temperature,
        "probs": p,
        "max_prob": float(p.max()),
        "argmax": int(p.argmax()),
        "entropy": h,
        "entropy_fraction": h / float(np.log(z.size)),
    }


def stats_html(stats: dict[str, Any], labels: Sequence[str]) -> str:
    """The statistics line(s) shown beside the figure, as HTML (values rounded for display)."""
    cells = "".join(
        f"<td style='padding:0 6px'>{html.escape(name)}: <b>{p:.3f}</b></td>"
        for name, p in zip(labels, stats["probs"], strict=True)
    )
    return (
        f"<div>T = <b>{stats['temperature']:.3f}</b> &nbsp;·&nbsp; "
        f"max p = <b>{stats['max_prob']:.3f}</b> ({html.escape(labels[stats['argmax']])}) &nbsp;·&nbsp; "
        f"entropy = <b>{stats['entropy']:.3f}</b> nats = <b>{stats['entropy_fraction']:.3f}</b> · ln K</div>"
        f"<table><tr>{cells}</tr></table>"
    )


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
        self.bars = ax_p.bar(x, np.zeros(k), color="C0", label="softmax(z / T)")
        (self.reference,) = ax_p.step(np.r_[x - 0.5, k - 0.5], np.r_[softmax(z), softmax(z)[-1]], where="post",
                  color="C1", ls="--", lw=1.2, label="T = 1")
        self.uniform = ax_p.axhline(1 / k, color="0.5", lw=0.8, ls=":", label="uniform 1/K")
        ax_p.set_xticks(x, labels, fontsize=8)
        ax_p.set_ylim(0, 1)
        ax_p.set_ylabel("probability")
        ax_p.legend(loc="upper right", fontsize=8)
        self.ax_p = ax_p

        grid = np.geomspace(T_MIN, T_MAX, 121)
        probs = softmax(z[None, :] / grid[:, None])
        ax_h.plot(grid, _entropy(probs) / np.log(k), color="C2", label="entropy / ln K")
        ax_h.plot(grid, probs.max(axis=1), color="C0", label="max p")
        ax_h.set_xscale("log")
        ax_h.set_xlim(T_MIN, T_MAX)
        ax_h.set_ylim(0, 1.02)
        ax_h.set_xlabel("temperature T (log scale)")
        ax_h.legend(loc="center right", fontsize=8)
        (self.marker_h,) = ax_h.plot([], [], "o", color="C2")
        (self.marker_p,) = ax_h.plot([], [], "o", color="C0")
        self.vline = ax_h.axvline(1.0, color="0.3", lw=0.8)
        self.update(temperature)
        # Lay the figure out once, then freeze it: re-running constrained layout on every
        # slider step would cost more than the drawing itself.
        self.fig.canvas.draw()
        self.fig.set_layout_engine("none")
        self._background = None

    def start_blitting(self) -> None:
        """Draw the static parts once and keep them; :meth:`png` then redraws only what moves."""
        # The reference lines are redrawn too, so they stay on top of the bars.
        self._moving = [*self.bars, self.reference, self.uniform, self.marker_h, self.marker_p, self.vline, self.ax_p.title]
        for artist in self._moving:
            artist.set_animated(True)  # left out of full draws, drawn by hand in png()
        self.fig.canvas.draw()
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def png(self) -> bytes:
        """The current state as PNG bytes (blitted when :meth:`start_blitting` was called)."""
        if self._background is None:
            return render_png(self.fig)
        canvas = self.fig.canvas
        canvas.restore_region(self._background)
        for artist in self._moving:
            self.fig.draw_artist(artist)
        return _png_bytes(canvas)

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
    z = _check_logits(logits)
    temperature = check_number("temperature", temperature, positive=True)
    return _TemperaturePlot(z, _check_labels(labels, z.size), temperature).fig


def render_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, drawn with the Agg canvas (no pyplot, no display needed)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return _png_bytes(canvas)


def _png_bytes(canvas: FigureCanvasAgg) -> bytes:
    from coursekit.widgets import encode_png  # the live explorers' fast encoder

    return encode_png(np.asarray(canvas.buffer_rgba()))


def _widgets():
    import ipywidgets as widgets  # imported lazily: the numeric functions need no widget stack

    return widgets


class TemperatureExplorer:
    """A slider for T (log scale, 0.1 … 10), the figure as a PNG image and a statistics line.

    ``.box`` is the widget to display (class ``coursekit-explorer``); ``.slider``,
    ``.image`` (``coursekit-plot``) and ``.stats`` (``coursekit-stats``) are its
    parts. Setting ``.slider.value`` redraws at once (an ``observe`` callback),
    so tests can drive it without a browser.
    """

    def __init__(self, logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                 labels: Sequence[str] | None = None, step: float = 0.05):
        widgets = _widgets()
        z = _check_logits(logits)
        temperature = check_number("temperature", temperature, positive=True)
        if not T_MIN <= temperature <= T_MAX:
            raise ValueError(f"temperature must be in [{T_MIN}, {T_MAX}] (the slider's range); got {temperature}")
        step = check_number("step", step, positive=True)
        self.labels = _check_labels(labels, z.size)
        self._plot = _TemperaturePlot(z, self.labels, temperature)
        self._plot.start_blitting()
        self.slider = widgets.FloatLogSlider(
            value=temperature, base=10, min=np.log10(T_MIN), max=np.log10(T_MAX), step=step,
            description="T", readout_format=".3f", continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        # Shown at its own pixel size: stretched to the notebook's width it would look blurred.
        self.image = widgets.Image(format="png", width=int(self._plot.fig.bbox.width))
        self.image.add_class("coursekit-plot")
        self.stats = widgets.HTML()
        self.stats.add_class("coursekit-stats")
        from coursekit.widgets import kernel_note

        self.box = widgets.VBox([self.slider, self.stats, self.image, kernel_note()])
        self.box.add_class("coursekit-explorer")
        self.slider.observe(self._on_change, names="value")
        self.update(temperature)

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update(change["new"])

    def update(self, temperature: float) -> dict[str, Any]:
        """Redraw for ``temperature``; returns :func:`temperature_stats` for it."""
        stats = self._plot.update(temperature)
        self.image.value = self._plot.png()
        self.stats.value = stats_html(stats, self.labels)
        self.last_stats = stats
        return stats

    def _repr_mimebundle_(self, **kwargs):
        # Lets a cell end with the explorer object itself and still show the widget; viewed
        # without a kernel, the notebook shows a line saying so instead of "VBox(children=...)".
        from coursekit.widgets import live_bundle

        return live_bundle(self.box, **kwargs)


def temperature_explorer(logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                         labels: Sequence[str] | None = None) -> TemperatureExplorer:
    """Build a :class:`TemperatureExplorer`; display it by ending a cell with it (or ``display(ex.box)``)."""
    return TemperatureExplorer(logits, temperature, labels=labels)
