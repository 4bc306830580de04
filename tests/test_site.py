"""The course website: ``make site`` builds it, and every page is opened in headless Chromium.

One build (``make site``, as the README shows it, with this environment's Python),
one static server on 127.0.0.1, one browser. Every page must: load with no request
leaving 127.0.0.1 (the site is offline: MathJax is served from the site itself);
typeset its math with no MathJax error; show every image (decoded by the browser);
link only to pages and anchors that exist; sit in course order with next/previous
links. Each chapter page shows as many figures as its stored notebook holds (an
explorer counts as its stored picture), and the search page finds a chapter word.
Screenshots at 100 % and 200 % zoom land in test-artifacts/site/.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import browser_support as bs
import pytest

ROOT = bs.ROOT
SITE = ROOT / "site"
STAGED = ROOT / "build" / "site-src"
ARTIFACTS = ROOT / "test-artifacts" / "site"

def _load_build_script():
    """site_src/build.py as a module (by path: 'build' is also the name of a PyPI package)."""
    spec = importlib.util.spec_from_file_location("coursekit_site_build", ROOT / "site_src" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


site_build = _load_build_script()

pytestmark = pytest.mark.browser

# The MathJax error forms: MathJax 3's node, MathJax 2's class, and the messages both print.
_MATH_ERRORS_JS = """
async () => {
  const out = {typeset: false, errors: []};
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return out;
  await MathJax.startup.promise;
  out.typeset = true;
  const bad = new Set(document.querySelectorAll('mjx-merror, .MathJax_Error'));
  for (const item of MathJax.startup.document.math) {   // the TeX of each formula, with its node
    const root = item.typesetRoot;
    if (root && (root.querySelector('mjx-merror') || bad.has(root))) {
      const err = root.querySelector('mjx-merror');
      out.errors.push({tex: item.math, message: err ? (err.getAttribute('data-mjx-error') || err.textContent) : ''});
      bad.delete(err);
    }
  }
  for (const el of bad) out.errors.push({tex: '', message: el.getAttribute('data-mjx-error') || el.textContent});
  const text = document.body.innerText;
  for (const m of ['Math input error', 'allowed only in math mode'])
    if (text.includes(m) && !out.errors.length) out.errors.push({tex: '', message: m + ' (in the page text)'});
  return out;
}
"""

_PAGE_FACTS_JS = """
() => ({
  title: document.title,
  prev: (document.querySelector('link[rel=prev]') || {}).href || null,
  next: (document.querySelector('link[rel=next]') || {}).href || null,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  images: Array.from(document.querySelectorAll('img')).map(i => ({
    src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
    output: !!i.closest('.cell_output'), width: i.naturalWidth})),
  search: !!document.querySelector('form[action*="search"] input, input[type=search]'),
  text: document.body.innerText,
})
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output for failures
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """``make site`` once, with this Python environment (VENV) and stamps that say it is installed."""
    tmp = tmp_path_factory.mktemp("site")
    stamp = tmp / "installed"
    stamp.touch()
    env = {**os.environ, "VENV": sys.prefix, "STAMP": str(stamp), "TEST_STAMP": str(stamp)}
    status = ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all"]
    before = set(subprocess.run(status, capture_output=True, text=True).stdout.splitlines())
    start = time.perf_counter()
    proc = subprocess.run(["make", "site"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"make site failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "WARNING" not in proc.stderr, proc.stderr
    after = set(subprocess.run(status, capture_output=True, text=True).stdout.splitlines())
    assert after <= before, f"make site left files git would commit: {sorted(after - before)[:5]}"
    print(f"\nmake site: {seconds:.1f} s")
    return SITE


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser_page(served, tmp_path_factory):
    if bs.find_chromium() is None:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(bs.INSTALL_HINT + " (CI is set: the site test must run, not skip)", pytrace=False)
        pytest.skip(bs.INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    outside: list[str] = []
    failed: list[str] = []
    with sync_playwright() as pw:
        browser = bs.launch_browser(pw, home)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})

            def route(r):
                if r.request.url.startswith(served + "/"):
                    r.continue_()
                else:  # the site must work offline: nothing may be fetched from elsewhere
                    outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on("response", lambda resp: failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
            page.on("requestfailed", lambda req: failed.append(f"failed {req.url}"))
            yield page, served, outside, failed, (browser, route)
        finally:
            browser.close()


def _page_url(served: str, rel: Path) -> str:
    return f"{served}/{rel.with_suffix('.html').as_posix()}"


def _stored_figures(staged: Path) -> int:
    """PNG/SVG outputs of a staged notebook (explorers already replaced by their stored picture)."""
    nb = json.loads(staged.read_text(encoding="utf-8"))
    return sum(1 for c in nb["cells"] for o in c.get("outputs", [])
               if {"image/png", "image/svg+xml"} & set(o.get("data", {})))


def test_every_page_renders_offline_with_math_figures_links_and_course_order(browser_page, site):
    page, served, outside, failed, (browser, route) = browser_page
    pages = site_build.course_pages(ROOT)
    assert [p.parent.name for p in pages[:2]] == ["notebooks", "exercises"], pages
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    facts: dict[str, dict] = {}
    all_html = sorted(p.relative_to(site) for p in site.rglob("*.html") if "_static" not in p.parts)
    for rel in all_html:
        url = f"{served}/{rel.as_posix()}"
        failed.clear()
        page.goto(url, wait_until="load")
        math = page.evaluate(_MATH_ERRORS_JS)
        # everything the page asked for (MathJax's fonts come after typesetting) has arrived
        page.evaluate("async () => { await document.fonts.ready; }")
        page.wait_for_load_state("networkidle")
        f = page.evaluate(_PAGE_FACTS_JS)
        facts[rel.as_posix()] = f
        for e in math["errors"]:
            problems.append(f"{rel}: MathJax error {e['message']!r} in formula {e['tex'][:120]!r}")
        for img in f["images"]:
            if not img["ok"]:
                problems.append(f"{rel}: image {img['src']!r} is missing or does not decode")
        for fail in failed:
            problems.append(f"{rel}: {fail}")
        if not f["search"] and rel.name != "search.html":
            problems.append(f"{rel}: no search box")
    for rel, f in facts.items():  # internal links: the page exists and so does the anchor
        for href in f["links"]:
            if not href.startswith(served + "/"):
                continue
            target, anchor = urldefrag(href)
            path = unquote(urlparse(target).path).lstrip("/") or "index.html"
            if path.endswith("/"):
                path += "index.html"
            if not (site / path).is_file():
                problems.append(f"{rel}: broken link to {href}")
            elif anchor and path.endswith(".html") and path in facts and anchor not in facts[path]["ids"]:
                problems.append(f"{rel}: link to a missing anchor {href}")
    # course order: index -> chapter 01 -> exercise 01 -> chapter 02 ... through next/previous links
    order = [Path("index.html")] + [p.with_suffix(".html") for p in pages]
    for before, after in zip(order, order[1:]):
        f = facts[before.as_posix()]
        if f["next"] != f"{served}/{after.as_posix()}":
            problems.append(f"{before}: its 'next' link goes to {f['next']}, not {after}")
        if facts[after.as_posix()]["prev"] != f"{served}/{before.as_posix()}":
            problems.append(f"{after}: its 'previous' link is {facts[after.as_posix()]['prev']}, not {before}")
    for rel in pages:  # every figure of every chapter (an explorer as its stored picture)
        f = facts[rel.with_suffix(".html").as_posix()]
        want = _stored_figures(STAGED / rel)
        got = sum(1 for i in f["images"] if i["output"] and i["ok"])
        if got < want:
            problems.append(f"{rel}: {got} figure(s) shown, the stored notebook has {want}")
        if rel.parent.name == "notebooks" and want == 0:
            problems.append(f"{rel}: a chapter without a single figure on the site")
        source = json.loads((ROOT / rel).read_text(encoding="utf-8"))
        if any(site_build.WIDGET_VIEW in o.get("data", {}) for c in source["cells"] for o in c.get("outputs", [])):
            if "Live explorer" not in f["text"]:
                problems.append(f"{rel}: an explorer is not marked as live in JupyterLab")
            if "VBox(children=" in f["text"]:
                problems.append(f"{rel}: shows a widget's raw repr")
    # search works (Sphinx's search index, in the browser)
    page.goto(f"{served}/search.html?q=Xavier", wait_until="load")
    page.wait_for_function("() => document.querySelectorAll('ul.search li').length > 0", timeout=30_000)
    hits = page.locator("ul.search li a").all_inner_texts()
    if not any("Parameter initialization" in h for h in hits):
        problems.append(f"search for 'Xavier' does not find chapter 05: {hits[:5]}")
    # screenshots to look at: chapter 05's explorer (stored picture) at 100 % and 200 %
    shot = _page_url(served, next(p for p in pages if p.name.startswith("05")))
    for scale in (1, 2):
        context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=scale)
        context.route("**/*", route)
        try:
            p2 = context.new_page()
            p2.goto(shot, wait_until="load")
            p2.evaluate(_MATH_ERRORS_JS)
            p2.get_by_text("Live explorer").first.scroll_into_view_if_needed()
            p2.screenshot(path=str(ARTIFACTS / f"05_initialization-explorer-{scale * 100}.png"))
        finally:
            context.close()
    assert not outside, f"the site fetched {len(outside)} resource(s) from outside: {sorted(set(outside))[:5]}"
    assert len(all_html) >= len(pages) + 1
    assert not problems, f"{len(problems)} problem(s) on the website:\n" + "\n".join(f"  - {p}" for p in problems)


def _widget_output(model_id: str, plain: str) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {site_build.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                     "text/plain": plain}}


def test_an_explorer_shows_its_stored_picture_else_its_text_fallback_else_a_note(tmp_path):
    png = "iVBORw0KGgo="  # stands for the base64 PNG the widget state keeps
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_img", "IPY_MODEL_stats"]}},
        "img": {"model_name": "ImageModel", "state": {"format": "png", "_dom_classes": ["coursekit-plot"]},
                "buffers": [{"path": ["value"], "encoding": "base64", "data": png}]},
        "stats": {"model_name": "HTMLModel", "state": {"value": "<b>std 0.62</b>", "_dom_classes": ["coursekit-stats"]}},
    }
    nb = {"cells": [{"cell_type": "code", "source": "explorer", "metadata": {}, "execution_count": 1,
                     "outputs": [_widget_output("box", "VBox(children=(FloatSlider(value=1.0),))")]},
                    {"cell_type": "code", "source": "explorer", "metadata": {}, "execution_count": 2,
                     "outputs": [_widget_output("gone", "Temperature explorer: run this cell in JupyterLab")]},
                    {"cell_type": "code", "source": "explorer", "metadata": {}, "execution_count": 3,
                     "outputs": [_widget_output("gone", "VBox(children=(FloatSlider(value=1.0),))")]}],
          "metadata": {"widgets": {site_build.WIDGET_STATE: {"state": state}}}, "nbformat": 4, "nbformat_minor": 5}
    src, dest = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    src.write_text(json.dumps(nb))
    assert site_build.prepare_notebook(src, dest) == 3
    out = json.loads(dest.read_text())
    assert "widgets" not in out["metadata"]  # no widget JavaScript is asked for
    first, second, third = ([list(o["data"].items())[0] for o in c["outputs"]] for c in out["cells"])
    assert first == [("text/markdown", site_build.LIVE_NOTE), ("image/png", png), ("text/html", "<b>std 0.62</b>")]
    assert second == [("text/markdown", site_build.NO_PICTURE_NOTE),
                      ("text/plain", "Temperature explorer: run this cell in JupyterLab")]
    assert third == [("text/markdown", site_build.NO_PICTURE_NOTE)]  # never a raw VBox(...) repr


# --- live explorers, accessibility, phones ----------------------------------------------------

EXPLORER_PAGES = {"03": "notebooks/03_activations.html", "05": "notebooks/05_initialization.html",
                  "06": "notebooks/06_softmax.html"}
MAX_FIRST_LOAD = 1_000_000  # bytes of explorer data a chapter may fetch before any control moves


def test_explorers_are_live_on_the_website_with_the_kernels_numbers(browser_page, site):
    """Every control of every explorer moves the canvas; the readouts equal what Python computes."""
    page, served, outside, failed, _ = browser_page
    problems: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for chapter, rel in EXPLORER_PAGES.items():
        fetched: list[int] = []

        def count(resp, fetched=fetched):
            if "/_static/explorers/" in resp.url and resp.ok:
                fetched.append(len(resp.body()))

        page.on("response", count)
        try:
            page.goto(f"{served}/{rel}", wait_until="load")
            page.wait_for_selector(".coursekit-explorer canvas", timeout=30_000)
            page.wait_for_load_state("networkidle")
            first_load = sum(fetched)
            if first_load > MAX_FIRST_LOAD:
                problems.append(f"{rel}: {first_load} bytes of explorer data on first load (at most {MAX_FIRST_LOAD})")
            python = bs.python_explorers(chapter)
            n = page.locator(".coursekit-explorer").count()
            if n != len(python):
                problems.append(f"{rel}: {n} live explorers, {len(python)} expected")
                continue
            for e in range(n):
                state = bs.explorer_state(page, e)
                problems += bs.compare_readouts(python[e], state, f"{rel} explorer {e} as loaded")
                names = list(state["controls"]) + (["presets"] if state["kind"] == "histogram" else [])
                for name in names:
                    c = state["controls"].get(name)
                    if c and c["type"] == "select" and len(c["options"]) < 2:
                        continue  # one value computed ahead of time: the control says so (checked below)
                    try:
                        after = bs.move_control(page, e, name, timeout=20)["after"]
                    except Exception as exc:  # playwright's TimeoutError
                        problems.append(f"{rel} explorer {e}: moving {name!r} did not redraw: {exc}")
                        continue
                    problems += bs.compare_readouts(python[e], after, f"{rel} explorer {e} after {name!r}")
            if chapter == "05":
                problems += _every_init_is_precomputed(page, python[0], rel)
            print(f"{rel}: {n} live explorer(s), {first_load / 1024:.0f} kB of explorer data on first load")
        finally:
            page.remove_listener("response", count)
    assert not outside, f"the site fetched from outside: {sorted(set(outside))[:5]}"
    assert not problems, "\n".join(f"  - {p}" for p in problems)


def _every_init_is_precomputed(page, explorer, rel: str) -> list[str]:
    """Chapter 05 on the site: every init and activation the explorer offers at the chapter's width; another width
    says it is live in JupyterLab only. A group the site did not precompute before (orthogonal × ReLU) shows the
    kernel's numbers."""
    problems = []
    state = bs.explorer_state(page, 0)
    offered = set(state["controls"]["init"]["options"])
    if offered != set(explorer.controls["init"].options):
        problems.append(f"{rel}: the site offers inits {sorted(offered)}, the explorer {explorer.controls['init'].options}")
    if set(state["controls"]["activation"]["options"]) != set(explorer.controls["activation"].options):
        problems.append(f"{rel}: the site does not offer every activation")
    if state["controls"]["width"]["options"] != [str(w) for w in site_build.SITE_WIDTHS]:
        problems.append(f"{rel}: widths offered {state['controls']['width']['options']}, not {site_build.SITE_WIDTHS}")
    notes = page.locator('.ck-control[data-control="width"] .ck-note').all_inner_texts()
    if not any("JupyterLab" in t for t in notes):
        problems.append(f"{rel}: the widths not precomputed for the site do not say so")
    for name, option in (("init", "orthogonal"), ("activation", "relu")):
        try:
            after = bs.move_control(page, 0, name, timeout=20, option=option)["after"]
        except Exception as exc:  # playwright's TimeoutError
            problems.append(f"{rel}: choosing {name} {option} did not redraw: {exc}")
            continue
        problems += bs.compare_readouts(explorer, after, f"{rel} with {name} {option}")
    return problems


def test_the_index_lists_every_chapter_by_its_title(site):
    """The index page's chapter list comes from coursekit.paths (titles from each notebook's first heading)."""
    from coursekit import paths

    text = (site / "index.html").read_text(encoding="utf-8")
    positions = []
    for chapter in paths.lesson_notebooks(ROOT):
        title = html.escape(site_build.notebook_title(chapter), quote=False)
        assert title in text, f"the index does not list {chapter.name} as {title!r}"
        assert f'href="{chapter.with_suffix(".html").relative_to(ROOT).as_posix()}' in text, chapter.name
        positions.append(text.index(title))
    assert positions == sorted(positions), "the chapters are not in course order"


def test_every_page_passes_axe_and_explorers_fit_a_phone(browser_page, site):
    """axe-core: no serious or critical violation on any page; at 360 px and 200 % zoom no control is cut off."""
    page, served, outside, failed, (browser, route) = browser_page
    if not bs.AXE.exists():
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(bs.AXE_HINT + " (CI is set: the scan must run)", pytrace=False)
        pytest.skip(bs.AXE_HINT)
    problems: list[str] = []
    for rel in sorted(p.relative_to(site) for p in site.rglob("*.html") if "_static" not in p.parts):
        page.goto(f"{served}/{rel.as_posix()}", wait_until="load")
        if page.locator(".ck-site-explorer").count():
            page.wait_for_selector(".coursekit-explorer canvas", timeout=30_000)
        problems += [f"{rel}: axe {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in bs.axe_scan(page)]
    for width, label, scale in ((360, "phone360", 2), (640, "zoom200", 2)):
        context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=scale)
        context.route("**/*", route)
        try:
            p2 = context.new_page()
            for chapter, rel in EXPLORER_PAGES.items():
                p2.goto(f"{served}/{rel}", wait_until="load")
                p2.wait_for_selector(".coursekit-explorer canvas", timeout=30_000)
                box = p2.locator(".coursekit-explorer").first
                box.scroll_into_view_if_needed()
                box.screenshot(path=str(ARTIFACTS / f"{chapter}-explorer-{label}.png"))
                problems += [f"{rel} at {label}: {t}" for t in bs.truncated_controls(p2)]
                wide = p2.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                if wide > 2:
                    problems.append(f"{rel} at {label}: the page is {wide} px wider than the screen")
        finally:
            context.close()
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)


def test_each_page_links_its_notebook_download(site):
    """Read from the built pages (a link's target needs no browser to check)."""
    for rel in site_build.course_pages(ROOT):
        page = site / rel.with_suffix(".html")
        hrefs = re.findall(r'<a [^>]*href="([^"#?]+\.ipynb)"', page.read_text(encoding="utf-8"))
        assert hrefs, f"{rel}: no download link for its notebook"
        target = (page.parent / unquote(hrefs[0])).resolve()
        assert target.is_file() and target.name == rel.name, (rel, target)
        assert json.loads(target.read_text(encoding="utf-8"))["cells"], rel
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    data = sum(p.stat().st_size for p in (site / "_static" / "explorers").rglob("*") if p.is_file())
    print(f"\nsite: {size / 2**20:.1f} MiB in all, of which {data / 2**20:.1f} MiB explorer data")


def test_links_line_names_repository_and_binder_when_known():
    line = site_build.page_links(Path("notebooks/05_initialization.ipynb"), "https://github.com/owner/course")
    assert "[Repository](https://github.com/owner/course)" in line
    assert ("https://mybinder.org/v2/gh/owner/course/HEAD?urlpath=lab/tree/notebooks/05_initialization.ipynb"
            in line)
    assert "Binder" not in site_build.page_links(Path("notebooks/01_neurons.ipynb"), None)
