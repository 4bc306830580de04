"""coursekit.dense: the numpy forward pass against torch.nn.Linear, parameter counts."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from coursekit.dense import count_params, dense_forward, layer_names, layer_params


def random_sizes(rng, depth):
    return [int(n) for n in rng.integers(1, 10, size=depth + 1)]


def torch_stack(sizes, bias=True, hidden=None, dtype=torch.float64):
    modules = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        modules.append(nn.Linear(a, b, bias=bias, dtype=dtype))
        if hidden is not None and k < len(sizes) - 2:
            modules.append(hidden())
    return nn.Sequential(*modules)


def weights_of(model):
    layers = [m for m in model if isinstance(m, nn.Linear)]
    Ws = [m.weight.detach().numpy() for m in layers]
    bs = [None if m.bias is None else m.bias.detach().numpy() for m in layers]
    return Ws, bs


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_forward_matches_torch_linear(rng, depth, bias):
    torch.manual_seed(depth)
    sizes = random_sizes(rng, depth)
    model = torch_stack(sizes, bias=bias, hidden=nn.Tanh)
    Ws, bs = weights_of(model)
    X = rng.normal(size=(7, sizes[0]))
    expected = model(torch.from_numpy(X)).detach().numpy()
    got = dense_forward(X, Ws, bs, activation=np.tanh)
    assert got.shape == (7, sizes[-1])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_weights_are_out_by_in_like_torch():
    layer = nn.Linear(3, 5, dtype=torch.float64)
    assert tuple(layer.weight.shape) == (5, 3)
    x = torch.randn(4, 3, dtype=torch.float64)
    out = dense_forward(x.numpy(), [layer.weight.detach().numpy()], [layer.bias.detach().numpy()])
    np.testing.assert_allclose(out, (x @ layer.weight.T + layer.bias).detach().numpy(), rtol=1e-12)


def test_single_sample_and_return_all(rng):
    Ws = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    bs = [rng.normal(size=4), None]
    x = rng.normal(size=3)
    layers = dense_forward(x, Ws, bs, activation=np.tanh, return_all=True)
    assert [h.shape for h in layers] == [(3,), (4,), (2,)]
    np.testing.assert_array_equal(layers[0], x)
    # independent: the per-sample formula h = f(W x + b)
    h1 = np.tanh(Ws[0] @ x + bs[0])
    np.testing.assert_allclose(layers[1], h1, rtol=1e-12)
    np.testing.assert_allclose(layers[2], Ws[1] @ h1, rtol=1e-12)
    batch = dense_forward(x[None, :], Ws, bs, activation=np.tanh)
    np.testing.assert_allclose(batch[0], layers[-1], rtol=1e-12)


def test_output_activation_only_on_last_layer(rng):
    Ws = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    X = rng.normal(size=(5, 3))
    plain = dense_forward(X, Ws)
    np.testing.assert_allclose(plain, X @ Ws[0].T @ Ws[1].T, rtol=1e-12)
    out = dense_forward(X, Ws, output_activation=np.exp)
    np.testing.assert_allclose(out, np.exp(plain), rtol=1e-12)


def test_float32_kept(rng):
    Ws = [rng.normal(size=(4, 3)).astype(np.float32)]
    out = dense_forward(rng.normal(size=(2, 3)).astype(np.float32), Ws)
    assert out.dtype == np.float32


@pytest.mark.parametrize("bias", [True, False])
def test_param_counts_match_torch_numel(rng, bias):
    for depth in range(1, 7):
        sizes = [int(n) for n in rng.integers(1, 300, size=depth + 1)]
        model = torch_stack(sizes, bias=bias, dtype=torch.float32)
        assert count_params(sizes, bias=bias) == sum(p.numel() for p in model.parameters())
    for n_in, n_out in [(1, 1), (3, 4), (784, 256)]:
        layer = nn.Linear(n_in, n_out, bias=bias)
        assert layer_params(n_in, n_out, bias=bias) == sum(p.numel() for p in layer.parameters())


def test_param_count_examples():
    # The input layer holds no parameters: 3*4 + 4 + 4*2 + 2 = 26.
    assert count_params([3, 4, 2]) == 26
    assert count_params([3, 4, 2], bias=False) == 20
    assert count_params([784, 256, 128, 10]) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


def test_layer_names():
    assert layer_names(2) == ["input", "output"]
    assert layer_names(4) == ["input", "hidden 1", "hidden 2", "output"]


def test_errors_name_the_argument(rng):
    W1, W2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 5))
    with pytest.raises(ValueError, match=r"weights\[0\] has shape \(4, 3\).*weights\[1\] has shape \(2, 5\)"):
        dense_forward(rng.normal(size=(1, 3)), [W1, W2])
    with pytest.raises(ValueError, match=r"X has 4 features.*expects 3"):
        dense_forward(rng.normal(size=(2, 4)), [W1])
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape \(4,\)"):
        dense_forward(rng.normal(size=(2, 3)), [W1], [np.zeros(3)])
    with pytest.raises(ValueError, match="one entry per layer"):
        dense_forward(rng.normal(size=(2, 3)), [W1], [None, None])
    with pytest.raises(TypeError, match="weights must be a non-empty list"):
        dense_forward(rng.normal(size=(2, 3)), [])
    with pytest.raises(TypeError, match="weights must be a non-empty list"):
        dense_forward(rng.normal(size=(2, 3)), W1)
    with pytest.raises(ValueError, match=r"weights\[0\] must be 2-D"):
        dense_forward(rng.normal(size=(2, 3)), [np.ones(3)])
    with pytest.raises(TypeError, match="activation must be a function"):
        dense_forward(rng.normal(size=(2, 3)), [W1], activation="relu")
    with pytest.raises(ValueError, match="X must be 1-D or 2-D"):
        dense_forward(np.ones((2, 2, 3)), [W1])
    with pytest.raises(ValueError, match="at least 2 widths"):
        count_params([3])
    with pytest.raises(TypeError, match=r"layer_sizes\[1\] must be an integer"):
        count_params([3, 2.5])
    with pytest.raises(ValueError, match="n_in must be >= 1"):
        layer_params(0, 3)
    with pytest.raises(TypeError, match="layer_sizes must be a list"):
        count_params("3-4-2")
