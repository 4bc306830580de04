"""Control move to new pixels in real Chromium: the canvas explorer against the former PNG path, same run.

Both run chapter 05 in JupyterLab served from this environment, one after the other in one run:

- canvas (this tree): ``explorer.js`` draws numbers the kernel sends; a move is timed from the
  keydown (or the mouse's pointer event, or the select's change) to the next animation frame
  after the canvas was redrawn (``coursekit-drawn`` event) for that setting;
- png (the baseline, ``--baseline`` git revision, default the last commit before the canvas):
  its kernel imports that revision's ``coursekit`` (an IPython startup file puts it first on
  ``sys.path``), which paints a PNG per move; timed from the keydown to the next animation
  frame after the new picture decoded.

Scenarios: key presses on the weight scale at 5 × 100 × 1000 (median, p90); a mouse drag
across the scale control (each new picture); the first switch to another activation, with the
time to the busy sign's first paint ("computing…" and a dimmed canvas: the animation frame after
it appears; "none" when the new picture came first); 10 layers × 400 units (set from the kernel,
then key presses, then an activation switch). With ``--before REV`` the canvas path of an earlier
revision is timed in the same run (its own column); with ``--site DIR`` (a built site, ``make
site``) a control move on the website's chapter 05 explorer as well.

The machine may be busy (other programs on the cores): compare the two paths' figures of the
same run, their ratio is what carries over. Targets (quiet 2-core machine): key press / drag
<= 16 ms median, <= 33 ms p90; 10 × 400 <= 50 ms median; first activation switch <= 100 ms (or a busy
sign at once and <= 300 ms); website control -> pixels <= 16 ms median.

    .venv/bin/python benchmarks/browser_slider_latency.py [--moves 30] [--before main] [--site site]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import browser_support as bs  # noqa: E402 - the shared JupyterLab/Chromium helpers

BASELINE = "540c7ce"  # the last commit whose explorers sent a PNG per move
NOTEBOOK = "notebooks/05_initialization.ipynb"

# Canvas path: one record per input event, closed at the animation frame after the canvas was drawn.
CANVAS_JS = """
(e) => {
  // Listeners on the document, not on the explorer: JupyterLab may render the widget's view anew (a cell
  // scrolled out of its window and back), and a listener on the old view would see nothing after that.
  const ck = window.__ck = {records: [], current: null};
  const mine = ev => ev.target.closest && ev.target.closest('.coursekit-explorer') ===
                     document.querySelectorAll('.coursekit-explorer')[e];
  let watched = null;
  const start = ev => {
    ck.current = {t0: performance.now(), drawn: null, frame: null, busy: null};
    // the busy sign's first paint: the animation frame after "computing…" appears (before the new picture)
    const status = ev.target.closest('.coursekit-explorer').querySelector('.ck-status');
    if (watched !== status) {
      watched = status;
      new MutationObserver(() => {
        const r = ck.current;
        if (r && r.busy === null && r.drawn === null && status.textContent) {
          r.busy = -1;
          requestAnimationFrame(() => { r.busy = performance.now(); });
        }
      }).observe(status, {childList: true, characterData: true, subtree: true});
    }
  };
  document.addEventListener('keydown', ev => { if (mine(ev)) start(ev); }, true);
  document.addEventListener('change', ev => { if (mine(ev) && ev.target.tagName === 'SELECT') start(ev); }, true);
  document.addEventListener('pointermove', ev => { if (ev.buttons && mine(ev)) start(ev); }, true);
  document.addEventListener('coursekit-drawn', ev => {
    const r = ck.current;
    if (!mine(ev) || !r || r.drawn !== null) return;
    r.drawn = performance.now();
    requestAnimationFrame(() => { r.frame = performance.now(); ck.records.push(r); ck.current = null; });
  });
}
"""

# PNG path: the old explorer swaps the src of one <img>; closed at the frame after it decoded.
PNG_JS = """
(e) => {
  const ex = document.querySelectorAll('.coursekit-explorer')[e];
  const img = ex.querySelector('img.coursekit-plot, .coursekit-plot img');
  const ck = window.__ck = {records: [], current: null};
  const start = () => { ck.current = {t0: performance.now(), drawn: null, frame: null, busy: null}; };
  window.addEventListener('keydown', start, true);
  ex.addEventListener('pointermove', ev => { if (ev.buttons) start(); }, true);
  window.__ckStart = start;
  new MutationObserver(() => {
    const r = ck.current;
    if (!r || r.drawn !== null) return;
    const done = () => {
      r.drawn = performance.now();
      requestAnimationFrame(() => { r.frame = performance.now(); ck.records.push(r); ck.current = null; });
    };
    img.decode().then(done, done);
  }).observe(img, {attributes: true, attributeFilter: ['src']});
}
"""


def _stats(ms: list[float]) -> str:
    if not ms:
        return "no records"
    ms = sorted(ms)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):6.1f} ms  p90 {p90:6.1f} ms  (n = {len(ms)})"


def _run_kernel(page, code: str) -> None:
    page.evaluate(
        """async ([path, code]) => {
          for (const w of window.jupyterapp.shell.widgets('main')) {
            if (w.context && w.context.path === path) {
              await w.sessionContext.session.kernel.requestExecute({code, silent: false}).done;
            }
          }
        }""",
        [NOTEBOOK, code],
    )


def _records(page, n: int, timeout_ms: int = 30_000) -> None:
    page.wait_for_function("(n) => window.__ck.records.length >= n", arg=n, timeout=timeout_ms, polling=5)


def measure(kind: str, moves: int, baseline_dir: Path | None) -> dict[str, list[float]]:
    """Open chapter 05 in a JupyterLab of its own and time each scenario; ``kind`` 'canvas' or 'png' (the
    way the page is timed); ``baseline_dir``: a folder whose ``coursekit`` the kernel imports instead of
    this tree's (the PNG baseline, or an earlier canvas revision)."""
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix=f"ck-latency-{kind}-") as tmp:
        work = Path(tmp)
        (work / "course").mkdir()
        bs.copy_course(work / "course")
        env = {}
        if baseline_dir is not None:
            startup = work / "home" / "ipython" / "profile_default" / "startup"
            startup.mkdir(parents=True)
            (startup / "00-baseline.py").write_text(f"import sys\nsys.path.insert(0, {str(baseline_dir)!r})\n")
        server = bs.LabServer(work / "course", work, extra_env=env).start()
        try:
            with sync_playwright() as pw:
                browser = bs.launch_browser(pw, work / "home")
                try:
                    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                    bs.open_lab(page, server)
                    bs.open_notebook(page, NOTEBOOK)
                    report = bs.run_all(page, NOTEBOOK, timeout=600)
                    if report.problems():
                        raise RuntimeError("the notebook did not run cleanly:\n  " + "\n  ".join(report.problems()))
                    box = page.locator(".coursekit-explorer").first
                    box.scroll_into_view_if_needed()
                    page.evaluate(CANVAS_JS if kind == "canvas" else PNG_JS, 0)
                    if kind == "canvas":
                        handle = box.locator('.ck-control[data-control="scale"] input')
                    else:
                        handle = box.locator(".widget-slider").first.locator(".noUi-handle").first
                    handle.focus()
                    count = 0

                    def presses(label: str, n: int, key: str) -> None:
                        nonlocal count
                        for i in range(n):
                            handle.press(key)
                            count += 1
                            try:
                                _records(page, count)
                            except Exception:  # playwright's TimeoutError: say so, keep what was measured
                                print(f"{kind}: {label}: press {i + 1} gave no new picture within 30 s; the "
                                      f"server's log ends:\n{server.log_tail(30)}", flush=True)
                                count = len(page.evaluate("() => window.__ck.records"))
                                n = i
                                break
                            page.wait_for_timeout(60)
                        recs = page.evaluate("() => window.__ck.records")[-n:] if n else []
                        out[label] = [r["frame"] - r["t0"] for r in recs]

                    def from_kernel(code: str) -> None:
                        nonlocal count
                        if kind == "png":  # its slider ignored the keyboard after a kernel-side move; and it
                            # has no cache to avoid: it starts from where it is
                            code = "\n".join(line for line in code.splitlines() if "'scale'" not in line)
                        _run_kernel(page, code)
                        page.wait_for_timeout(2500)  # its frame arrives and is drawn (not timed)
                        count = len(page.evaluate("() => window.__ck.records"))
                        handle.focus()

                    # every press a setting not shown before (the canvas explorer's browser cache cannot help),
                    # then back over the same settings (it can)
                    from_kernel("explorer.controls['scale'].value = 0.001")
                    presses("key press, new setting, 5 x 100", moves, "ArrowRight")
                    presses("key press, seen setting, 5 x 100", moves // 2, "ArrowLeft")
                    # a mouse drag across settings not shown before: every redraw, from its pointer event
                    from_kernel("explorer.controls['scale'].value = 10.0")
                    b = handle.bounding_box()
                    y = b["y"] + b["height"] / 2
                    page.mouse.move(b["x"] + b["width"] * 0.99, y)
                    page.mouse.down()
                    before = count
                    for k in range(1, 25):
                        page.mouse.move(b["x"] + b["width"] * (0.99 - 0.01 * k), y)
                        page.wait_for_timeout(40)
                    page.mouse.up()
                    page.wait_for_timeout(2000)
                    recs = page.evaluate("() => window.__ck.records")
                    count = len(recs)
                    out["mouse drag, 5 x 100"] = [r["frame"] - r["t0"] for r in recs[before:]]
                    # the first switch to another activation: to the busy sign's first paint, to the new picture
                    if kind == "canvas":
                        box.locator('.ck-control[data-control="activation"] select').select_option("tanh")
                    else:
                        page.evaluate("() => window.__ckStart()")
                        _run_kernel(page, "explorer.controls['activation'].value = 'tanh'")
                    count += 1
                    _records(page, count)
                    rec = page.evaluate("() => window.__ck.records")[-1]
                    out["first activation switch"] = [rec["frame"] - rec["t0"]]
                    busy = rec.get("busy")
                    out["  busy sign painted after"] = [busy - rec["t0"]] if busy and busy > 0 else []
                    # 10 layers x 400 units, set from the kernel, then key presses onto new settings
                    from_kernel("explorer.controls['activation'].value = 'sigmoid'\n"
                                "explorer.controls['width'].value = 400\nexplorer.controls['depth'].value = 10\n"
                                "explorer.controls['scale'].value = 0.001")
                    presses("key press, new setting, 10 x 400", max(15, moves // 2), "ArrowRight")
                    if kind == "canvas":  # a switch that computes 10 layers of 400 units
                        box.locator('.ck-control[data-control="activation"] select').select_option("relu")
                        count += 1
                        _records(page, count)
                        rec = page.evaluate("() => window.__ck.records")[-1]
                        out["activation switch, 10 x 400"] = [rec["frame"] - rec["t0"]]
                        busy = rec.get("busy")
                        out["  busy sign painted after, 10 x 400"] = [busy - rec["t0"]] if busy and busy > 0 else []
                finally:
                    browser.close()
        finally:
            server.stop()
    return out


def measure_site(site: Path, moves: int) -> dict[str, list[float]]:
    """Key presses on the website's chapter 05 explorer (numbers from the site's own JSON files)."""
    from playwright.sync_api import sync_playwright

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no line per request in the figures
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ck-site-latency-") as tmp, sync_playwright() as pw:
            browser = bs.launch_browser(pw, Path(tmp))
            try:
                page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/{NOTEBOOK.replace('.ipynb', '.html')}")
                page.wait_for_selector(".coursekit-explorer canvas", timeout=60_000)
                box = page.locator(".coursekit-explorer").first
                box.scroll_into_view_if_needed()
                page.evaluate(CANVAS_JS, 0)
                handle = box.locator('.ck-control[data-control="scale"] input')
                handle.focus()
                handle.press("ArrowRight")  # the first move fetches the group's file
                _records(page, 1)
                for i in range(moves):
                    handle.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                    _records(page, i + 2)
                    page.wait_for_timeout(30)
                recs = page.evaluate("() => window.__ck.records")[1:]
                out["website key press, 5 x 100"] = [r["frame"] - r["t0"] for r in recs]
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=30, help="timed key presses per scenario")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the PNG path to compare with")
    parser.add_argument("--site", type=Path, default=None, help="a built site (make site) to time as well")
    parser.add_argument("--before", default=None, metavar="REV",
                        help="also time the canvas path of git revision REV (a 'before' column, same run)")
    parser.add_argument("--only", choices=["canvas", "png"], default=None)
    args = parser.parse_args(argv)
    if bs.find_chromium() is None:
        print(bs.INSTALL_HINT)
        return 2
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ck-baseline-") as tmp:
        def checkout(rev: str, name: str) -> Path:
            folder = Path(tmp) / name
            folder.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "coursekit"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
            return folder

        if args.only in (None, "canvas"):
            print("measuring the canvas path ...", flush=True)
            results["canvas"] = measure("canvas", args.moves, None)
            if args.before:
                print(f"measuring the canvas path of {args.before} ...", flush=True)
                results["before"] = measure("canvas", args.moves, checkout(args.before, "before"))
        if args.only in (None, "png"):
            print("measuring the png path ...", flush=True)
            try:
                results["png"] = measure("png", args.moves, checkout(args.baseline, "png"))
            except RuntimeError as exc:  # the baseline's coursekit may no longer run today's chapter
                print(f"the png path of {args.baseline} could not be timed: {str(exc)[:300]}", flush=True)
    if args.site:
        results["canvas"].update(measure_site(args.site, args.moves))
    print(f"chapter 05 explorer, control move -> next frame after new pixels; baseline PNG path = {args.baseline}")
    print("(1000 samples throughout; the machine may be busy: read the ratio of the two columns of this one run)")
    labels = list(dict.fromkeys(k for r in results.values() for k in r))
    for label in labels:
        row = f"{label:<32}"
        for kind in [k for k in ("canvas", "before", "png") if k in results]:
            xs = results.get(kind, {}).get(label)
            if label.strip().startswith("busy sign painted after") and not xs:
                row += f" | {kind}: {'none (no busy sign)':<38}"
            else:
                row += f" | {kind}: {_stats(xs) if xs else '-':<38}"
        c, p = results.get("canvas", {}).get(label), results.get("png", {}).get(label)
        if c and p:
            row += f" | png / canvas = {statistics.median(p) / statistics.median(c):.1f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
