"""The course's one figure style, its colours, and every static figure.

Helpers take ``ax=None`` (a new figure is made when it is None) and return
the axes, with labels, a title and a legend where they help. Every colour a figure
uses comes from :data:`PALETTE` (the tints and greys below are derived from it), so
changing the palette is a one-line edit. The math modules never import this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from cycler import cycler

from coursekit import activations
from coursekit._checks import (
    Array,
    Bool,
    Choice,
    Constraint,
    Instance,
    Ints,
    Optional,
    Real,
    Text,
    as_float_array,
    check_number,
    describe,
    is_sequence,
    validate,
)
from coursekit.dense import SIZES, layer_names
from coursekit.neurons import GATE_INPUTS, step

#: Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008), in the
#: order the course uses it: classes and curves are told apart by these colours
#: *and* by marker or line style, never by colour alone.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow (weak on white: last)
    "#000000",  # black
)


# --------------------------------------------------------------------------- declarations


def _new_axes():
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


class _Color(Constraint):
    """A matplotlib colour, e.g. a :data:`PALETTE` entry ('#0072B2'); returned as is."""

    def check(self, name, value):
        try:
            mpl.colors.to_rgb(value)
        except (ValueError, TypeError):
            raise ValueError(f"{name} must be a matplotlib colour such as a PALETTE entry ('#0072B2'); "
                             f"got {value!r}") from None
        return value

    def example(self):
        return PALETTE[0]

    def bad_values(self):
        return [("None", None), ("unknown", "nope"), ("int", 3)]


class _Figsize(Constraint):
    """(width, height) in inches, both > 0; returned as a tuple of floats."""

    def check(self, name, value):
        if not is_sequence(value) or len(value) != 2:
            raise TypeError(f"{name} must be a pair (width, height) in inches or None; got {describe(value)}")
        return tuple(check_number(f"{name}[{k}]", v, positive=True) for k, v in enumerate(value))

    def example(self):
        return (3.0, 2.0)

    def bad_values(self):
        return [("str", "big"), ("one", (3.0,)), ("negative", (-1.0, 2.0)), ("strs", ("a", "b"))]


class _Curves(Constraint):
    """A dict mapping a legend label to 1-D values, each checked as an array; returned as a dict of arrays."""

    def check(self, name, value):
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict mapping a legend label to its values; got {describe(value)}")
        return {label: as_float_array(f"{name}[{label!r}]", values, ndim=1) for label, values in value.items()}

    def example(self):
        return {"curve": np.ones(2)}

    def bad_values(self):
        return [("None", None), ("list", [1.0, 2.0]), ("strings", {"a": ["x"]}), ("2-D", {"a": np.ones((2, 2))})]


class _Styles(Constraint):
    """A dict mapping a legend label to a matplotlib format string ("--", ":"); returned as is."""

    def check(self, name, value):
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise TypeError(f"{name} must be a dict mapping a label to a format string like '--', or None; "
                            f"got {describe(value)}")
        return value

    def example(self):
        return {"curve": "--"}

    def bad_values(self):
        return [("str", "--"), ("int", 3), ("int style", {"curve": 3})]


class _Labels(Constraint):
    """Legend labels for classes 0, 1, ...: 1 to len(PALETTE) strings; returned as a tuple."""

    def check(self, name, value):
        if (not is_sequence(value) or not 1 <= len(value) <= len(PALETTE)
                or not all(isinstance(lab, str) for lab in value)):
            raise TypeError(f"{name} must be a list of 1 to {len(PALETTE)} strings, one legend label per class "
                            f"0, 1, ...; got {describe(value)}")
        return tuple(value)

    def example(self):
        return ("class 0", "class 1")

    def bad_values(self):
        return [("None", None), ("int", 3), ("str", "class 0"), ("empty", []), ("ints", [0, 1])]


class _AxesPair(Constraint):
    """A pair of matplotlib Axes (ax_f, ax_d); returned as is."""

    def check(self, name, value):
        from matplotlib.axes import Axes

        if not is_sequence(value) or len(value) != 2 or not all(isinstance(ax, Axes) for ax in value):
            raise TypeError(f"{name} must be a pair of matplotlib Axes (ax_f, ax_d) or None; got {describe(value)}")
        return value

    def example(self):
        import matplotlib.pyplot as plt

        return tuple(plt.subplots(1, 2)[1])

    def bad_values(self):
        return [("int", 123), ("str", "ab"), ("one", [1])]


class _Keyword(Constraint):
    """A keyword passed on to matplotlib (``ls``, ``lw``, ``label`` ...): matplotlib checks it."""

    def check(self, name, value):
        return value

    def example(self):
        return None

    def bad_values(self):
        return []


#: An axes to draw into; None makes a new figure.
AX = Optional(Instance("matplotlib.axes", "Axes", what="a matplotlib Axes (e.g. from plt.subplots()) or None",
                       make=_new_axes))
#: An axes to draw into, required (the helpers that add to a figure already made).
GIVEN_AX = Instance("matplotlib.axes", "Axes", what="a matplotlib Axes", make=_new_axes)
TITLE = Optional(Text())
LABELS = _Labels()


@validate(color=_Color(), amount=Real(minimum=0.0, maximum=1.0))
def tint(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` (a hex string such as a :data:`PALETTE` entry) mixed with white: 0 keeps it, 1 is white."""
    rgb = mpl.colors.to_rgb(color)
    return tuple(c + (1.0 - c) * amount for c in rgb)  # type: ignore[return-value]


#: Pale fills for the regions a classifier assigns to class 0 and class 1 (blue, orange).
REGION_COLORS: tuple[tuple[float, float, float], ...] = (tint(PALETTE[0], 0.8), tint(PALETTE[1], 0.7))
#: Greys from the palette's black: lines that stay in the background, and a pale fill.
GREY, PALE_GREY = tint(PALETTE[7], 0.55), tint(PALETTE[7], 0.95)

#: The course style: small figures (stored notebooks stay light), a light grid,
#: no top/right spines. Applied by :func:`use_style`.
STYLE: dict[str, Any] = {
    "figure.figsize": (6.0, 3.6),
    # 110 dpi: readable at 100 % and sharp at 200 % zoom, still light to store
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
    "lines.linewidth": 1.8,
    # Stored SVG/PNG must not change between runs: no date or software stamp.
    "svg.hashsalt": "coursekit",
}


def use_style() -> None:
    """Apply the course figure style to matplotlib (call once in a setup cell)."""
    mpl.rcParams.update(STYLE)


@validate(ax=AX, figsize=Optional(_Figsize()))
def get_ax(ax=None, figsize: tuple[float, float] | None = None):
    """Return ``ax``, or the axes of a new figure when ``ax`` is None.

    ``figsize``: (width, height) in inches of the new figure, or None for the style's default.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


@validate(x=Array(ndim=1), ys=_Curves(), ax=AX, title=TITLE, xlabel=Text(), ylabel=TITLE, styles=Optional(_Styles()))
def plot_function(x, ys: dict[str, Any], *, ax=None, title: str | None = None,
                  xlabel: str = "x", ylabel: str | None = None, styles: dict[str, str] | None = None):
    """Plot several curves over the same ``x`` (1-D); ``ys`` maps a legend label to y values.

    ``styles`` optionally maps a label to a matplotlib format string ("--", ":").
    Returns the axes.
    """
    for label, y in ys.items():
        if y.shape != x.shape:
            raise ValueError(f"ys[{label!r}] has {y.shape[0]} values but x has {x.shape[0]}: they must match")
    styles = styles or {}
    ax = get_ax(ax)
    for label, y in ys.items():
        ax.plot(x, y, styles.get(label, "-"), label=label)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(ys) > 1:
        ax.legend()
    return ax


# --- words, not code names ---------------------------------------------------------------------

#: How figures name each activation (``coursekit.activations`` names -> words): the registry's
#: own live table, so an activation registered there is titled here too.
ACTIVATION_TITLES: Mapping[str, str] = activations.TITLES

#: Line styles that, with the palette, tell up to eight curves apart in black and white too.
LINESTYLES: tuple = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (3, 1, 1, 1, 1, 1)), "-")

#: Markers for classes 0, 1, ...: a circle and a triangle differ in shape, not only colour.
MARKERS: tuple[str, ...] = ("o", "^", "s", "D")


@validate(name=Choice(ACTIVATION_TITLES), params=activations.PARAM)
def activation_title(name: str, **params: Any) -> str:
    """A figure title in words: ``activation_title("leaky_relu", negative_slope=0.1)`` -> "LeakyReLU, slope 0.1"."""
    title = ACTIVATION_TITLES[name]
    if "negative_slope" in params:
        title += f", slope {params['negative_slope']:g}"
    return title


# --- jumps drawn honestly: a filled dot where the value is, an open dot where it is not --------


@validate(ax=GIVEN_AX, x0=Real(), value=Real(), other=Real(), color=Optional(_Color()), label=TITLE)
def plot_jump(ax, x0: float, value: float, other: float, *, color=None, label: str | None = None):
    """Mark a jump at ``x0``: filled dot at (x0, value), the value taken; open dot at (x0, other).

    Returns the axes. The curve itself should be drawn in two pieces that stop at ``x0``
    (see :func:`plot_piecewise`), so no vertical line pretends the function takes the values between.
    """
    color = color or PALETTE[0]
    ax.plot([x0], [other], "o", ms=6, mfc="white", mec=color, mew=1.5, zorder=4)
    ax.plot([x0], [value], "o", ms=6, color=color, zorder=5, label=label)
    return ax


@validate(ax=GIVEN_AX, x=Array(ndim=1), y=Array(ndim=1), jump_at=Real(), color=Optional(_Color()), kwargs=_Keyword())
def plot_piecewise(ax, x, y, *, jump_at: float = 0.0, color=None, **kwargs):
    """Plot y(x) as two pieces, left of and right of ``jump_at`` (excluded), without the vertical joint."""
    if y.shape != x.shape:
        raise ValueError(f"y must have one value per x: x has shape {x.shape}, y has shape {y.shape}")
    left, right = x < jump_at, x > jump_at
    line = ax.plot(x[left], y[left], color=color, **kwargs)[0]
    kwargs.pop("label", None)
    ax.plot(x[right], y[right], color=line.get_color(), **{k: v for k, v in kwargs.items()})
    return ax


def _padded_limits(lo: float, hi: float, pad: float = 0.1) -> tuple[float, float]:
    # A flat curve (the identity's derivative) must not get matplotlib's 0.96–1.04 zoom.
    span = max(hi - lo, 1.0)
    return lo - pad * span, hi + pad * span


@validate(activation=activations.ACTIVATION, x=Optional(Array(ndim=1)), axes=Optional(_AxesPair()),
          params=activations.PARAM)
def plot_activation(activation: str, *, x=None, axes=None, **params: Any):
    """f(x) (left) and f'(x) (right), titled in words, with the analytic and autograd derivatives.

    Where f or f' jumps at 0 (step, ReLU, LeakyReLU), each piece is drawn up to the jump and
    a filled dot marks the value at 0 (autograd's convention), an open dot the other limit.
    ``axes``: a pair of axes or None (a new 1×2 figure). Returns the two axes.
    """
    act = activation if isinstance(activation, activations.Activation) else activations.get(activation, **params)
    x = np.linspace(-6.0, 6.0, 401) if x is None else x
    if x.size == 0:
        raise ValueError("x must hold at least one point to draw; got an empty array")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.0))
    ax_f, ax_d = axes
    title = activation_title(act.name, **act.params)
    f, d = act.numpy(x), act.grad(x)
    c_f, c_d = PALETTE[0], PALETTE[1]
    if act.name == "step":
        plot_piecewise(ax_f, x, f, color=c_f)
        plot_jump(ax_f, 0.0, 0.0, 1.0, color=c_f, label="step(0) = 0")
        ax_f.legend(loc="upper left")
    else:
        ax_f.plot(x, f, color=c_f)
    jumps = act.name in activations.KINKED
    draw = (lambda ax, y, **kw: plot_piecewise(ax, x, y, **kw)) if jumps else (lambda ax, y, **kw: ax.plot(x, y, **kw))
    draw(ax_d, d, color=c_d, lw=3.5, alpha=0.6, label="analytic")
    if act.name in activations.DIFFERENTIABLE:  # the step has none: torch.heaviside has no autograd formula
        draw(ax_d, activations.autograd_grad(act, x), color=PALETTE[7], ls="--", lw=1.2, label="autograd")
    if jumps:
        at0 = float(act.grad(np.array([0.0]))[0])
        left, right = (float(v) for v in act.grad(np.array([-1e-9, 1e-9])))  # f' either side of the jump
        other = right if at0 == left else left  # the one-sided limit f'(0) does not take
        plot_jump(ax_d, 0.0, at0, other, color=PALETTE[5], label=f"value at 0: {at0:g}")
    if act.name == "step":
        ax_d.plot([0.0], [0.0], "o", ms=6, mfc="white", mec=PALETTE[5], mew=1.5, label="undefined at 0")
    ax_f.set_title(title)
    ax_f.set_xlabel("x")
    ax_f.set_ylabel("f(x)")
    ax_d.set_title(f"{title}: derivative")
    ax_d.set_xlabel("x")
    ax_d.set_ylabel("f'(x)")
    ax_d.set_ylim(*_padded_limits(min(0.0, float(d.min())), max(1.0, float(d.max()))))
    ax_f.set_ylim(*_padded_limits(float(f.min()), float(f.max())))
    ax_d.legend(loc="best")
    return axes


# --- classes, decision regions, training curves ------------------------------------------------


@validate(X=Array(ndim=2), y=Array(ndim=1), ax=AX, labels=LABELS, s=Real(positive=True))
def scatter_classes(X, y, *, ax=None, labels: Sequence[str] = ("class 0", "class 1"), s: float = 28):
    """Scatter the rows of ``X`` (N, 2), class ``y`` (N,) told apart by marker *and* colour, with a legend."""
    if X.shape[1] != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (N, 2) and y shape (N,); got {X.shape} and {y.shape}")
    if not np.isin(y, np.arange(len(labels))).all():  # a point of another class would silently vanish
        raise ValueError(f"y must hold class numbers 0 to {len(labels) - 1}, one per label in labels; "
                         f"got values {np.unique(y)[:10].tolist()}")
    ax = get_ax(ax)
    for k, label in enumerate(labels):
        pts = X[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=s, marker=MARKERS[k % len(MARKERS)], color=PALETTE[k],
                   edgecolors=PALETTE[7], linewidths=0.5, label=label, zorder=3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best")
    return ax


@validate(g1=Array(ndim=2), g2=Array(ndim=2), p=Array(ndim=2), X=Array(ndim=2), y=Array(ndim=1), ax=AX, title=TITLE,
          labels=LABELS)
def plot_decision_regions(g1, g2, p, X, y, *, ax=None, title: str | None = None,
                          labels: Sequence[str] = ("class 0", "class 1")):
    """Shade where a classifier says class 1 (p > 0.5), draw the boundary p = 0.5 and the data.

    ``g1, g2, p``: (n, n) grids as :func:`coursekit.training.decision_grid` returns them.
    Returns the axes.
    """
    from matplotlib.colors import ListedColormap

    if not g1.shape == g2.shape == p.shape:
        raise ValueError(f"g1, g2 and p must be grids of one shape (as np.meshgrid makes them); "
                         f"got {g1.shape}, {g2.shape} and {p.shape}")
    ax = get_ax(ax, figsize=(4.0, 3.6))
    light = ListedColormap(list(REGION_COLORS))  # light blue / light orange: classes 0 / 1
    ax.contourf(g1, g2, (p > 0.5).astype(float), levels=[-0.5, 0.5, 1.5], cmap=light)
    ax.contour(g1, g2, p, levels=[0.5], colors=PALETTE[7], linewidths=1.2)
    scatter_classes(X, y, ax=ax, labels=labels)
    # the legend goes below the panel, where it hides neither points nor boundary
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(labels))
    ax.set_xlim(float(np.min(g1)), float(np.max(g1)))
    ax.set_ylim(float(np.min(g2)), float(np.max(g2)))
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


@validate(histories=_Curves(), ax=AX, title=TITLE, log=Bool(), xlabel=Text(), ylabel=Text())
def plot_losses(histories: dict[str, Any], *, ax=None, title: str | None = None, log: bool = True,
                xlabel: str = "gradient-descent step", ylabel: str = "training loss"):
    """One curve per entry of ``histories`` (label -> losses per step), told apart by colour and line style."""
    ax = get_ax(ax)
    for k, (label, losses) in enumerate(histories.items()):
        ax.plot(np.arange(1, losses.size + 1), losses, color=PALETTE[k % len(PALETTE)],
                ls=LINESTYLES[k % len(LINESTYLES)], label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


@validate(ax=GIVEN_AX, axis=Choice(("x", "y")))
def integer_ticks(ax, axis: str = "y"):
    """Put ticks on whole numbers only, for axes that show counts. Returns the axes."""
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))
    return ax


# --- chapter 01: a perceptron's line; chapter 02: a network diagram ----------------------------


@validate(w=Array(ndim=1), b=Real(), X=Array(ndim=2), y=Optional(Array(ndim=1)), ax=AX, title=TITLE)
def plot_decision_boundary(w, b: float, X=GATE_INPUTS, y=None, *, ax=None, title: str | None = None):
    """Draw the points of a 2-input problem and the perceptron's line ``w1·x1 + w2·x2 + b = 0``.

    The region where the neuron outputs 1 is shaded orange; targets 0 are blue circles,
    targets 1 orange triangles (``y``, or the neuron's own outputs when ``y`` is None). Returns the axes.
    """
    if w.shape != (2,):
        raise ValueError(f"w must have 2 weights to draw a line in the plane; got shape {w.shape}")
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (points in the plane); got shape {X.shape}")
    if y is not None and y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} points but y has {y.shape[0]} targets: they must match")
    ax = get_ax(ax, figsize=(3.4, 3.2))
    grid = np.linspace(-0.5, 1.5, 201)
    g1, g2 = np.meshgrid(grid, grid)
    out = step(w[0] * g1 + w[1] * g2 + b)
    ax.contourf(g1, g2, out, levels=[-0.5, 0.5, 1.5], colors=[PALE_GREY, REGION_COLORS[1]])
    ax.contour(g1, g2, w[0] * g1 + w[1] * g2 + b, levels=[0.0], colors=PALETTE[7], linewidths=1.2)
    targets = y if y is not None else step(X @ w + b)
    # classes by marker and colour (blue circles 0, orange triangles 1), so no one needs colour vision
    scatter_classes(X, targets, ax=ax, labels=("target 0", "target 1"), s=70)
    ax.legend(loc="upper left", fontsize=8, handletextpad=0.2, borderaxespad=0.2, frameon=True, framealpha=0.9)
    ax.grid(False)
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


#: draw_network draws every neuron; wider layers would be an unreadable smear of lines.
MAX_DRAWN_WIDTH = 64


@validate(layer_sizes=Ints(minimum=1, maximum=MAX_DRAWN_WIDTH, min_len=2, what=SIZES.what, too_short=SIZES.too_short),
          ax=AX, title=TITLE)
def draw_network(layer_sizes: Sequence[int], ax=None, *, title: str | None = None):
    """Draw a fully connected network: one circle per neuron, one line per weight.

    ``layer_sizes``: widths ``[n_0 (input), ..., n_L (output)]``, each at most
    ``MAX_DRAWN_WIDTH``. Lines join every neuron of a layer to every neuron of the next
    (``n_{k-1} * n_k`` of them) and never two neurons of the same layer.
    Returns the axes; ``ax.collections[0]`` holds the lines, ``[1]`` the neurons.
    """
    from matplotlib.collections import LineCollection

    sizes = layer_sizes
    ax = get_ax(ax, figsize=(1.5 * len(sizes) + 1, 3.0))
    top = max(sizes)
    # Centre each layer vertically so narrow layers sit in the middle of wide ones.
    pos = [[(k, top - 1 - (top - n) / 2 - i) for i in range(n)] for k, n in enumerate(sizes)]
    segments = [[p, q] for left, right in zip(pos[:-1], pos[1:], strict=True) for p in left for q in right]
    ax.add_collection(LineCollection(segments, colors=GREY, linewidths=0.8, zorder=1))
    colors = [PALETTE[0]] + [PALETTE[1]] * (len(sizes) - 2) + [PALETTE[2]]  # input, hidden, output
    xy = np.array([p for layer in pos for p in layer], dtype=float)
    c = [colors[k] for k, n in enumerate(sizes) for _ in range(n)]
    ax.scatter(xy[:, 0], xy[:, 1], s=min(260, 2600 / top), c=c, edgecolors=PALETTE[7], zorder=2)
    for k, (name, n) in enumerate(zip(layer_names(len(sizes)), sizes, strict=True)):
        ax.text(k, -0.9, f"{name}\n({n})", ha="center", va="top")
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-2.0, top - 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
