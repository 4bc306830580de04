"""Latency of one slider move on chapter 05's histogram explorer, against the naive redraw.

In one process, at the default size (5 layers × 100 units × 1000 samples, sigmoid, normal init):

- explorer: set ``controls["scale"].value`` on a ``HistogramExplorer``; the observer recomputes the
  network's per-layer bin counts and statistics and puts them (numbers, no picture: the browser
  draws them, see ``browser_slider_latency.py``) into the widget's ``frame``, plus the JSON
  encoding the kernel sends;
- naive: the same recompute in numpy, then a new pyplot figure with one ``plt.hist`` per layer and
  the stats as titles, rendered to PNG (what an ``interact`` callback typically does).

Prints both medians (wall-clock) and their ratio, plus the process CPU time per move, which is
less sensitive to other programs competing for the cores. Targets: explorer median <= 10 ms,
ratio >= 15. The kernel's part only: key press to pixels in a browser is browser_slider_latency.py.
Run: ``.venv/bin/python benchmarks/slider_latency.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

import matplotlib

matplotlib.use("Agg")  # off-screen, like a notebook kernel's inline backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from coursekit import experiments as ex  # noqa: E402
from coursekit.widgets import BINS, HistogramExplorer, hist_range  # noqa: E402

DEPTH, WIDTH, N_SAMPLES, ACTIVATION, INIT = 5, 100, 1000, "sigmoid", "normal"


def scales(n: int) -> list[float]:
    """n positions of the scale control that differ from one move to the next (one key press apart)."""
    from coursekit.widgets.numbers import SCALE_GRID

    start = SCALE_GRID.index(0.5)
    return [SCALE_GRID[start + (i % 20)] for i in range(n)]


def timed(fn) -> tuple[float, float]:
    """(wall, cpu) seconds of one call of fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_explorer(repeats: int) -> list[tuple[float, float]]:
    explorer = HistogramExplorer(depth=DEPTH, width=WIDTH, n_samples=N_SAMPLES, activation=ACTIVATION, init=INIT)
    # the frame a move sends, alone: outside a kernel's event loop the look-ahead (the next step, which in a
    # kernel runs after the frame is sent, a layer at a time) would be computed inside the move
    explorer.next_values = lambda old, new: None
    slider = explorer.controls["scale"]

    def move(s):
        slider.value = s
        json.dumps(explorer.widget.frame)  # what the kernel serialises to send it

    for s in scales(5):  # warm-up: caches, first-call costs
        move(s)
    times = []
    for s in scales(repeats):  # consecutive values differ, so every assignment fires the observer
        times.append(timed(lambda s=s: move(s)))
    return times


def time_big(repeats: int) -> list[tuple[float, float]]:
    """One frame at 10 layers x 400 units (sigmoid), computed as the kernel computes it for a scale move."""
    explorer = HistogramExplorer(depth=10, width=400, n_samples=N_SAMPLES, activation=ACTIVATION, init=INIT)
    values = dict(explorer.widget.values)
    for s in scales(3):  # warm-up
        explorer.compute({**values, "scale": explorer.SCALES.index(s)})
    return [timed(lambda s=s: explorer.compute({**values, "scale": explorer.SCALES.index(s)}))
            for s in scales(max(5, repeats // 4))]


def time_layout_moves() -> tuple[float, float, float]:
    """Median ms of a depth move, of a switch to an activation not shown yet, and back to one shown."""
    explorer = HistogramExplorer(depth=1, width=WIDTH, n_samples=N_SAMPLES, activation=ACTIVATION, init=INIT)
    depth, activation = explorer.controls["depth"], explorer.controls["activation"]
    depths = []
    for d in [*range(2, explorer.MAX_DEPTH + 1), *range(explorer.MAX_DEPTH - 1, 0, -1)]:
        depths.append(timed(lambda d=d: setattr(depth, "value", d))[0])
    depth.value = DEPTH
    others = [a for a in explorer.ACTIVATIONS if a != ACTIVATION]
    new = [timed(lambda a=a: setattr(activation, "value", a))[0] for a in others]
    known = [timed(lambda a=a: setattr(activation, "value", a))[0] for a in [ACTIVATION, *others] * 2]
    return tuple(1000 * statistics.median(t) for t in (depths, new, known))


def naive_update(X, base_weights, scale: float) -> bytes:
    weights = [scale * W for W in base_weights]
    zs, hs = ex.forward(X, weights, ACTIVATION)
    stats = [ex.layer_stats(z, h, ACTIVATION) for z, h in zip(zs, hs, strict=True)]
    fig, axes = plt.subplots(1, DEPTH, figsize=(9.25, 2.1), sharey=True)
    for i, (ax, h, s) in enumerate(zip(axes, hs, stats, strict=True), start=1):
        ax.hist(h.ravel(), bins=BINS, range=hist_range(ACTIVATION))
        ax.set_title(f"layer {i}: mean {s.mean:+.2f}\nstd {s.std:.3f}, sat {s.saturated:.1%}", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def time_naive(repeats: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, WIDTH))
    base = ex.make_weights(DEPTH, WIDTH, INIT, rng=rng)
    naive_update(X, base, 1.0)  # warm-up
    times = []
    for s in scales(repeats):
        times.append(timed(lambda s=s: naive_update(X, base, s)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60, help="explorer moves to time (naive: a third)")
    args = parser.parse_args()
    ex_times = time_explorer(args.repeats)
    naive_times = time_naive(max(5, args.repeats // 3))

    def medians(times):
        return tuple(1000 * statistics.median(t[k] for t in times) for k in (0, 1))

    (explorer, explorer_cpu), (naive, naive_cpu) = medians(ex_times), medians(naive_times)
    print(f"setting: {DEPTH} layers x {WIDTH} units x {N_SAMPLES} samples, {ACTIVATION}, {INIT} init")
    frame_bytes = len(json.dumps(HistogramExplorer(depth=DEPTH, width=WIDTH, n_samples=N_SAMPLES).widget.frame))
    print(f"explorer (bin counts + statistics as JSON, {frame_bytes / 1024:.1f} kB per frame): median {explorer:.1f} ms per move "
          f"(CPU {explorer_cpu:.1f} ms)  target <= 10 ms")
    print(f"naive (new pyplot figure + plt.hist + PNG): median {naive:.1f} ms per move (CPU {naive_cpu:.1f} ms)")
    print(f"ratio naive / explorer: {naive / explorer:.1f}x wall-clock, {naive_cpu / explorer_cpu:.1f}x CPU  "
          "(target >= 15x)")
    big, big_cpu = medians(time_big(args.repeats))
    print(f"10 layers x 400 units: median {big:.1f} ms per frame (CPU {big_cpu:.1f} ms); the look-ahead computes "
          "one more after each scale step, a layer at a time between the kernel's messages (explorer_lookahead.py)")
    depth_move, new_activation, known_activation = time_layout_moves()
    print(f"layout changes (no target): depth move {depth_move:.1f} ms median (1 to 10 layers); activation "
          f"not shown yet {new_activation:.0f} ms, shown before {known_activation:.1f} ms (no figure to draw)")


if __name__ == "__main__":
    main()
