"""What every live explorer shares: one anywidget running one ES module, and its controls.

An explorer is an :class:`ExplorerWidget`: an ``anywidget.AnyWidget`` whose front end is
``explorer.js`` (controls, a canvas, readouts, a legend), the same file the website runs. The
kernel sends numbers, never pictures: ``spec`` (the controls and their texts, and for small
explorers every frame ahead of time), ``values`` (the controls' positions, moved by the browser
or by Python) and ``frame`` (the numbers for the current position).

The course's DOM contract: the explorer's root has the class :data:`EXPLORER_CLASS`, its canvas
:data:`PLOT_CLASS` and its readouts :data:`STATS_CLASS`; each readout carries ``data-name`` and
``data-value`` (the exact number drawn). The browser tests and benchmarks find them by these names.
Python code moves a control through ``explorer.controls[name].value``; the frame is recomputed
at once (synchronously), so tests need no browser.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from coursekit.plotting import PALETTE
from coursekit.widgets.numbers import finish

HERE = Path(__file__).resolve().parent
ESM_PATH = HERE / "explorer.js"
CSS_PATH = HERE / "explorer.css"

EXPLORER_CLASS = "coursekit-explorer"
STATS_CLASS = "coursekit-stats"
PLOT_CLASS = "coursekit-plot"
NOTE_CLASS = "coursekit-kernel-note"

#: What a notebook shows where an explorer goes when it is viewed without a running kernel.
STATIC_TEXT = "[Live explorer: run this cell in JupyterLab, with a running kernel, to see it and move its controls.]"

#: A line under each live explorer: a restarted kernel leaves the controls moving but the picture frozen.
KERNEL_NOTE = ("Live: computed by the notebook's kernel. If the picture stops following the controls, the "
               "kernel was restarted or stopped: re-run this cell.")


def css() -> str:
    """The explorers' style sheet (``explorer.css``), sent inside ``spec``."""
    return CSS_PATH.read_text(encoding="utf-8")


def values_key(values: dict) -> str:
    """The key of a control setting, spelled as ``explorer.js``'s ``keyOf`` spells it."""
    return json.dumps([[k, values[k]] for k in sorted(values)], separators=(",", ":"), ensure_ascii=False)


class ExplorerWidget(anywidget.AnyWidget):
    """The widget every explorer displays: ``explorer.js`` drawing ``frame`` under the controls of ``spec``."""

    _esm = ESM_PATH
    spec = traitlets.Dict().tag(sync=True)
    values = traitlets.Dict().tag(sync=True)
    frame = traitlets.Dict().tag(sync=True)
    ahead = traitlets.Dict().tag(sync=True)  # a frame computed before it is asked for (the next key press)

    def _repr_mimebundle_(self, **kwargs):
        return live_bundle(self, **kwargs)


def live_bundle(widget, **kwargs) -> dict:
    """``widget``'s display bundle with a helpful ``text/plain``.

    A notebook opened without a kernel has no widget model to show and falls back to the
    text: it then says what the cell is and how to bring it to life.
    """
    bundle = super(ExplorerWidget, widget)._repr_mimebundle_(**kwargs) if isinstance(widget, ExplorerWidget) \
        else widget._repr_mimebundle_(**kwargs)
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    data["text/plain"] = STATIC_TEXT
    return bundle


class Control:
    """One control of an explorer, seen from Python: ``.value`` reads and moves it (the frame follows).

    ``kind`` is "range" (a position on ``grid``; ``.value`` is the grid's value) or "select"
    (``.options``, the values offered). Setting ``.value`` checks it and names the control in the error.
    """

    def __init__(self, explorer: Explorer, name: str, description: str, kind: str, *,
                 grid: Sequence[Any] = (), options: Sequence[Any] = (),
                 check: Callable[[Any], Any] | None = None) -> None:
        self._explorer, self.name, self.description, self.kind = explorer, name, description, kind
        self.grid, self.options = tuple(grid), tuple(options)
        self._check = check

    @property
    def value(self) -> Any:
        raw = self._explorer.widget.values[self.name]
        return self.grid[raw] if self.kind == "range" else raw

    @value.setter
    def value(self, new: Any) -> None:
        self._explorer.set(**{self.name: new})

    def position(self, new: Any) -> Any:
        """What ``values`` holds for ``new``: its index on the grid, or the option itself."""
        if self._check is not None:
            return self._check(new)
        if new not in self.options:
            raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.options))}; got {new!r}")
        return new

    def __repr__(self) -> str:
        return f"<{self.description}: {self.value!r}>"


class Explorer:
    """Base of the three explorers: a :class:`ExplorerWidget`, its :class:`Control` objects, its frames.

    Subclasses fill ``controls`` and define :meth:`compute` (the frame of a setting, a dict of
    numbers) or give every frame ahead of time in ``spec["table"]``.
    """

    widget: ExplorerWidget
    controls: dict[str, Control]
    #: (key, steps) of the frame being computed ahead, one step per turn of the kernel's event loop
    _pending: tuple[str, Generator] | None = None

    def _start(self, spec: dict, values: dict) -> None:
        spec = {"css": css(), "note": KERNEL_NOTE, "colors": list(PALETTE), **spec}
        self.widget = ExplorerWidget(spec=spec, values=values, frame=self._frame_for(spec, values))
        self.widget.observe(self._on_values, names="values")

    def _frame_for(self, spec: dict, values: dict) -> dict:
        if "table" in spec:
            return {}
        return {**self.compute(values), "key": values_key(values)}

    def compute(self, values: dict) -> dict:  # pragma: no cover - every subclass defines it or a table
        raise NotImplementedError

    def set(self, **moves: Any) -> None:
        """Move controls by value (``set(scale=0.75, activation="tanh")``); the frame follows at once."""
        values = dict(self.widget.values)
        for name, new in moves.items():
            if name not in self.controls:
                raise ValueError(f"no control {name!r}; the controls are {', '.join(self.controls)}")
            values[name] = self.controls[name].position(new)
        self.widget.values = values  # _on_values computes the frame

    def compute_steps(self, values: dict) -> Generator[None, None, dict]:
        """:meth:`compute` as a generator that yields between steps and returns the frame; subclasses
        whose frames take long split them (the histograms: one step per layer)."""
        return self.compute(values)
        yield  # pragma: no cover - makes this a generator of one step

    def _on_values(self, change: dict) -> None:
        values = change["new"]
        if "table" in self.widget.spec:
            return
        key = values_key(values)
        if self.widget.frame.get("key") == key:
            return
        ahead, pending = self.widget.ahead, self._pending
        self._pending = None  # whatever was being computed ahead is finished here or dropped
        if ahead.get("key") == key:
            frame = ahead
        elif pending is not None and pending[0] == key:  # asked for while computed ahead: finish it
            frame = {**finish(pending[1]), "key": key}
        else:
            frame = {**self.compute(values), "key": key}
        self.widget.frame = frame  # sent now, before any work ahead
        # then, while the student looks, the setting one more step in the same direction: the browser
        # keeps it and draws it at once when that key is pressed (the kernel is asked all the same)
        nxt = self.next_values(change["old"], values)
        if nxt is not None and values_key(nxt) != ahead.get("key"):
            self._look_ahead(nxt)

    def _look_ahead(self, values: dict) -> None:
        """Compute the frame of ``values`` before it is asked for, and send it as ``ahead``.

        In a kernel (a running event loop) one step per turn of the loop, so that a control move
        arriving meanwhile is answered first: it finishes this computation if it asks for the same
        setting, and drops it otherwise. With no loop (a script, a test) at once.
        """
        key, steps = values_key(values), self.compute_steps(values)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.widget.ahead = {**finish(steps), "key": key}
            return
        self._pending = (key, steps)

        def step() -> None:
            if self._pending is None or self._pending[1] is not steps:  # answered or dropped meanwhile
                return
            try:
                next(steps)
            except StopIteration as done:
                self._pending = None
                self.widget.ahead = {**done.value, "key": key}
                return
            loop.call_soon(step)

        loop.call_soon(step)

    def next_values(self, old: dict, new: dict) -> dict | None:
        """The setting a student likely asks for next (None: no guess); subclasses may guess."""
        return None

    @property
    def current(self) -> dict:
        """The numbers shown now (the frame of the current setting)."""
        spec, values = self.widget.spec, self.widget.values
        if "table" in spec:
            return spec["table"][values[spec["table_key"]]]
        return self.widget.frame

    def _repr_mimebundle_(self, **kwargs):
        return live_bundle(self.widget, **kwargs)


__all__ = ["EXPLORER_CLASS", "STATS_CLASS", "PLOT_CLASS", "NOTE_CLASS", "STATIC_TEXT", "KERNEL_NOTE",
           "ESM_PATH", "CSS_PATH", "css", "values_key", "ExplorerWidget", "live_bundle", "Control", "Explorer"]
