"""coursekit.plotting: readable figures (words in titles, labels on every panel, classes by marker
and colour, honest jumps) that every helper returns as axes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from coursekit import activations, data, plotting, training
from coursekit.plotting import (
    PALETTE,
    activation_title,
    integer_ticks,
    plot_activation,
    plot_decision_regions,
    plot_jump,
    plot_losses,
    plot_piecewise,
    scatter_classes,
)


@pytest.fixture(autouse=True)
def course_style():
    with matplotlib.rc_context():
        plotting.use_style()
        yield
        plt.close("all")


def test_style_is_readable_and_colour_blind_safe():
    assert matplotlib.rcParams["savefig.dpi"] >= 110 and matplotlib.rcParams["figure.dpi"] >= 110
    assert len(set(PALETTE)) == len(PALETTE) == 8
    assert len(set(plotting.LINESTYLES[:6])) == 6 and len(set(plotting.MARKERS)) == len(plotting.MARKERS)


@pytest.mark.parametrize(
    ("name", "params", "title"),
    [("leaky_relu", {"negative_slope": 0.1}, "LeakyReLU, slope 0.1"), ("relu", {}, "ReLU"),
     ("silu", {}, "SiLU (swish)"), ("sigmoid", {}, "Sigmoid")],
)
def test_titles_in_words(name, params, title):
    assert activation_title(name, **params) == title
    ax_f, ax_d = plot_activation(name, **params)
    assert ax_f.get_title() == title and ax_d.get_title() == f"{title}: derivative"
    assert "_" not in ax_f.get_title()


@pytest.mark.parametrize("name", activations.NAMES)
def test_every_activation_panel_is_labelled_and_not_zoomed_into_noise(name):
    for ax in plot_activation(name):
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
        lo, hi = ax.get_ylim()
        assert hi - lo >= 1.0, f"{name}: y range {lo}..{hi} is an auto-zoom"


def test_identity_derivative_axis_is_not_0_96_to_1_04():
    _, ax_d = plot_activation("identity")
    lo, hi = ax_d.get_ylim()
    assert lo <= 0.0 and hi >= 1.0


def _dots(ax):
    """(x, y, filled) of every single-point marker line on ax."""
    out = []
    for line in ax.lines:
        xs, ys = line.get_xdata(), line.get_ydata()
        if len(xs) == 1 and line.get_marker() == "o":
            filled = to_hex(line.get_markerfacecolor()) != "#ffffff"
            out.append((float(xs[0]), float(ys[0]), filled))
    return out


@pytest.mark.parametrize(("name", "params", "value"), [("relu", {}, 0.0), ("leaky_relu", {"negative_slope": 0.1}, 0.1)])
def test_derivative_jump_has_filled_dot_at_the_value_autograd_returns(name, params, value):
    _, ax_d = plot_activation(name, **params)
    dots = _dots(ax_d)
    assert (0.0, value, True) in dots and (0.0, 1.0, False) in dots
    # no piece of the curve crosses the jump: no vertical segment at x = 0
    for line in ax_d.lines:
        xs = np.asarray(line.get_xdata(), dtype=float)
        if len(xs) > 1:
            assert not np.any(xs == 0.0)


def test_step_value_at_zero_is_the_filled_dot():
    ax_f, ax_d = plot_activation("step")
    assert (0.0, 0.0, True) in _dots(ax_f) and (0.0, 1.0, False) in _dots(ax_f)
    assert (0.0, 0.0, False) in _dots(ax_d)  # derivative undefined at 0: open dot only


def test_plot_jump_and_piecewise_return_axes():
    fig, ax = plt.subplots()
    x = np.linspace(-1, 1, 11)
    assert plot_piecewise(ax, x, (x > 0).astype(float)) is ax
    assert plot_jump(ax, 0.0, 0.0, 1.0, label="at 0") is ax
    assert [len(line.get_xdata()) for line in ax.lines] == [5, 5, 1, 1]


def test_scatter_classes_tells_classes_apart_by_marker_and_colour():
    X = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=float)
    ax = scatter_classes(X, np.array([0, 1, 1, 0]), labels=("zero", "one"))
    a, b = ax.collections
    assert to_hex(a.get_facecolor()[0]) != to_hex(b.get_facecolor()[0])
    assert a.get_paths()[0] != b.get_paths()[0] and len(a.get_paths()[0].vertices) != len(b.get_paths()[0].vertices)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zero", "one"]
    assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        scatter_classes(np.zeros((3, 3)), np.zeros(3))


def test_plot_decision_regions_from_a_trained_model():
    X, y = data.make_moons(60, rng=np.random.default_rng(0))
    run = training.train_classifier(X, y, [], steps=50, lr=0.5, seed=0)
    g1, g2, p = training.decision_grid(run.model, X, n=30)
    ax = plot_decision_regions(g1, g2, p, X, y, title="Linear model")
    assert ax.get_title() == "Linear model" and ax.get_legend() is not None
    assert ax.get_xlim() == (g1.min(), g1.max())


def test_plot_losses_distinguishes_curves_without_colour():
    ax = plot_losses({"a": [1.0, 0.5, 0.2], "b": [1.0, 0.8, 0.7]}, title="t")
    styles = {line.get_linestyle() for line in ax.lines}
    assert len(styles) == 2 and ax.get_yscale() == "log"
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])


def test_integer_ticks_for_counts():
    fig, ax = plt.subplots()
    ax.bar(["0.1", "0.2"], [1, 3])
    integer_ticks(ax)
    fig.canvas.draw()
    ticks = ax.get_yticks()
    assert np.allclose(ticks, np.round(ticks))


# --- figures moved here from the math modules (issue #27): no math module draws --------------


def test_plot_decision_boundary_returns_axes():
    from coursekit.neurons import GATE_INPUTS, GATE_OUTPUTS

    ax = plotting.plot_decision_boundary([0.5, 0.5], -0.7, GATE_INPUTS, GATE_OUTPUTS["AND"], title="AND")
    assert ax.get_title() == "AND"
    plt.close("all")


@pytest.mark.parametrize("sizes", [[3, 4, 2], [2, 1], [5, 3, 3, 1]])
def test_draw_network_lines_only_between_adjacent_layers(sizes):
    import matplotlib.pyplot as plt

    ax = plotting.draw_network(sizes)
    lines, nodes = ax.collections[0], ax.collections[1]
    segments = lines.get_segments()
    assert len(segments) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    # x position of a point is its layer index: every line joins layer k to layer k+1.
    assert all(round(q[0] - p[0]) == 1 for p, q in segments)
    assert len(nodes.get_offsets()) == sum(sizes)
    assert len({tuple(p) for seg in segments for p in seg}) == sum(sizes)
    plt.close("all")


def test_draw_network_refuses_a_layer_too_wide_to_draw():
    with pytest.raises(ValueError, match=rf"layer_sizes\[0\] must be <= {plotting.MAX_DRAWN_WIDTH}"):
        plotting.draw_network([plotting.MAX_DRAWN_WIDTH + 1, 2])


def test_plot_activation_axes_must_be_a_pair():
    with pytest.raises(TypeError, match="axes must be a pair of matplotlib Axes"):
        plotting.plot_activation("relu", axes=123)
    with pytest.raises(TypeError, match="axes must be a pair"):
        plotting.plot_activation("relu", axes="ab")


def test_every_figure_colour_comes_from_the_palette():
    """The tints and greys are the palette's colours mixed with white, and nothing outside
    plotting.py writes a colour: no hex code, no named grey in the math modules."""
    import re
    from pathlib import Path

    import matplotlib.colors as mcolors

    for derived, (base, amount) in [(plotting.REGION_COLORS[0], (plotting.PALETTE[0], 0.8)),
                                    (plotting.REGION_COLORS[1], (plotting.PALETTE[1], 0.7)),
                                    (plotting.GREY, (plotting.PALETTE[7], 0.55))]:
        rgb = np.array(mcolors.to_rgb(base))
        np.testing.assert_allclose(derived, rgb + (1 - rgb) * amount)
    assert plotting.tint(plotting.PALETTE[2], 0.0) == mcolors.to_rgb(plotting.PALETTE[2])
    assert plotting.tint(plotting.PALETTE[2], 1.0) == (1.0, 1.0, 1.0)
    package = Path(plotting.__file__).parent
    for name in ("activations", "neurons", "dense", "collapse", "init", "softmax", "data", "training", "experiments"):
        text = (package / f"{name}.py").read_text(encoding="utf-8")
        assert not re.search(r"#[0-9a-fA-F]{6}\b|colou?rs?=\"", text), name
