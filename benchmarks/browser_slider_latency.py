"""Key press to new histogram, measured in real JupyterLab in headless Chromium.

Opens chapter 05 (by default) in JupyterLab served from this environment,
runs all cells, focuses the explorer's weight-scale slider and presses
ArrowRight / ArrowLeft alternately. In the page, ``performance.now()`` is
recorded at the keydown event, when the plot's ``src`` changes, when the new
image has loaded (decoded, ready to paint), when the statistics text changes,
and at the next animation frame after the load. Target: median key press ->
new image loaded <= 100 ms.

    .venv/bin/python benchmarks/browser_slider_latency.py [--moves 15]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import browser_support as bs  # noqa: E402 - the shared JupyterLab/Chromium helpers

TARGET_MS = 100.0

# Installs listeners on one explorer; each key press appends one record.
INSTRUMENT_JS = """
(e) => {
  const ex = document.querySelectorAll('.coursekit-explorer')[e];
  const img = ex.querySelector('img.coursekit-plot, .coursekit-plot img');
  const stats = ex.querySelector('.coursekit-stats');
  const ck = window.__ckLatency = {records: [], current: null};
  const finish = () => {
    const r = ck.current;
    if (r && r.load !== null && r.stats !== null && r.frame !== null) {
      ck.records.push(r); ck.current = null;
    }
  };
  window.addEventListener('keydown', () => {
    ck.current = {key: performance.now(), src: null, load: null, stats: null, frame: null};
  }, true);
  new MutationObserver(() => {
    const r = ck.current;
    if (!r || r.src !== null) return;
    r.src = performance.now();
    // The widget swaps the src of the same <img>: wait for that new src to decode.
    const onload = () => {
      r.load = performance.now();
      requestAnimationFrame(() => { r.frame = performance.now(); finish(); });
    };
    img.decode().then(onload, onload);
  }).observe(img, {attributes: true, attributeFilter: ['src']});
  new MutationObserver(() => {
    const r = ck.current;
    if (r && r.stats === null) { r.stats = performance.now(); finish(); }
  }).observe(stats, {subtree: true, childList: true, characterData: true});
}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="05_initialization.ipynb", help="lesson notebook (in notebooks/)")
    parser.add_argument("--slider", default=r"scale", help="regex for the slider's label")
    parser.add_argument("--moves", type=int, default=15, help="timed key presses (after 2 warm-up presses)")
    args = parser.parse_args(argv)

    if bs.find_chromium() is None:
        print(bs.INSTALL_HINT)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="ck-latency-") as tmp:
        work = Path(tmp)
        (work / "course").mkdir()
        bs.copy_course(work / "course")
        rel = f"notebooks/{args.notebook}"
        server = bs.LabServer(work / "course", work).start()
        try:
            with sync_playwright() as pw:
                browser = bs.launch_browser(pw, work / "home")
                try:
                    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                    bs.open_lab(page, server)
                    bs.open_notebook(page, rel)
                    report = bs.run_all(page, rel)
                    if report.problems():
                        print("the notebook did not run cleanly:", *report.problems(), sep="\n  ")
                        return 1
                    sliders = [s for s in bs.explorer_sliders(page) if re.search(args.slider, s["label"], re.I)]
                    if not sliders:
                        print(f"no explorer slider labelled /{args.slider}/ in {args.notebook}")
                        return 1
                    s = sliders[0]
                    handle = (page.locator(".coursekit-explorer").nth(s["explorer"])
                              .locator(".widget-slider").nth(s["slider"]).locator(".noUi-handle").first)
                    handle.scroll_into_view_if_needed()
                    handle.focus()
                    page.evaluate(INSTRUMENT_JS, s["explorer"])
                    wall = []
                    for i in range(args.moves + 2):
                        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"  # stay inside the range
                        t = time.perf_counter()
                        handle.press(key)
                        page.wait_for_function(
                            "(n) => window.__ckLatency.records.length >= n", arg=i + 1, timeout=20_000, polling=5
                        )
                        wall.append((time.perf_counter() - t) * 1000)
                        page.wait_for_timeout(150)  # let the kernel settle between moves
                    records = page.evaluate("() => window.__ckLatency.records")[2:]
                    picture = page.evaluate(
                        """async (e) => {
                          const img = document.querySelectorAll('.coursekit-explorer')[e]
                            .querySelector('img.coursekit-plot, .coursekit-plot img');
                          const blob = await (await fetch(img.src)).blob();
                          return {w: img.naturalWidth, h: img.naturalHeight, bytes: blob.size,
                                  shownW: img.clientWidth, shownH: img.clientHeight};
                        }""",
                        s["explorer"],
                    )
                    wall = wall[2:]
                finally:
                    browser.close()
        finally:
            server.stop()

    def col(name: str) -> list[float]:
        return [r[name] - r["key"] for r in records]

    load, src, stats, frame = col("load"), col("src"), col("stats"), col("frame")
    print(f"{args.notebook}: slider {s['label']!r}, {len(records)} key presses (after 2 warm-up)")
    print(f"picture: {picture['w']}x{picture['h']} px PNG, {picture['bytes'] / 1024:.0f} kB, "
          f"shown at {picture['shownW']}x{picture['shownH']} px")
    print("ms per press   " + " ".join(f"{x:6.0f}" for x in load))
    for name, xs in (("new src set", src), ("image loaded", load), ("stats text", stats),
                     ("next frame", frame), ("Python wall", wall)):
        print(f"  {name:<13} median {statistics.median(xs):6.1f} ms  min {min(xs):6.1f}  max {max(xs):6.1f}")
    median = statistics.median(load)
    verdict = "meets" if median <= TARGET_MS else "MISSES"
    print(f"median key press -> new histogram loaded: {median:.1f} ms ({verdict} the {TARGET_MS:.0f} ms target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
