"""Extending the course in one place (issue #27): an activation or an init scheme registered once
is trained with, run through chapter 05's experiments and drawn, with no other edit.

The dummy activation is softsign, f(x) = x / (1 + |x|), f'(x) = 1 / (1 + |x|)², torch's
F.softsign; it is registered with no ``module``, so networks get the registry's default module.
The dummy scheme is He-uniform in fan_out mode for ReLU, U(−a, a) with a = √(6/fan_out), which
torch writes ``kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")``.
Both are registered once per module and removed again (``REGISTRY.pop`` / ``SCHEMES.pop``).
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
from coursekit import init as I
from coursekit import plotting as P
from coursekit import training as T
from coursekit.data import make_moons


@pytest.fixture(scope="module")
def softsign_name():
    name = "softsign"
    A.register(softsign_spec(name))
    yield name
    A.REGISTRY.pop(name)
    assert name not in A.NAMES and name not in T.ACTIVATIONS  # every derived table forgets it with the entry


def he_fan_out(shape, *, rng=None, dtype=np.float64):
    return I.kaiming_uniform(shape, mode="fan_out", nonlinearity="relu", rng=rng, dtype=dtype)


@pytest.fixture(scope="module")
def scheme_name():
    name = "he_uniform_fan_out"
    I.register_scheme(I.Scheme(name, he_fan_out, 'kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")',
                               "U(−a, a), a = √(6/fan_out)"))
    yield name
    I.SCHEMES.pop(name)
    assert name not in I.INITIALIZERS and name not in I.scheme_table()


# --------------------------------------------------------------------------- the activation


def test_networks_are_built_and_trained_with_a_registered_activation(softsign_name):
    assert softsign_name in T.ACTIVATIONS
    model = T.mlp([2, 6, 6, 1], softsign_name, generator=torch.Generator().manual_seed(0))
    hidden = model[1]  # Linear, softsign, Linear, softsign, Linear
    assert isinstance(hidden, torch.nn.Module) and "softsign" in repr(hidden)
    t = torch.linspace(-5, 5, 41, dtype=torch.float64)
    torch.testing.assert_close(hidden(t), F.softsign(t), rtol=0, atol=0)
    X, y = make_moons(120, rng=np.random.default_rng(0))
    run = T.train_classifier(X, y, [8, 8], activation=softsign_name, steps=300, lr=0.5, seed=0)
    assert run.losses[-1] < 0.7 * run.losses[0] and run.accuracy > 0.8
    runs = T.compare_activations(["tanh", softsign_name], seed=0, depth=1, width=4, steps=3, lr=0.1, n=40)
    assert set(runs) == {"tanh", softsign_name}
    _, pred, mse = T.fit_curve(8, seed=0, steps=20, n=30, activation=softsign_name)
    assert pred.shape == (30,) and math.isfinite(mse)


def test_chapter_05_training_runs_take_a_registered_activation(softsign_name):
    X, y = make_moons(80, rng=np.random.default_rng(1), standardize=True)
    numpy_run = T.train(X, y, activation=softsign_name, hidden=(8,), epochs=200, rng=np.random.default_rng(0))
    assert numpy_run.losses[-1] < numpy_run.losses[0]
    assert [W.shape for W in numpy_run.weights] == [(8, 2), (1, 8)]
    deep = T.train_deep(X, y, depth=3, width=8, activation=softsign_name, init="xavier_normal", steps=5, lr=0.05)
    assert len(deep.losses) == 6 and all(math.isfinite(v) for v in deep.losses) and deep.diverged_at is None


def test_the_experiments_and_the_theory_take_a_registered_activation(softsign_name):
    r = E.forward_experiment(depth=4, width=100, n_samples=1000, activation=softsign_name, init=0.2, seed=3)
    for z, h in zip(r.pre_activations, r.activations, strict=True):
        np.testing.assert_allclose(h, softsign(z), rtol=1e-15)
    line = E.format_stats(r.stats, softsign_name)[0]
    assert line.startswith(f"layer 1 ({softsign_name}): mean ")
    # mean field: Var(z_l) = width · σ_w² · E[h_{l-1}²]; the simulated std of each layer is within
    # 5 % of the prediction (width 100, 10⁵ values per layer; checked over three seeds)
    theory = E.variance_recursion(depth=4, width=100, weight_std=0.2, activation=softsign_name)
    for seed in (3, 4, 5):
        sim = E.forward_experiment(depth=4, width=100, n_samples=1000, activation=softsign_name, init=0.2, seed=seed)
        for s, want in zip(sim.stats, theory["h_std"], strict=True):
            assert s.std == pytest.approx(want, rel=0.05)
    # E[f'(z)²] for z ~ N(0, 1) against a Monte-Carlo mean over 10⁶ draws (f'² <= 1: std error < 1e-3)
    z = np.random.default_rng(0).standard_normal(1_000_000)
    assert E.slope_second_moment(softsign_name) == pytest.approx(np.mean(softsign_grad(z) ** 2), abs=3e-3)
    assert softsign_name not in A.SLOPES  # not piecewise linear: the theory integrates numerically
    back = E.backward_experiment(depth=3, width=50, n_samples=200, activation=softsign_name, init=0.2, seed=0)
    assert len(back.grad_w_std) == 3 and all(g > 0 for g in back.grad_w_std)


def test_a_registered_activation_is_drawn_and_titled(softsign_name):
    ax_f, ax_d = P.plot_activation(softsign_name)
    assert ax_f.get_title() == "Softsign" and ax_d.get_title() == "Softsign: derivative"
    assert len(ax_d.lines) == 2  # analytic and autograd
    plt.close("all")


# --------------------------------------------------------------------------- the init scheme


def test_a_registered_scheme_is_in_every_table(scheme_name):
    assert I.get(scheme_name) is he_fan_out and I.INITIALIZERS[scheme_name] is he_fan_out
    assert I.TORCH_CALLS[scheme_name].startswith("kaiming_uniform_(")
    assert scheme_name in I.scheme_table()
    assert not I.SCHEMES[scheme_name].in_explorer  # the explorer lists a scheme only when asked to
    w = I.initialize(scheme_name, (400, 300), rng=np.random.default_rng(0))
    bound = math.sqrt(6 / 400)  # fan_out = 400
    assert np.abs(w).max() <= bound and w.var() == pytest.approx(bound**2 / 3, rel=0.03)
    # torch's call, as the table writes it, draws from the same U(−a, a)
    t = torch.empty(400, 300)
    torch.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")
    assert t.abs().max().item() <= bound and t.var().item() == pytest.approx(bound**2 / 3, rel=0.03)


def test_the_experiments_and_training_take_a_registered_scheme(scheme_name):
    Ws = I.make_weights(3, 20, scheme_name, rng=np.random.default_rng(0), n_inputs=5)
    assert [W.shape for W in Ws] == [(20, 5), (20, 20), (20, 20)]
    np.testing.assert_array_equal(E.make_weights(3, 20, scheme_name, rng=np.random.default_rng(0), n_inputs=5)[2],
                                  Ws[2])
    r = E.forward_experiment(depth=3, width=50, n_samples=100, activation="relu", init=scheme_name, seed=0)
    assert len(r.stats) == 3 and all(s.std > 0 for s in r.stats)
    X, y = make_moons(60, rng=np.random.default_rng(2), standardize=True)
    run = T.train(X, y, init=scheme_name, activation="relu", epochs=5, rng=np.random.default_rng(0))
    assert len(run.losses) == 6
    deep = T.train_deep(X, y, depth=2, width=8, init=scheme_name, steps=3, seed=0)
    assert len(deep.losses) == 4 and deep.diverged_at is None
