"""coursekit.widgets.HistogramExplorer: DOM contract, synchronous updates, numbers that match."""

import io
import math

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from coursekit import experiments as E
from coursekit import widgets as W


@pytest.fixture(scope="module")
def explorer():
    return W.HistogramExplorer()


def png_size(data: bytes):
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return img.size


def test_hist_range_covers_the_output_range():
    assert W.hist_range("sigmoid") == (0.0, 1.0)
    lo, hi = W.hist_range("tanh")
    assert lo == -1.0 and hi == 1.0  # tanh is negative too
    assert W.hist_range("relu")[0] == 0.0
    with pytest.raises(ValueError, match="unknown activation 'step'"):
        W.hist_range("step")


def test_dom_contract_and_controls(explorer):
    assert "coursekit-explorer" in explorer.widget._dom_classes
    assert "coursekit-stats" in explorer.stats._dom_classes and isinstance(explorer.stats, widgets.HTML)
    assert "coursekit-plot" in explorer.image._dom_classes and explorer.image.format == "png"
    c = explorer.controls
    assert set(c) == {"scale", "init", "activation", "depth", "width"}
    assert isinstance(c["scale"], widgets.FloatLogSlider)
    assert isinstance(c["init"], widgets.Dropdown)
    labels = dict(c["init"].options)  # (label, value) pairs
    assert "kaiming_normal" in labels.values() and "uniform_centred" in labels.values()
    assert "NOT centred" in {v: k for k, v in labels.items()}["uniform"]  # U(0, 1) says what it is
    assert set(c["activation"].options) == {"sigmoid", "tanh", "relu", "leaky_relu", "identity"}
    assert isinstance(c["depth"], widgets.IntSlider) and c["depth"].min == 1
    assert list(c["width"].options) == list(W.HistogramExplorer.WIDTHS)
    # the scale slider comes first in the DOM: the browser test presses keys on the first slider
    sliders = [w for w in explorer.widget.children[0].children if isinstance(w, widgets.FloatLogSlider)]
    assert sliders == [c["scale"]]
    assert png_size(explorer.image.value)[0] > 300
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    # viewed without a kernel, the notebook shows this text, not "VBox(children=...)"
    assert "run this cell in JupyterLab" in bundle["text/plain"] and "VBox" not in bundle["text/plain"]
    notes = [w for w in explorer.widget.children if "coursekit-kernel-note" in w._dom_classes]
    assert len(notes) == 1 and "re-run this cell" in notes[0].value


def test_default_frame_is_the_classic_experiment(explorer):
    want = E.forward_experiment(activation="sigmoid", init="normal", seed=0).stats
    for got, ref in zip(explorer.layer_stats, want, strict=True):
        assert got.mean == pytest.approx(ref.mean, abs=1e-4)
        assert got.std == pytest.approx(ref.std, rel=1e-4)
        assert got.saturated == pytest.approx(ref.saturated, abs=1e-3)
    assert f"{want[0].saturated:.2%}" in explorer.stats.value


def test_one_slider_step_changes_picture_and_numbers(explorer):
    c = explorer.controls["scale"]
    before_png, before_stats = explorer.image.value, explorer.stats.value
    c.value = c.value * 10 ** c.step  # one ArrowRight on a FloatLogSlider
    assert explorer.image.value != before_png
    assert explorer.stats.value != before_stats
    c.value = 1.0
    assert explorer.stats.value == before_stats  # deterministic: back to the same frame


def test_init_width_depth_activation_changes(explorer):
    c = explorer.controls
    c["init"].value = "kaiming_normal"
    c["activation"].value = "relu"
    want = E.forward_experiment(activation="relu", init="kaiming_normal", seed=0).stats
    assert explorer.layer_stats[-1].std == pytest.approx(want[-1].std, rel=1e-4)
    c["depth"].value = 7
    assert len(explorer.layer_stats) == 7 and explorer.fractions.shape == (7, explorer.bins)
    assert len(explorer.artists) == 7
    assert "layer 7" in explorer.stats.value
    c["activation"].value = "tanh"
    assert explorer.artists[0][0].axes.get_xlim() == pytest.approx((-1.0 - 2 * W.X_MARGIN, 1.0 + 2 * W.X_MARGIN))
    c["width"].value = 25
    assert explorer.X.shape == (1000, 25)
    for key, value in [("depth", 5), ("width", 100), ("activation", "sigmoid"), ("init", "normal")]:
        c[key].value = value
    assert len(explorer.layer_stats) == 5


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


def test_stats_html_has_one_cell_per_layer_in_rows_like_the_panels():
    r = E.forward_experiment(depth=7, seed=0)
    html = W.stats_html(r.stats, "header", left_px=40, column_px=120)
    assert html.count("<b>layer ") == 7 and "<b>header</b>" in html
    assert html.count("<tr>") == 2  # 5 panels per row, like the figure
    assert f"saturated {r.stats[2].saturated:.2%}" in html and f"std {r.stats[6].std:.3f}" in html
    assert "width:40px" in html and "width:120px" in html


def test_no_pyplot_figures_left_open():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    W.HistogramExplorer(depth=2, width=10, n_samples=50)
    assert len(plt.get_fignums()) == before  # Figure + FigureCanvasAgg: pyplot never sees it


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


def _blue(rgb):
    """Pixels of a bar: the bar colour C0 (31, 119, 180) over anything is far bluer than red."""
    return (rgb[..., 2].astype(int) - rgb[..., 0]) > 40


@pytest.mark.parametrize("activation,init,depth", [("sigmoid", "normal", 5), ("tanh", "xavier_normal", 7),
                                                   ("relu", "kaiming_normal", 3), ("sigmoid", "normal", 10)])
def test_explorer_png_matches_matplotlibs_own_drawing(activation, init, depth):
    """The painted frame against matplotlib drawing the same histograms as stairs on the same figure.

    The figure holds MAX_DEPTH panels; the picture shows the first ``depth`` of them, the others
    painted over in the background colour and the picture cut below the last row shown.
    """
    explorer = W.HistogramExplorer(activation=activation, init=init, depth=depth)
    shown = np.asarray(Image.open(io.BytesIO(explorer.image.value)).convert("RGB"))
    for (stairs, _title), values in zip(explorer.artists, explorer.fractions, strict=True):
        stairs.set_visible(True)  # drawn over the finished background, frame and all
        stairs.set_data(values)
        stairs.axes.draw_artist(stairs)
    canvas = np.asarray(explorer.canvas.buffer_rgba())[..., :3]
    height = canvas.shape[0]  # display coordinates count from the canvas's bottom edge
    drawn = canvas[:shown.shape[0]]
    assert shown.shape[1] == canvas.shape[1]
    renderer = explorer.canvas.get_renderer()
    panels = [stairs.axes for stairs, _title in explorer.artists]
    lowest_shown = max(height - ax.get_tightbbox(renderer).y0 for ax in panels)
    assert lowest_shown <= shown.shape[0] <= lowest_shown + 6  # nothing shown is cut off
    checked = 0
    for (stairs, _title), values in zip(explorer.artists, explorer.fractions, strict=True):
        ax = stairs.axes
        edges = stairs.get_data().edges
        _x0, y0, _x1, y1 = ax.get_window_extent().extents
        rows = slice(int(height - y1) - 1, int(height - y0) + 2)  # this panel's rows and a pixel more
        for j, f in enumerate(values):
            x = ax.transData.transform(((edges[j] + edges[j + 1]) / 2, 0.0))[0]
            column = int(x)
            want = _blue(drawn[rows, column]).sum()
            got = _blue(shown[rows, column]).sum()
            assert abs(int(got) - int(want)) <= 1, (ax.get_title(loc="left"), j, f, got, want)
            # and the bar's top is where the square-root axis puts it
            if got:
                top_y = ax.transData.transform((0.0, min(f, W.Y_MAX)))[1]  # taller bars reach the top
                top_row = rows.start + np.flatnonzero(_blue(shown[rows, column]))[0]
                assert abs((height - top_row) - top_y) <= 1.0, (ax.get_title(loc="left"), j, f)
            checked += 1
    assert checked == depth * explorer.bins
    # the panels not shown are blank; everywhere else only the quantised background differs
    hidden = np.zeros(shown.shape[:2], dtype=bool)
    for ax in explorer.fig.axes[depth:]:
        x0, y0, x1, y1 = ax.get_tightbbox(renderer).extents
        hidden[max(int(height - y1), 0):int(height - y0) + 1, int(x0):int(x1) + 1] = True
    assert hidden.any() == (depth % W.PANELS_PER_ROW != 0)  # blank slots in the last row shown
    assert np.all(shown[hidden] == 255)
    neither = ~(_blue(shown) | _blue(drawn)) & ~hidden
    assert np.abs(shown.astype(int) - drawn)[neither].max() <= 20  # antialiased spines next to bars
    assert np.percentile(np.abs(shown.astype(int) - drawn)[neither], 99.9) <= 4


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


def test_explorer_survives_the_slider_extremes():
    """Largest scale, depth and width with unbounded activations: finite numbers, a picture."""
    explorer = W.HistogramExplorer(activation="relu", width=400, depth=10, scale=10.0)
    for activation in ("relu", "identity", "leaky_relu", "sigmoid", "tanh"):
        explorer.controls["activation"].value = activation
        for scale in (10.0, 0.001):
            explorer.controls["scale"].value = scale
            assert all(math.isfinite(s.mean) and math.isfinite(s.std) for s in explorer.layer_stats), activation
            total = explorer.fractions.sum(axis=1)  # values beyond an unbounded axis are in no bin
            assert np.all(total <= 1 + 1e-9)
            if activation in ("sigmoid", "tanh"):
                np.testing.assert_allclose(total, 1.0)
            assert png_size(explorer.image.value)[0] > 300


def test_depth_moves_reuse_the_figure_and_activations_are_drawn_once():
    explorer = W.HistogramExplorer(depth=3, width=10, n_samples=200)
    c = explorer.controls
    first_png, first_stats = explorer.image.value, explorer.stats.value
    fig = explorer.fig
    assert len(fig.axes) == W.HistogramExplorer.MAX_DEPTH  # laid out once, for the deepest network
    c["depth"].value = 8
    assert explorer.fig is fig  # no matplotlib drawing for a depth move
    assert len(explorer.painter.panels) == 8 and len(explorer.artists) == 8
    assert png_size(explorer.image.value)[1] > png_size(first_png)[1]  # a second row of panels
    c["depth"].value = 3
    assert explorer.image.value == first_png and explorer.stats.value == first_stats
    c["activation"].value = "tanh"
    assert explorer.fig is not fig and explorer.artists[0][0].axes.get_xlim()[1] == pytest.approx(1 + 2 * W.X_MARGIN)
    tanh_fig, tanh_png = explorer.fig, explorer.image.value
    c["activation"].value = "sigmoid"
    assert explorer.fig is fig and explorer.image.value == first_png
    c["activation"].value = "tanh"
    assert explorer.fig is tanh_fig and explorer.image.value == tanh_png
    with pytest.raises(ValueError, match="n must be <= 3; got 4"):
        explorer.painter.subset(4)  # a painter of 3 panels


def test_scale_presets_reach_the_exact_values_the_text_asks_for():
    explorer = W.HistogramExplorer(depth=2, width=10, n_samples=50, activation="tanh", init="xavier_normal")
    five_thirds = [b for b in explorer.presets if b.description == "× 5/3"]
    assert len(five_thirds) == 1
    five_thirds[0].click()
    assert explorer.scale == 5 / 3 and "× 1.667 (exact)" in explorer.stats.value
    frame = explorer.fractions.copy()
    # the browser snaps the slider to its grid and sends 10^0.2 ≈ 1.585 back: the exact value stays
    explorer.controls["scale"].value = 10**0.2
    assert explorer.scale == 5 / 3 and "× 1.667 (exact)" in explorer.stats.value
    np.testing.assert_array_equal(explorer.fractions, frame)
    want = E.forward_experiment(depth=2, width=10, n_samples=50, activation="tanh", init="xavier_normal",
                                scale=5 / 3, seed=0).stats
    assert explorer.layer_stats[-1].std == pytest.approx(want[-1].std, rel=1e-4)
    # a real move of the slider leaves the preset
    explorer.controls["scale"].value = 10**0.3
    assert explorer.scale == pytest.approx(10**0.3) and "(exact)" not in explorer.stats.value


def test_centred_uniform_has_unit_variance_and_keeps_tanh_healthy():
    """The explorer's uniform option is U(−√3, √3): centred, variance 1 (like ``normal``)."""
    W_ = W.EXPLORER_INITS["uniform_centred"]((400, 500), rng=np.random.default_rng(0))
    assert abs(W_.mean()) < 0.01 and W_.var() == pytest.approx(1.0, rel=0.02)
    assert W_.max() <= math.sqrt(3) and W_.min() >= -math.sqrt(3)
    explorer = W.HistogramExplorer(activation="tanh", init="uniform_centred", scale=0.1)
    # shape does not matter, scale does: centred uniform × 0.1 behaves like normal × 0.1
    assert explorer.layer_stats[-1].saturated < 0.01
    explorer.controls["init"].value = "uniform"  # U(0, 1), all positive: a different thing
    assert explorer.layer_stats[-1].saturated > 0.9


def test_stats_show_the_per_unit_spread():
    explorer = W.HistogramExplorer(activation="sigmoid", init="lecun_normal")
    want = E.forward_experiment(activation="sigmoid", init="lecun_normal", seed=0).stats
    assert f"unit std {want[0].unit_std:.3g}" in explorer.stats.value
    assert "input share 4e-05" in explorer.stats.value  # layer 5: the input hardly matters any more


def test_values_beyond_the_axis_are_not_piled_into_the_last_bin():
    explorer = W.HistogramExplorer(activation="relu", init="kaiming_normal", depth=3)
    lo, hi = W.hist_range("relu")
    r = E.forward_experiment(depth=3, activation="relu", init="kaiming_normal", seed=0)
    for h, f in zip(r.activations, explorer.fractions, strict=True):
        assert f[-1] == pytest.approx(np.mean((h >= hi - (hi - lo) / explorer.bins) & (h <= hi)), abs=2e-3)
        assert 1 - f.sum() == pytest.approx(np.mean(h > hi), abs=1e-3)
    assert "beyond axis" in explorer.stats.value


def test_static_histograms_choose_the_range_from_the_data():
    r = E.forward_experiment(activation="relu", init="kaiming_normal", seed=0)
    lo, hi = W.data_range(r.activations, "relu")
    assert lo == 0 and hi >= max(np.percentile(h, 99.9) for h in r.activations)
    assert W.data_range(r.activations, "tanh") == (-1.0, 1.0)
    fig = W.plot_layer_histograms(r, fig=Figure(), title="ReLU, He normal")
    assert fig.axes[0].get_xlim()[1] == pytest.approx(hi * (1 + W.X_MARGIN))
