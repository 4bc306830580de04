"""Every chapter in real JupyterLab, in headless Chromium.

One JupyterLab server (this environment's Python, a temporary HOME) serves a
copy of ``notebooks/`` with the stored outputs stripped; one Chromium page
opens each lesson notebook, runs all cells, and checks what a student would
see: no error output (except in cells tagged ``raises-exception``), every cell
executed, every widget rendered (no "Loading widget..." or "Error displaying
widget" left), no MathJax error in any formula. Each student exercise notebook is
opened too (not run: its stubs raise on purpose) and its math must typeset cleanly. Moving a slider of each ``.coursekit-explorer`` must change its
picture (``.coursekit-plot``) and its statistics (``.coursekit-stats``);
chapters 05 and 06 move their weight-scale and temperature sliders.

A screenshot of each notebook is saved under test-artifacts/browser/.
Without Chromium the test skips with the install command, except on CI
(``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import browser_support as bs  # tests/ is on sys.path (pytest rootdir-relative import)
import pytest

pytestmark = pytest.mark.browser

# Another folder of lesson notebooks can be served instead of notebooks/
# (used to see the test fail on a deliberately broken copy).
SOURCE = Path(os.environ.get("COURSEKIT_BROWSER_NOTEBOOKS", bs.ROOT / "notebooks")).resolve()
LESSONS = sorted(SOURCE.glob("[0-9][0-9]_*.ipynb"))
EXERCISE_SOURCE = Path(os.environ.get("COURSEKIT_BROWSER_EXERCISES", bs.ROOT / "exercises")).resolve()
EXERCISES = sorted(EXERCISE_SOURCE.glob("[0-9][0-9]_*.ipynb"))
RUN_TIMEOUT = float(os.environ.get("COURSEKIT_BROWSER_TIMEOUT", "240"))
# Lab extensions to disable (comma-separated), e.g. @jupyter-widgets/jupyterlab-manager
# to see the test catch widgets that do not render.
DISABLED = [x for x in os.environ.get("COURSEKIT_BROWSER_DISABLE_EXTENSIONS", "").split(",") if x]

# Chapters whose explorers are checked control by control against numbers computed here.
EXPLORER_CHAPTERS = ("03", "05", "06")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(message: str):
    if _on_ci():
        pytest.fail(f"{message} (CI is set: the browser test must run on CI, not skip)", pytrace=False)
    pytest.skip(message)


class Lab:
    def __init__(self, server: bs.LabServer, page, artifacts: Path):
        self.server = server
        self.course = server.root
        self.page = page
        self.artifacts = artifacts
        self.summary: dict[str, dict] = {}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server and one Chromium page for all notebooks; stopped by PID afterwards."""
    if bs.find_chromium() is None:
        _unavailable(bs.INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is missing: pip install -e '.[test]'")

    workdir = tmp_path_factory.mktemp("jupyterlab")
    course = workdir / "course"
    course.mkdir()
    bs.copy_course(course, src=SOURCE, exercises=EXERCISE_SOURCE)
    artifacts = bs.ARTIFACTS
    artifacts.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    server = bs.LabServer(course, workdir, disabled_extensions=DISABLED).start()
    console: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = bs.launch_browser(pw, workdir / "home")
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(60_000)
                # Kept as an artifact for debugging; JupyterLab logs some harmless errors.
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
                bs.open_lab(page, server)
                print(f"\nJupyterLab {server.url} up and loaded in Chromium in {time.perf_counter() - start:.1f} s")
                lab = Lab(server, page, artifacts)
                yield lab
                (artifacts / "summary.json").write_text(json.dumps(lab.summary, indent=1))
            finally:
                browser.close()
    finally:
        server.stop()
        (artifacts / "console.log").write_text("\n".join(console) + "\n")
        if server.log_path and server.log_path.exists():
            shutil.copyfile(server.log_path, artifacts / "jupyterlab.log")


def _stored_widgets(notebook: Path) -> dict[int, int]:
    """Widget outputs per cell position in the committed notebook (its author's run)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    counts = {}
    for i, cell in enumerate(nb["cells"]):
        n = sum(bs.WIDGET_MIME in o.get("data", {}) for o in cell.get("outputs", []))
        if n:
            counts[i] = n
    return counts


def _check_explorers(page, chapter: str) -> tuple[list[str], list[str]]:
    """Move every control of every explorer; after each move the readouts must equal Python's numbers."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    moved, problems = [], []
    python = bs.python_explorers(chapter)
    n_explorers = page.locator(".coursekit-explorer").count()
    if chapter in EXPLORER_CHAPTERS and n_explorers != len(python):
        problems.append(f"chapter {chapter}: {n_explorers} explorers on the page, {len(python)} expected")
        return moved, problems
    for e in range(n_explorers):
        state = bs.explorer_state(page, e)
        if not python:  # a control notebook: moving is enough
            names = list(state["controls"])
        else:
            problems += bs.compare_readouts(python[e], state, f"explorer {e} as first shown")
            names = list(state["controls"]) + (["presets"] if state["kind"] == "histogram" else [])
        for name in names:
            t = time.perf_counter()
            try:
                change = bs.move_control(page, e, name, timeout=30)
            except PlaywrightTimeout:
                problems.append(f"explorer {e}: moving {name!r} did not redraw the canvas for the new setting within 30 s")
                continue
            after = change["after"]
            if python:
                problems += bs.compare_readouts(python[e], after, f"explorer {e} after moving {name!r}")
            moved.append(f"explorer {e} ({after['kind']}), {name}: {bs.dom_values(change['before'])} -> "
                         f"{bs.dom_values(after)} ({time.perf_counter() - t:.2f} s)")
    if chapter in EXPLORER_CHAPTERS and not moved:
        problems.append(f"chapter {chapter}: no explorer control could be moved")
    return moved, problems


def _accessibility(page) -> list[str]:
    """axe-core over the explorers: no serious or critical violation."""
    if not bs.AXE.exists():
        return [bs.AXE_HINT + " (CI is set: the scan must run)"] if _on_ci() else []
    return [f"axe {v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}"
            for v in bs.axe_scan(page, ".coursekit-explorer")]


def _layout_checks(page, chapter: str, artifacts: Path) -> list[str]:
    """Screenshots at 1280 px with the file browser open, at 200 % zoom (640 CSS px) and at 360 px; no control cut off."""
    problems = []
    explorers = page.locator(".coursekit-explorer")
    page.evaluate("async () => { await window.jupyterapp.commands.execute('filebrowser:activate'); }")
    try:
        for label, width in (("1280-filebrowser", 1280), ("zoom200", 640), ("phone360", 360)):
            page.set_viewport_size({"width": width, "height": 1000 if width > 400 else 800})
            page.wait_for_timeout(400)  # the ResizeObserver redraws the canvas
            for e in range(explorers.count()):
                explorers.nth(e).scroll_into_view_if_needed(timeout=10_000)
                explorers.nth(e).screenshot(path=str(artifacts / f"{chapter}-explorer{e}-{label}.png"), timeout=30_000)
            problems += [f"{label}: {p}" for p in bs.truncated_controls(page)]
            if width == 1280:
                page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})
    return problems


def _screenshot_and_close(page, rel: str, png: Path) -> None:
    """Best effort: a failure here must not hide the test's own failure."""
    try:
        explorers = page.locator(".coursekit-explorer")
        if explorers.count():
            explorers.first.scroll_into_view_if_needed(timeout=10_000)
        page.screenshot(path=str(png), timeout=30_000)
    except Exception as exc:
        print(f"(no screenshot: {exc})")
    try:
        bs.close_notebook(page, rel)
    except Exception as exc:
        print(f"(closing {rel} failed: {exc})")


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_jupyterlab(lab, notebook: Path):
    rel = f"notebooks/{notebook.name}"
    chapter = notebook.name[:2]
    page = lab.page
    problems: list[str] = []
    moved: list[str] = []
    report = None
    bs.open_notebook(page, rel)
    try:
        report = bs.run_all(page, rel, timeout=RUN_TIMEOUT)
        problems += report.problems()
        problems += bs.math_errors(page, rel)
        # A widget the stored notebook shows must come back live (not silently vanish).
        live = {c["index"]: c for c in report.code_cells}
        for i, n in _stored_widgets(notebook).items():
            c = live.get(i)
            got = sum(bs.WIDGET_MIME in o["mimes"] for o in c["outputs"]) if c else 0
            if got < n:
                where = bs.cell_label(c) if c else f"cell {i + 1}"
                problems.append(f"{where}: showed {n} widget(s) in the committed notebook, {got} now")
        if report.summary["explorers"] or chapter in EXPLORER_CHAPTERS:
            moved, slider_problems = _check_explorers(page, chapter)
            problems += slider_problems
            if report.summary["explorers"]:
                problems += _layout_checks(page, chapter, lab.artifacts)
                problems += _accessibility(page)
    finally:
        _screenshot_and_close(page, rel, lab.artifacts / f"{notebook.stem}.png")

    cells = report.code_cells
    widgets = sum(c["renderedWidgets"] for c in cells)
    line = (
        f"{notebook.name}: {len(cells)} code cells ran in {report.seconds:.1f} s, "
        f"{widgets} widget views rendered, {report.summary['explorers']} explorers"
    )
    print(line)
    for m in moved:
        print("  moved", m)
    lab.summary[notebook.name] = {
        "seconds": round(report.seconds, 2), "code_cells": len(cells), "widgets": widgets,
        "explorers": report.summary["explorers"], "moved": moved, "problems": problems,
    }
    assert not problems, f"{line}\n" + "\n".join(f"  - {p}" for p in problems)


@pytest.mark.parametrize("notebook", EXERCISES, ids=[f"exercise-{p.stem}" for p in EXERCISES])
def test_exercise_math_renders_in_jupyterlab(lab, notebook: Path):
    rel = f"exercises/{notebook.name}"
    bs.open_notebook(lab.page, rel)
    try:
        problems = bs.math_errors(lab.page, rel)
    finally:
        _screenshot_and_close(lab.page, rel, lab.artifacts / f"exercise-{notebook.stem}.png")
    assert not problems, f"{rel}:\n" + "\n".join(f"  - {p}" for p in problems)


# A control notebook, written into the served folder at test time: proves the
# checks above can fail, and that warnings and tagged cells do not count.
_EXPLORER = """\
from coursekit import widgets
widgets.temperature_explorer()
"""


def test_harness_catches_an_error_but_not_a_warning_or_a_tagged_cell(lab):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [
        new_markdown_cell("Fine: $\\sigma(x) = 1/(1+e^{-x})$ and $$\\text{slope } a = 0.01$$"),
        new_markdown_cell("Broken: $$\\text{ PyTorch's `negative_slope`}$$"),
        new_code_cell("import warnings\nwarnings.warn('only a warning')  # stderr, not an error"),
        new_code_cell("raise ValueError('on purpose')", metadata={"tags": ["raises-exception"]}),
        new_code_cell(_EXPLORER),
        new_code_cell("1 / 0"),
        new_code_cell("print('after the error')"),
    ]
    rel = "harness/00_control.ipynb"
    (lab.course / "harness").mkdir(exist_ok=True)
    nbformat.write(nb, lab.course / rel)
    bs.open_notebook(lab.page, rel)
    try:
        report = bs.run_all(lab.page, rel, timeout=RUN_TIMEOUT)
        math = bs.math_errors(lab.page, rel)
        moved, slider_problems = _check_explorers(lab.page, "00")
    finally:
        _screenshot_and_close(lab.page, rel, lab.artifacts / "00_control.png")
    problems = report.problems()
    assert len(problems) == 2, problems
    assert problems[0].startswith("cell 6 ('1 / 0'): ZeroDivisionError"), problems
    assert "cell 7" in problems[1] and "never ran" in problems[1], problems
    # the math check names the broken Markdown cell, and only that one
    assert len(math) == 1 and math[0].startswith("cell 2 (markdown ") and "Broken:" in math[0], math
    assert "allowed only in math mode" in math[0], math
    assert sum(c["renderedWidgets"] for c in report.code_cells) == 1
    assert not slider_problems and len(moved) == 1, (moved, slider_problems)
