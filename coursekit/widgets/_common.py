"""What every live explorer shares: CSS class names, the box, blitting, the stats table.

The course's DOM contract: an explorer's box has the class :data:`EXPLORER_CLASS`, its
statistics (a ``widgets.HTML``) :data:`STATS_CLASS` and its picture (a PNG ``widgets.Image``)
:data:`PLOT_CLASS`; the browser tests and benchmarks find them by these names. Every explorer
exposes ``controls`` (name -> control widget), ``widget`` (the box to display) and a pure frame
function the tests call without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coursekit.widgets.png import encode_png

EXPLORER_CLASS = "coursekit-explorer"
STATS_CLASS = "coursekit-stats"
PLOT_CLASS = "coursekit-plot"
NOTE_CLASS = "coursekit-kernel-note"

#: What a notebook shows where an explorer goes when it is viewed without a running kernel.
STATIC_TEXT = "[Live explorer: run this cell in JupyterLab, with a running kernel, to see it and move its controls.]"

#: A line under each live explorer: a restarted kernel leaves the sliders moving but the picture frozen.
KERNEL_NOTE = ("<span style='color:#555;font-size:11px'>Live: computed by the notebook's kernel. If the "
               "picture stops following the controls, the kernel was restarted or stopped: re-run this cell."
               "</span>")


def live_bundle(widget, **kwargs) -> dict:
    """``widget``'s display bundle with a helpful ``text/plain`` instead of ``VBox(children=…)``.

    A notebook opened without a kernel (or rendered on a website) has no widget model to show,
    and falls back to the text: it then says what the cell is and how to bring it to life.
    """
    bundle = widget._repr_mimebundle_(**kwargs)
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    data["text/plain"] = STATIC_TEXT
    return bundle


def kernel_note():
    """The :data:`KERNEL_NOTE` as a small ``widgets.HTML``."""
    import ipywidgets as widgets

    return widgets.HTML(KERNEL_NOTE).add_class(NOTE_CLASS)


def stats_panel():
    """An empty ``widgets.HTML`` with the class :data:`STATS_CLASS`, for an explorer's numbers."""
    import ipywidgets as widgets

    return widgets.HTML().add_class(STATS_CLASS)


def plot_image(width: int | None = None, height: int | None = None):
    """A PNG ``widgets.Image`` with the class :data:`PLOT_CLASS`.

    Give the picture's own pixel size: without it the browser stretches the image to the
    notebook's width, and it looks blurred and out of proportion.
    """
    import ipywidgets as widgets

    image = widgets.Image(format="png")
    if width is not None:
        image.width = str(int(width))
    if height is not None:
        image.height = str(int(height))
    return image.add_class(PLOT_CLASS)


def explorer_box(children: Sequence[Any], *, text: str | None = None):
    """The explorer's box: a ``VBox`` of ``children`` with the class :data:`EXPLORER_CLASS`.

    ``text``: the plain-text form a notebook shows when the widget is not rendered (default
    ``VBox(children=…)``, which :func:`live_bundle` replaces when the explorer object is shown).
    """
    import ipywidgets as widgets

    if text is None:
        box = widgets.VBox(list(children))
    else:
        box = _text_box(widgets.VBox, text)(list(children))
    return box.add_class(EXPLORER_CLASS)


_TEXT_BOXES: dict[tuple[type, str], type] = {}


def _text_box(base: type, text: str) -> type:
    key = (base, text)
    if key not in _TEXT_BOXES:
        class ExplorerBox(base):
            def __repr__(self) -> str:  # ipywidgets puts repr() into the output's text/plain
                return text

        _TEXT_BOXES[key] = ExplorerBox
    return _TEXT_BOXES[key]


def canvas_png(canvas) -> bytes:
    """What an Agg ``canvas`` holds now, as PNG bytes (:func:`encode_png`: fast, lightly compressed)."""
    return encode_png(np.asarray(canvas.buffer_rgba()))


class Blitter:
    """Blitting on an Agg canvas: the static parts drawn once, only the ``moving`` artists per frame.

    Fixed axis limits make the background (axes, ticks, labels) reusable: it is drawn once
    with the ``moving`` artists left out (they are set animated) and kept as a bitmap;
    :meth:`redraw` restores that bitmap and draws the moving artists over it, in order.
    """

    def __init__(self, canvas, moving: Sequence[Any]) -> None:
        self.canvas = canvas
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)  # left out of full draws, drawn by hand in redraw()
        canvas.draw()
        self.background = canvas.copy_from_bbox(canvas.figure.bbox)

    def redraw(self) -> None:
        """The background, then the moving artists in their current state."""
        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.canvas.figure.draw_artist(artist)

    def png(self) -> bytes:
        """:meth:`redraw`, then the canvas as PNG bytes."""
        self.redraw()
        return canvas_png(self.canvas)


def html_table(cells: Sequence[str], *, per_row: int | None = None, cell_style: str = "",
               left_px: int | None = None, table_style: str = "", header: str = "") -> str:
    """An explorer's statistics as HTML: ``header`` (HTML, shown above) then ``cells`` in a table.

    Rows of ``per_row`` cells (all in one row when None), each after an empty ``left_px`` wide
    margin cell (none when None), so that the cells can line up under the panels of a figure. Cells are HTML: escape
    user text (``html.escape``) before.
    """
    per_row = (len(cells) or 1) if per_row is None else per_row
    spacer = "" if left_px is None else f"<td style='width:{left_px}px;padding:0'></td>"
    td = f"<td style='{cell_style}'>" if cell_style else "<td>"
    rows = "".join(
        "<tr>" + spacer + "".join(f"{td}{c}</td>" for c in cells[k:k + per_row]) + "</tr>"
        for k in range(0, len(cells), per_row)
    )
    table = f"<table style='{table_style}'>" if table_style else "<table>"
    return f"{header}{table}{rows}</table>"


__all__ = ["EXPLORER_CLASS", "STATS_CLASS", "PLOT_CLASS", "NOTE_CLASS", "STATIC_TEXT", "KERNEL_NOTE",
           "live_bundle", "kernel_note", "stats_panel", "plot_image", "explorer_box", "canvas_png", "Blitter",
           "html_table"]
