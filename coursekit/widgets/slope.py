"""Chapter 03's live explorer: LeakyReLU's negative slope, its picture and a layer's dead units.

:class:`SlopePlot` is the persistent, blitted figure; :func:`slope_explorer` puts it beside
a slider and the statistics of a layer (:func:`coursekit.activations.slope_stats`, the pure
frame function, numbers only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coursekit._checks import check_int, check_number, describe
from coursekit.activations import _check_batch, leaky_relu, leaky_relu_grad, relu, slope_stats
from coursekit.widgets._common import Blitter, canvas_png, explorer_box, plot_image, stats_panel

__all__ = ["SlopePlot", "slope_explorer", "slope_stats_html"]

#: The plain-text form of the explorer's box, shown where the notebook is not run.
SLOPE_TEXT = "live explorer: run this cell in JupyterLab"


class SlopePlot:
    """A persistent figure of LeakyReLU (left) and its derivative (right) on x in [−4, 4].

    It keeps state so that a slider stays fast: the axes, ticks and labels are drawn
    once and kept as a background bitmap (fixed axis limits make it reusable); each
    :meth:`draw` restores that bitmap and redraws only the two curves and the label
    (:class:`coursekit.widgets._common.Blitter`). Built on ``matplotlib.figure.Figure`` + Agg,
    without pyplot.
    """

    def __init__(self, negative_slope: float = 0.01, *, figsize: tuple[float, float] = (7.0, 2.6),
                 dpi: int = 80) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        negative_slope = check_number("negative_slope", negative_slope)
        if (isinstance(figsize, (str, bytes)) or not isinstance(figsize, Sequence | np.ndarray) or len(figsize) != 2
                or not all(check_number(f"figsize[{i}]", v, positive=True) for i, v in enumerate(figsize))):
            raise TypeError(f"figsize must be a pair (width, height) in inches; got {describe(figsize)}")
        dpi = check_int("dpi", dpi, minimum=10, maximum=1000)
        self.x = np.linspace(-4.0, 4.0, 401)
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        ax_f, ax_d = self.fig.subplots(1, 2)
        ax_f.plot(self.x, relu(self.x), ":", color="gray", label="ReLU (slope 0)")
        ax_f.set(title="LeakyReLU", xlabel="x", ylabel="f(x)", xlim=(-4, 4), ylim=(-2.2, 4.2))
        ax_d.set(title="derivative", xlabel="x", ylabel="f'(x)", xlim=(-4, 4), ylim=(-0.1, 1.15))
        (self.line_f,) = ax_f.plot(self.x, self.x, color="C0", label="LeakyReLU")
        (self.line_d,) = ax_d.plot(self.x, self.x, color="C1")
        self.label = ax_d.text(0.04, 0.5, "", transform=ax_d.transAxes)
        ax_f.legend(loc="upper left")
        self.fig.tight_layout()
        self._blit = Blitter(self.canvas, [self.line_f, self.line_d, self.label])
        #: (width, height) of the picture in pixels
        self.size = (int(self.canvas.get_width_height()[0]), int(self.canvas.get_width_height()[1]))
        self.draw(negative_slope)

    def draw(self, negative_slope: float) -> None:
        """Redraw the curves for ``negative_slope`` (only the changed artists)."""
        a = check_number("negative_slope", negative_slope)
        self.negative_slope = a
        self.line_f.set_ydata(leaky_relu(self.x, a))
        self.line_d.set_ydata(leaky_relu_grad(self.x, a))
        self.label.set_text(f"slope a = {a:.2f}")
        self._blit.redraw()

    def png(self) -> bytes:
        """The current picture as PNG bytes (fast, lightly compressed)."""
        return canvas_png(self.canvas)


def slope_stats_html(stats: dict[str, float]) -> str:
    """The statistics line of the slope explorer, from :func:`coursekit.activations.slope_stats`."""
    return (
        f"negative_slope = {stats['negative_slope']:.2f} · dead units (output 0 on every sample): "
        f"{stats['dead']:.1%} · units with zero gradient everywhere: {stats['zero_grad_units']:.1%} · "
        f"mean f'(z): {stats['mean_grad']:.3f}"
    )


def slope_explorer(z, negative_slope: float = 0.01):
    """A live explorer: a slider for LeakyReLU's slope, a plot and the stats of layer ``z`` (N, n_units).

    Returns the box to display (class ``coursekit-explorer``; the statistics ``coursekit-stats``,
    the picture ``coursekit-plot``). Like every explorer it carries ``controls`` ({"slope":
    slider}), ``widget`` (the box itself) and ``frame(negative_slope)``, the pure frame function
    (:func:`coursekit.activations.slope_stats` of ``z``). One persistent :class:`SlopePlot` is
    redrawn per move; updates are synchronous when the slider's ``.value`` is set.
    """
    import ipywidgets as widgets

    z = _check_batch(z, "z")
    a = check_number("negative_slope", negative_slope, minimum=0.0)
    if a > 0.5:
        raise ValueError(f"negative_slope must be <= 0.5, the slider's range; got {a}")
    plot = SlopePlot(a)
    slider = widgets.FloatSlider(value=a, min=0.0, max=0.5, step=0.01, description="slope",
                                 readout_format=".2f", continuous_update=True)
    stats = stats_panel()
    image = plot_image(*plot.size)

    def frame(slope: float) -> dict[str, float]:
        return slope_stats(z, slope)

    def update(*_: Any) -> None:
        stats.value = slope_stats_html(frame(slider.value))
        plot.draw(slider.value)
        image.value = plot.png()

    slider.observe(update, names="value")
    update()
    box = explorer_box([slider, stats, image], text=SLOPE_TEXT)
    box.controls, box.widget, box.frame, box.plot = {"slope": slider}, box, frame, plot
    return box
