"""Chapter 03's live explorer: LeakyReLU's negative slope, its curves and a layer's negative units.

:func:`slope_explorer` computes every frame (:func:`coursekit.widgets.numbers.slope_frame`, one
per slope 0, 0.01, …, 0.5: the curve points and the layer's statistics) once, in the kernel,
and hands them to ``explorer.js``, which draws the chosen one on a canvas: a slider move needs
no round trip to the kernel. :class:`SlopePlot` is a static matplotlib figure of the same curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coursekit._checks import check_int, check_number, describe
from coursekit.activations import _check_batch, leaky_relu, leaky_relu_grad, relu
from coursekit.plotting import PALETTE
from coursekit.widgets import numbers as nb
from coursekit.widgets._common import Control, Explorer
from coursekit.widgets.png import encode_png

__all__ = ["SlopePlot", "SlopeExplorer", "slope_explorer", "SLOPE_LEGEND"]

#: The plain-text form of the explorer's box, shown where the notebook is not run.
SLOPE_TEXT = "live explorer: run this cell in JupyterLab"


class _Blitter:
    """The static parts of an Agg canvas drawn once; only the ``moving`` artists redrawn per frame."""

    def __init__(self, canvas, moving: Sequence[Any]) -> None:
        self.canvas, self.moving = canvas, list(moving)
        for artist in self.moving:
            artist.set_animated(True)  # left out of full draws, drawn by hand in redraw()
        canvas.draw()
        self.background = canvas.copy_from_bbox(canvas.figure.bbox)

    def redraw(self) -> None:
        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.canvas.figure.draw_artist(artist)


class SlopePlot:
    """A persistent figure of LeakyReLU (left) and its derivative (right) on x in [−4, 4].

    It keeps state so that a slider stays fast: the axes, ticks and labels are drawn
    once and kept as a background bitmap (fixed axis limits make it reusable); each
    :meth:`draw` restores that bitmap and redraws only the two curves and the label
    (a blitter). Built on ``matplotlib.figure.Figure`` + Agg,
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
        ax_f.plot(self.x, relu(self.x), ":", color=PALETTE[-1], alpha=0.55, label="ReLU (slope 0)")
        ax_f.set(title="LeakyReLU", xlabel="x", ylabel="f(x)", xlim=(-4, 4), ylim=(-2.2, 4.2))
        ax_d.set(title="derivative", xlabel="x", ylabel="f'(x)", xlim=(-4, 4), ylim=(-0.1, 1.15))
        (self.line_f,) = ax_f.plot(self.x, self.x, color=PALETTE[0], label="LeakyReLU")
        (self.line_d,) = ax_d.plot(self.x, self.x, color=PALETTE[1])
        self.label = ax_d.text(0.04, 0.5, "", transform=ax_d.transAxes)
        ax_f.legend(loc="upper left")
        self.fig.tight_layout()
        self._blit = _Blitter(self.canvas, [self.line_f, self.line_d, self.label])
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
        return encode_png(np.asarray(self.canvas.buffer_rgba()))



SLOPE_LEGEND = (
    "Left: LeakyReLU f(x) = a·x for x < 0, x for x > 0 (dotted: ReLU, a = 0); right: its derivative. "
    "units negative on every input: units whose pre-activation z < 0 for every sample — dead for ReLU "
    "(output 0, gradient 0); with a > 0 they output a·z, never exactly 0, and still learn · units with zero "
    "gradient everywhere: f′(z) = 0 on every sample (only at a = 0) · mean f′(z): over all units and samples."
)


class SlopeExplorer(Explorer):
    """Chapter 03's explorer: LeakyReLU's slope ``a`` (0 … 0.5, steps of 0.01) for a layer ``z`` (N, units).

    ``controls`` is {"slope": Control}; :meth:`frame` gives the numbers for a slope; every
    frame is computed here once and sent with the widget (``spec["table"]``).
    """

    def __init__(self, z, negative_slope: float = 0.01) -> None:
        z = _check_batch(z, "z")
        a = check_number("negative_slope", negative_slope, minimum=0.0)
        if a > nb.SLOPE_GRID[-1]:
            raise ValueError(f"negative_slope must be <= {nb.SLOPE_GRID[-1]}, the slider's range; got {a}")
        index = nb.grid_index("negative_slope", a, nb.SLOPE_GRID)
        self.z = z
        self.controls = {"slope": Control(self, "slope", "slope", "range", grid=nb.SLOPE_GRID,
                                          check=lambda v: nb.grid_index("slope", v, nb.SLOPE_GRID))}
        spec = {
            "kind": "slope", "title": "LeakyReLU's negative slope", "legend": SLOPE_LEGEND,
            "x": list(nb.SLOPE_X),
            "controls": [{"name": "slope", "label": "negative slope a", "type": "range",
                          "texts": [f"{v:.2f}" for v in nb.SLOPE_GRID], "values": list(nb.SLOPE_GRID)}],
            "table": [nb.slope_frame(z, v) for v in nb.SLOPE_GRID], "table_key": "slope",
        }
        self._start(spec, {"slope": index})

    def frame(self, negative_slope: float) -> dict[str, Any]:
        """The numbers shown for ``negative_slope`` (:func:`coursekit.widgets.numbers.slope_frame`)."""
        return nb.slope_frame(self.z, negative_slope)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/plain"] = SLOPE_TEXT  # what the stored chapter shows without a kernel
        return bundle


def slope_explorer(z, negative_slope: float = 0.01) -> SlopeExplorer:
    """A live explorer of LeakyReLU's slope for the layer ``z`` (N, n_units): a slider, two curves,
    the layer's numbers. Display it by ending a cell with it. See :class:`SlopeExplorer`."""
    return SlopeExplorer(z, negative_slope)
