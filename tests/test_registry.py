"""One activation registry: an activation added in one place shows up in every table derived from it.

The dummy is softsign, f(x) = x / (1 + |x|), f'(x) = 1 / (1 + |x|)², torch's F.softsign: it is
saturated where f' < 5 % of its peak 1, i.e. |x| > √20 − 1, exactly outside one interval.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from dummies import softsign, softsign_grad, softsign_spec  # tests/ is on sys.path

from coursekit import activations as A
from coursekit import experiments as E
from coursekit import plotting as P
from coursekit import training as T
from coursekit import widgets as W
from coursekit.data import make_moons

#: The activations registered by the package itself (none of this file's dummies).
BUILT_IN = tuple(A.NAMES)


@pytest.fixture
def with_softsign(monkeypatch):
    monkeypatch.setattr(A, "REGISTRY", dict(A.REGISTRY))  # restored after the test
    A.register(softsign_spec())
    return "softsign"


def test_a_registered_activation_is_in_every_table(with_softsign):
    name = with_softsign
    assert A.NAMES == (*BUILT_IN, name)
    assert A.PARAMS[name] == {}
    assert A.HIST_RANGES[name] == (-1.0, 1.0)
    assert name in A.DIFFERENTIABLE and name in A.EXPLORER_NAMES and name not in A.KINKED
    assert A.TITLES[name] == "Softsign"
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(A.TORCH[name](torch.from_numpy(x)).numpy(), softsign(x), rtol=1e-15)
    act = A.get(name)
    assert act.name == name and act.numpy is softsign
    np.testing.assert_allclose(A.autograd_grad(act, x), softsign_grad(x), rtol=1e-14)
    assert A.peak_grad(name) == 1.0
    lo, hi = A.saturation_bounds(name)
    assert hi == pytest.approx(math.sqrt(20) - 1, abs=1e-9) and lo == pytest.approx(-hi, abs=1e-9)
    assert A.saturated_fraction([0.0, 1.0, 4.0, -10.0], name) == 0.5
    ax_f, ax_d = P.plot_activation(name)
    assert len(ax_d.lines) == 2  # analytic and autograd
    plt.close("all")
    with pytest.raises(ValueError, match="valid choices: .*'softsign'"):
        A.get("nope")


def test_the_tables_are_gone_with_the_entry():
    assert "softsign" not in A.NAMES and "softsign" not in A.HIST_RANGES  # the fixture restored it


def test_register_refuses_bad_entries():
    spec = A.REGISTRY["tanh"]
    with pytest.raises(ValueError, match="new identifier"):
        A.register(spec)  # already there
    with pytest.raises(TypeError, match="spec must be an activations.Spec"):
        A.register("tanh")
    with pytest.raises(ValueError, match="hist_range"):
        A.register(A.Spec("flat", softsign, softsign_grad, F.softsign, lambda: 1.0, (1.0, -1.0)))


def test_derived_tables_equal_what_the_chapters_use_today():
    # the values the explorer and experiments keep in their own tables, so that they can read ours
    assert dict(A.HIST_RANGES) == {"step": (-0.1, 1.1), **W.HIST_RANGES}
    assert set(A.DIFFERENTIABLE) == set(E.ACTIVATIONS)
    assert set(A.EXPLORER_NAMES) == set(W.HistogramExplorer.ACTIVATIONS)
    for name in A.EXPLORER_NAMES:
        assert A.saturation_bounds(name) == E.saturation_bounds(name)
    for name in ("gelu", "silu", "step"):
        with pytest.raises(ValueError, match="has no single unsaturated interval"):
            A.saturation_bounds(name)
    assert A.saturation_bounds("leaky_relu", negative_slope=0.1) == (-math.inf, math.inf)  # 0.1 > 5 %
    assert A.PARAMS == {n: ({"negative_slope": 0.01} if n == "leaky_relu" else {}) for n in A.NAMES}
    assert dict(A.TITLES) == P.ACTIVATION_TITLES
    assert set(A.DIFFERENTIABLE) == set(T.ACTIVATIONS)


def test_kinked_and_piecewise_linear_are_read_from_the_functions():
    """KINKED: f' jumps at 0 (its one-sided limits differ); SLOPES: f(z) = a·z below 0, b·z above."""
    eps = 1e-9
    for name in A.DIFFERENTIABLE:
        left, right = (float(v) for v in A.get(name).grad(np.array([-eps, eps])))
        assert (name in A.KINKED) == (abs(left - right) > 1e-6), name
    z = np.linspace(-5, 5, 101)
    for name, (a, b) in A.SLOPES.items():
        np.testing.assert_array_equal(A.get(name).numpy(z), np.where(z < 0, a * z, b * z))
    for name in set(A.NAMES) - set(A.SLOPES):  # the others bend somewhere else than at 0
        f = A.get(name).numpy(z)
        assert not np.allclose(f, np.where(z < 0, f[0] / z[0] * z, f[-1] / z[-1] * z)), name


def test_modules_are_torch_modules_that_agree_with_the_torch_functions():
    t = torch.linspace(-5, 5, 101, dtype=torch.float64)
    for name in A.NAMES:
        for params in ({}, {"negative_slope": 0.2}) if A.PARAMS[name] else ({},):
            module = A.MODULES[name](**params)
            assert isinstance(module, torch.nn.Module), name
            torch.testing.assert_close(module(t), A.TORCH[name](t, **params), rtol=0, atol=0)
    # the built-in ones are torch's own classes (a printed model reads "Tanh()", as in chapter 02)
    assert type(A.MODULES["tanh"]()) is torch.nn.Tanh and type(A.MODULES["relu"]()) is torch.nn.ReLU
    assert A.MODULES["leaky_relu"]().negative_slope == 0.01
    with pytest.raises(TypeError, match="takes no parameter 'slope'"):
        A.MODULES["leaky_relu"](slope=0.1)


def test_experiments_accept_a_registered_activation(with_softsign):
    assert "softsign" in E.ACTIVATIONS
    lo, hi = E.saturation_bounds("softsign")
    assert hi == pytest.approx(math.sqrt(20) - 1, abs=1e-9) and lo == pytest.approx(-hi, abs=1e-9)
    r = E.forward_experiment(depth=2, width=8, n_samples=20, activation="softsign", seed=3)
    for z, h in zip(r.pre_activations, r.activations, strict=True):
        np.testing.assert_allclose(h, softsign(z), rtol=1e-15)
    # E[f'(z)²] for z ~ N(0, 1), against a Monte-Carlo mean over 10⁶ draws (f'² <= 1: std error < 1e-3)
    z = np.random.default_rng(0).standard_normal(1_000_000)
    assert E.slope_second_moment("softsign") == pytest.approx(np.mean(softsign_grad(z) ** 2), abs=2e-3)
    # a wide z (var 10⁴, the saturated regime): E[σ'(z)²] ≈ φ(0)/sd · ∫σ'² = 0.3989 / 100 / 6 ≈ 6.65e-4
    # (Monte Carlo: σ'² <= 1/16, so the std error over 10⁶ draws is below 1e-5)
    assert E.slope_second_moment("sigmoid", 1e4) == pytest.approx(np.mean(A.sigmoid_grad(100 * z) ** 2), rel=0.05)
    assert E.slope_second_moment("sigmoid", 1e4) == pytest.approx(1 / math.sqrt(2 * math.pi) / 600, rel=1e-3)
    _, second = E._gauss_moments("tanh", 1e4)  # E[tanh(z)²] = 1 − E[1 − tanh²] ≈ 1 − φ(0)/sd · 2
    assert second == pytest.approx(1 - 2 / math.sqrt(2 * math.pi) / 100, rel=1e-4)
    run = T.train_deep(*make_moons(40, rng=np.random.default_rng(0), standardize=True), depth=2, width=4,
                       activation="softsign", init="xavier_normal", steps=3)
    assert len(run.losses) == 4 and all(math.isfinite(v) for v in run.losses)


def test_widgets_hist_range_of_a_registered_activation(with_softsign):
    assert W.hist_range("softsign") == (-1.0, 1.0)


def test_explorer_offers_a_registered_activation(with_softsign):
    assert "softsign" in W.HistogramExplorer.ACTIVATIONS
    explorer = W.HistogramExplorer(depth=2, width=10, n_samples=50, activation="softsign", seed=1)
    assert "softsign" in explorer.controls["activation"].options
    _, stats = explorer.frame()
    ref = E.forward_experiment(depth=2, width=10, n_samples=50, activation="softsign", init="normal", seed=1)
    for got, want in zip(stats, ref.stats, strict=True):  # the explorer computes in float32
        assert got.std == pytest.approx(want.std, rel=1e-4)
        assert got.saturated == pytest.approx(want.saturated, abs=1 / 500 + 1e-9)  # one value of 500 may flip


def test_plotting_titles_a_registered_activation(with_softsign):
    assert P.activation_title("softsign") == "Softsign"


def test_plotting_draws_the_jump_of_a_registered_kinked_activation(monkeypatch):
    # 2·ReLU: f'(x) = 0 left of 0, 2 right of it; autograd (and the analytic f') take 0 at 0
    monkeypatch.setattr(A, "REGISTRY", dict(A.REGISTRY))
    A.register(A.Spec("relu2", lambda x: 2 * np.maximum(np.asarray(x, dtype=np.float64), 0),
                      lambda x: np.where(np.asarray(x, dtype=np.float64) > 0, 2.0, 0.0),
                      lambda t: 2 * F.relu(A._as_tensor(t)), lambda: 2.0, (0.0, 8.0), title="2·ReLU", kink=True))
    x = np.linspace(-1, 1, 5)  # 0 is a grid point: the pieces must stop short of it
    _, ax_d = P.plot_activation("relu2", x=x)
    assert ax_d.get_title() == "2·ReLU: derivative"
    dots = {line.get_label(): (line.get_xdata()[0], line.get_ydata()[0], line.get_markerfacecolor())
            for line in ax_d.lines if line.get_marker() == "o"}
    assert dots["value at 0: 0"][:2] == (0.0, 0.0)  # filled dot: the value taken at 0
    open_dots = [xy for label, (*xy, face) in dots.items() if face == "white"]
    assert open_dots == [[0.0, 2.0]]  # open dot: the right-hand limit 2, not ReLU's 1
    pieces = [line for line in ax_d.lines if line.get_label() == "analytic"]
    assert len(pieces) == 1 and 0.0 not in pieces[0].get_xdata()  # drawn in two pieces, none through 0
    plt.close("all")


def test_plot_activation_names_in_words_and_does_not_zoom_a_flat_derivative():
    ax_f, ax_d = P.plot_activation("leaky_relu", negative_slope=0.1)
    assert ax_f.get_title() == "LeakyReLU, slope 0.1" and "leaky_relu" not in ax_d.get_title()
    _, ax_d = P.plot_activation("identity")  # f' = 1 everywhere: the axis still shows 0 to 1, padded by 10 %
    assert ax_d.get_ylim() == pytest.approx((-0.1, 1.1))
    ax_f, ax_d = P.plot_activation("sigmoid", x=np.linspace(-6, 6, 101))
    lo, hi = ax_d.get_ylim()  # f' peaks at 1/4, but the axis keeps 0 … 1 in view
    assert lo == pytest.approx(-0.1) and hi == pytest.approx(1.1)
    lo, hi = ax_f.get_ylim()  # sigmoid(±6) = 0.0025, 0.9975; span < 1 is padded as 1
    assert lo == pytest.approx(1 / (1 + math.exp(6)) - 0.1) and hi == pytest.approx(1 / (1 + math.exp(-6)) + 0.1)
    plt.close("all")
