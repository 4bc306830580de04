"""Chapter 06's live explorer: softmax(z / T) as a figure, beside a slider for T.

The numbers are :func:`coursekit.softmax.softmax_temperature` and
:func:`coursekit.softmax.temperature_stats` (the pure frame function). :func:`draw_temperature`
is the pure draw function the tests call; :class:`TemperatureExplorer` wraps the same drawing
in a slider widget that re-renders a PNG synchronously whenever the slider's ``value`` is set.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coursekit._checks import check_number, describe
from coursekit.softmax import (
    _check_class_logits,
    entropy,
    softmax,
    softmax_temperature,
    temperature_stats,
)
from coursekit.widgets._common import (
    Blitter,
    canvas_png,
    explorer_box,
    html_table,
    kernel_note,
    live_bundle,
    plot_image,
    stats_panel,
)

__all__ = [
    "DEFAULT_LOGITS",
    "T_MIN",
    "T_MAX",
    "softmax_temperature",
    "temperature_stats",
    "draw_temperature",
    "render_png",
    "temperature_stats_html",
    "TemperatureExplorer",
    "temperature_explorer",
]

#: Logits of a made-up 5-class classifier, used when none are given.
DEFAULT_LOGITS: tuple[float, ...] = (2.0, 1.0, 0.5, 0.0, -1.0)

#: The slider's range: a log scale, so T = 0.1 and T = 10 are equally far from 1.
T_MIN, T_MAX = 0.1, 10.0


def _check_labels(labels: Sequence[str] | None, k: int) -> list[str]:
    if labels is None:
        return [f"class {i}" for i in range(k)]
    if isinstance(labels, str) or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"labels must be a list of {k} strings; got {describe(labels)}")
    labels = list(labels)
    if len(labels) != k:
        raise ValueError(f"labels must hold one name per logit ({k}); got {len(labels)} labels")
    return labels


def temperature_stats_html(stats: dict[str, Any], labels: Sequence[str]) -> str:
    """The statistics line(s) shown beside the figure, as HTML (values rounded for display)."""
    cells = [f"{html.escape(name)}: <b>{p:.3f}</b>" for name, p in zip(labels, stats["probs"], strict=True)]
    header = (
        f"<div>T = <b>{stats['temperature']:.3f}</b> &nbsp;·&nbsp; "
        f"max p = <b>{stats['max_prob']:.3f}</b> ({html.escape(labels[stats['argmax']])}) &nbsp;·&nbsp; "
        f"entropy = <b>{stats['entropy']:.3f}</b> nats = <b>{stats['entropy_fraction']:.3f}</b> · ln K</div>"
    )
    return html_table(cells, cell_style="padding:0 6px", header=header)


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
        ax_h.plot(grid, entropy(probs) / np.log(k), color="C2", label="entropy / ln K")
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
        self._blit: Blitter | None = None

    def start_blitting(self) -> None:
        """Draw the static parts once and keep them; :meth:`png` then redraws only what moves."""
        # The reference lines are redrawn too, so they stay on top of the bars.
        self._blit = Blitter(self.fig.canvas, [*self.bars, self.reference, self.uniform, self.marker_h,
                                               self.marker_p, self.vline, self.ax_p.title])

    def png(self) -> bytes:
        """The current state as PNG bytes (blitted when :meth:`start_blitting` was called)."""
        return render_png(self.fig) if self._blit is None else self._blit.png()

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
    return canvas_png(canvas)


class TemperatureExplorer:
    """A slider for T (log scale, 0.1 … 10), the figure as a PNG image and a statistics line.

    ``widget`` (also ``.box``) is the box to display (class ``coursekit-explorer``); ``controls``
    maps "temperature" to the slider (also ``.slider``); ``.image`` (``coursekit-plot``) and
    ``.stats`` (``coursekit-stats``) are its other parts, and :meth:`frame` is the pure frame
    function (:func:`coursekit.softmax.temperature_stats` of the logits). Setting
    ``.slider.value`` redraws at once (an ``observe`` callback), so tests can drive it without
    a browser.
    """

    def __init__(self, logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                 labels: Sequence[str] | None = None, step: float = 0.05):
        import ipywidgets as widgets  # imported lazily: the figure needs no widget stack

        z = _check_class_logits(logits)
        temperature = check_number("temperature", temperature, positive=True)
        if not T_MIN <= temperature <= T_MAX:
            raise ValueError(f"temperature must be in [{T_MIN}, {T_MAX}] (the slider's range); got {temperature}")
        step = check_number("step", step, positive=True)
        self.z = z
        self.labels = _check_labels(labels, z.size)
        self._plot = _TemperaturePlot(z, self.labels, temperature)
        self._plot.start_blitting()
        self.slider = widgets.FloatLogSlider(
            value=temperature, base=10, min=np.log10(T_MIN), max=np.log10(T_MAX), step=step,
            description="T", readout_format=".3f", continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        self.controls = {"temperature": self.slider}
        self.image = plot_image(int(self._plot.fig.bbox.width))
        self.stats = stats_panel()
        self.widget = self.box = explorer_box([self.slider, self.stats, self.image, kernel_note()])
        self.slider.observe(self._on_change, names="value")
        self.update(temperature)

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update(change["new"])

    def frame(self, temperature: float) -> dict[str, Any]:
        """The numbers shown for ``temperature`` (no drawing): :func:`coursekit.softmax.temperature_stats`."""
        return temperature_stats(self.z, temperature)

    def update(self, temperature: float) -> dict[str, Any]:
        """Redraw for ``temperature``; returns :func:`coursekit.softmax.temperature_stats` for it."""
        stats = self._plot.update(temperature)
        self.image.value = self._plot.png()
        self.stats.value = temperature_stats_html(stats, self.labels)
        self.last_stats = stats
        return stats

    def _repr_mimebundle_(self, **kwargs):
        # Lets a cell end with the explorer object itself and still show the widget; viewed
        # without a kernel, the notebook shows a line saying so instead of "VBox(children=...)".
        return live_bundle(self.widget, **kwargs)


def temperature_explorer(logits: Any = DEFAULT_LOGITS, temperature: float = 1.0, *,
                         labels: Sequence[str] | None = None) -> TemperatureExplorer:
    """Build a :class:`TemperatureExplorer`; display it by ending a cell with it (or ``display(ex.widget)``)."""
    return TemperatureExplorer(logits, temperature, labels=labels)
