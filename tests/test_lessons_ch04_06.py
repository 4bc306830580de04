"""The comparative claims of chapters 04–06, re-run beyond the one seed the notebooks print.

Each test repeats a claim of the prose over at least five seeds (data, weights or both) and the
step counts the text names, with the same coursekit functions the notebook cells call; the
demonstrating cell names its test in a comment. A lesson that held only for the printed seed
fails here. Thresholds sit well clear of every seed's value, so they cannot flake, yet each would
fail if the claim were reversed.
"""

import functools
import math

import numpy as np
import pytest
import torch

from coursekit import activations as acts
from coursekit import experiments as ex
from coursekit import init as ckinit
from coursekit import softmax as sm
from coursekit import training
from coursekit.data import make_blobs, make_moons, rotate

SEEDS = range(5)


# --------------------------------------------------------------------------- chapter 05, forward


def test_sigmoid_lecun_loses_input_dependence():
    """7.3: sigmoid + 1/√n keeps its std near 0.1, but by layer 5 the units no longer respond to the input."""
    for seed in SEEDS:
        s = ex.forward_experiment(activation="sigmoid", init="lecun_normal", seed=seed).stats
        assert s[0].input_share > 0.99 and all(0.05 < x.std < 0.3 for x in s), seed
        assert s[2].input_share < 0.05 and s[4].input_share < 1e-3, seed
        assert s[4].unit_std < 2e-3 < s[0].unit_std, seed
        assert s[3].cosine > 0.999, seed


def test_sigmoid_std1_and_std001_lose_input_share():
    """7.1: std 1 keeps a std near 0.44 but its input share falls to about 22 % by layer 5; 7.2: std 0.01
    collapses onto 0.5 with an input share of about 0.2 % in layer 2 and below 1e-5 from layer 3 on."""
    for seed in SEEDS:
        big = ex.forward_experiment(activation="sigmoid", init=1.0, seed=seed).stats
        assert all(s.std > 0.4 for s in big) and big[0].input_share > 0.99 and big[4].input_share < 0.4, seed
        small = ex.forward_experiment(activation="sigmoid", init=0.01, seed=seed).stats
        assert small[1].input_share < 0.01 and all(s.input_share < 1e-5 for s in small[2:]), seed


def test_tanh_xavier_keeps_input_dependence():
    """7.3/7.5: zero-centred tanh + Xavier keeps ≥ 99 % of each layer's variance input-dependent; ReLU + He
    loses it only slowly (about 40 % by layer 5), far from the sigmoid's collapse."""
    for seed in SEEDS:
        tanh = ex.forward_experiment(activation="tanh", init="xavier_normal", seed=seed).stats
        assert all(s.input_share > 0.99 for s in tanh), seed
        relu = ex.forward_experiment(activation="relu", init="kaiming_normal", seed=seed).stats
        assert 0.2 < relu[4].input_share < 0.7, seed


def test_sigmoid_cause_is_the_slope_not_the_mean():
    """7.3: the cause is the slope (≤ 1/4 per layer), not the sigmoid's mean. Controls on the same draws: the
    centred sigmoid σ − ½ keeps an input share of 100 % but its std falls about fourfold per layer, like the
    sigmoid's input-dependent part (unit std); gain 4 (std 0.4) loses the input far more slowly; tanh keeps it.
    If the mean were the cause, the centred sigmoid would keep its signal and this test would fail."""
    for seed in SEEDS:
        sig = ex.forward_experiment(activation="sigmoid", init="lecun_normal", seed=seed).stats
        centred = ex.forward_experiment(activation="sigmoid", init="lecun_normal", shift=0.5, seed=seed).stats
        gain4 = ex.forward_experiment(activation="sigmoid", init=0.4, seed=seed).stats
        tanh = ex.forward_experiment(activation="tanh", init="lecun_normal", seed=seed).stats
        assert all(s.input_share > 0.99 for s in centred), seed  # no offsets: all of it is input-dependent …
        falls = [b.std / a.std for a, b in zip(centred, centred[1:])]
        assert all(0.2 < f < 0.3 for f in falls) and centred[4].std < 2e-3, (seed, falls)  # … and it vanishes
        for a, b in zip(sig, centred, strict=True):  # the sigmoid's input-dependent part vanishes alike
            assert 0.6 < a.unit_std / b.std < 1.2, seed
        assert sig[4].input_share < 1e-3 < 0.01 < gain4[4].input_share, seed
        assert gain4[2].input_share > 0.1 and gain4[4].input_share > 100 * sig[4].input_share, seed
        assert all(s.input_share > 0.99 for s in tanh), seed


def test_relu_he_keeps_the_scale_not_the_input():
    """7.4 and the summary: ReLU + He keeps the std near its layer-1 value down to layer 30, but the input share
    falls (about 40 %, 25 %, 15–20 % at layers 5, 15, 30) and two inputs' representations align (cosine about
    0.97 at layer 30)."""
    for seed in SEEDS:
        s = ex.forward_experiment(activation="relu", init="kaiming_normal", depth=30, seed=seed).stats
        assert all(0.4 < x.std / s[0].std < 1.6 for x in s), seed  # the scale is kept
        assert 0.3 < s[4].input_share < 0.55 and 0.15 < s[14].input_share < 0.35, seed
        assert 0.08 < s[29].input_share < 0.25 and s[29].input_share < s[14].input_share, seed
        assert 0.94 < s[29].cosine < 0.99 and s[29].cosine > s[4].cosine, seed


def test_deep_sigmoid_std1_keeps_gradients_loses_input():
    """8, the [50 layers] answer: sigmoid with std 1 keeps ∂L/∂h within 0.3–1.2 between layers 1 and 50, but
    layer 50's input share is 0.1–2 % and two inputs' cosine is above 0.99."""
    for seed in SEEDS:
        b = ex.backward_experiment(activation="sigmoid", init=1.0, depth=50, seed=seed)
        last = ex.forward_experiment(activation="sigmoid", init=1.0, depth=50, seed=seed).stats[-1]
        assert 0.25 < b.grad_h_std[0] / b.grad_h_std[-1] < 1.5, seed
        assert 1e-3 < last.input_share < 0.02 and last.cosine > 0.99, seed


def test_uniform_01_makes_units_alike():
    """12, the explorer's U(0, 1): all units of a layer alike (correlation ≈ 1, input share 100 %) at every
    scale; tanh saturated by layer 5 at scale 0.1 and 1; at 0.01 nothing saturates and the std halves per layer."""
    def u01(shape, rng):
        return ckinit.uniform(shape, 0.0, 1.0, rng=rng)

    for seed in SEEDS:
        for scale in (0.01, 0.1, 1.0):
            r = ex.forward_experiment(activation="tanh", init=u01, scale=scale, seed=seed)
            corr = np.corrcoef(r.activations[-1].T)[np.triu_indices(100, 1)]
            assert corr.min() > 0.99 and r.stats[-1].input_share > 0.99, (seed, scale)
            if scale == 0.01:
                assert all(s.saturated == 0 for s in r.stats), seed
                halving = [b.std / a.std for a, b in zip(r.stats[1:], r.stats[2:])]
                assert all(0.4 < h < 0.6 for h in halving), (seed, halving)
            else:
                assert r.stats[-1].saturated > 0.9, (seed, scale)


def test_relu_he_keeps_the_signal_lecun_halves_it():
    """7.4: with 1/√n each ReLU layer halves the variance (std ratio over 4 layers ≈ 0.25); He keeps it."""
    for seed in SEEDS:
        lecun = ex.forward_experiment(activation="relu", init="lecun_normal", seed=seed).stats
        he = ex.forward_experiment(activation="relu", init="kaiming_normal", seed=seed).stats
        assert 0.15 < lecun[4].std / lecun[0].std < 0.4, seed
        assert 0.75 < he[4].std / he[0].std < 1.35, seed


def test_relu_std1_explodes_forward():
    """7.4: ReLU with std 1 and width 100 multiplies the std by about √50 ≈ 7 per layer."""
    for seed in SEEDS:
        s = ex.forward_experiment(activation="relu", init=1.0, seed=seed).stats
        growth = [b.std / a.std for a, b in zip(s, s[1:])]
        assert all(5.0 < g < 9.5 for g in growth), (seed, growth)
        assert s[4].std > 5e3, seed


def test_theory_matches_the_seed_average():
    """7.6: the variance recursion predicts the mean over ten seeds within a few percent."""
    for activation, std in [("sigmoid", 1.0), ("sigmoid", 0.01), ("sigmoid", 0.1), ("relu", 0.1),
                            ("relu", math.sqrt(2 / 100)), ("relu", 1.0), ("tanh", 0.1)]:
        theory = ex.variance_recursion(depth=5, width=100, weight_std=std, activation=activation)["h_std"]
        sims = np.array([[s.std for s in ex.forward_experiment(activation=activation, init=std, seed=k).stats]
                         for k in range(10)])
        np.testing.assert_allclose(sims.mean(axis=0), theory, rtol=0.05, err_msg=f"{activation} {std}")


# --------------------------------------------------------------------------- chapter 05, backward


def test_backward_signal_per_init():
    """8: ∂L/∂h vanishes through sigmoid layers, shrinks by ≈ 0.26 with ReLU + LeCun, stays with He, halves
    with tanh + Xavier; ∂L/∂W of ReLU + LeCun is nonetheless flat (the forward and backward trends cancel)."""
    he_fan_out = functools.partial(ckinit.kaiming_normal, mode="fan_out", nonlinearity="relu")
    for seed in SEEDS:  # square layers: the fan_out mode draws the very same weights as fan_in
        a = ckinit.make_weights(5, 100, "kaiming_normal", rng=np.random.default_rng(seed))
        b = ckinit.make_weights(5, 100, he_fan_out, rng=np.random.default_rng(seed))
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for seed in SEEDS:
        def ratio(activation, init, seed=seed):
            b = ex.backward_experiment(activation=activation, init=init, seed=seed)
            return b.grad_h_std[0] / b.grad_h_std[-1], b.grad_w_std[0] / b.grad_w_std[-1]

        assert ratio("sigmoid", 0.01)[0] < 1e-5, seed
        assert ratio("sigmoid", "lecun_normal")[0] < 0.02, seed
        h, w = ratio("relu", "lecun_normal")
        assert 0.15 < h < 0.4 and 0.7 < w < 1.4, seed
        assert 0.75 < ratio("relu", "kaiming_normal")[0] < 1.35, seed
        assert 0.35 < ratio("tanh", "xavier_normal")[0] < 0.75, seed


def test_forward_and_backward_conditions():
    """8.1: for a 100 → 400 ReLU layer, He fan_in keeps the forward variance, fan_out the backward one, and
    Xavier sits in between; measured factors within 10 % of fan·σ²/2 for every draw."""
    fan_in, fan_out, N = 100, 400, 4000
    for seed in SEEDS:
        gen = np.random.default_rng(30 + seed)
        z0 = gen.standard_normal((N, fan_in))
        h0 = acts.relu(z0)
        g1 = gen.standard_normal((N, fan_out))
        for std, fwd_want, bwd_want in [(math.sqrt(2 / fan_in), 1.0, 4.0), (math.sqrt(2 / fan_out), 0.25, 1.0),
                                        (math.sqrt(4 / (fan_in + fan_out)), 0.4, 1.6)]:
            W = std * gen.standard_normal((fan_out, fan_in))
            forward = (h0 @ W.T).var() / z0.var()
            backward = ((g1 @ W) * acts.relu_grad(z0)).var() / g1.var()
            assert forward == pytest.approx(fwd_want, rel=0.1), seed  # one draw of W: a few % off
            assert backward == pytest.approx(bwd_want, rel=0.1), seed
            assert ex.backward_factor("relu", fan_out=fan_out, weight_std=std) == pytest.approx(bwd_want)


def _stack_ratios(widths, std_of, seed, draws=6):
    """Mean over draws of (std h_L / std h_1, std ∂L/∂h_1 / std ∂L/∂h_L) for a ReLU stack of these widths."""
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((300, widths[0]))
    G = gen.standard_normal((300, widths[-1]))
    fwd, bwd = [], []
    for _ in range(draws):
        Ws = [std_of(a, b) * gen.standard_normal((b, a)) for a, b in zip(widths[:-1], widths[1:])]
        zs, hs = ex.forward(X, Ws, "relu")
        grad_hs, _ = ex.backward(G / len(X), X, Ws, zs, "relu")
        fwd.append(hs[-1].std() / hs[0].std())
        bwd.append(grad_hs[0].std() / grad_hs[-1].std())
    return np.mean(fwd), np.mean(bwd)


def test_he_needs_one_fan_the_backward_factors_telescope():
    """8.1: in ReLU stacks whose widths alternate 400/100, He fan_in keeps the forward std and loses only
    √(n_L/n_1) = 0.5 backward, at 10 layers and at 20 alike (the factors telescope); fan_out is the mirror
    image; Xavier with gain √2 loses both ways, and more with depth."""
    he_in = lambda a, b: math.sqrt(2 / a)  # noqa: E731
    he_out = lambda a, b: math.sqrt(2 / b)  # noqa: E731
    xavier = lambda a, b: math.sqrt(2) * math.sqrt(2 / (a + b))  # noqa: E731
    for seed in SEEDS:
        for pairs in (5, 10):
            widths = [100] + [400, 100] * pairs
            fwd, bwd = _stack_ratios(widths, he_in, seed)
            assert 0.7 < fwd < 1.4 and 0.4 < bwd < 0.62, (seed, pairs, fwd, bwd)
            fwd, bwd = _stack_ratios(widths, he_out, seed)  # the forward drift of one draw grows with depth
            assert 1.4 < fwd < (2.6 if pairs == 5 else 3.0) and 0.8 < bwd < 1.25, (seed, pairs, fwd, bwd)
            fwd, bwd = _stack_ratios(widths, xavier, seed)
            limit = 0.8 ** (pairs - 5)
            assert fwd < 0.75 * limit and bwd < 0.35 * limit, (seed, pairs, fwd, bwd)


# --------------------------------------------------------------------------- chapter 05, training


def test_small_net_training_claims():
    """2 and 9: zeros stay at ln 2; constants keep identical units; std 0.01 plateaus at ln 2 for the first
    50 steps and ends far worse than Xavier; std 1 trains fast; Xavier and He start within 0.4 of ln 2 and
    learn. (Std 1's *first* loss depends on the draw: no claim is made about it.)"""
    X, y = make_moons(200, rng=np.random.default_rng(1), standardize=True)
    for seed in SEEDS:
        def run(init, activation="tanh", seed=seed):
            return training.train(X, y, init=init, activation=activation, epochs=300, lr=0.5,
                            rng=np.random.default_rng(100 + seed))

        zeros = run("zeros")
        assert max(abs(v - math.log(2)) for v in zeros.losses) < 1e-9 and zeros.row_spread[-1] == 0, seed
        const = run(lambda shape, rng: ckinit.constant(shape, 0.5))
        assert const.row_spread[-1] == 0, seed
        small, big, xavier, he = run(0.01), run(1.0), run("xavier_normal"), run("kaiming_normal", "relu")
        assert small.losses[50] > 0.69 and small.losses[-1] > 5 * xavier.losses[-1], seed
        assert big.losses[-1] < 0.1, seed
        assert abs(xavier.losses[0] - math.log(2)) < 0.4 and abs(he.losses[0] - math.log(2)) < 0.4, seed
        assert xavier.losses[-1] < 0.1 and he.losses[-1] < 0.1 and xavier.losses[-1] < const.losses[-1], seed


def test_zero_init_learns_only_the_prior():
    """2: with zero init only the output bias moves. On balanced moons it has no gradient (loss stays ln 2);
    on 100/30 moons it learns the class prior: loss → entropy of the prior, accuracy = the majority share, and
    every weight stays exactly 0."""
    for seed in SEEDS:
        X, y = make_moons(200, rng=np.random.default_rng(1 + seed), standardize=True)
        keep = np.r_[0:100, 100:130]
        r = training.train(X[keep], y[keep], init="zeros", activation="tanh", epochs=300, lr=0.5,
                     rng=np.random.default_rng(2 + seed))
        prior = 30 / 130
        entropy = -(prior * math.log(prior) + (1 - prior) * math.log(1 - prior))
        assert r.losses[0] == pytest.approx(math.log(2)) and abs(r.losses[-1] - entropy) < 1e-3, seed
        assert r.accuracy == pytest.approx(100 / 130) and all(np.all(W == 0) for W in r.weights), seed


LR_DEEP = 0.005  # chapter 05's deep runs: small enough that full-batch SGD is smooth, not chaotic


def _tail(r, n=20):
    """The median loss of the last n steps: one spike cannot move it."""
    return float(np.median(r.losses[-n:]))


@functools.cache
def _deep(init, seed, batchnorm=()):
    X, y = make_moons(400, rng=np.random.default_rng(1), standardize=True)
    return training.train_deep(X, y, depth=15, width=64, init=init, batchnorm=batchnorm, steps=200, lr=LR_DEEP, seed=seed)


def test_depth_decides():
    """10: 15 ReLU layers, 200 steps: std 0.01 stays at chance, std 1 explodes to NaN at once, He learns at
    once (below 0.6 after 20 steps) and ends below 0.3 (median of the last 20 steps) with accuracy above 0.85;
    LeCun's loss barely leaves ln 2 (within 0.02) while its accuracy climbs above its start (to about 0.8 for
    most seeds; 0.56 for the worst of ten): loss and accuracy differ."""
    lecun_accuracy = []
    for seed in SEEDS:
        small, big, he, lecun = (_deep(i, seed) for i in (0.01, 1.0, "kaiming_normal", "lecun_normal"))
        lecun_accuracy.append(lecun.accuracy)
        assert abs(_tail(small) - math.log(2)) < 1e-3 and small.accuracy <= 0.6, seed
        assert big.diverged_at is not None and big.diverged_at <= 3, seed
        assert he.diverged_at is None and he.losses[20] < 0.6 and _tail(he) < 0.3 and he.accuracy > 0.85, seed
        assert lecun.diverged_at is None and 0 < math.log(2) - _tail(lecun) < 0.02, seed  # barely left ln 2
        assert lecun.accuracy > lecun.start_accuracy + 0.05 and lecun.accuracy > 0.55, seed  # … yet it learns
        assert _tail(he) < _tail(lecun) - 0.3, seed
    assert np.median(lecun_accuracy) > 0.75, lecun_accuracy  # much of the boundary, for most seeds


def test_lecun_is_he_over_root_two_and_its_logit_starts_256_times_smaller():
    """10: with ReLU and zero biases, LeCun's weights are He's ÷ √2 (the same draws), so over 16 weight matrices
    the first logit is 2⁸ = 256 times smaller (ReLU is positively homogeneous)."""
    X, _ = make_moons(400, rng=np.random.default_rng(1), standardize=True)
    for seed in SEEDS:
        he = ckinit.make_weights(15, 64, "kaiming_normal", rng=np.random.default_rng(seed), n_inputs=2)
        lecun = ckinit.make_weights(15, 64, "lecun_normal", rng=np.random.default_rng(seed), n_inputs=2)
        for a, b in zip(he, lecun, strict=True):
            np.testing.assert_allclose(a, math.sqrt(2) * b, rtol=1e-12)
        out = np.random.default_rng(99 + seed).standard_normal((1, 64))  # the same read-out for both
        logit = [ex.forward(X, Ws, "relu")[1][-1] @ (out * c).T for Ws, c in ((he, math.sqrt(2 / 64)),
                                                                            (lecun, math.sqrt(1 / 64)))]
        np.testing.assert_allclose(logit[0], 256 * logit[1], rtol=1e-9)


def test_update_ratio():
    """11: at this cautious learning rate He's median update:data ratios lie between 1e-6 and 1e-3, below the
    1e-3 rule of thumb; std 0.01's hidden layers near 1e-20."""
    for seed in SEEDS:
        he = np.median(_deep("kaiming_normal", seed).update_ratio, axis=0)
        assert np.all((he > 1e-6) & (he < 1e-3)), (seed, he)
        small = np.median(_deep(0.01, seed).update_ratio, axis=0)
        assert np.all(small[:15] < 1e-10), seed


def test_gradient_histograms():
    """11: at the start He gives every hidden layer ∂L/∂W of about the same width; LeCun's are 100+ times
    narrower; std 0.01's vanish."""
    for seed in SEEDS:
        he = np.array(_deep("kaiming_normal", seed).grad_w_std[:15])
        lecun = np.array(_deep("lecun_normal", seed).grad_w_std[:15])
        assert he.max() / he.min() < 3, seed
        assert np.all(lecun < he / 100), seed
        assert max(_deep(0.01, seed).grad_w_std) < 1e-15, seed


def test_batchnorm_resets_the_scale():
    """11: one BatchNorm at layer 8 resets that layer's scale but the std-1 run still explodes; BatchNorm
    after every layer holds every layer near 0.6 and lets the std-1 network train."""
    every = tuple(range(1, 16))
    for seed in SEEDS:
        one = _deep(1.0, seed, (8,))
        assert 0.4 < one.act_std[7] < 0.8 and one.act_std[14] > 1e3 and one.act_std[6] > 1e3, seed
        assert one.diverged_at is not None, seed
    for seed in SEEDS:
        r = _deep(1.0, seed, every)
        assert all(0.4 < s < 0.8 for s in r.act_std), seed
        assert r.diverged_at is None and _tail(r) < 0.1 and r.accuracy > 0.95, seed


def test_transfer_helps_a_related_task_not_a_far_one():
    """12: from the moons' weights, a 45° rotation starts worse but is far ahead after 50 steps; at 90° the
    pretrained start has no consistent advantage."""
    X, y = make_moons(200, rng=np.random.default_rng(1), standardize=True)
    first = training.train(X, y, init="xavier_normal", activation="tanh", epochs=300, rng=np.random.default_rng(2))
    gaps = {45: [], 90: []}
    for degrees in gaps:
        for seed in SEEDS:
            X2, y2 = make_moons(200, noise=0.2, rng=np.random.default_rng(10 + seed), standardize=True)
            X2 = rotate(X2, degrees)
            ft = training.train(X2, y2, init=training.from_weights(first.weights), activation="tanh", epochs=50,
                          rng=np.random.default_rng(4))
            sc = training.train(X2, y2, init="xavier_normal", activation="tanh", epochs=50,
                          rng=np.random.default_rng(20 + seed))
            gaps[degrees].append(ft.losses[-1] - sc.losses[-1])
            if degrees == 45:
                assert ft.losses[0] > sc.losses[0] and ft.losses[-1] < 0.6 * sc.losses[-1], seed
            else:
                assert ft.losses[0] > 3 * sc.losses[0], seed
    assert abs(np.mean(gaps[90])) < 0.05 and min(gaps[90]) < 0 < max(gaps[90])  # no consistent advantage
    assert max(gaps[45]) < min(gaps[90])  # the further task gains less


# --------------------------------------------------------------------------- chapter 04


def test_deep_linear_net_stays_at_chance_on_xor():
    """6: the 2-16-16-16-1 net without activations stays at chance on XOR after 1000 Adam steps; with tanh it
    solves it — for every seed of the data and of the initial weights."""
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    labels = np.array([0, 1, 1, 0])
    idx = np.repeat(np.arange(4), 50)
    for seed in SEEDS:
        X = corners[idx] + np.random.default_rng(seed).normal(0.0, 0.15, size=(200, 2))
        y = labels[idx][:, None].astype(float)

        def net(activation, seed=seed):
            torch.manual_seed(seed)
            layers = []
            for k, (a, b) in enumerate(zip([2, 16, 16, 16], [16, 16, 16, 1], strict=True)):
                layers.append(torch.nn.Linear(a, b))
                if activation is not None and k < 3:
                    layers.append(activation())
            return torch.nn.Sequential(*layers)

        loss, acc = training.fit_binary(net(None), X, y, steps=1000, lr=0.01)
        assert abs(loss - math.log(2)) < 0.01 and acc <= 0.6, seed
        loss, acc = training.fit_binary(net(torch.nn.Tanh), X, y, steps=1000, lr=0.01)
        assert loss < 0.01 and acc == 1.0, seed


# --------------------------------------------------------------------------- chapter 06


def test_cross_entropy_is_kl_plus_entropy():
    """6.1: H(onehot, q) equals the cross-entropy loss; with soft labels H(p, q) − H(p) = KL(p ‖ q) ≥ 0."""
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        logits = rng.normal(0.0, 2.0, size=(8, 5))
        y = rng.integers(0, 5, size=8)
        q = sm.softmax(logits)
        assert sm.cross_entropy_dist(sm.one_hot(y, 5), q).mean() == pytest.approx(float(sm.cross_entropy(logits, y)))
        p = sm.softmax(rng.normal(size=(8, 5)))
        kl = sm.kl_divergence(p, q)
        np.testing.assert_allclose(sm.cross_entropy_dist(p, q) - sm.entropy(p), kl, rtol=1e-12)
        assert np.all(kl > 0)
        torch_ce = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(p)).item()
        assert torch_ce == pytest.approx(sm.cross_entropy_dist(p, q).mean(), rel=1e-12)


def test_softmax_before_the_loss_trains_worse():
    """8: on raw and standardized blobs the buggy run's accuracy ends far below the right one's (0.40–0.63
    against 0.92–0.94), its reported loss never goes below the floor; on raw inputs its mistakes are confident
    (77–309 wrong with max p > 0.9) and its true CE grows, on standardized ones at most a few dozen are.
    The right run starts within 0.5 of ln K on standardized inputs, 0.07 to 3.3 above it on raw ones."""
    K = 10
    floor = math.log(1 + (K - 1) / math.e)
    raw_starts = []
    for seed in range(12):
        X, y = make_blobs(K, 100, radius=6.0, rng=np.random.default_rng(seed))
        for standardize in (False, True):
            Xs = (X - X.mean(axis=0)) / X.std(axis=0) if standardize else X
            right = training.train_linear_classifier(Xs, y, steps=300, lr=0.5, seed=seed)
            bug = training.train_linear_classifier(Xs, y, softmax_first=True, steps=300, lr=0.5, seed=seed)
            with torch.no_grad():
                p_right = torch.softmax(right["model"](torch.tensor(Xs, dtype=torch.float32)), dim=1).numpy()
                p_bug = torch.softmax(bug["model"](torch.tensor(Xs, dtype=torch.float32)), dim=1).numpy()
            acc_right, acc_bug = np.mean(p_right.argmax(1) == y), np.mean(p_bug.argmax(1) == y)
            assert 0.9 < acc_right < 0.96 and 0.35 < acc_bug < 0.65, (seed, standardize)
            assert bug["reported"].min() >= floor, (seed, standardize)
            wrong_bug = np.sum((p_bug.argmax(1) != y) & (p_bug.max(1) > 0.9))
            if standardize:
                assert abs(right["true_ce"][0] - math.log(K)) < 0.5, seed  # the start the text expects
                assert wrong_bug < 30, seed  # mostly no longer confident
            else:
                raw_starts.append(right["true_ce"][0] - math.log(K))
                wrong_right = np.sum((p_right.argmax(1) != y) & (p_right.max(1) > 0.9))
                assert 70 < wrong_bug < 320 and wrong_right < 10, seed  # confident mistakes: bug only
                assert bug["true_ce"][-1] > bug["true_ce"][0], seed
    assert 0 < min(raw_starts) < 0.2 and 3.0 < max(raw_starts) < 3.5, raw_starts  # "0.07 to 3.3 above it"


def test_a_narrow_layer_limits_the_whole_stack_wherever_it_sits():
    """ch04 §5 and summary: a width-2 layer first, in the middle or last limits the collapsed map of a
    10 → … → 10 stack to rank 2; without it the rank is 10."""
    from coursekit.collapse import collapse_linear, rank_bound

    for seed in SEEDS:
        torch.manual_seed(seed)
        for widths in ([10, 2, 10, 10, 10], [10, 10, 2, 10, 10], [10, 10, 10, 2, 10], [10, 10, 10, 10, 10]):
            layers = [torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
            model = torch.nn.Sequential(*layers).double()
            W = collapse_linear(model).weight.detach()
            assert torch.linalg.matrix_rank(W).item() == rank_bound(model) == min(widths), (seed, widths)


def test_first_loss_is_ln_k():
    """9: a fresh model whose last layer is shrunk starts at ln K; the default init starts near it; a last
    layer scaled by 10 starts far above."""
    K = 10
    for seed in SEEDS:
        gen = torch.Generator().manual_seed(seed)
        X = torch.randn(512, 20, generator=gen)
        y = torch.randint(0, K, (512,), generator=gen)
        first = {}
        for scale in (0.01, 1.0, 10.0):
            torch.manual_seed(seed)
            model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, K))
            with torch.no_grad():
                model[-1].weight.mul_(scale)
                model[-1].bias.mul_(scale)
                first[scale] = torch.nn.functional.cross_entropy(model(X), y).item()
        assert abs(first[0.01] - math.log(K)) < 0.002, seed
        assert abs(first[1.0] - math.log(K)) < 0.15, seed
        assert first[10.0] > math.log(K) + 1.0, seed


def test_temperature_never_changes_the_prediction_and_entropy_grows():
    """5: for any logits, the argmax is the same at every T and the entropy increases with T."""
    grid = np.geomspace(0.05, 50, 200)
    from coursekit.softmax import softmax_temperature, temperature_stats

    for seed in SEEDS:
        z = np.random.default_rng(seed).normal(0.0, 2.0, size=6)
        assert {int(np.argmax(softmax_temperature(z, T))) for T in grid} == {int(np.argmax(z))}
        entropies = [temperature_stats(z, T)["entropy"] for T in grid]
        assert np.all(np.diff(entropies) > 0), seed
