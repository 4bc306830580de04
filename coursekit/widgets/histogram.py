"""Chapter 05's live explorer: per-layer activation histograms, and their static figure.

The explorer follows the course's DOM contract (:mod:`coursekit.widgets._common`). Setting a control's
``.value`` redraws synchronously, so tests and benchmarks can drive it.

Why it is fast (about 80 times less time per move than a new pyplot figure with ``plt.hist``,
see ``benchmarks/slider_latency.py``): the numbers come from
:class:`coursekit.widgets.frames.HistogramFrames` (float32, one torch thread, the first layer's
product kept across scale moves); the picture is one Agg figure with fixed axis limits whose
background (axes, ticks, labels) is rendered once, quantised to a 128-colour palette, and each
move paints the bars into a copy of that index image (:class:`BarPainter`) and encodes it as a
palette PNG: no Agg drawing per move and a quarter of the bytes of RGBA to compress. The
numbers go into an HTML table whose cells line up under the panels (rendering text in Agg
would cost more than all the rest of a frame). The background is re-rendered only when the
layout changes (depth or activation).
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from coursekit import activations as acts
from coursekit import experiments as ex
from coursekit import init as ckinit
from coursekit._checks import check_choice, check_int, check_number
from coursekit.plotting import PALETTE
from coursekit.widgets._common import (
    explorer_box,
    html_table,
    kernel_note,
    live_bundle,
    plot_image,
    stats_panel,
)
from coursekit.widgets.frames import HistogramFrames
from coursekit.widgets.png import encode_png_indexed

#: Histogram x-range per activation: the whole output range of bounded activations (tanh is
#: negative too), a fixed window for unbounded ones (values beyond it land in the edge bins).
HIST_RANGES: Mapping[str, tuple[float, float]] = acts.HIST_RANGES  # the registry's, a live view

#: y-axis ticks: fraction of the layer's values per bin, on a square-root axis so that both a
#: spike and a spread-out histogram stay visible. The axis ends at :data:`Y_MAX`: a bin holding
#: more than half of a layer's values (a collapsed layer) reaches the top of its panel.
Y_TICKS = (0.0, 0.01, 0.05, 0.2, 0.5)
Y_MAX = 0.5

#: Share of the x-range added on each side of a panel, so that the edge bins (saturated
#: sigmoid or tanh values) are not hidden under the axis spines.
X_MARGIN = 0.04

def _centred_uniform(shape, *, rng):
    """U(−√3, √3): centred, variance 1, so ``× scale`` gives std = scale like ``normal``."""
    return ckinit.uniform(shape, -math.sqrt(3.0), math.sqrt(3.0), rng=rng)


#: The explorer's weight schemes: label shown -> what :func:`coursekit.experiments.make_weights` takes.
#: Every name of ``coursekit.init.SCHEMES`` (torch's ``uniform_`` default U(0, 1) is labelled as the
#: all-positive, not-centred choice it is) plus a centred unit-variance uniform.
EXPLORER_INITS: dict[str, Any] = {
    "normal": "normal",
    "uniform_centred": _centred_uniform,
    **{name: name for name in ckinit.SCHEMES if name not in ("normal", "uniform")},
    "uniform": "uniform",
}
EXPLORER_INIT_LABELS: dict[str, str] = {
    "normal": "normal N(0, 1)",
    "uniform_centred": "uniform U(−√3, √3), var 1",
    "uniform": "uniform U(0, 1): NOT centred",
}

#: Exact scales the chapter asks for; the log slider's grid (steps of 10^0.05) misses most of them.
SCALE_PRESETS: dict[str, float] = {"0.01": 0.01, "0.1": 0.1, "0.7": 0.7, "3/4": 0.75, "1": 1.0, "√2": math.sqrt(2.0),
                                   "5/3": 5.0 / 3.0}

#: Panels per row of the histogram figure.
PANELS_PER_ROW = 5

#: Colour and opacity of the histogram bars (static figures and the explorer alike): the
#: first colour of the course's colour-blind-safe palette.
BAR_COLOR, BAR_ALPHA = PALETTE[0], 0.8

#: Activation names in words, for axis labels and titles.
ACT_NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU",
             "identity": "identity", "gelu": "GELU", "silu": "SiLU"}


def hist_range(activation: str) -> tuple[float, float]:
    """The histogram x-range for ``activation``: (0, 1) for the sigmoid, (−1, 1) for tanh, ..."""
    return HIST_RANGES[check_choice("activation", activation, ex.ACTIVATIONS)]


def _title(i: int, s: ex.LayerStats) -> str:
    return f"layer {i}: mean {s.mean:+.2f}\nstd {s.std:.3f}, sat {s.saturated:.1%}"


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is >= x (x > 0)."""
    k = math.floor(math.log10(x))
    for m in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * 10.0**k >= x * (1 - 1e-12):
            return m * 10.0**k
    return 10.0 ** (k + 1)  # pragma: no cover


def data_range(activations, activation: str) -> tuple[float, float]:
    """Histogram x-range from the activation *and* the data: bounded outputs keep their whole range
    (sigmoid (0, 1), tanh (−1, 1)); for unbounded ones the upper end is a round number just above
    the 99.9th percentile of all layers (so a He-initialised ReLU layer is not cut at 4)."""
    lo, hi = hist_range(activation)
    if activation in ("sigmoid", "tanh"):
        return lo, hi
    top = max(float(np.nanpercentile(h, 99.9)) for h in activations)
    if math.isfinite(top) and top > 0:
        hi = _nice_ceil(top)
        lo = max(lo, -hi) if lo < 0 else lo
    return lo, hi


def layout_histograms(fig, depth: int, activation: str, bins: int = 40, *,
                      value_range: tuple[float, float] | None = None) -> list[tuple[Any, Any]]:
    """Clear ``fig`` and lay out one histogram panel per layer, fixed limits, empty steps.

    Returns one ``(stairs, title)`` pair of artists per layer, to update with
    :func:`set_histograms`. Rows of :data:`PANELS_PER_ROW` panels. ``value_range``: the bins'
    range (default :func:`hist_range`); the x-axis adds :data:`X_MARGIN` on both sides.
    """
    depth = check_int("depth", depth, minimum=1)
    bins = check_int("bins", bins, minimum=1)
    lo, hi = hist_range(activation) if value_range is None else value_range
    ncols = min(depth, PANELS_PER_ROW)
    nrows = math.ceil(depth / PANELS_PER_ROW)
    fig.clear()
    fig.set_size_inches(1.6 * ncols + 0.5, 1.8 * nrows + 0.2)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    edges = np.linspace(lo, hi, bins + 1)
    artists = []
    for k, ax in enumerate(axes.flat):
        if k >= depth:
            ax.set_visible(False)
            continue
        pad = X_MARGIN * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_xticks([lo, (lo + hi) / 2, hi])  # three ticks: neighbours' labels never collide
        ax.set_yscale("function", functions=(np.sqrt, np.square))
        ax.set_ylim(0.0, Y_MAX)
        ax.set_yticks(Y_TICKS)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(f"{ACT_NAMES.get(activation, activation)} output", fontsize=8)
        if k % ncols == 0:
            ax.set_ylabel("fraction per bin", fontsize=8)
        stairs = ax.stairs(np.zeros(bins), edges, fill=True, color=BAR_COLOR, alpha=BAR_ALPHA)
        title = ax.set_title(f"layer {k + 1}", fontsize=8, loc="left")
        artists.append((stairs, title))
    fig.subplots_adjust(left=0.5 / fig.get_figwidth() + 0.03, right=0.98, bottom=0.2 / nrows + 0.02,
                        top=1 - 0.45 / fig.get_figheight(), wspace=0.3, hspace=0.9)
    return artists


def set_histograms(artists, fractions, stats) -> None:
    """Put one frame into the artists of :func:`layout_histograms`: steps and stats titles."""
    fractions = np.asarray(fractions)
    if len(artists) != len(fractions) or len(artists) != len(stats):
        raise ValueError(
            f"need one histogram and one LayerStats per panel ({len(artists)} panels); "
            f"got {len(fractions)} histograms and {len(stats)} stats"
        )
    for i, ((stairs, title), values, s) in enumerate(zip(artists, fractions, stats, strict=True), start=1):
        stairs.set_data(values)
        title.set_text(_title(i, s))


def layer_fractions(activations, value_range: tuple[float, float], bins: int = 40) -> np.ndarray:
    """Fraction of each layer's values per bin of ``value_range``: (depth, bins).

    Values outside the range are in no bin (1 − row sum is their share), as in the explorer.
    """
    lo, hi = value_range
    return np.stack([np.histogram(h, bins=bins, range=(lo, hi))[0] / h.size for h in activations])


def plot_layer_histograms(result: ex.ForwardResult, *, bins: int = 40, fig=None, title: str | None = None):
    """Static per-layer histograms of a :func:`coursekit.experiments.forward_experiment` result.

    The x-range comes from the activation and the data (:func:`data_range`); each panel's title
    carries that layer's mean, std and saturated fraction; ``title`` (in words) goes above all.
    A new pyplot figure is made when ``fig`` is None. Returns the figure.
    """
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure()
    value_range = data_range(result.activations, result.activation)
    artists = layout_histograms(fig, len(result.activations), result.activation, bins, value_range=value_range)
    set_histograms(artists, layer_fractions(result.activations, value_range, bins), result.stats)
    if title:
        fig.suptitle(title, fontsize=10, x=0.02, ha="left", y=1.0, va="bottom")
    return fig


def stats_html(stats, header: str = "", *, left_px: int = 0, column_px: int = 130, beyond=None) -> str:
    """Per-layer statistics as an HTML table laid out like the panels: one cell per layer.

    Rows of :data:`PANELS_PER_ROW` cells ``column_px`` wide after a ``left_px`` margin, so that
    each layer's mean, std, saturated and dead fractions, per-unit spread across samples and
    input-dependent share sit right under its histogram; ``beyond`` (one share per layer)
    adds the share of values outside the x-axis.
    """
    cells = [
        f"<b>layer {i}</b><br>mean {s.mean:+.3f}<br>std {s.std:.3f}<br>"
        f"saturated {s.saturated:.2%}<br>dead {s.dead:.2%}<br>"
        f"unit std {s.unit_std:.3g}<br>input share {ex._share(s.input_share).strip()}"
        + (f"<br>beyond axis {beyond[i - 1]:.1%}" if beyond is not None and beyond[i - 1] > 5e-4 else "")
        for i, s in enumerate(stats, start=1)
    ]
    title = f"<b>{header}</b>" if header else ""
    return html_table(cells, per_row=PANELS_PER_ROW, left_px=left_px, header=title,
                      cell_style=f"width:{column_px}px;padding:0 0 6px 0;vertical-align:top;text-align:left",
                      table_style="border-collapse:collapse;table-layout:fixed;font-family:monospace;"
                                  "font-size:11px;line-height:1.35")


class BarPainter:
    """Paints one histogram per panel straight into a palette image of the figure's background.

    Made from a drawn canvas whose bars are hidden: the background is quantised once to 128
    colours (median cut; no grey level moves by more than a few units), and palette entry
    ``128 + i`` is entry ``i`` seen through a bar (``BAR_COLOR`` at ``BAR_ALPHA``). A frame is
    then the background's index image with ``128`` added under the bars, column by column:
    no Agg drawing, and a quarter of the bytes of RGBA to compress. A bar covers the pixels
    whose centres it contains (no antialiasing); the y-axis is the panels' square-root scale
    from 0 to :data:`Y_MAX`, and the bins span ``value_range`` inside the x-axis margins, as
    :func:`layout_histograms` sets them.
    """

    N_BACKGROUND = 128

    def __init__(self, canvas, axes: list, bins: int, value_range: tuple[float, float] = (0.0, 1.0)) -> None:
        import matplotlib.colors as mcolors
        from PIL import Image

        rgb = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])
        quantized = Image.fromarray(rgb).quantize(colors=self.N_BACKGROUND, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)
        self.background = np.array(quantized, dtype=np.uint8)  # (H, W) palette indices < 128
        palette = np.zeros((self.N_BACKGROUND, 3))
        used = np.asarray(quantized.getpalette(), dtype=float).reshape(-1, 3)[:self.N_BACKGROUND]
        palette[:len(used)] = used
        bar = 255 * np.asarray(mcolors.to_rgb(BAR_COLOR))
        seen_through_bar = BAR_ALPHA * bar + (1 - BAR_ALPHA) * palette
        self.palette = np.round(np.concatenate([palette, seen_through_bar])).astype(np.uint8)
        height = self.background.shape[0]
        self.panels = []
        for ax in axes:
            # display pixels, origin bottom left; pixel (row r, column c) has its centre at
            # (c + 0.5, height - r - 0.5): a bar covers the pixels whose centres it contains,
            # over the frame as in matplotlib (the edge bins hold the saturated values: keep them whole)
            x0, y0, x1, y1 = ax.get_window_extent().extents
            c0, c1 = math.ceil(x0 - 0.5), math.ceil(x1 - 0.5) - 1
            r0, r1 = math.floor(height - 0.5 - y1) + 1, math.floor(height - 0.5 - y0)
            centres_x = np.arange(c0, c1 + 1) + 0.5
            # each column's data x; columns in the margins beyond the bins get index ``bins``: no bar
            data_x = ax.transData.inverted().transform(np.column_stack([centres_x, np.full_like(centres_x, y0)]))[:, 0]
            position = (data_x - value_range[0]) / (value_range[1] - value_range[0]) * bins
            bin_of_column = np.where((position >= 0) & (position < bins), np.floor(position), bins).astype(np.intp)
            centres_y = (height - 0.5 - np.arange(r0, r1 + 1))[:, None]
            self.panels.append((slice(r0, r1 + 1), slice(c0, c1 + 1), bin_of_column, centres_y, y0, y1 - y0))
        # each panel's footprint (axes, title, tick labels, axis labels) in pixels, 1 px of margin
        renderer = canvas.get_renderer()
        width = self.background.shape[1]
        self.footprints = []
        for ax in axes:
            x0, y0, x1, y1 = ax.get_tightbbox(renderer).extents
            self.footprints.append((slice(max(math.floor(height - y1) - 1, 0), min(math.ceil(height - y0) + 1, height)),
                                    slice(max(math.floor(x0) - 1, 0), min(math.ceil(x1) + 1, width))))

    def subset(self, n: int) -> BarPainter:
        """A painter showing only the first ``n`` panels.

        The other panels' footprints are painted over with the figure's own background colour
        (its top-left pixel) and the picture is cut 4 pixels below the lowest panel shown, so a
        figure laid out once for the most panels serves every smaller number of them.
        """
        n = check_int("n", n, minimum=1, maximum=len(self.panels))
        bottom = min(max(rows.stop for rows, _cols in self.footprints[:n]) + 4, self.background.shape[0])
        background = self.background[:bottom].copy()
        for rows, cols in self.footprints[n:]:
            background[rows, cols] = self.background[0, 0]
        painter = copy.copy(self)
        painter.background, painter.panels, painter.footprints = background, self.panels[:n], self.footprints[:n]
        return painter

    def paint(self, fractions: np.ndarray) -> np.ndarray:
        """The (H, W) index image of one frame: ``fractions`` (panels, bins) on the y-axis 0 … Y_MAX."""
        image = self.background.copy()
        tops = np.sqrt(np.clip(fractions, 0.0, Y_MAX) / Y_MAX)  # the square-root axis from 0 to Y_MAX
        tops = np.concatenate([tops, np.zeros((len(tops), 1))], axis=1)  # index ``bins``: margin, no bar
        for (rows, cols, bin_of_column, centres_y, y0, span), top in zip(self.panels, tops, strict=True):
            under_bar = centres_y < (y0 + span * top)[bin_of_column]  # (rows, columns)
            region = image[rows, cols]
            np.add(region, self.N_BACKGROUND, out=region, where=under_bar)
        return image

    def png(self, fractions: np.ndarray) -> bytes:
        return encode_png_indexed(self.paint(fractions), self.palette)


class HistogramExplorer:
    """Live per-layer activation histograms: weight scale, init scheme, activation, depth, width.

    The network is the one of :func:`coursekit.experiments.forward_experiment` with the same
    ``seed`` (inputs first, then weights), so the numbers shown match it (to float32
    rounding). Weights are ``scale · scheme((width, width))``; the schemes are
    :data:`EXPLORER_INITS` (``uniform_centred`` is U(−√3, √3), variance 1; ``uniform`` is torch's
    all-positive U(0, 1) default, labelled as not centred). Display the explorer by leaving it
    last in a cell; ``controls`` maps "scale", "init", "activation", "depth", "width" to their
    widgets, and ``presets`` holds buttons that set exact scales (:data:`SCALE_PRESETS`).
    """

    ACTIVATIONS: Sequence[str] = acts.EXPLORER_NAMES  # the registry's: one unsaturated interval each
    WIDTHS = (10, 25, 50, 100, 200, 400)
    MAX_DEPTH = 10
    LOG10_SCALE_RANGE = (-3.0, 1.0)  # weight scale 0.001 … 10

    def __init__(self, *, depth: int = 5, width: int = 100, n_samples: int = 1000,
                 activation: str = "sigmoid", init: str = "normal", scale: float = 1.0,
                 seed: int = 0, bins: int = 40) -> None:
        import ipywidgets as widgets

        depth = check_int("depth", depth, minimum=1, maximum=self.MAX_DEPTH)
        width = check_int("width", width)
        if width not in self.WIDTHS:
            raise ValueError(f"width must be one of {', '.join(map(str, self.WIDTHS))}; got {width}")
        self.n_samples = check_int("n_samples", n_samples, minimum=1)
        activation = check_choice("activation", activation, self.ACTIVATIONS)
        init = check_choice("init", init, EXPLORER_INITS)
        lo, hi = (10**e for e in self.LOG10_SCALE_RANGE)
        scale = check_number("scale", scale)
        if not lo <= scale <= hi:
            raise ValueError(f"scale must be between {lo:g} and {hi:g} (the slider's range); got {scale}")
        self.seed = check_int("seed", seed, minimum=0)
        self.bins = check_int("bins", bins, minimum=1)

        style = {"description_width": "initial"}
        self.controls = {
            # one arrow-key step multiplies the scale by 10^0.05 ≈ 1.12: small, but always visible
            "scale": widgets.FloatLogSlider(value=scale, base=10, min=self.LOG10_SCALE_RANGE[0],
                                            max=self.LOG10_SCALE_RANGE[1], step=0.05,
                                            description="weight scale", readout_format=".3g",
                                            continuous_update=True, style=style),
            "init": widgets.Dropdown(options=[(EXPLORER_INIT_LABELS.get(k, k), k) for k in EXPLORER_INITS],
                                     value=init, description="init", style=style),
            "activation": widgets.Dropdown(options=list(self.ACTIVATIONS), value=activation,
                                           description="activation", style=style),
            "depth": widgets.IntSlider(value=depth, min=1, max=self.MAX_DEPTH, step=1, description="depth",
                                       continuous_update=True, style=style),
            "width": widgets.Dropdown(options=list(self.WIDTHS), value=width, description="width", style=style),
        }
        self.presets = []
        for label, value in SCALE_PRESETS.items():
            button = widgets.Button(description=f"× {label}", layout=widgets.Layout(width="auto"),
                                    tooltip=f"set the weight scale to exactly {value:.6g}")
            button.on_click(functools.partial(self._set_scale, value))
            self.presets.append(button)
        self.stats = stats_panel()
        self.image = plot_image()
        c = self.controls
        self.widget = explorer_box([
            widgets.HBox([c["scale"], c["init"], c["activation"]]),
            widgets.HBox([c["depth"], c["width"], widgets.Label("exact scale:"), *self.presets]),
            self.image,
            self.stats,
            kernel_note(),
        ])

        self._exact_scale: float | None = None  # set by a preset button, until the slider moves away
        self._figures: dict[str, tuple] = {}  # per activation: figure, canvas, artists, painter, columns
        self.fractions: np.ndarray | None = None  # the last frame, for tests and readers
        self.layer_stats: list[ex.LayerStats] = []
        self._new_network()
        self._new_layout()
        self.redraw()
        c["scale"].observe(self._on_scale, names="value")
        c["init"].observe(self._on_network, names="value")
        c["width"].observe(self._on_network, names="value")
        c["depth"].observe(self._on_layout, names="value")
        c["activation"].observe(self._on_layout, names="value")

    # -- state changes -------------------------------------------------------------------------

    def _new_network(self) -> None:
        """Inputs then weights from ``default_rng(seed)``, as forward_experiment draws them."""
        c = self.controls
        rng = np.random.default_rng(self.seed)
        width = c["width"].value
        self.X = rng.standard_normal((self.n_samples, width)).astype(np.float32)
        weights = ex.make_weights(c["depth"].value, width, EXPLORER_INITS[c["init"].value], rng=rng)
        self.weights = [W.astype(np.float32) for W in weights]
        self._frames = HistogramFrames(self.X, self.weights)

    def _new_layout(self) -> None:
        """Background, bar geometry and stats columns for the current depth and activation.

        Drawing a figure with matplotlib takes a few hundred milliseconds, so it happens once per
        activation, with all ``MAX_DEPTH`` panels (rows of :data:`PANELS_PER_ROW`); a depth shows
        the first ``depth`` of them (:meth:`BarPainter.subset`), so the depth slider never waits
        for matplotlib and the panels keep their places. ``fig`` is that figure and
        ``artists`` the panels shown.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        c = self.controls
        depth, activation = c["depth"].value, c["activation"].value
        if activation not in self._figures:
            fig = Figure(dpi=80)
            canvas = FigureCanvasAgg(fig)
            artists = layout_histograms(fig, self.MAX_DEPTH, activation, self.bins)
            for stairs, _title in artists:
                stairs.set_visible(False)  # the bars are painted per frame by the painter
            canvas.draw()
            painter = BarPainter(canvas, [stairs.axes for stairs, _title in artists], self.bins,
                                 hist_range(activation))
            width_px = canvas.get_width_height()[0]
            # the stats table's columns line up with the panels: left margin and panel pitch in pixels
            boxes = [stairs.axes.get_position() for stairs, _title in artists]
            columns = {"left_px": round(boxes[0].x0 * width_px), "column_px": round((boxes[1].x0 - boxes[0].x0) * width_px)}
            self._figures[activation] = (fig, canvas, artists, painter, columns)
        self.fig, self.canvas, artists, full, self._columns = self._figures[activation]
        self.artists = artists[:depth]
        self.painter = full.subset(depth)
        self.image.width = str(self.painter.background.shape[1])  # natural size: no blurry rescaling

    def _set_scale(self, value: float, _button=None) -> None:
        """Show exactly ``value``. The browser's slider snaps it to its grid (5/3 -> 10^0.2 ≈ 1.585) and
        sends the snapped value back; that echo must not replace the exact value."""
        self._exact_scale = value
        if self.controls["scale"].value == value:
            self.redraw()
        else:
            self.controls["scale"].value = value

    def _on_scale(self, change=None) -> None:
        exact = self._exact_scale
        if exact is not None and change is not None:
            step = self.controls["scale"].step
            if abs(math.log10(change["new"]) - math.log10(exact)) <= step / 2 + 1e-9:
                if change["new"] != exact and change["old"] == exact:
                    return  # the slider's echo of a preset: the frame shown is already the exact one
            else:
                self._exact_scale = None  # the user moved the slider away
        self.redraw()

    @property
    def scale(self) -> float:
        """The weight scale shown: a preset's exact value, else the slider's."""
        return self._exact_scale if self._exact_scale is not None else self.controls["scale"].value

    def _on_network(self, _change=None) -> None:
        self._new_network()
        self.redraw()

    def _on_layout(self, _change=None) -> None:
        if len(self.weights) != self.controls["depth"].value:  # one weight matrix per layer
            self._new_network()
        self._new_layout()
        self.redraw()

    # -- one frame -----------------------------------------------------------------------------

    def frame(self) -> tuple[np.ndarray, list[ex.LayerStats]]:
        """Compute the current histograms and stats (no drawing)."""
        c = self.controls
        activation = c["activation"].value
        return self._frames(activation, scale=self.scale, bins=self.bins,
                            value_range=hist_range(activation))

    def render_png(self) -> bytes:
        """The current histograms painted onto the stored background, as a PNG."""
        return self.painter.png(self.fractions)

    def redraw(self) -> None:
        """Recompute, redraw and push the new picture and numbers into the widgets."""
        c = self.controls
        self.fractions, self.layer_stats = self.frame()
        self.image.value = self.render_png()
        init = EXPLORER_INIT_LABELS.get(c["init"].value, c["init"].value)
        header = (f"{init} × {self.scale:.4g}{' (exact)' if self._exact_scale is not None else ''}, "
                  f"{c['activation'].value}, "
                  f"{c['depth'].value} layers × {c['width'].value} units, {self.n_samples} samples")
        lo, hi = hist_range(c["activation"].value)
        beyond = 1.0 - self.fractions.sum(axis=1)
        header += (f" (values beyond the x-axis end {hi:g} are listed per layer)" if beyond.max() > 5e-4 else "")
        self.stats.value = stats_html(self.layer_stats, header, beyond=beyond, **self._columns)

    def _repr_mimebundle_(self, **kwargs):
        return live_bundle(self.widget, **kwargs)
