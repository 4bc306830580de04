"""coursekit.experiments: forward/backward against torch, theory against simulation."""

import math

import numpy as np
import pytest
import torch

from coursekit import activations as A
from coursekit import experiments as E
from coursekit.widgets import HistogramFrames, histogram_frame

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": torch.nn.functional.leaky_relu, "identity": lambda t: t}


def torch_forward(X, weights, activation):
    """The same stack built from nn.Linear (no bias), weights copied in (they are (out, in) in both)."""
    h = torch.tensor(X)
    out = []
    for W in weights:
        lin = torch.nn.Linear(W.shape[1], W.shape[0], bias=False).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W))
            h = TORCH_ACT[activation](lin(h))
        out.append(h.numpy())
    return out


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_forward_matches_torch(activation):
    r = E.forward_experiment(depth=4, width=30, n_samples=50, activation=activation, init="xavier_normal", seed=1)
    assert r.X.shape == (50, 30) and len(r.activations) == 4 and r.activations[0].shape == (50, 30)
    for got, want in zip(r.activations, torch_forward(r.X, r.weights, activation), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_shift_gives_the_centred_sigmoid():
    """σ(z) − ½ = tanh(z/2)/2: forward with shift=0.5 against torch's tanh on the same weights."""
    r = E.forward_experiment(depth=4, width=30, n_samples=50, activation="sigmoid", init="lecun_normal",
                             shift=0.5, seed=3)
    h = torch.tensor(r.X)
    for W, got, z in zip(r.weights, r.activations, r.pre_activations, strict=True):
        h = torch.tanh((h @ torch.tensor(W).T) / 2) / 2
        np.testing.assert_allclose(got, h.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got + 0.5, A.sigmoid(z), rtol=1e-12)
    unshifted = E.forward_experiment(depth=1, width=30, n_samples=50, activation="sigmoid", seed=3)
    once = E.forward_experiment(depth=1, width=30, n_samples=50, activation="sigmoid", shift=0.5, seed=3)
    np.testing.assert_allclose(once.activations[0], unshifted.activations[0] - 0.5)
    assert once.stats[0].std == pytest.approx(unshifted.stats[0].std)  # a shift moves the mean only
    assert once.stats[0].mean == pytest.approx(unshifted.stats[0].mean - 0.5)
    with pytest.raises(TypeError, match="shift"):
        E.forward_experiment(shift="half")


def test_stats_are_the_definitions():
    r = E.forward_experiment(activation="tanh", init=0.2, seed=2)
    for z, h, s in zip(r.pre_activations, r.activations, r.stats, strict=True):
        assert s.mean == pytest.approx(np.mean(h)) and s.std == pytest.approx(np.std(h))
        assert s.saturated == pytest.approx(np.mean(1 - np.tanh(z) ** 2 < 0.05))
        assert s.dead == np.mean(np.all(h == 0, axis=0))


def test_classic_experiment_facts():
    # weight std 1 with sigmoid: most values pile up at 0 and 1 (saturated)
    big = E.forward_experiment(activation="sigmoid", init=1.0, seed=0)
    assert all(s.saturated > 0.4 for s in big.stats)
    # std 0.01: everything collapses onto 0.5 (no saturation, but no diversity)
    small = E.forward_experiment(activation="sigmoid", init=0.01, seed=0)
    assert all(abs(s.mean - 0.5) < 0.01 and s.saturated == 0 for s in small.stats)
    assert small.stats[-1].std < 0.02
    # LeCun's 1/√n: spread between the two
    lecun = E.forward_experiment(activation="sigmoid", init="lecun_normal", seed=0)
    assert all(0.05 < s.std < 0.3 and s.saturated < 0.01 for s in lecun.stats)
    # ReLU: 1/√n halves the variance per layer, He keeps it
    relu_lecun = E.forward_experiment(activation="relu", init="lecun_normal", seed=0)
    relu_he = E.forward_experiment(activation="relu", init="kaiming_normal", seed=0)
    assert relu_lecun.stats[-1].std / relu_lecun.stats[0].std < 0.4
    assert 0.8 < relu_he.stats[-1].std / relu_he.stats[0].std < 1.25


def test_init_as_std_name_or_function_and_scale():
    a = E.forward_experiment(init=0.1, seed=3)
    b = E.forward_experiment(init="normal", scale=0.1, seed=3)
    c = E.forward_experiment(init=lambda shape, rng: 0.1 * rng.standard_normal(shape), seed=3)
    for W1, W2, W3 in zip(a.weights, b.weights, c.weights, strict=True):
        np.testing.assert_allclose(W1, W2, rtol=1e-15)
        np.testing.assert_allclose(W1, W3, rtol=1e-15)


@pytest.mark.parametrize("activation,std", [("sigmoid", 1.0), ("sigmoid", 0.1), ("tanh", 0.1),
                                            ("tanh", 0.3), ("relu", math.sqrt(2 / 400)), ("identity", 0.05)])
def test_variance_recursion_predicts_simulation(activation, std):
    theory = E.variance_recursion(depth=5, width=400, weight_std=std, activation=activation)
    sim = E.forward_experiment(depth=5, width=400, n_samples=2000, activation=activation, init=std, seed=4)
    for layer, (pred, s) in enumerate(zip(theory["h_std"], sim.stats, strict=True), start=1):
        assert s.std == pytest.approx(pred, rel=0.1), layer
        assert s.mean == pytest.approx(theory["h_mean"][layer - 1], abs=0.05 * max(pred, 1e-3) + 0.02)


def test_variance_recursion_closed_forms():
    he = E.variance_recursion(depth=6, width=100, weight_std=math.sqrt(2 / 100), activation="relu")
    np.testing.assert_allclose(he["z_var"], 2.0, rtol=1e-12)  # He keeps Var(z) constant
    lecun = E.variance_recursion(depth=4, width=100, weight_std=0.1, activation="relu")
    np.testing.assert_allclose(lecun["z_var"], [1.0, 0.5, 0.25, 0.125], rtol=1e-12)
    # quadrature against a Monte-Carlo estimate of E[tanh(z)²] for z ~ N(0, 1)
    z = np.random.default_rng(5).standard_normal(400_000)
    t = E.variance_recursion(depth=1, width=1, weight_std=1.0, activation="tanh")
    assert t["h_std"][0] == pytest.approx(np.std(np.tanh(z)), abs=6 * 0.6 / math.sqrt(z.size) + 1e-3)


def test_backward_matches_autograd():
    rng = np.random.default_rng(6)
    for activation in ["sigmoid", "tanh", "relu", "leaky_relu"]:
        X = rng.standard_normal((20, 8))
        Ws = [rng.standard_normal((8, 8)) * 0.5 for _ in range(3)]
        G = rng.standard_normal((20, 8))
        zs, hs = E.forward(X, Ws, activation)
        grad_hs, grad_ws = E.backward(G, X, Ws, zs, activation)
        tw = [torch.tensor(W, requires_grad=True) for W in Ws]
        h = torch.tensor(X)
        th = []
        for W in tw:
            h = TORCH_ACT[activation](h @ W.T)
            h.retain_grad()
            th.append(h)
        (h * torch.tensor(G)).sum().backward()
        for got, W in zip(grad_ws, tw, strict=True):
            np.testing.assert_allclose(got, W.grad.numpy(), rtol=1e-10, atol=1e-12)
        for got, t in zip(grad_hs, th, strict=True):
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_backward_experiment_gradient_sizes():
    small = E.backward_experiment(activation="sigmoid", init=0.01, seed=0)
    assert small.grad_w_std[0] < 1e-3 * small.grad_w_std[-1]  # vanishes towards the input
    he = E.backward_experiment(activation="relu", init="kaiming_normal", seed=0)
    assert max(he.grad_w_std) / min(he.grad_w_std) < 2
    assert len(he.grad_weights) == 5 and he.grad_weights[0].shape == (100, 100)


def test_saturation_bounds_agree_with_activations():
    z = np.random.default_rng(7).normal(0, 4, size=200_000)
    for name in ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]:
        lo, hi = E.saturation_bounds(name)
        assert np.mean((z <= lo) | (z >= hi)) == A.saturated_fraction(z, name)
    assert E.saturation_bounds("sigmoid")[1] == pytest.approx(4.3565, abs=1e-3)
    with pytest.raises(ValueError, match="single unsaturated interval"):
        E.saturation_bounds("gelu")


@pytest.mark.parametrize("activation,init", [("sigmoid", 1.0), ("tanh", "xavier_normal"),
                                             ("relu", "kaiming_normal")])
def test_histogram_frame_matches_float64_experiment(activation, init):
    r = E.forward_experiment(activation=activation, init=init, seed=8)
    value_range = {"sigmoid": (0, 1), "tanh": (-1, 1), "relu": (0, 4)}[activation]
    fractions, stats = histogram_frame(r.X, r.weights, activation, bins=30, value_range=value_range)
    for h, f, s, want in zip(r.activations, fractions, stats, r.stats, strict=True):
        counts = np.histogram(h, bins=30, range=value_range)[0] / h.size  # outside the range: no bin
        np.testing.assert_allclose(f, counts, atol=2e-3)
        assert f.sum() == pytest.approx(np.mean((h >= value_range[0]) & (h <= value_range[1])), abs=1e-3)
        assert s.unit_std == pytest.approx(want.unit_std, rel=1e-3)
        assert s.input_share == pytest.approx(want.input_share, rel=1e-3, abs=1e-6)
        # 'units alike': mean cosine of the output columns of unit pairs (0, 1), (2, 3), … (float64 here)
        a, b = h[:, 0::2].astype(np.float64), h[:, 1::2].astype(np.float64)
        norms = np.sqrt((a * a).sum(0) * (b * b).sum(0))
        alike = np.mean((a * b).sum(0)[norms > 0] / norms[norms > 0]) if (norms > 0).any() else math.nan
        assert s.cosine == pytest.approx(alike, abs=1e-4, nan_ok=True)
        assert s.mean == pytest.approx(want.mean, abs=1e-4)
        assert s.std == pytest.approx(want.std, rel=1e-4)
        assert s.saturated == pytest.approx(want.saturated, abs=1e-3)
        assert s.dead == pytest.approx(want.dead, abs=1e-9)
        assert s.zeros == pytest.approx(want.zeros, abs=1e-3)
    # scale multiplies the weights
    f2, s2 = histogram_frame(r.X, [W / 2 for W in r.weights], activation, scale=2.0, bins=30,
                               value_range=value_range)
    assert s2[-1].std == pytest.approx(stats[-1].std, rel=1e-4)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown activation 'softplus'.*'sigmoid'"):
        E.forward_experiment(activation="softplus")
    with pytest.raises(ValueError, match="unknown scheme 'he'.*'kaiming_normal'"):
        E.forward_experiment(init="he")
    with pytest.raises(TypeError, match="init must be a scheme name"):
        E.forward_experiment(init=[0.1])
    with pytest.raises(ValueError, match="init must be >= 0"):
        E.forward_experiment(init=-0.1)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        E.forward_experiment(depth=0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        E.forward_experiment(rng=0)
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(3, 5\)"):
        E.forward(np.ones((2, 4)), [np.ones((4, 4)), np.ones((3, 5))])


def test_histogram_frame_bad_and_overflowing_input():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((50, 4))
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite \(as float32\); entry \(3, 2\) is nan"):
        histogram_frame(X, [np.eye(4)], "identity", value_range=(-4, 4))
    with np.errstate(over="ignore"), pytest.raises(
            ValueError, match=r"weights\[0\] must be finite \(as float32\); entry \(0, 0\) is inf"):
        histogram_frame(X[:3], [np.full((4, 4), 1e39)], "identity", value_range=(-4, 4))  # inf in float32
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(4, 5\) \(out, in\): weights\[0\] gives 3"):
        histogram_frame(X[:3], [np.ones((3, 4)), np.ones((4, 5))], "identity")
    # finite weights whose products pass float32's range: inf, then inf − inf = NaN, and no crash
    X = rng.standard_normal((50, 4))
    signs = np.where(rng.random((4, 4)) < 0.5, -1.0, 1.0)
    fractions, stats = histogram_frame(X, [1e30 * signs] * 3, "identity", value_range=(-4, 4))
    assert math.isnan(stats[-1].mean)
    assert np.all(fractions.sum(axis=1) <= 1.0 + 1e-12)
    with np.errstate(all="ignore"):  # the same network in numpy float32, for the NaN count
        W32 = np.float32(1e30) * signs.astype(np.float32)
        nan_count = np.isnan(E.forward(X.astype(np.float32), [W32] * 3, "identity")[1][-1]).sum()
    assert nan_count > 0 and fractions[-1].sum() == pytest.approx(1 - nan_count / 200)


def _per_unit_by_hand(h):
    """Per-unit spread, input-dependent share and pair cosine, written out with loops."""
    n, width = h.shape
    unit_vars = []
    for j in range(width):
        col = [float(h[i, j]) for i in range(n)]
        m = sum(col) / n
        unit_vars.append(sum((v - m) ** 2 for v in col) / n)
    flat = [float(v) for v in h.ravel()]
    grand = sum(flat) / len(flat)
    total = sum((v - grand) ** 2 for v in flat) / len(flat)
    cos = []
    for k in range(n // 2):
        a, b = h[2 * k], h[2 * k + 1]
        cos.append(float(np.dot(a, b) / math.sqrt(np.dot(a, a) * np.dot(b, b))))
    return math.sqrt(sum(unit_vars) / width), sum(unit_vars) / width / total, sum(cos) / len(cos)


@pytest.mark.parametrize("activation,init", [("sigmoid", "lecun_normal"), ("tanh", "xavier_normal"),
                                             ("relu", "kaiming_normal")])
def test_per_unit_stats_against_an_independent_computation(activation, init):
    r = E.forward_experiment(depth=3, width=20, n_samples=60, activation=activation, init=init, seed=5)
    for h, s in zip(r.activations, r.stats, strict=True):
        unit_std, share, cosine = _per_unit_by_hand(h)
        assert s.unit_std == pytest.approx(unit_std, rel=1e-9)
        assert s.input_share == pytest.approx(share, rel=1e-9)
        assert s.cosine == pytest.approx(cosine, rel=1e-9)


def test_input_share_separates_a_constant_offset_from_input_dependence():
    rng = np.random.default_rng(0)
    offsets = rng.normal(size=50)  # each unit's own constant
    h = offsets + 1e-3 * rng.normal(size=(400, 50))  # tiny input-dependent part
    s = E.layer_stats(h, h, "identity")
    assert s.std > 0.5 and s.input_share < 1e-5 and s.unit_std == pytest.approx(1e-3, rel=0.1)
    s = E.layer_stats(h - offsets, h - offsets, "identity")
    assert s.input_share > 0.99


def test_sigmoid_lecun_loses_its_input_dependence_and_tanh_xavier_keeps_it():
    sig = E.forward_experiment(activation="sigmoid", init="lecun_normal", seed=0).stats
    np.testing.assert_allclose([s.input_share for s in sig], [0.999, 0.128, 0.010, 6.1e-4, 4.3e-5], rtol=0.05)
    assert sig[3].cosine > 0.9999
    tanh = E.forward_experiment(activation="tanh", init="xavier_normal", seed=0).stats
    assert all(s.input_share > 0.99 for s in tanh)


def test_backward_factor_predicts_the_gradient_ratio():
    for activation, init in [("relu", "lecun_normal"), ("relu", "kaiming_normal"), ("tanh", "xavier_normal")]:
        b = E.backward_experiment(depth=5, width=400, n_samples=2000, activation=activation, init=init, seed=3)
        f = E.forward_experiment(depth=5, width=400, n_samples=2000, activation=activation, init=init, seed=3)
        for layer in range(4, 0, -1):  # ∂L/∂h_l from ∂L/∂h_{l+1} through layer l+1
            z_var = float(f.pre_activations[layer].var())
            want = E.backward_factor(activation, fan_out=400, weight_std=float(f.weights[layer].std()), z_var=z_var)
            got = (b.grad_h_std[layer - 1] / b.grad_h_std[layer]) ** 2
            assert got == pytest.approx(want, rel=0.12), (activation, layer)
    assert E.slope_second_moment("relu") == pytest.approx(0.5, rel=1e-6)
    assert E.slope_second_moment("identity") == pytest.approx(1.0)
    assert E.slope_second_moment("sigmoid") < 1 / 16


def test_bad_inputs_name_the_argument():
    X = np.zeros((4, 3))
    with pytest.raises(TypeError, match="weights must be a non-empty list"):
        E.forward(X, None)
    with pytest.raises(TypeError, match="weights must be a non-empty list"):
        E.forward(X, [])
    zs, _ = E.forward(X, [np.ones((2, 3))])
    with pytest.raises(ValueError, match="zs must hold one pre-activation per layer"):
        E.backward(np.ones((4, 2)), X, [np.ones((2, 3)), np.ones((2, 2))], zs)
    with pytest.raises(TypeError, match="zs must be a non-empty list"):
        E.backward(np.ones((4, 2)), X, [np.ones((2, 3))], None)
    with pytest.raises(ValueError, match="grad_out must have the shape"):
        E.backward(np.ones((4, 5)), X, [np.ones((2, 3))], zs)
    with pytest.raises(TypeError, match="weights must be a non-empty list"):
        HistogramFrames(X, None)
    with pytest.raises(TypeError, match="activation must be a string"):
        E.saturation_bounds(["sigmoid"])
    with pytest.raises(ValueError, match="weight_std=1e\\+200 makes Var\\(z\\) overflow"):
        E.variance_recursion(weight_std=1e200)
    with pytest.raises(ValueError, match="overflow float64 at layer"):  # NaN before: inf · 0 moments
        E.variance_recursion(weight_std=1e30, depth=20, activation="relu")
    # numpy scalars of every float type are a std
    a = E.make_weights(1, 4, np.float32(0.5), rng=np.random.default_rng(0))
    b = E.make_weights(1, 4, np.float64(0.5), rng=np.random.default_rng(0))
    np.testing.assert_allclose(a[0], b[0])
    with pytest.raises(TypeError, match="init must be a scheme name"):
        E.make_weights(1, 4, np.bool_(True), rng=np.random.default_rng(0))


def test_moved_names_stay_importable_and_are_the_one_definition():
    """The training runs, the data and make_weights moved down a level (issue #27): experiments
    re-exports the same objects (no second definition), and keeps no data maker of its own."""
    from coursekit import _lazy, data, init, training

    for name in ("train", "train_deep", "from_weights", "fit_binary", "TrainResult", "DeepRun"):
        assert getattr(E, name) is getattr(training, name), name
    assert E.rotate is data.rotate and E.make_weights is init.make_weights
    assert E._one_torch_thread is _lazy.one_torch_thread and E.ACTIVATIONS is training.ACTIVATIONS
    assert not hasattr(E, "make_moons")  # one maker: coursekit.data.make_moons(..., standardize=True)
    own = {n for n, v in vars(E).items() if callable(v) and getattr(v, "__module__", None) == E.__name__}
    assert not own & {"train", "train_deep", "fit_binary", "make_moons", "rotate", "make_weights"}
