"""Chapter 05's live explorer: per-layer activation histograms, and their static figure.

:class:`HistogramExplorer` computes, per control move, each layer's bin counts and statistics
(:class:`coursekit.widgets.frames.HistogramFrames`: float32, one torch thread, the first
layer's product kept across scale moves) and sends those numbers to ``explorer.js``, which
draws them on a canvas in the browser: no picture is rendered in the kernel. The website shows
the same frames, computed ahead of time by ``make site`` with the same code.
:func:`plot_layer_histograms` is the static matplotlib figure the chapter prints.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from coursekit import activations as acts
from coursekit import experiments as ex
from coursekit import init as ckinit
from coursekit._checks import check_choice, check_int
from coursekit.plotting import PALETTE
from coursekit.widgets import numbers as nb
from coursekit.widgets._common import Control, Explorer
from coursekit.widgets.frames import HistogramFrames, finish

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


def explorer_inits() -> dict[str, Any]:
    """The explorer's weight schemes, in the dropdown's order: name -> what
    :func:`coursekit.experiments.make_weights` takes.

    The schemes of ``coursekit.init.SCHEMES`` marked ``in_explorer``, plus a centred unit-variance uniform; ``normal`` and the centred uniform first, torch's
    all-positive ``uniform_`` default U(0, 1) last (labelled as the not-centred choice it is). Read
    from the table each time: a scheme added there appears here with no other edit.
    """
    inits: dict[str, Any] = {name: name for name, scheme in ckinit.SCHEMES.items()
                             if scheme.in_explorer}
    inits.setdefault("uniform_centred", _centred_uniform)
    first = [n for n in ("normal", "uniform_centred") if n in inits]
    last = [n for n in ("uniform",) if n in inits]
    return {n: inits[n] for n in [*first, *(n for n in inits if n not in first and n not in last), *last]}


class _LiveInits(Mapping):
    """:func:`explorer_inits` as a read-only mapping that follows the scheme table."""

    def __getitem__(self, name: str) -> Any:
        return explorer_inits()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(explorer_inits())

    def __len__(self) -> int:
        return len(explorer_inits())

    def __repr__(self) -> str:
        return repr(explorer_inits())


#: The explorer's weight schemes (:func:`explorer_inits`), a live view of the scheme table.
EXPLORER_INITS: Mapping[str, Any] = _LiveInits()
EXPLORER_INIT_LABELS: dict[str, str] = {
    "normal": "normal N(0, 1)",
    "uniform_centred": "uniform U(−√3, √3), var 1",
    "uniform": "uniform U(0, 1): NOT centred",
}

#: Exact scales the chapter asks for (each on the scale control's grid :data:`numbers.SCALE_GRID`).
SCALE_PRESETS: dict[str, float] = dict(nb.SCALE_PRESETS)

#: Panels per row of the histogram figure.
PANELS_PER_ROW = 5

#: Colour and opacity of the histogram bars (static figures and the explorer alike): the
#: first colour of the course's colour-blind-safe palette.
BAR_COLOR, BAR_ALPHA = PALETTE[0], 0.8

def hist_range(activation: str) -> tuple[float, float]:
    """The histogram x-range for ``activation``: (0, 1) for the sigmoid, (−1, 1) for tanh, ..."""
    return HIST_RANGES[check_choice("activation", activation, acts.DIFFERENTIABLE)]


def _title(i: int, s: ex.LayerStats) -> str:
    return f"layer {i}: mean {s.mean:+.2f}\nstd {s.std:.3f}, sat {s.saturated:.1%}"


_nice_ceil = nb._nice_ceil  # one rounding rule for the static figures and the explorer


def data_range(activations, activation: str) -> tuple[float, float]:
    """Histogram x-range from the activation *and* the data: bounded outputs keep their whole range
    (sigmoid (0, 1), tanh (−1, 1)); for unbounded ones the upper end is a round number just above
    the 99.9th percentile of all layers (so a He-initialised ReLU layer is not cut at 4)."""
    lo, hi = hist_range(activation)
    if nb.bounded(activation):
        return lo, hi
    top = max(float(np.nanpercentile(h, 99.9)) for h in activations)
    if math.isfinite(top) and top > 0:
        hi = _nice_ceil(top)
        lo = max(lo, -hi) if lo < 0 else lo
    return lo, hi


def layout_histograms(fig, depth: int, activation: str, bins: int = nb.BINS, *,
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
        ax.set_xlabel(f"{acts.TITLES[activation]} output", fontsize=8)
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


def layer_fractions(activations, value_range: tuple[float, float], bins: int = nb.BINS) -> np.ndarray:
    """Fraction of each layer's values per bin of ``value_range``: (depth, bins).

    Values outside the range are in no bin (1 − row sum is their share), as in the explorer.
    """
    lo, hi = value_range
    return np.stack([np.histogram(h, bins=bins, range=(lo, hi))[0] / h.size for h in activations])


def plot_layer_histograms(result: ex.ForwardResult, *, bins: int = nb.BINS, fig=None, title: str | None = None):
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



#: One line defining every readout of the histogram explorer.
HISTOGRAM_LEGEND = (
    "Bars: share of the layer's values per bin (square-root axis). mean, std: over all values of the layer · "
    "flat f′: share of values where f′(z) is below 5 % of its peak (saturated sigmoid or tanh; for ReLU and "
    "LeakyReLU every z ≤ 0, about half in a healthy network) · dead: units that output 0 for every input · "
    "unit std: a unit's spread across inputs · input share: unit std² / std², the part of the spread that "
    "depends on the input · units alike: mean cosine between two units' outputs over the inputs (1: the units are copies of one another) · "
    "beyond: values past the x-axis end (the orange bar at the right end; unbounded activations' axes follow "
    "the data)."
)


class HistogramExplorer(Explorer):
    """Live per-layer activation histograms: weight scale, init scheme, activation, depth, width.

    The network is the one of :func:`coursekit.experiments.forward_experiment` with the same
    ``seed`` (inputs first, then weights), so the numbers shown match it (to float32
    rounding). Weights are ``scale · scheme((width, width))``; the schemes are
    :data:`EXPLORER_INITS` (``uniform_centred`` is U(−√3, √3), variance 1; ``uniform`` is torch's
    all-positive U(0, 1) default, labelled as not centred). ``scale`` is one of
    :data:`coursekit.widgets.numbers.SCALE_GRID` (0.75, √2 and 5/3 exactly; preset buttons for the
    values the chapter asks for). Display the explorer by leaving it last in a cell; ``controls``
    maps "scale", "init", "activation", "depth", "width" to :class:`Control` objects whose
    ``.value`` moves them (the frame is recomputed at once); :meth:`frame` gives the numbers.
    """

    ACTIVATIONS: Sequence[str] = acts.EXPLORER_NAMES  # the registry's: one unsaturated interval each
    WIDTHS = (10, 25, 50, 100, 200, 400)
    MAX_DEPTH = 10
    SCALES = nb.SCALE_GRID

    def __init__(self, *, depth: int = 5, width: int = 100, n_samples: int = 1000,
                 activation: str = "sigmoid", init: str = "normal", scale: float = 1.0,
                 seed: int = 0, bins: int = nb.BINS) -> None:
        depth = check_int("depth", depth, minimum=1, maximum=self.MAX_DEPTH)
        width = check_int("width", width)
        if width not in self.WIDTHS:
            raise ValueError(f"width must be one of {', '.join(map(str, self.WIDTHS))}; got {width}")
        self.n_samples = check_int("n_samples", n_samples, minimum=1)
        activation = check_choice("activation", activation, self.ACTIVATIONS)
        inits = explorer_inits()
        init = check_choice("init", init, inits)
        scale_index = nb.grid_index("scale", scale, self.SCALES)
        self.seed = check_int("seed", seed, minimum=0)
        self.bins = check_int("bins", bins, minimum=1)
        self._networks: dict[tuple[str, int], tuple[np.ndarray, list[np.ndarray]]] = {}
        self._frames: dict[tuple[str, int, int], HistogramFrames] = {}

        depths = tuple(range(1, self.MAX_DEPTH + 1))
        self.controls = {
            "scale": Control(self, "scale", "weight scale", "range", grid=self.SCALES,
                             check=lambda v: nb.grid_index("scale", v, self.SCALES)),
            "init": Control(self, "init", "init", "select", options=tuple(inits)),
            "activation": Control(self, "activation", "activation", "select", options=tuple(self.ACTIVATIONS)),
            "depth": Control(self, "depth", "depth", "range", grid=depths,
                             check=lambda v: check_int("depth", v, minimum=1, maximum=self.MAX_DEPTH) - 1),
            "width": Control(self, "width", "width", "select", options=self.WIDTHS),
        }
        spec = {
            "kind": "histogram",
            "title": "Per-layer activation histograms",
            "xlabel": "output", "flatWord": "flat f′",
            "legend": HISTOGRAM_LEGEND, "y_max": Y_MAX, "y_ticks": list(Y_TICKS),
            "params": {"n_samples": self.n_samples, "seed": self.seed, "bins": self.bins},
            "controls": [
                {"name": "scale", "label": "weight scale ×", "type": "range", "texts": list(nb.SCALE_TEXTS),
                 "values": list(self.SCALES)},
                {"name": "presets", "label": "exact scale:", "type": "buttons", "target": "scale",
                 "items": [[self.SCALES.index(v), text] for text, v in nb.SCALE_PRESETS]},
                {"name": "init", "label": "init", "type": "select",
                 "options": [[k, EXPLORER_INIT_LABELS.get(k, k)] for k in inits]},
                {"name": "activation", "label": "activation", "type": "select",
                 "options": [[k, acts.TITLES[k]] for k in self.ACTIVATIONS]},
                {"name": "depth", "label": "depth", "type": "range", "texts": [f"{d} layers" if d > 1 else "1 layer"
                                                                               for d in depths],
                 "values": list(depths)},
                {"name": "width", "label": "width", "type": "select",
                 "options": [[w, f"{w} units"] for w in self.WIDTHS]},
            ],
        }
        self._inits = inits
        values = {"scale": scale_index, "init": init, "activation": activation, "depth": depth - 1, "width": width}
        self._start(spec, values)

    # -- the numbers ---------------------------------------------------------------------------

    def network(self, init: str, width: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Inputs X (n_samples, width) and MAX_DEPTH weight matrices, drawn as forward_experiment draws them."""
        key = (init, width)
        if key not in self._networks:
            rng = np.random.default_rng(self.seed)
            X = rng.standard_normal((self.n_samples, width)).astype(np.float32)
            weights = ex.make_weights(self.MAX_DEPTH, width, self._inits[init], rng=rng)
            self._networks[key] = (X, [W.astype(np.float32) for W in weights])
        return self._networks[key]

    def _frames_for(self, init: str, width: int, depth: int) -> HistogramFrames:
        key = (init, width, depth)
        if key not in self._frames:
            X, weights = self.network(init, width)
            self._frames[key] = HistogramFrames(X, weights[:depth])
        return self._frames[key]

    def compute(self, values: dict) -> dict:
        """The frame of a control setting (``values`` as the widget holds them): per-layer numbers."""
        return finish(self.compute_steps(values))

    def compute_steps(self, values: dict) -> Generator[None, None, dict]:
        """:meth:`compute` one layer per step (a generator that returns the frame)."""
        scale = self.SCALES[values["scale"]]
        depth = values["depth"] + 1
        frames = self._frames_for(values["init"], values["width"], depth)
        layers = yield from frames.frame_steps(values["activation"], scale=scale, bins=self.bins)
        init = EXPLORER_INIT_LABELS.get(values["init"], values["init"])
        header = (f"{init} × {nb.SCALE_TEXTS[values['scale']]}, {acts.TITLES[values['activation']]}, "
                  f"{depth} {'layers' if depth > 1 else 'layer'} × {values['width']} units, {self.n_samples} samples")
        return {"layers": layers, "total": self.n_samples * values["width"], "activation": values["activation"],
                "header": header}

    def next_values(self, old: dict, new: dict) -> dict | None:
        """After a scale step (key press or drag), the next step in the same direction."""
        if not old or {k for k in new if old.get(k) != new[k]} != {"scale"}:
            return None
        step = new["scale"] - old["scale"]
        nxt = new["scale"] + (1 if step > 0 else -1)
        return {**new, "scale": nxt} if 0 <= nxt < len(self.SCALES) else None

    def frame(self) -> tuple[np.ndarray, list[ex.LayerStats]]:
        """The current histograms (fractions over the registry's fixed range) and :class:`LayerStats`, no drawing."""
        v = self.widget.values
        activation = v["activation"]
        return self._frames_for(v["init"], v["width"], v["depth"] + 1)(
            activation, scale=self.scale, bins=self.bins, value_range=hist_range(activation))

    @property
    def scale(self) -> float:
        """The weight scale shown."""
        return self.SCALES[self.widget.values["scale"]]

    @property
    def layer_stats(self) -> list[dict]:
        """The per-layer numbers shown now (dicts: mean, std, flat, dead, unit_std, input_share, alike, beyond, ...)."""
        return self.current["layers"]

    def group(self, init: str, width: int, activation: str) -> dict:
        """Every frame of one (init, width, activation) at the deepest depth, one per weight scale: what the
        website stores for that group (a shallower depth is the first layers; ``explorer-site.js`` reads
        ``frames[scale position][:depth]``). The same numbers :meth:`compute` sends from the kernel."""
        init = check_choice("init", init, self._inits)
        activation = check_choice("activation", activation, self.ACTIVATIONS)
        if width not in self.WIDTHS:
            raise ValueError(f"width must be one of {', '.join(map(str, self.WIDTHS))}; got {width}")
        frames = self._frames_for(init, width, self.MAX_DEPTH)
        return {"total": self.n_samples * width,
                "frames": [frames.frame(activation, scale=s, bins=self.bins) for s in self.SCALES]}


def site_groups(params: dict, init: str, width: int, activations: Sequence[str]) -> dict[str, str]:
    """:meth:`HistogramExplorer.group` of each activation as compact JSON (``make site`` runs this in worker
    processes: one network per call). ``params``: the explorer's ``n_samples``, ``seed`` and ``bins``."""
    import json

    explorer = HistogramExplorer(depth=1, width=width, n_samples=params["n_samples"], seed=params["seed"],
                                 bins=params["bins"], init=init)
    return {a: json.dumps(explorer.group(init, width, a), separators=(",", ":"), allow_nan=False)
            for a in activations}
