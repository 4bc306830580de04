"""Softmax temperature: the numbers, the pure draw function, and the slider widget driven via .value."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from coursekit.softmax import softmax_temperature, temperature_stats
from coursekit.widgets.temperature import (
    DEFAULT_LOGITS,
    T_MAX,
    T_MIN,
    TemperatureExplorer,
    draw_temperature,
    render_png,
    temperature_explorer,
)


def _pixels(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 3.0, 10.0])
def test_softmax_temperature_matches_torch(rng, dtype, tol, temperature):
    z = (3 * rng.standard_normal((8, 5))).astype(dtype)
    got = softmax_temperature(z, temperature)
    assert got.dtype == dtype
    want = torch.softmax(torch.from_numpy(z) / temperature, dim=-1).numpy()
    np.testing.assert_allclose(got, want, atol=tol, rtol=tol * 10)


def test_float16_kept_and_small_temperature():
    z16 = np.array([3.0, 1.0, -2.0], dtype=np.float16)
    got = softmax_temperature(z16, 1e-3)  # z / T = 3000 would overflow float16 if divided there
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, np.array([1.0, 0.0, 0.0], dtype=np.float16))
    np.testing.assert_allclose(softmax_temperature(z16, 2.0).astype(np.float64),
                               torch.softmax(torch.tensor([3.0, 1.0, -2.0], dtype=torch.float64) / 2, 0).numpy(),
                               atol=1e-3)
    with pytest.raises(ValueError, match=r"temperature 1e-308 is too small for these logits"):
        softmax_temperature(np.array([1e4, 0.0]), 1e-308)


def test_temperature_limits_and_order(rng):
    z = rng.standard_normal(6)
    order = np.argsort(z)
    for t in [0.05, 0.3, 1.0, 4.0, 50.0]:
        np.testing.assert_array_equal(np.argsort(softmax_temperature(z, t)), order)  # ranking kept
    np.testing.assert_allclose(softmax_temperature(z, 1e-3), np.eye(6)[np.argmax(z)], atol=1e-12)
    np.testing.assert_allclose(softmax_temperature(z, 1e6), 1 / 6, atol=1e-5)


def test_stats_against_independent_entropy():
    z = np.array(DEFAULT_LOGITS)
    for t in [0.2, 1.0, 5.0]:
        s = temperature_stats(z, t)
        dist = torch.distributions.Categorical(logits=torch.tensor(z) / t)
        np.testing.assert_allclose(s["probs"], dist.probs.numpy(), atol=1e-12)
        assert s["entropy"] == pytest.approx(dist.entropy().item(), rel=1e-10)
        assert s["entropy_fraction"] == pytest.approx(dist.entropy().item() / np.log(z.size), rel=1e-10)
        assert s["max_prob"] == pytest.approx(dist.probs.max().item(), rel=1e-12)
        assert s["argmax"] == 0


def test_entropy_rises_and_max_prob_falls_with_temperature():
    grid = np.geomspace(T_MIN, T_MAX, 50)
    stats = [temperature_stats(DEFAULT_LOGITS, t) for t in grid]
    h = np.array([s["entropy"] for s in stats])
    m = np.array([s["max_prob"] for s in stats])
    assert np.all(np.diff(h) > 0) and np.all(np.diff(m) < 0)
    assert 0 < h[0] < h[-1] < np.log(len(DEFAULT_LOGITS))


def test_entropy_of_one_hot_is_zero():
    # exp(-1e4) underflows to exactly 0: 0·log 0 must count as 0, not nan.
    s = temperature_stats([1e4, 0.0, 0.0], 1.0)
    assert s["entropy"] == 0.0 and s["max_prob"] == 1.0


# ---------------------------------------------------------------- pure draw function


def test_draw_temperature_pure_figure():
    before = plt.get_fignums()
    fig = draw_temperature([3.0, 1.0, 0.2], 0.5, labels=["cat", "dog", "bird"])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before  # not registered with pyplot: nothing to close, nothing leaks
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, softmax_temperature(np.array([3.0, 1.0, 0.2]), 0.5), atol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "bird"]
    assert "T = 0.500" in ax.get_title()
    assert ax.get_ylim() == (0.0, 1.0)


def test_render_png_differs_between_temperatures():
    a = _pixels(render_png(draw_temperature(DEFAULT_LOGITS, 1.0)))
    b = _pixels(render_png(draw_temperature(DEFAULT_LOGITS, 2.0)))
    assert a.shape == b.shape and a.shape[2] == 3
    assert np.any(a != b)
    again = _pixels(render_png(draw_temperature(DEFAULT_LOGITS, 1.0)))
    np.testing.assert_array_equal(a, again)  # deterministic


# ---------------------------------------------------------------- widget


def test_explorer_sends_numbers_for_every_temperature_on_its_grid():
    from coursekit.widgets import numbers as nb

    ex = temperature_explorer(DEFAULT_LOGITS, 1.0, labels=["cat", "dog", "fox", "owl", "eel"])
    assert isinstance(ex, TemperatureExplorer)
    assert "coursekit-explorer" in ex.widget._esm  # the ES module gives the explorer its class
    spec = ex.widget.spec
    assert spec["kind"] == "temperature" and spec["table_key"] == "temperature"
    assert len(spec["table"]) == len(nb.TEMPERATURE_GRID) and (T_MIN, T_MAX) == (0.1, 10.0)
    # each frame is temperature_stats of the logits at that grid value, rounded for display
    for t, frame in zip(nb.TEMPERATURE_GRID, spec["table"], strict=True):
        want = temperature_stats(DEFAULT_LOGITS, t)
        assert frame["T"] == t and frame["argmax"] == want["argmax"]
        np.testing.assert_allclose(frame["probs"], want["probs"], rtol=5e-4)
        assert frame["entropy"] == pytest.approx(want["entropy"], rel=5e-4)
    # the values the chapter names are exact grid points, each shown as one number
    texts = spec["controls"][0]["texts"]
    for t in (0.25, 1.0, 4.0):
        assert texts[nb.TEMPERATURE_GRID.index(t)] == f"{t:g}"
    assert not any(isinstance(v, bytes) for v in ex.widget.get_state().values())


def test_explorer_moves_through_its_control():
    ex = temperature_explorer()
    assert ex.current["T"] == 1.0
    ex.controls["temperature"].value = 0.25
    assert ex.widget.values == {"temperature": 4} and ex.current["T"] == 0.25
    assert ex.current == ex.frame(0.25)
    with pytest.raises(ValueError, match=r"temperature must be one of the control's values; 0.37 lies between 0.3 and 0.4"):
        ex.controls["temperature"].value = 0.37
    bundle = ex._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "run this cell in JupyterLab" in bundle["text/plain"]  # viewed without a kernel


# ---------------------------------------------------------------- bad input


def test_bad_temperature():
    with pytest.raises(ValueError, match=r"temperature must be > 0; got 0.0"):
        softmax_temperature(np.zeros(3), 0.0)
    with pytest.raises(ValueError, match=r"temperature must be > 0; got -1.0"):
        temperature_stats([1.0, 2.0], -1)
    with pytest.raises(ValueError, match=r"temperature must be finite"):
        draw_temperature(DEFAULT_LOGITS, float("nan"))
    with pytest.raises(TypeError, match=r"temperature must be a real number; got str"):
        temperature_explorer(DEFAULT_LOGITS, "hot")
    with pytest.raises(ValueError, match=r"temperature must be in \[0.1, 10.0\].*got 20.0"):
        temperature_explorer(DEFAULT_LOGITS, 20.0)


def test_bad_logits_and_labels():
    with pytest.raises(TypeError, match=r"logits must be a floating-point array.*int64"):
        softmax_temperature(np.array([1, 2]), 1.0)
    with pytest.raises(ValueError, match=r"logits must hold at least 2 classes"):
        temperature_stats([1.0], 1.0)
    with pytest.raises(ValueError, match=r"logits must be 1-D; got an array of shape \(2, 2\)"):
        temperature_explorer(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"logits must be finite"):
        draw_temperature([1.0, np.inf], 1.0)
    with pytest.raises(ValueError, match=r"labels must hold one name per logit \(3\); got 2 labels"):
        draw_temperature([1.0, 2.0, 3.0], 1.0, labels=["a", "b"])
    with pytest.raises(TypeError, match=r"labels must be a list of 2 strings"):
        temperature_explorer([1.0, 2.0], labels="ab")


def test_integer_logits_follow_one_rule():
    # Functions whose output keeps the input's dtype refuse integers; float64-only ones convert.
    ints = np.array([2, 0, -1])
    with pytest.raises(TypeError, match=r"logits must be a floating-point array"):
        softmax_temperature(ints, 1.0)
    assert softmax_temperature(ints.astype(np.float32), 1.0).dtype == np.float32
    expected = torch.softmax(torch.tensor([2.0, 0.0, -1.0], dtype=torch.float64) / 0.5, 0).numpy()
    for z in (ints, [2, 0, -1]):
        s = temperature_stats(z, 0.5)
        assert s["probs"].dtype == np.float64
        np.testing.assert_allclose(s["probs"], expected, rtol=1e-12)
