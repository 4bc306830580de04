"""coursekit.training and coursekit.data: data made in code, seeded models, the training loops, dead-unit counts."""

import math

import numpy as np
import pytest
import torch

from coursekit import data as D
from coursekit import init as I
from coursekit import training


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_make_xor_corners_and_labels(rng):
    X, y = D.make_xor(50, noise=0.1, rng=rng)
    assert X.shape == (200, 2) and y.shape == (200,)
    corners = np.round(X).clip(0, 1)  # noise 0.1: every point stays nearest its own corner (|noise| < 0.5 at 5 sd)
    np.testing.assert_array_equal(y, (corners[:, 0] != corners[:, 1]).astype(float))
    X0, _ = D.make_xor(3, noise=0.0, rng=rng)
    np.testing.assert_array_equal(X0[:3], [[0, 0]] * 3)


def test_make_moons_geometry(rng):
    X, y = D.make_moons(1000, noise=0.0, rng=rng)
    assert X.shape == (1000, 2) and np.sum(y == 0) == 500 and np.sum(y == 1) == 500
    # class 0 on the unit circle's upper half, class 1 on the circle of radius 1 around (1, 0.5), lower half
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    assert np.all(X[y == 0, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1.0, X[y == 1, 1] - 0.5), 1.0)
    assert np.all(X[y == 1, 1] <= 0.5 + 1e-12)
    # the same seed gives the same points; noise has the requested spread
    a, _ = D.make_moons(100, rng=np.random.default_rng(3))
    b, _ = D.make_moons(100, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_mlp_layout_and_default_init():
    g = torch.Generator().manual_seed(0)
    model = training.mlp([2, 8, 8, 1], "relu", generator=g)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert all(p.dtype == torch.float64 for p in model.parameters())
    leaky = training.mlp([2, 3, 1], "leaky_relu", generator=g, negative_slope=0.2)
    assert leaky[1].negative_slope == 0.2
    # PyTorch's default init: U(±1/sqrt(fan_in)) for weights and biases, variance bound^2 / 3
    big = training.linear_layer(400, 1000, generator=torch.Generator().manual_seed(1))
    bound = 1 / math.sqrt(400)
    w = big.weight.detach().numpy()
    assert w.shape == (1000, 400) and np.abs(w).max() <= bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.02)  # 400 000 draws: relative sd of var ~0.2 %
    assert np.abs(big.bias.detach().numpy()).max() <= bound
    # reproducible from the generator alone, whatever the global torch seed
    torch.manual_seed(123)
    a = training.mlp([2, 4, 1], generator=torch.Generator().manual_seed(5))
    torch.manual_seed(456)
    b = training.mlp([2, 4, 1], generator=torch.Generator().manual_seed(5))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_gradient_descent_is_the_plain_update():
    # one step by hand: p_new = p - lr * dloss/dp
    X, y = D.make_moons(40, rng=np.random.default_rng(0))
    model = training.mlp([2, 5, 1], "tanh", generator=torch.Generator().manual_seed(0))
    copy = training.mlp([2, 5, 1], "tanh", generator=torch.Generator().manual_seed(0))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        copy(torch.from_numpy(X)), torch.from_numpy(y).reshape(-1, 1))
    grads = torch.autograd.grad(loss, list(copy.parameters()))
    losses = training.gradient_descent(model, X, y, steps=1, lr=0.3)
    assert losses[0] == pytest.approx(loss.item(), rel=1e-12)
    for p, q, g in zip(model.parameters(), copy.parameters(), grads, strict=True):
        torch.testing.assert_close(p.detach(), (q - 0.3 * g).detach(), rtol=1e-12, atol=1e-14)


def test_gradient_descent_lowers_the_loss_and_stops_on_divergence():
    X, y = D.make_moons(100, rng=np.random.default_rng(1))
    model = training.mlp([2, 8, 1], "tanh", generator=torch.Generator().manual_seed(1))
    losses = training.gradient_descent(model, X, y, steps=300, lr=0.5)
    assert losses[-1] < 0.6 * losses[0]
    # a huge learning rate on MSE overflows: the history stops with NaN, no exception
    Xr = np.random.default_rng(2).normal(size=(64, 2))
    yr = Xr[:, :1] * 10
    model = training.mlp([2, 8, 1], "relu", generator=torch.Generator().manual_seed(2))
    losses = training.gradient_descent(model, Xr, yr, steps=200, lr=50.0, loss="mse")
    assert np.isnan(losses[-1]) and np.isfinite(losses[0])
    first_nan = np.argmax(np.isnan(losses))
    assert np.all(np.isnan(losses[first_nan:]))


def test_train_classifier_accuracy_and_decision_grid():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0.0, 1.0, 0.0, 1.0])  # separable by x1 > 0.5
    run = training.train_classifier(X, y, [], steps=500, lr=1.0, seed=0)
    assert run.accuracy == 1.0 and run.losses.shape == (500,)
    g1, g2, p = training.decision_grid(run.model, X, n=21, margin=0.5)
    assert g1.shape == g2.shape == p.shape == (21, 21)
    assert g1.min() == -0.5 and g1.max() == 1.5
    assert np.mean((p > 0.5) == (g1 > 0.5)) > 0.9  # the learned boundary is near x1 = 0.5
    assert training.accuracy(run.model, X, 1 - y) == 0.0


def test_fit_curve_linear_is_least_squares():
    x, pred, mse = training.fit_curve(0, seed=0)
    slope, intercept = np.polyfit(x, training.curve_target(x), 1)
    np.testing.assert_allclose(pred, slope * x + intercept, atol=1e-3)
    assert mse == pytest.approx(np.mean((pred - training.curve_target(x)) ** 2))


def test_dead_units_and_damaged_layer():
    model, X, y = training.damaged_layer("relu", seed=0, bias_shift=-100.0)
    assert X.shape == (512, 2) and y.shape == (512, 1)
    np.testing.assert_allclose(y[:, 0], np.sin(X[:, 0]) + 0.5 * X[:, 1])
    assert training.dead_units(model, X).all()  # a bias of about -100 is below every w.x here
    model, X2, _ = training.damaged_layer("leaky_relu", seed=0, bias_shift=0.0)
    np.testing.assert_array_equal(X, X2)  # same seed, same data for both activations
    z = model[0](torch.from_numpy(X)).detach().numpy()
    np.testing.assert_array_equal(training.dead_units(model, X), np.all(z <= 0, axis=0))


def test_dead_run_counts():
    run = training.damaged_layer_run("relu", seed=1, steps=20)
    assert run.losses.shape == (20,) and not run.diverged
    assert run.revived == 0  # ReLU: dead units get no gradient
    assert not run.moved[run.dead_at_start].any() and run.moved[~run.dead_at_start].any()
    assert run.dead_fraction == pytest.approx(run.dead_at_end.mean())
    sweep = training.dead_after_training(0.05, seed=0, steps=5, width=16, n=32)
    assert sweep.dead_at_start.shape == (16,)


def test_default_init_dead_matches_its_definition():
    dead, b, reach = training.default_init_dead(seed=3, width=256, n=100)
    np.testing.assert_array_equal(dead, b + reach <= 0)
    assert dead.shape == b.shape == reach.shape == (256,)


def test_sigmoid_stack_gradient_is_the_jacobian_norm():
    # Rebuild the same stack from the same generator and differentiate it with autograd.
    depth, width, std, seed = 3, 20, 1.5, 7
    g = torch.Generator().manual_seed(seed)
    h0 = torch.randn(width, generator=g, dtype=torch.float64)
    Ws = [std * torch.randn(width, width, generator=g, dtype=torch.float64) for _ in range(depth)]

    def f(h):
        for W in Ws:
            h = torch.sigmoid(W @ h)
        return h

    J = torch.autograd.functional.jacobian(f, h0)
    out = training.sigmoid_stack_gradient(depth, width, std, seed=seed)
    assert out["norm"] == pytest.approx(torch.linalg.matrix_norm(J, ord=2).item(), rel=1e-10)
    assert out["norm"] <= out["bound"]


def test_compare_activations_same_data_different_activation():
    runs = training.compare_activations(["tanh", "relu"], seed=0, depth=1, width=4, steps=3, lr=0.1)
    assert set(runs) == {"tanh", "relu"}
    assert runs["tanh"].losses[0] != runs["relu"].losses[0]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: D.make_moons(1, rng=np.random.default_rng(0)), ValueError, "n must be >= 2"),
        (lambda: D.make_moons(10, rng=0), TypeError, "rng"),
        (lambda: D.make_xor(5, noise=-1, rng=np.random.default_rng(0)), ValueError, "noise"),
        (lambda: training.mlp([2], generator=torch.Generator()), ValueError, "sizes needs at least 2 widths"),
        (lambda: training.mlp([2, 3, 1], "softmax", generator=torch.Generator()), ValueError, "unknown activation"),
        (lambda: training.mlp([2, 3, 1], generator=0), TypeError, "generator must be a torch.Generator"),
        (lambda: training.gradient_descent("model", np.zeros((2, 2)), [0, 1], steps=1, lr=0.1), TypeError,
         "model must be a torch.nn.Module"),
        (lambda: training.gradient_descent(torch.nn.Linear(2, 1), np.zeros((2, 2)), [0, 2], steps=1, lr=0.1),
         ValueError, "only 0 and 1"),
        (lambda: training.gradient_descent(torch.nn.Linear(2, 1), np.zeros((2, 2)), [0], steps=1, lr=0.1),
         ValueError, "X has 2 samples but y has 1"),
        (lambda: training.dead_after_training(-0.1, seed=0), ValueError, "lr must be > 0"),
        (lambda: training.damaged_layer("tanh", seed=0), ValueError, "unknown activation"),
        (lambda: training.fit_curve(-1, seed=0), ValueError, "width must be >= 0"),
        (lambda: training.sigmoid_stack_gradient(seed=1.5), TypeError, "seed must be an integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- chapter 05's training runs (moved from coursekit.experiments) -------------------------


def test_make_moons_standardized_is_the_raw_set_standardized():
    """One maker for chapters 02 and 05: standardize=True gives the raw points, drawn from the
    same rng, with each column shifted and scaled to mean 0 and std 1; the labels are the same."""
    for seed in range(5):
        for n, noise in [(2, 0.0), (7, 0.15), (200, 0.15), (401, 0.2)]:
            X, y = D.make_moons(n, noise, rng=np.random.default_rng(seed))
            Xs, ys = D.make_moons(n, noise, rng=np.random.default_rng(seed), standardize=True)
            np.testing.assert_array_equal(ys, y)
            np.testing.assert_allclose(Xs, (X - X.mean(axis=0)) / X.std(axis=0), rtol=0, atol=0)
            np.testing.assert_allclose(Xs.mean(axis=0), 0, atol=1e-12)
            np.testing.assert_allclose(Xs.std(axis=0), 1, rtol=1e-12)
    X, y = D.make_moons(200, rng=np.random.default_rng(9), standardize=True)
    assert X.shape == (200, 2) and y.shape == (200,) and y.sum() == 100
    with pytest.raises(TypeError, match="standardize must be"):
        D.make_moons(10, rng=np.random.default_rng(0), standardize="yes")


def test_training_zero_and_constant_init_keep_units_identical():
    X, y = D.make_moons(200, rng=np.random.default_rng(10), standardize=True)
    zero = training.train(X, y, init="zeros", activation="tanh", epochs=100, rng=np.random.default_rng(0))
    assert max(zero.row_spread) == 0.0
    np.testing.assert_allclose(zero.losses, math.log(2), rtol=1e-12)  # tanh(0) = 0: nothing ever moves

    def half(shape, rng):
        return np.full(shape, 0.5)

    const = training.train(X, y, init=half, activation="tanh", epochs=100, rng=np.random.default_rng(0))
    assert max(const.row_spread) <= 1e-12  # learns, but as if each layer had one unit
    assert const.losses[-1] < const.losses[0]
    rand = training.train(X, y, init="xavier_normal", activation="tanh", epochs=300, rng=np.random.default_rng(0))
    assert min(rand.row_spread) > 0.1
    assert rand.losses[-1] < 0.5 * rand.losses[0] and rand.accuracy > 0.9


def test_training_is_seeded():
    X, y = D.make_moons(100, rng=np.random.default_rng(11), standardize=True)
    a = training.train(X, y, epochs=20, rng=np.random.default_rng(1))
    b = training.train(X, y, epochs=20, rng=np.random.default_rng(1))
    assert a.losses == b.losses and len(a.losses) == 21


def test_train_deep_start_accuracy_is_the_accuracy_before_any_step():
    X, y = D.make_moons(60, rng=np.random.default_rng(0), standardize=True)
    r0 = training.train_deep(X, y, depth=3, width=8, steps=0, seed=1)
    r5 = training.train_deep(X, y, depth=3, width=8, steps=5, seed=1)
    assert r0.start_accuracy == r0.accuracy == r5.start_accuracy
    assert 0 <= r5.accuracy <= 1 and r5.losses[0] == r0.losses[0]


def test_train_deep_matches_a_torch_module_and_reports_update_ratios():
    X, y = D.make_moons(100, rng=np.random.default_rng(1), standardize=True)
    r = training.train_deep(X, y, depth=3, width=8, init="kaiming_normal", steps=2, lr=0.1, seed=0)
    # the same network as nn.Sequential, weights from the same draw
    rng = np.random.default_rng(0)
    arrays = I.make_weights(3, 8, "kaiming_normal", rng=rng, n_inputs=2) + I.make_weights(1, 1, "kaiming_normal",
                                                                                             rng=rng, n_inputs=8)
    layers = []
    for k, W in enumerate(arrays):
        lin = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W))
            lin.bias.zero_()
        layers += [lin] + ([torch.nn.ReLU()] if k < 3 else [])
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    losses = []
    for step in range(3):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(Xt)[:, 0], yt)
        losses.append(loss.item())
        if step < 2:
            opt.zero_grad()
            loss.backward()
            if step == 0:
                grads = [m.weight.grad.std(correction=0).item() for m in net if isinstance(m, torch.nn.Linear)]
                ratio0 = [0.1 * m.weight.grad.std().item() / m.weight.std().item()
                          for m in net if isinstance(m, torch.nn.Linear)]
            opt.step()
    np.testing.assert_allclose(r.losses, losses, rtol=1e-5)
    np.testing.assert_allclose(r.grad_w_std, grads, rtol=1e-5)
    np.testing.assert_allclose(r.update_ratio[0], ratio0, rtol=1e-5)
    assert r.update_ratio.shape == (2, 4) and len(r.act_std) == 3 and r.diverged_at is None


def test_train_and_train_deep_name_bad_input():
    X, y = D.make_moons(20, rng=np.random.default_rng(0), standardize=True)
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        training.train(X, y * 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="one label per row"):
        training.train(X, y[:5], rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="hidden must be a list of layer sizes"):
        training.train(X, y, hidden=16, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="batchnorm must be a list"):
        training.train_deep(X, y, batchnorm=3)
    with pytest.raises(ValueError, match="batchnorm must list hidden layers 1 … 15"):
        training.train_deep(X, y, batchnorm=[16])
