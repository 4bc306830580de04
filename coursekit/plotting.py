"""The course's one figure style, and small plot helpers.

Helpers take ``ax=None`` (a new figure is made when it is None) and return
the axes, with labels, a title and a legend where they help.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
from cycler import cycler

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


def get_ax(ax=None, figsize: tuple[float, float] | None = None):
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_function(x, ys: dict[str, Any], *, ax=None, title: str | None = None,
                  xlabel: str = "x", ylabel: str | None = None, styles: dict[str, str] | None = None):
    """Plot several curves over the same ``x`` (1-D); ``ys`` maps a legend label to y values.

    ``styles`` optionally maps a label to a matplotlib format string ("--", ":").
    Returns the axes.
    """
    ax = get_ax(ax)
    x = np.asarray(x)
    styles = styles or {}
    for label, y in ys.items():
        ax.plot(x, np.asarray(y), styles.get(label, "-"), label=label)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(ys) > 1:
        ax.legend()
    return ax
