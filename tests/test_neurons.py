"""Chapter 01 helpers: step, neuron, gates, the perceptron rule."""

import numpy as np
import pytest
import torch

from coursekit.neurons import (
    GATE_INPUTS,
    GATE_OUTPUTS,
    gate,
    neuron,
    step,
    weighted_sum,
    xor_two_layer,
)
from coursekit.training import train_perceptron

# The truth tables written out from the definitions of the gates, independently of coursekit.
TRUTH = {
    "AND": lambda a, b: a and b,
    "OR": lambda a, b: a or b,
    "NAND": lambda a, b: not (a and b),
    "XOR": lambda a, b: a != b,
}


def test_step_matches_torch_heaviside_with_value_0_at_0(rng):
    z = np.concatenate([rng.normal(size=1000), [0.0, -0.0, 1e-300, -1e-300]])
    expected = torch.heaviside(torch.from_numpy(z), torch.tensor(0.0, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(step(z), expected)
    assert step(np.float32([1.0])).dtype == np.float32


def test_weighted_sum_matches_nn_linear(rng):
    X = rng.normal(size=(50, 7))
    w = rng.normal(size=7)
    b = float(rng.normal())
    layer = torch.nn.Linear(7, 1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w)[None, :])
        layer.bias.fill_(b)
    expected = layer(torch.from_numpy(X)).detach().numpy()[:, 0]
    np.testing.assert_allclose(weighted_sum(X, w, b), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weighted_sum(X[3], w, b), expected[3], rtol=1e-12)


def test_neuron_applies_the_activation():
    x = np.array([[1.0, 2.0]])
    assert neuron(x, [1.0, 1.0], -2.5)[0] == 1.0  # z = 0.5 > 0
    assert neuron(x, [1.0, 1.0], -3.0)[0] == 0.0  # z = 0 -> step gives 0
    np.testing.assert_allclose(neuron(x, [1.0, 1.0], 0.0, activation=np.tanh), np.tanh([3.0]))


@pytest.mark.parametrize("name", list(TRUTH))
def test_gates_follow_their_truth_tables(name):
    expected = [float(TRUTH[name](bool(a), bool(b))) for a, b in GATE_INPUTS]
    np.testing.assert_array_equal(gate(name), expected)
    np.testing.assert_array_equal(GATE_OUTPUTS[name], expected)


def test_xor_two_layer_is_xor():
    np.testing.assert_array_equal(xor_two_layer(GATE_INPUTS), [0.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("name", ["AND", "OR", "NAND"])
def test_perceptron_rule_converges_on_separable_gates(name):
    run = train_perceptron(GATE_INPUTS, GATE_OUTPUTS[name], lr=0.1, epochs=50)
    assert run.converged
    assert run.errors[-1] == 0
    np.testing.assert_array_equal(step(GATE_INPUTS @ run.w + run.b), GATE_OUTPUTS[name])


def test_perceptron_rule_never_converges_on_xor():
    run = train_perceptron(GATE_INPUTS, GATE_OUTPUTS["XOR"], lr=0.1, epochs=500)
    assert not run.converged
    assert min(run.errors) >= 1  # no line separates XOR: at least one point is always wrong


def test_perceptron_converges_on_random_separable_data(rng):
    # The convergence theorem: with a margin, the rule finds a separating line.
    for _ in range(5):
        true_w = rng.normal(size=3)
        X = rng.normal(size=(60, 3))
        margin = X @ true_w
        X = X[np.abs(margin) > 0.3]
        y = (X @ true_w > 0).astype(float)
        run = train_perceptron(X, y, lr=0.5, epochs=2000)
        assert run.converged, run.errors[-5:]


def test_one_update_follows_the_rule_by_hand():
    # one sample (1, 1) with target 1, starting at zero: y_hat = step(0) = 0, so w += lr * x, b += lr
    run = train_perceptron([[1.0, 1.0]], [1.0], lr=0.25, epochs=1)
    np.testing.assert_allclose(run.w, [0.25, 0.25])
    assert run.b == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: weighted_sum([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "x has 2 inputs .* w has 3 weights"),
        (lambda: weighted_sum("abc", [1.0]), TypeError, "x must contain real numbers"),
        (lambda: weighted_sum(np.zeros((2, 2, 2)), [1.0, 2.0]), ValueError, "x must be 1-D or 2-D"),
        (lambda: gate("XNOR"), ValueError, "unknown gate 'XNOR'; valid choices: 'AND', 'OR', 'NAND', 'XOR'"),
        (lambda: neuron([1.0], [1.0], 0.0, activation="relu"), TypeError, "activation must be a function"),
        (lambda: train_perceptron(GATE_INPUTS, [0, 1, 2, 1]), ValueError, "y must contain only 0 and 1"),
        (lambda: train_perceptron(GATE_INPUTS, [0, 1, 1]), ValueError, "X has 4 samples but y has 3"),
        (lambda: train_perceptron(GATE_INPUTS, [0, 0, 0, 1], lr=-1), ValueError, "lr must be > 0"),
        (lambda: train_perceptron(GATE_INPUTS, [0, 0, 0, 1], epochs=2.5), TypeError, "epochs must be an integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
