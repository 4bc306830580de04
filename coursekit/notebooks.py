"""Executing and inspecting notebooks: how the stored outputs are made.

``coursekit execute NOTEBOOK...`` runs each notebook top to bottom in a fresh
kernel (the current Python) with the notebook's folder as working directory,
and stores the outputs, so that nbval can compare later runs against them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nbformat


class NotebookError(ValueError):
    """A notebook file that is not a readable, valid notebook."""


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read and validate a notebook, raising :class:`NotebookError` with the file name on failure."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a notebook (not UTF-8 text)") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(f"{path}: not a notebook (invalid JSON: {exc})") from None
    except Exception as exc:  # nbformat raises assorted errors on malformed content
        raise NotebookError(f"{path}: not a valid notebook ({exc})") from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path}: not a valid notebook ({exc.message})") from None
    return nb


def execute_notebook(path: str | Path, *, timeout: int = 600, kernel_name: str = "python3") -> None:
    """Execute ``path`` in place in a fresh kernel; raise on the first failing cell.

    Cells tagged ``raises-exception`` may raise. Widget state is stored so that
    a reader on GitHub / nbviewer sees the widgets' last state.
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = read_notebook(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        record_timing=False,
        store_widget_state=True,
    )
    client.execute()
    for cell in code_cells(nb):
        cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, path)


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) outputs into one.

    How a cell's prints are split into messages depends on timing, so without this a re-run
    could store the same text in other pieces: a diff with no change in it. (nbval compares
    the merged text, so checks are unaffected.)
    """
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def run(args: argparse.Namespace) -> int:
    from nbclient.exceptions import CellExecutionError

    status = 0
    for name in args.notebooks:
        print(f"executing {name} ...", flush=True)
        try:
            execute_notebook(name, timeout=args.timeout)
        except CellExecutionError as exc:  # keep the file as it was; say which cell failed
            print(f"{name}: a cell failed, notebook not written:\n{exc}", flush=True)
            status = 1
    return status


def register(sub) -> None:
    p = sub.add_parser("execute")
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.set_defaults(func=run)
