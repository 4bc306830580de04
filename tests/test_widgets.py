"""coursekit.widgets.HistogramExplorer: DOM contract, synchronous updates, numbers that match."""

import io

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
    assert isinstance(c["init"], widgets.Dropdown) and "kaiming_normal" in c["init"].options
    assert set(c["activation"].options) == {"sigmoid", "tanh", "relu", "leaky_relu", "identity"}
    assert isinstance(c["depth"], widgets.IntSlider) and c["depth"].min == 1
    assert list(c["width"].options) == list(W.HistogramExplorer.WIDTHS)
    # the scale slider comes first in the DOM: the browser test presses keys on the first slider
    sliders = [w for w in explorer.widget.children[0].children if isinstance(w, widgets.FloatLogSlider)]
    assert sliders == [c["scale"]]
    assert png_size(explorer.image.value)[0] > 300
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


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
    assert explorer.artists[0][0].axes.get_xlim() == (-1.0, 1.0)
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
    assert len(visible) == 7 and visible[0].get_ylim() == (0.0, 1.0)
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


def test_explorer_png_shows_the_figure_pixels():
    import io

    from PIL import Image

    from coursekit.widgets import HistogramExplorer

    explorer = HistogramExplorer()
    shown = np.asarray(Image.open(io.BytesIO(explorer.image.value)))
    canvas = np.asarray(explorer.canvas.buffer_rgba())
    np.testing.assert_array_equal(shown, canvas)
