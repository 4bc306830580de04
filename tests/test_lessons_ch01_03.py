"""The lessons of chapters 01-03, re-run beyond the one seed each notebook prints.

Each test re-checks one claim the prose makes (X beats Y, units die at lr >= ...,
LeakyReLU revives few units, ...), with the same coursekit functions the notebook
cells call, over at least 5 seeds and the step counts the text states. A claim that
held only for the printed seed fails here. The notebook cell that demonstrates a
claim names its test in a ``# claim tested:`` comment.
"""

import math

import numpy as np
import pytest
import torch

from coursekit import activations, training
from coursekit.data import make_moons
from coursekit.neurons import GATE_INPUTS, GATE_OUTPUTS, gate, neuron, step
from coursekit.training import train_perceptron

SEEDS = range(5)


@pytest.fixture(autouse=True)
def one_thread():
    # The networks are tiny: one thread is several times faster than two on a shared machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- chapter 01 -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["AND", "OR", "NAND"])
def test_perceptron_converges_on_and_or_for_any_rate(name):
    # ch01 §4: the rule converges on separable gates, from any start and with any rate.
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        lr = float(rng.uniform(0.01, 2.0))
        run = train_perceptron(GATE_INPUTS, GATE_OUTPUTS[name], lr=lr, epochs=200,
                               w0=rng.normal(size=2), b0=float(rng.normal()))
        assert run.converged, (name, seed, lr, run.errors[-5:])
        assert all(e == 0 for e in run.errors[run.converged_epoch - 1:]), "once converged it stays"


def test_perceptron_never_solves_xor():
    # ch01 §3-4: no line separates XOR, so the rule never converges, from any start.
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        run = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["XOR"], lr=float(rng.uniform(0.01, 2.0)),
                               epochs=1000, w0=rng.normal(size=2), b0=float(rng.normal()))
        assert not run.converged and min(run.errors) >= 1
    # The proof, checked by brute force: no (w1, w2, b) out of 200 000 random ones gets all four right.
    rng = np.random.default_rng(0)
    params = rng.normal(size=(200_000, 3))
    z = GATE_INPUTS @ params[:, :2].T + params[:, 2]  # (4, 200000)
    correct = ((z > 0) == GATE_OUTPUTS["XOR"][:, None].astype(bool)).sum(axis=0)
    assert correct.max() == 3


def test_zero_start_xor_run_never_below_two_errors():
    # ch01 misconceptions: the printed zero-start run never gets below two errors in 1000 epochs.
    run = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["XOR"], lr=0.1, epochs=1000)
    assert min(run.errors) == 2


@pytest.mark.parametrize("name", ["AND", "OR", "NAND"])
def test_perceptron_rate_only_scales_the_weights(name):
    # ch01 answer to §4: from zero weights, the learning rate only scales w and b, exactly so
    # when every multiple of the rate is exact in floating point (powers of 2 times integers).
    base = train_perceptron(GATE_INPUTS, GATE_OUTPUTS[name], lr=1.0, epochs=12)
    for lr in [0.5, 0.25, 2.0, 8.0]:
        run = train_perceptron(GATE_INPUTS, GATE_OUTPUTS[name], lr=lr, epochs=12)
        assert run.errors == base.errors
        np.testing.assert_allclose(run.w, base.w * lr, rtol=0)
        assert run.b == base.b * lr


def test_perceptron_rates_in_the_answer():
    # AND: lr 0.1 and lr 1 give the same run, weights scaled by 10.
    tenth = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["AND"], lr=0.1, epochs=12)
    one = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["AND"], lr=1.0, epochs=12)
    assert one.errors == tenth.errors and one.converged_epoch == 5
    assert one.w.tolist() == [2.0, 1.0] and one.b == -2.0
    np.testing.assert_allclose(tenth.w, [0.2, 0.1])
    assert tenth.b == pytest.approx(-0.2)
    # NAND: 0.1 + 0.1 is not exactly 0.2, so lr 0.1 converges at epoch 3, lr 1 at epoch 5.
    tenth = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["NAND"], lr=0.1, epochs=12)
    one = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["NAND"], lr=1.0, epochs=12)
    assert (tenth.converged_epoch, one.converged_epoch) == (3, 5)
    assert tenth.b == 0.20000000000000004 and tenth.w @ [1.0, 0.0] + tenth.b > 0


def test_other_xor_networks():
    # ch01 answer to §5: three other two-layer constructions of XOR.
    xor = GATE_OUTPUTS["XOR"]
    x = GATE_INPUTS
    h = np.stack([gate("OR", x), gate("NAND", x)], axis=1)
    np.testing.assert_array_equal(gate("AND", h), xor)
    h = np.stack([gate("OR", x), gate("AND", x)], axis=1)
    np.testing.assert_array_equal(neuron(h, [1.0, -1.0], -0.5), xor)
    h = np.stack([neuron(x, [1.0, -1.0], -0.5), neuron(x, [-1.0, 1.0], -0.5)], axis=1)
    np.testing.assert_array_equal(gate("OR", h), xor)


def test_scaling_weights_and_bias_keeps_step_outputs():
    # ch01 answer to §2: z doubles, a step neuron's output does not change.
    rng = np.random.default_rng(1)
    X, w, b = rng.normal(size=(1000, 3)), rng.normal(size=3), float(rng.normal())
    for factor in [2.0, 0.5, 10.0]:
        np.testing.assert_array_equal(step(X @ (factor * w) + factor * b), step(X @ w + b))


# --- chapter 02 -------------------------------------------------------------------------------


def test_xor_needs_a_hidden_layer():
    # ch02 §6: a 2-4-1 tanh net learns XOR from every seed; a linear model gets at most 3 of 4.
    for seed in SEEDS:
        net = training.train_classifier(GATE_INPUTS, GATE_OUTPUTS["XOR"], [4], activation="tanh",
                                        steps=2000, lr=1.0, seed=seed)
        linear = training.train_classifier(GATE_INPUTS, GATE_OUTPUTS["XOR"], [], steps=2000, lr=1.0, seed=seed)
        assert net.accuracy == 1.0 and net.losses[-1] < 0.01, seed
        assert linear.accuracy <= 0.75, seed
        # answer to §6: the best linear model predicts 0.5 everywhere, loss ln 2
        assert linear.losses[-1] == pytest.approx(math.log(2), abs=1e-3)


def _norms(model):
    X, y = torch.from_numpy(GATE_INPUTS), torch.from_numpy(GATE_OUTPUTS["XOR"]).reshape(4, 1)
    model.zero_grad()
    torch.nn.functional.binary_cross_entropy_with_logits(model(X), y).backward()
    weights = math.sqrt(sum(p.detach().norm().item() ** 2 for p in model.parameters()))
    grads = math.sqrt(sum(p.grad.norm().item() ** 2 for p in model.parameters()))
    return weights, grads


def test_stuck_two_unit_xor_runs_drift_to_infinity():
    # ch02 §6: with 2 hidden units two of the first ten seeds get stuck at 50 %; not at a minimum
    # at finite weights: over 2000 more steps the loss still falls, the weights grow, the gradient shrinks.
    stuck = []
    for seed in range(10):
        run = training.train_classifier(GATE_INPUTS, GATE_OUTPUTS["XOR"], [2], activation="tanh",
                                        steps=2000, lr=1.0, seed=seed)
        if run.accuracy == 1.0:
            continue
        stuck.append(seed)
        assert run.accuracy == 0.5, (seed, run.accuracy)
        w_before, g_before = _norms(run.model)
        more = training.gradient_descent(run.model, GATE_INPUTS, GATE_OUTPUTS["XOR"], steps=2000, lr=1.0)
        w_after, g_after = _norms(run.model)
        assert more[-1] < run.losses[-1] and more[-1] > 0.3, seed  # still falling, far from solved
        assert np.all(np.diff(more) <= 0), seed                     # a steady drift, not a bounce
        assert w_after > w_before + 0.3 and g_after < 0.75 * g_before, (seed, w_before, w_after, g_before, g_after)
        assert training.accuracy(run.model, GATE_INPUTS, GATE_OUTPUTS["XOR"]) == 0.5, seed
    assert len(stuck) == 2, stuck


def test_moons_network_beats_linear():
    # ch02 §6: on two moons a 2-16-16-1 tanh net fits the training points, the linear model cannot;
    # at lr 0.3 the network's loss falls at every step (a smooth run: its printed digits reproduce).
    for seed in SEEDS:
        X, y = make_moons(200, noise=0.15, rng=np.random.default_rng(seed))
        net = training.train_classifier(X, y, [16, 16], activation="tanh", steps=2000, lr=0.3, seed=seed)
        linear = training.train_classifier(X, y, [], steps=2000, lr=0.3, seed=seed)
        assert net.accuracy >= 0.97, seed
        assert linear.accuracy <= 0.93, seed
        assert net.losses[-1] < 0.5 * linear.losses[-1], seed
        assert np.all(np.diff(net.losses) < 0), seed


def _monotone(y):
    d = np.diff(y)
    return bool(np.all(d >= 0) or np.all(d <= 0))


WIDTHS = [0, 1, 2, 4, 8, 32]  # the widths chapter 02 prints
FLOOR = 0.001  # errors below it print as "below 0.001"


def test_universal_approximation_error_falls_with_width():
    # ch02 §7, as printed: for every printed width the error is below the previous width's, until it
    # reaches "below 0.001", which it does from width 8 on; widths 0 (linear) and 1 are monotone,
    # width 2 already rises and falls.
    x, linear, mse_linear = training.fit_curve(0, seed=0)
    slope, intercept = np.polyfit(x, training.curve_target(x), 1)  # the least-squares line
    best = np.mean((slope * x + intercept - training.curve_target(x)) ** 2)
    assert mse_linear == pytest.approx(best, rel=1e-3) and mse_linear > 1.0
    assert _monotone(linear) and not _monotone(training.curve_target(x))
    for seed in SEEDS:
        # The linear model's optimum is unique (asserted above for seed 0), so its error is every seed's.
        fits = {n: training.fit_curve(n, seed=seed) for n in WIDTHS[1:]}
        printed = [max(mse_linear if n == 0 else fits[n][2], FLOOR) for n in WIDTHS]
        for (n_a, a), (n_b, b) in zip(zip(WIDTHS, printed), zip(WIDTHS[1:], printed[1:])):
            assert b < a or a == b == FLOOR, (seed, n_a, a, n_b, b)
        assert fits[8][2] < FLOOR and fits[32][2] < FLOOR, seed
        assert fits[2][2] > 2 * FLOOR, seed  # the fall is visible in the printed widths
        assert _monotone(fits[1][1]) and not _monotone(fits[2][1]), seed


def test_backprop_by_hand_matches_autograd():
    # ch02 §5.1: delta_L = dloss/dz_L, delta_l = (W_{l+1}^T delta_{l+1}) * f'(z_l), dloss/dW_l = delta_l h_{l-1}^T,
    # dloss/db_l = delta_l, for random sizes, depths, activations and examples.
    derivatives = {"tanh": lambda z: 1 - np.tanh(z) ** 2,
                   "sigmoid": lambda z: activations.sigmoid_grad(z),
                   "relu": lambda z: (z > 0).astype(float)}
    for seed in range(6):
        rng = np.random.default_rng(seed)
        name = list(derivatives)[seed % 3]
        sizes = [int(n) for n in rng.integers(1, 6, size=int(rng.integers(3, 6)))]
        model = training.mlp(sizes, name, generator=torch.Generator().manual_seed(seed))
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        x, y = rng.normal(size=sizes[0]), rng.normal(size=sizes[-1])
        ((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).sum().backward()
        Ws = [m.weight.detach().numpy() for m in linears]
        bs = [m.bias.detach().numpy() for m in linears]
        hs, zs = [x], []
        for k, (W, b) in enumerate(zip(Ws, bs)):
            zs.append(W @ hs[-1] + b)
            hs.append(zs[-1] if k == len(Ws) - 1 else activations.get(name).numpy(zs[-1]))
        delta = 2 * (zs[-1] - y)
        for k in reversed(range(len(Ws))):
            np.testing.assert_allclose(np.outer(delta, hs[k]), linears[k].weight.grad.numpy(), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(delta, linears[k].bias.grad.numpy(), rtol=1e-10, atol=1e-13)
            if k:
                delta = (Ws[k].T @ delta) * derivatives[name](zs[k - 1])


# --- chapter 03 -------------------------------------------------------------------------------


def test_naive_sigmoid_formulas_fail_without_raising():
    # ch03 §3: with numpy's default error handling nothing raises; these formulas give NaN / -inf.
    x = np.array([-1000.0, 1000.0])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(1 / (1 + np.exp(-x)), [0.0, 1.0])
        assert np.isnan(np.exp(x) / (1 + np.exp(x)))[1]
        assert np.isnan(np.exp(-x) / (1 + np.exp(-x)) ** 2)[0]
        assert np.log(1 / (1 + np.exp(-x)))[0] == -np.inf
    np.testing.assert_array_equal(activations.sigmoid_grad(x), [0.0, 0.0])
    np.testing.assert_allclose(-np.logaddexp(0.0, -x), [-1000.0, 0.0])


def test_positive_inputs_give_one_signed_weight_gradients():
    # ch03 §4: sigmoid inputs (all positive) make every sample's weight gradient one-signed;
    # tanh inputs almost never do.
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        z_prev, w, y = rng.normal(size=(1000, 16)), rng.normal(size=16), rng.normal(size=1000)
        fractions = {}
        for name in ["sigmoid", "tanh"]:
            h = activations.get(name).numpy(z_prev)
            G = (h @ w - y)[:, None] * h
            fractions[name] = np.mean(np.all(G > 0, axis=1) | np.all(G < 0, axis=1))
        assert fractions["sigmoid"] == 1.0 and fractions["tanh"] < 0.01


def test_exact_zero_pre_activations_are_rare():
    # ch03 answer to §5: no exact 0.0 among a million standard-normal float32 values.
    for seed in SEEDS:
        z = np.random.default_rng(seed).normal(size=1_000_000).astype(np.float32)
        assert np.sum(z == 0) == 0


def test_weights_can_undo_the_sigmoid_quarter():
    # ch03 §7: one unit with weight w passes back w/4 at 0; five N(0, 1) sigmoid layers of 100
    # units amplify the gradient (largest factor > 1), std 0.1 shrinks it; the bound always holds.
    for w in [1.0, 4.0, 10.0]:
        h0 = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        torch.sigmoid(w * h0).backward()
        assert h0.grad.item() == pytest.approx(w / 4)
    for seed in SEEDS:
        big = training.sigmoid_stack_gradient(5, 100, 1.0, seed=seed)
        small = training.sigmoid_stack_gradient(5, 100, 0.1, seed=seed)
        assert 1.0 < big["norm"] <= big["bound"], seed
        assert 1e-3 < small["norm"] < 1e-2 and small["norm"] <= small["bound"], seed


def test_sigmoid_chain_with_weight_one_stays_below_quarter_power():
    # ch03 §7: with weight 1 the chain's gradient is below 0.25^L, tanh's far above it.
    for x0 in np.random.default_rng(0).normal(size=5):
        for L in [1, 5, 20]:
            h0 = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
            h = h0
            for _ in range(L):
                h = torch.sigmoid(h)
            h.backward()
            assert h0.grad.item() <= 0.25**L
    t0 = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    h = t0
    for _ in range(20):
        h = torch.tanh(h)
    h.backward()
    assert t0.grad.item() > 0.05


def test_default_init_dead_units_are_lines_missing_the_data():
    # ch03 §8: at PyTorch's default init a unit is dead exactly when b <= -max w.x; a few percent.
    fractions = []
    for seed in range(100):
        dead, b, reach = training.default_init_dead(seed=seed)
        np.testing.assert_array_equal(dead, b + reach <= 0)
        fractions.append(dead.mean())
    assert 0.005 < np.mean(fractions) < 0.03
    assert max(fractions) <= 0.1
    dead, _, _ = training.default_init_dead(seed=0)
    assert dead.sum() == 4  # the printed 6.2 % (4 of 64)


def test_large_learning_rate_kills_units():
    # ch03 §8: at lr 0.1 at most one unit dies in 300 steps; at 0.2 and 0.3 at least 5 do
    # (or the run diverges); at 0.4 most runs diverge.
    diverged_at_04 = 0
    for seed in range(10):  # the ten seeds of the figure
        killed = {}
        for lr in [0.1, 0.2, 0.3]:
            run = training.dead_after_training(lr, seed=seed, steps=300)
            killed[lr] = None if run.diverged else int(run.dead_at_end.sum() - run.dead_at_start.sum())
        assert killed[0.1] is not None and killed[0.1] <= 1, (seed, killed)
        for lr in [0.2, 0.3]:
            assert killed[lr] is None or killed[lr] >= 5, (seed, killed)
        diverged_at_04 += training.dead_after_training(0.4, seed=seed, steps=300).diverged
    assert diverged_at_04 >= 6  # most of the ten


def _damaged_runs(seed):
    return {
        "relu": training.damaged_layer_run("relu", seed=seed, steps=2000),
        "leaky": training.damaged_layer_run("leaky_relu", seed=seed, steps=2000),
        "leaky0.1": training.damaged_layer_run("leaky_relu", seed=seed, steps=2000, negative_slope=0.1),
    }


@pytest.fixture(scope="module")
def damaged():
    torch.set_num_threads(1)
    return {seed: _damaged_runs(seed) for seed in SEEDS}


def test_relu_dead_units_never_move_leaky_ones_do(damaged):
    for seed, runs in damaged.items():
        relu, leaky = runs["relu"], runs["leaky"]
        assert np.array_equal(relu.dead_at_start, leaky.dead_at_start), "same start for both"
        assert relu.dead_at_start.sum() >= 30, seed  # the shift kills most of the 64 units
        assert not relu.moved[relu.dead_at_start].any() and relu.revived == 0, seed
        assert leaky.moved[leaky.dead_at_start].all(), seed


def test_leaky_relu_revives_few_units(damaged):
    # slope 0.01: none or almost none revive in 2000 steps; slope 0.1: a few, on most seeds.
    revived_at_01 = []
    for seed, runs in damaged.items():
        assert runs["leaky"].revived <= 2, seed
        revived_at_01.append(runs["leaky0.1"].revived)
        assert revived_at_01[-1] <= 0.25 * runs["leaky0.1"].dead_at_start.sum(), seed
    assert sum(r >= 1 for r in revived_at_01) >= 3, revived_at_01


def test_leaky_relu_leads_early_not_late(damaged):
    # LeakyReLU's loss is lower at step 200; ReLU catches up within 1000 steps and is lower at
    # 2000 on most seeds; slope 0.1 is fastest at 200 and worst at 2000.
    relu_lower_at_end = 0
    for seed, runs in damaged.items():
        relu, leaky, leaky01 = runs["relu"].losses, runs["leaky"].losses, runs["leaky0.1"].losses
        assert leaky[199] < relu[199], seed
        assert np.any(relu[200:1000] <= leaky[200:1000]), seed
        relu_lower_at_end += relu[-1] < leaky[-1]
        assert leaky01[199] < min(relu[199], leaky[199]), seed
        assert leaky01[-1] > max(relu[-1], leaky[-1]), seed
    assert relu_lower_at_end >= 3


def _median_end(losses):
    return float(np.median(losses[-20:]))  # what chapter 03 prints: one spike cannot move it


def test_deep_sigmoid_stalls_others_learn():
    # ch03 §9: at lr 0.3 four hidden sigmoid layers stay at ln 2 after 1000 steps, every prediction
    # within a hair of 0.5, yet most points are on the right side of 0.5; tanh, ReLU, LeakyReLU,
    # GELU and SiLU all fit two moons ("loss below 0.1, accuracy at least 95 %") on every seed.
    for seed in SEEDS:
        runs = training.compare_activations(["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu"],
                                            seed=seed, depth=4, width=16, steps=1000, lr=0.3)
        sig = runs["sigmoid"]
        assert _median_end(sig.losses) > 0.68 and sig.losses[-1] == pytest.approx(math.log(2), abs=0.01), seed
        X, _ = make_moons(200, 0.15, rng=np.random.default_rng(seed))
        p = training.predict_proba(sig.model, X)
        assert np.abs(p - 0.5).max() < 0.005, (seed, p.min(), p.max())  # "within a hair of 0.5"
        assert sig.accuracy > 0.6, (seed, sig.accuracy)
        for name in ["tanh", "relu", "leaky_relu", "gelu", "silu"]:
            assert _median_end(runs[name].losses) < 0.1 and runs[name].accuracy >= 0.95, (seed, name)


def test_deep_sigmoid_learns_with_a_larger_step():
    # ch03 §9: at lr 3.0 the same sigmoid net leaves ln 2 within 1000 steps on every seed, and with
    # 3000 steps reaches 99.5 % or more on four of the five seeds.
    reached = 0
    for seed in SEEDS:
        run = training.compare_activations(["sigmoid"], seed=seed, depth=4, width=16, steps=1000, lr=3.0)["sigmoid"]
        assert 0.1 < _median_end(run.losses) < 0.45, (seed, _median_end(run.losses))  # "leaves the plateau: below 0.5"
        X, y = make_moons(200, 0.15, rng=np.random.default_rng(seed))
        training.gradient_descent(run.model, X, y, steps=2000, lr=3.0)  # continues the same run to 3000 steps
        reached += training.accuracy(run.model, X, y) >= 0.995
    assert reached >= 4, reached


def test_leaky_units_stay_negative_though_no_output_is_zero():
    # ch03 §8 explorer text: the slope does not change which units are negative on every input (most of
    # the damaged layer); a leaky output a*z is never exactly 0, ReLU's are.
    for seed in SEEDS:
        model, X, _ = training.damaged_layer("relu", seed=seed, bias_shift=-2.0)
        z = model[0](torch.from_numpy(X)).detach().numpy()
        negative = np.all(z <= 0, axis=0)
        assert negative.mean() > 0.5, seed
        assert np.all(z != 0)
        for a in [0.01, 0.1, 0.3]:
            h = activations.leaky_relu(z, a)
            assert np.mean(h == 0) == 0.0 and np.all(h[:, negative] < 0), (seed, a)
            assert np.all(activations.leaky_relu_grad(z, a)[:, negative] == a)
        assert np.all(activations.relu(z)[:, negative] == 0)


def test_course_sigmoid_follows_torch_in_the_far_tail():
    # ch03 §3: coursekit's sigmoid returns what torch.sigmoid returns, 0 once e^-x overflows
    # (x < -709.78 in float64), where the two-branch formula still gives a subnormal number.
    x = np.concatenate([np.linspace(-760, -700, 601), [-715.0, -709.78, -709.79, -1000.0]])
    ours = activations.sigmoid(x)
    theirs = torch.sigmoid(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)  # to the last bit or so
    np.testing.assert_array_equal(ours == 0, theirs == 0)  # and 0 exactly where torch gives 0
    assert np.all(ours[x < -709.79] == 0) and np.all(ours[x > -709.78] > 0)
    e = np.exp(-np.abs(-715.0))
    assert 0 < e / (1 + e) < 1e-310  # the two-branch formula at -715: subnormal, not 0
