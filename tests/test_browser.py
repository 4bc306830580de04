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
import re
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

# Chapter number -> the explorer slider that chapter is about (matched on its label).
CHAPTER_SLIDERS = {
    "05": re.compile(r"scale|std|σ", re.IGNORECASE),
    "06": re.compile(r"temp|^T\b|τ", re.IGNORECASE),
}


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


def _pick_slider(sliders: list[dict], explorer: int, chapter: str) -> dict | None:
    mine = [s for s in sliders if s["explorer"] == explorer]
    pattern = CHAPTER_SLIDERS.get(chapter)
    if pattern:
        named = [s for s in mine if pattern.search(s["label"])]
        if named:
            return named[0]
    return mine[0] if mine else None


def _check_explorers(page, chapter: str) -> tuple[list[str], list[str]]:
    """Move one slider per explorer; returns (what was moved, problems)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    moved, problems = [], []
    sliders = bs.explorer_sliders(page)
    n_explorers = page.locator(".coursekit-explorer").count()
    for e in range(n_explorers):
        slider = _pick_slider(sliders, e, chapter)
        if slider is None:
            continue  # an explorer driven by dropdowns/buttons only
        state = bs.explorer_state(page, e)
        if not state or state["src"] is None or state["stats"] is None:
            problems.append(
                f"explorer {e}: missing its picture (.coursekit-plot) or stats (.coursekit-stats)"
            )
            continue
        for key in ("ArrowRight", "ArrowLeft"):  # ArrowLeft when the slider starts at its maximum
            try:
                t = time.perf_counter()
                change = bs.move_slider(page, e, slider["slider"], key, timeout=20)
            except PlaywrightTimeout:
                continue
            first = [(c["stats"] or "").splitlines()[0][:50] for c in (change["before"], change["after"])]
            moved.append(
                f"explorer {e}, slider {slider['label']!r}, {key}: new picture, stats "
                f"{first[0]!r} -> {first[1]!r} ({time.perf_counter() - t:.2f} s)"
            )
            break
        else:
            problems.append(
                f"explorer {e}: pressing ArrowRight/ArrowLeft on slider {slider['label']!r} did not change "
                "both the picture and the stats, with a picture the browser could decode, within 20 s"
            )
    if chapter in CHAPTER_SLIDERS and n_explorers and not moved:
        problems.append(f"chapter {chapter}: its explorer has no slider that could be moved")
    return moved, problems


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
        if report.summary["explorers"]:
            moved, slider_problems = _check_explorers(page, chapter)
            problems += slider_problems
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
import io
import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

def picture(scale):
    fig = Figure(figsize=(3, 2), dpi=60)
    FigureCanvasAgg(fig)
    fig.add_subplot().bar([0, 1], [1, scale])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()

scale = widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1, description="scale")
plot = widgets.Image(format="png").add_class("coursekit-plot")
stats = widgets.HTML().add_class("coursekit-stats")
def update(change=None):
    plot.value = picture(scale.value)
    stats.value = f"scale = {scale.value:.1f}"
scale.observe(update, names="value")
update()
widgets.VBox([scale, plot, stats]).add_class("coursekit-explorer")
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
