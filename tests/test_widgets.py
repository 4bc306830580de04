"""coursekit.widgets: the explorers' numbers (frames), their controls, and the static figures.

The browser side (explorer.js drawing these numbers in JupyterLab and on the website) is
tested in tests/test_browser.py and tests/test_site.py against the numbers computed here.
"""

import asyncio
import dataclasses
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from dummies import softsign_spec  # tests/ is on sys.path
from matplotlib.figure import Figure
from PIL import Image

from coursekit import activations as A
from coursekit import experiments as E
from coursekit import init as ckinit
from coursekit import widgets as W
from coursekit.widgets import numbers as nb


@pytest.fixture(scope="module")
def explorer():
    return W.HistogramExplorer()


def test_the_kernel_sends_numbers_never_pictures(explorer):
    state = explorer.widget.get_state()
    assert not any(isinstance(v, (bytes, memoryview)) for v in state.values())
    assert W.EXPLORER_CLASS in explorer.widget._esm  # the ES module gives the explorer its class
    json.dumps(explorer.widget.frame, allow_nan=False)  # plain JSON: the same frames serve the website
    layers = explorer.widget.frame["layers"]
    assert len(layers) == 5 and all(sum(layer["counts"]) <= explorer.widget.frame["total"] for layer in layers)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("activation,init,scale", [("sigmoid", "normal", 1.0), ("tanh", "xavier_normal", 5 / 3),
                                                   ("relu", "kaiming_normal", 0.7)])
def test_frames_are_the_classic_experiment(seed, activation, init, scale):
    """Every readout equals coursekit.experiments' float64 statistics to float32 rounding."""
    ex = W.HistogramExplorer(depth=4, width=50, n_samples=400, activation=activation, init=init, scale=scale,
                             seed=seed)
    want = E.forward_experiment(depth=4, width=50, n_samples=400, activation=activation, init=init, scale=scale,
                                seed=seed)
    for got, s, h in zip(ex.layer_stats, want.stats, want.activations, strict=True):
        assert got["mean"] == pytest.approx(s.mean, rel=1e-3, abs=1e-4)
        assert got["std"] == pytest.approx(s.std, rel=1e-3)
        assert got["unit_std"] == pytest.approx(s.unit_std, rel=1e-3)
        a, b = h[:, 0::2], h[:, 1::2]  # units (0, 1), (2, 3), …: cosine of their outputs over the samples
        norms = np.sqrt(np.sum(a * a, axis=0) * np.sum(b * b, axis=0))
        alike = np.mean(np.sum(a * b, axis=0)[norms > 0] / norms[norms > 0])  # a dead unit has no direction
        assert got["alike"] == pytest.approx(alike, rel=1e-3, abs=1e-4)
        assert got["flat"] == pytest.approx(s.saturated, abs=2 / h.size + 1e-4)  # a value at a bound may flip
        counts = np.histogram(h, bins=ex.bins, range=(got["lo"], got["hi"]))[0]
        assert np.abs(np.asarray(got["counts"]) - counts).sum() <= 4  # float32 vs float64 at bin edges
        assert got["beyond"] == pytest.approx(np.mean((h < got["lo"]) | (h > got["hi"])), abs=5e-4)


def test_a_shallower_network_is_the_first_layers_of_a_deeper_one():
    ex = W.HistogramExplorer(depth=10, width=25, n_samples=200, activation="tanh")
    deep = ex.layer_stats
    ex.controls["depth"].value = 4
    assert ex.layer_stats == deep[:4] and ex.controls["depth"].value == 4


def test_scale_grid_holds_the_values_the_text_asks_for_exactly():
    for _text, value in nb.SCALE_PRESETS:
        assert value in nb.SCALE_GRID  # exact, not the nearest point of a log grid
    assert nb.SCALE_TEXTS[nb.SCALE_GRID.index(0.75)] == "0.75" and nb.SCALE_TEXTS[nb.SCALE_GRID.index(0.7)] == "0.7"
    assert nb.SCALE_TEXTS[nb.SCALE_GRID.index(5 / 3)] == "1.667 (5/3)"
    assert nb.SCALE_GRID[0] == 0.001 and nb.SCALE_GRID[-1] == 10.0 and list(nb.SCALE_GRID) == sorted(set(nb.SCALE_GRID))
    assert np.diff(np.log10(nb.SCALE_GRID)).max() < 0.4  # fine: no step more than × 2.5
    ex = W.HistogramExplorer(depth=2, width=10, n_samples=50, activation="tanh", init="xavier_normal")
    ex.controls["scale"].value = 5 / 3
    assert ex.scale == 5 / 3 and "× 1.667 (5/3)" in ex.widget.frame["header"]
    want = E.forward_experiment(depth=2, width=10, n_samples=50, activation="tanh", init="xavier_normal",
                                scale=5 / 3, seed=0).stats
    assert ex.layer_stats[-1]["std"] == pytest.approx(want[-1].std, rel=1e-3)
    ex.controls["scale"].value = 0.75
    assert "× 0.75," in ex.widget.frame["header"]
    with pytest.raises(ValueError, match=r"scale must be one of the control's values; 0.72 lies between 0.7 and 0.75"):
        ex.controls["scale"].value = 0.72


def test_relu_axes_follow_the_data_and_an_exploding_network_fills_its_panels():
    ex = W.HistogramExplorer(activation="relu", init="kaiming_normal", depth=5)
    for layer in ex.layer_stats:
        assert layer["lo"] == 0 and layer["hi"] >= layer["mean"] + 4 * layer["std"] * (1 - 1e-9)
        assert layer["beyond"] < 0.01
    ex.set(init="normal", scale=1.0)  # std × 7 per layer: layer 5 is near 10^4
    for layer in ex.layer_stats:
        assert layer["hi"] >= layer["mean"] + 4 * layer["std"] * (1 - 1e-9)
        assert max(layer["counts"]) / ex.widget.frame["total"] > 0.1  # not an empty panel
    assert ex.layer_stats[-1]["hi"] > 1000


def test_relu_flat_share_is_about_half_on_a_healthy_network_and_the_legend_says_so():
    ex = W.HistogramExplorer(activation="relu", init="kaiming_normal", depth=5)
    assert all(0.4 < layer["flat"] < 0.6 for layer in ex.layer_stats)
    legend = ex.widget.spec["legend"]
    for word in ("flat f′", "dead", "unit std", "input share", "units alike", "beyond", "about half"):
        assert word in legend, word


def test_alike_shows_units_that_answer_every_input_the_same():
    """All-positive U(0, 1) at scale 0.1 with tanh: by the last layer every unit gives the same answer."""
    ex = W.HistogramExplorer(activation="tanh", init="uniform", scale=0.1)
    assert ex.layer_stats[-1]["alike"] > 0.99
    assert ex.layer_stats[-1]["input_share"] > 0.99  # which the input share does not show
    ex.set(init="uniform_centred")  # centred: the units stay different
    assert ex.layer_stats[-1]["alike"] < 0.5


def test_centred_uniform_has_unit_variance_and_keeps_tanh_healthy():
    """The explorer's uniform option is U(−√3, √3): centred, variance 1 (like ``normal``)."""
    W_ = W.EXPLORER_INITS["uniform_centred"]((400, 500), rng=np.random.default_rng(0))
    assert abs(W_.mean()) < 0.01 and W_.var() == pytest.approx(1.0, rel=0.02)
    assert W_.max() <= math.sqrt(3) and W_.min() >= -math.sqrt(3)
    explorer = W.HistogramExplorer(activation="tanh", init="uniform_centred", scale=0.1)
    assert explorer.layer_stats[-1]["flat"] < 0.01
    explorer.controls["init"].value = "uniform"  # U(0, 1), all positive: a different thing
    assert explorer.layer_stats[-1]["flat"] > 0.9


def test_explorer_survives_the_control_extremes():
    explorer = W.HistogramExplorer(activation="relu", width=400, depth=10, scale=10.0)
    for activation in ("relu", "identity", "leaky_relu", "sigmoid", "tanh"):
        explorer.controls["activation"].value = activation
        for scale in (10.0, 0.001):
            explorer.controls["scale"].value = scale
            json.dumps(explorer.widget.frame, allow_nan=False)  # strict JSON: NaN and inf are spelled out
            for layer in explorer.layer_stats:
                assert sum(layer["counts"]) <= explorer.widget.frame["total"]
                if activation in ("sigmoid", "tanh"):
                    assert sum(layer["counts"]) == explorer.widget.frame["total"]


def test_controls_name_themselves_in_errors():
    ex = W.HistogramExplorer(depth=2, width=10, n_samples=50)
    with pytest.raises(ValueError, match="init must be one of"):
        ex.controls["init"].value = "he"
    with pytest.raises(ValueError, match="no control 'colour'"):
        ex.set(colour="red")
    assert ex.controls["width"].options == W.HistogramExplorer.WIDTHS


def test_bad_arguments():
    with pytest.raises(ValueError, match="width must be one of 10, 25, 50, 100, 200, 400; got 30"):
        W.HistogramExplorer(width=30)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        W.HistogramExplorer(activation="gelu")
    with pytest.raises(ValueError, match="unknown init 'he'.*'kaiming_normal'"):
        W.HistogramExplorer(init="he")
    with pytest.raises(ValueError, match="depth must be <= 10"):
        W.HistogramExplorer(depth=11)
    with pytest.raises(ValueError, match="scale must be between 0.001 and 10"):
        W.HistogramExplorer(scale=100.0)


def test_slope_explorer_counts_units_negative_on_every_input():
    """A leaky output is never exactly 0: the readout counts units whose input is negative everywhere."""
    z = np.array([[-1.0, 2.0, -3.0], [-2.0, -1.0, -0.5]])
    ex = W.slope_explorer(z, 0.01)
    assert ex.current["negative_units"] == pytest.approx(2 / 3, abs=1e-4)
    assert ex.current["zero_grad_units"] == 0.0
    ex.controls["slope"].value = 0.0
    assert ex.current["zero_grad_units"] == pytest.approx(2 / 3, abs=1e-4)
    assert ex.current["negative_units"] == ex.current["zero_grad_units"]
    frame = ex.widget.spec["table"][nb.SLOPE_GRID.index(0.3)]
    assert frame["f"] == [-1.2, -0.6, 0.0, 2.0, 4.0] and frame["d"] == [0.3, 1.0]
    assert frame["mean_grad"] == pytest.approx((1 + 5 * 0.3) / 6, rel=1e-3)
    bundle = ex._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert bundle["text/plain"] == "live explorer: run this cell in JupyterLab"  # the stored chapter's text
    with pytest.raises(ValueError, match="negative_slope must be <= 0.5"):
        W.slope_explorer(z, 0.7)


def test_the_es_module_and_its_css_ship_with_the_package():
    from coursekit.widgets import _common

    js = _common.ESM_PATH.read_text(encoding="utf-8")
    assert "export default" in js and "function render" in js
    assert "flex-wrap: wrap" in _common.css()


def test_hist_range_covers_the_output_range():
    assert W.hist_range("sigmoid") == (0.0, 1.0)
    lo, hi = W.hist_range("tanh")
    assert lo == -1.0 and hi == 1.0  # tanh is negative too
    assert W.hist_range("relu")[0] == 0.0
    with pytest.raises(ValueError, match="unknown activation 'step'"):
        W.hist_range("step")


def test_layout_and_static_histograms():
    fig = Figure()
    artists = W.layout_histograms(fig, 7, "tanh", bins=20)
    assert len(artists) == 7
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 7 and visible[0].get_ylim() == (0.0, W.Y_MAX)
    r = E.forward_experiment(activation="tanh", init="xavier_normal", seed=0)
    fig = W.plot_layer_histograms(r, fig=Figure())
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert titles[0].startswith("layer 1: mean") and f"{r.stats[0].std:.3f}" in titles[0]
    f = W.layer_fractions(r.activations, (-1, 1), bins=40)
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="one histogram and one LayerStats per panel"):
        W.set_histograms(artists, f[:2], r.stats[:2])


def test_no_pyplot_figures_left_open():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    W.HistogramExplorer(depth=2, width=10, n_samples=50)
    assert len(plt.get_fignums()) == before  # Figure + FigureCanvasAgg: pyplot never sees it


def test_encode_png_is_a_lossless_png_of_the_canvas():
    import io

    from PIL import Image

    from coursekit.widgets import encode_png

    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, size=(17, 23, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(rgba))))
    assert decoded.shape == (17, 23, 4)
    np.testing.assert_array_equal(decoded, rgba)
    with pytest.raises(ValueError, match="rgba must be an"):
        encode_png(np.zeros((4, 4), dtype=np.uint8))


def test_encode_png_indexed_round_trip():
    rng = np.random.default_rng(4)
    palette = rng.integers(0, 256, size=(200, 3), dtype=np.uint8)
    indices = rng.integers(0, 200, size=(13, 29), dtype=np.uint8)
    indices[3, 4] = 199
    decoded = np.asarray(Image.open(io.BytesIO(W.encode_png_indexed(indices, palette))).convert("RGB"))
    np.testing.assert_array_equal(decoded, palette[indices])
    with pytest.raises(ValueError, match="indices go up to 199 but the palette has 100 colours"):
        W.encode_png_indexed(indices, palette[:100])
    with pytest.raises(ValueError, match=r"palette must be \(K, 3\) uint8"):
        W.encode_png_indexed(indices, palette[:, :2])
    with pytest.raises(ValueError, match=r"indices must be an \(H, W\) uint8 image"):
        W.encode_png_indexed(indices.astype(np.int64), palette)


def test_static_histograms_choose_the_range_from_the_data():
    r = E.forward_experiment(activation="relu", init="kaiming_normal", seed=0)
    lo, hi = W.data_range(r.activations, "relu")
    assert lo == 0 and hi >= max(np.percentile(h, 99.9) for h in r.activations)
    assert W.data_range(r.activations, "tanh") == (-1.0, 1.0)
    fig = W.plot_layer_histograms(r, fig=Figure(), title="ReLU, He normal")
    assert fig.axes[0].get_xlim()[1] == pytest.approx(hi * (1 + W.X_MARGIN))


def test_the_next_scale_step_is_computed_ahead_and_served_unchanged():
    ex = W.HistogramExplorer(depth=3, width=25, n_samples=200)
    start = ex.widget.values["scale"]
    ex.controls["scale"].value = ex.SCALES[start + 1]  # one step up: the step after it is computed ahead
    ahead = ex.widget.ahead
    assert json.loads(ahead["key"]) == [["activation", "sigmoid"], ["depth", 2], ["init", "normal"],
                                        ["scale", start + 2], ["width", 25]]
    ex.controls["scale"].value = ex.SCALES[start + 2]
    assert ex.widget.frame is ahead or ex.widget.frame == ahead  # served as computed
    fresh = W.HistogramExplorer(depth=3, width=25, n_samples=200, scale=ex.SCALES[start + 2])
    assert fresh.widget.frame["layers"] == ex.widget.frame["layers"]  # the same numbers as a fresh computation
    ex.controls["activation"].value = "tanh"  # not a scale step: no guess
    assert json.loads(ex.widget.ahead["key"])[3][1] == start + 3


def test_a_frame_computed_ahead_waits_for_the_kernels_loop_and_never_delays_a_move():
    """In a kernel the look-ahead runs one layer per turn of the event loop: a move that arrives meanwhile
    finishes it (same setting) or drops it (another setting), and is answered first either way."""

    async def scenario():
        ex = W.HistogramExplorer(depth=4, width=25, n_samples=200)
        fresh = W.HistogramExplorer(depth=4, width=25, n_samples=200)
        start = ex.widget.values["scale"]
        ex.controls["scale"].value = ex.SCALES[start + 1]
        assert ex.widget.ahead == {} and ex._pending is not None  # nothing done yet: the loop turns first
        for _ in range(20):  # 4 layers: 4 turns of the loop (bounded)
            await asyncio.sleep(0)
            if ex.widget.ahead:
                break
        assert json.loads(ex.widget.ahead["key"])[3] == ["scale", start + 2] and ex._pending is None
        fresh.controls["scale"].value = ex.SCALES[start + 2]
        assert ex.widget.ahead["layers"] == fresh.widget.frame["layers"]
        ex.controls["scale"].value = ex.SCALES[start + 2]  # served from ahead; start + 3 is pending now
        assert ex._pending is not None and json.loads(ex._pending[0])[3] == ["scale", start + 3]
        ex.controls["scale"].value = ex.SCALES[start + 3]  # asked for before the loop turned: finished at once
        fresh.controls["scale"].value = ex.SCALES[start + 3]
        assert ex.widget.frame["layers"] == fresh.widget.frame["layers"]
        ex.controls["activation"].value = "tanh"  # another setting: the pending start + 4 is dropped
        assert ex._pending is None
        stale = ex.widget.ahead
        for _ in range(10):
            await asyncio.sleep(0)
        assert ex.widget.ahead is stale  # the dropped computation sent nothing

    asyncio.run(scenario())


@pytest.fixture
def dummy_activation():
    """A softsign registered under a new name for one test, then removed from the registry."""
    name = "test_softsign"
    A.register(softsign_spec(name, "Softsign (a test's)"))
    try:
        yield name
    finally:
        A.REGISTRY.pop(name)


def test_a_registered_activation_is_in_the_explorer_with_no_other_edit(dummy_activation):
    name = dummy_activation
    assert name in A.EXPLORER_NAMES  # one unsaturated interval: the explorer can offer it
    ex = W.HistogramExplorer(depth=3, width=25, n_samples=200)
    assert name in ex.controls["activation"].options
    options = next(c for c in ex.widget.spec["controls"] if c["name"] == "activation")["options"]
    assert [name, "Softsign (a test's)"] in options  # the registry's title in the dropdown
    ex.controls["activation"].value = name
    frame = ex.widget.frame
    assert "Softsign (a test's)" in frame["header"] and frame["activation"] == name
    want = E.forward_experiment(depth=3, width=25, n_samples=200, activation=name, init="normal", seed=0)
    for got, s, h in zip(frame["layers"], want.stats, want.activations, strict=True):
        assert (got["lo"], got["hi"]) == (-1.0, 1.0)  # bounded: its whole output range
        assert got["std"] == pytest.approx(s.std, rel=1e-3)
        counts = np.histogram(h, bins=W.BINS, range=(-1.0, 1.0))[0]
        assert np.abs(np.asarray(got["counts"]) - counts).sum() <= 4  # float32 vs float64 at bin edges
    fig = W.plot_layer_histograms(want, fig=Figure())
    assert fig.axes[0].get_xlabel() == "Softsign (a test's) output"


def test_the_init_dropdown_lists_the_schemes_marked_for_the_explorer(monkeypatch):
    shown = W.explorer_inits()
    assert list(shown)[:2] == ["normal", "uniform_centred"] and list(shown)[-1] == "uniform"
    marked = {n for n, s in ckinit.SCHEMES.items() if s.in_explorer}
    assert set(shown) == marked | {"uniform_centred"}  # the table's, plus the explorer's centred uniform
    hidden = dataclasses.replace(ckinit.SCHEMES["orthogonal"], in_explorer=False)  # kept out of the explorer
    monkeypatch.setitem(ckinit.SCHEMES, "orthogonal", hidden)
    ex = W.HistogramExplorer(depth=2, width=10, n_samples=50)
    assert "orthogonal" not in ex.controls["init"].options and "orthogonal" not in W.EXPLORER_INITS
    assert "lecun_normal" in ex.controls["init"].options


def test_bins_are_one_constant():
    """The explorer, the website's numbers and the static figures all take their bins from widgets.BINS."""
    ex = W.HistogramExplorer(depth=2, width=10, n_samples=50)
    assert ex.bins == W.BINS and ex.widget.spec["params"]["bins"] == W.BINS
    assert all(len(layer["counts"]) == W.BINS for layer in ex.layer_stats)
    fig = W.plot_layer_histograms(E.forward_experiment(depth=1, width=10, n_samples=50), fig=Figure())
    assert len(fig.axes[0].patches[0].get_path().vertices) > W.BINS  # one step per bin
    root = Path(W.__file__).resolve().parents[2]
    for path in [*root.joinpath("coursekit", "widgets").glob("*.py"), *root.joinpath("benchmarks").glob("*slider*.py")]:
        written = re.findall(r"\bbins\s*(?::\s*int\s*)?=\s*\d+", path.read_text(encoding="utf-8"))
        assert not written, f"{path.relative_to(root)}: {written}: use coursekit.widgets.BINS"


def test_figure_colours_come_from_the_palette_only():
    """Changing coursekit.plotting.PALETTE recolours every explorer: no colour is written in coursekit.widgets."""
    from matplotlib.colors import to_rgb

    from coursekit.plotting import PALETTE

    palette = {to_rgb(c) for c in PALETTE}
    fig = W.draw_temperature([2.0, 1.0, 0.1], 0.5)
    slope = W.SlopePlot(0.1)
    for f in (fig, slope.fig):
        for ax in f.axes:
            for artist in [*ax.lines, *ax.patches]:
                colour = artist.get_color() if hasattr(artist, "get_color") else artist.get_facecolor()
                assert to_rgb(colour) in palette, (artist, colour)
    root = Path(W.__file__).resolve().parent
    for path in root.glob("*.py"):
        assert not re.findall(r"""color=["']""", path.read_text(encoding="utf-8")), path.name
    assert W.HistogramExplorer(depth=1, width=10, n_samples=20).widget.spec["colors"] == list(PALETTE)
