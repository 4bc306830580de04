"""coursekit.collapse: collapsed stacks against the original models, the formula, the rank bound."""

from functools import reduce

import numpy as np
import pytest
import torch
import torch.nn as nn

from coursekit.collapse import collapse_linear, collapse_weights, linear_layers, rank_bound
from coursekit.dense import dense_forward

DTYPES = [torch.float32, torch.float64]


def random_stack(gen_np, depth, dtype, bias_mode):
    """A stack of nn.Linear with random widths; bias_mode 'all', 'none' or 'mixed'."""
    sizes = [int(n) for n in gen_np.integers(1, 13, size=depth + 1)]
    modules = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        bias = {"all": True, "none": False, "mixed": bool(gen_np.integers(2))}[bias_mode]
        modules.append(nn.Linear(a, b, bias=bias, dtype=dtype))
    return nn.Sequential(*modules), sizes


def tolerance(dtype, y):
    # Both sides round in their own order: allow a few hundred ulps of the output's scale.
    eps = torch.finfo(dtype).eps
    return 500 * eps * (1.0 + float(y.abs().max()))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias_mode", ["all", "none", "mixed"])
def test_collapse_matches_model_on_random_stacks(rng, dtype, bias_mode):
    torch.manual_seed(1)
    for depth in range(1, 9):
        for _ in range(4):
            model, sizes = random_stack(rng, depth, dtype, bias_mode)
            one = collapse_linear(model)
            assert isinstance(one, nn.Linear)
            assert (one.in_features, one.out_features) == (sizes[0], sizes[-1])
            assert one.weight.dtype == dtype
            has_bias = any(m.bias is not None for m in model)
            assert (one.bias is not None) == has_bias
            x = torch.randn(32, sizes[0], dtype=dtype)
            with torch.no_grad():
                y, y1 = model(x), one(x)
            err = float((y - y1).abs().max())
            assert err <= tolerance(dtype, y), (depth, sizes, err)


def test_collapse_equals_the_formula(rng):
    """W = W_L...W_1 and b = sum_k W_L...W_{k+1} b_k, computed here term by term."""
    torch.manual_seed(2)
    for depth in range(1, 7):
        model, sizes = random_stack(rng, depth, torch.float64, "all")
        Ws = [m.weight.detach() for m in model]
        bs = [m.bias.detach() for m in model]
        W_expected = reduce(lambda acc, Wk: Wk @ acc, Ws)
        b_expected = torch.zeros(sizes[-1], dtype=torch.float64)
        for k in range(depth):
            after = reduce(lambda acc, Wj: Wj @ acc, Ws[k + 1 :], torch.eye(sizes[k + 1], dtype=torch.float64))
            b_expected += after @ bs[k]
        one = collapse_linear(model)
        torch.testing.assert_close(one.weight.detach(), W_expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(one.bias.detach(), b_expected, rtol=1e-12, atol=1e-12)


def test_numpy_version_matches_torch_version(rng):
    torch.manual_seed(3)
    for depth in range(1, 9):
        model, sizes = random_stack(rng, depth, torch.float64, "mixed")
        Ws = [m.weight.detach().numpy() for m in model]
        bs = [None if m.bias is None else m.bias.detach().numpy() for m in model]
        W, b = collapse_weights(Ws, bs)
        one = collapse_linear(model)
        np.testing.assert_allclose(W, one.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
        expected_b = np.zeros(sizes[-1]) if one.bias is None else one.bias.detach().numpy()
        np.testing.assert_allclose(b, expected_b, rtol=1e-12, atol=1e-14)
        # and the collapsed numpy layer reproduces the layer-by-layer numpy forward pass
        X = rng.normal(size=(10, sizes[0]))
        np.testing.assert_allclose(X @ W.T + b, dense_forward(X, Ws, bs), rtol=1e-10, atol=1e-12)


def test_collapse_weights_no_biases_and_dtype(rng):
    Ws = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)]
    W, b = collapse_weights(Ws)
    assert W.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_array_equal(b, np.zeros(2, dtype=np.float32))
    np.testing.assert_allclose(W, Ws[1] @ Ws[0], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rank_bound_with_a_bottleneck(rng, dtype):
    torch.manual_seed(4)
    for k in range(1, 6):
        for depth_before, depth_after in [(1, 1), (2, 3), (3, 1)]:
            wide = 12
            sizes = [wide] * depth_before + [k] + [wide] * depth_after
            model = nn.Sequential(
                *[nn.Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
            )
            assert rank_bound(model) == k
            W = collapse_linear(model).weight.detach()
            assert tuple(W.shape) == (wide, wide)
            # Singular values past the k-th are rounding noise of the stored dtype: judge rank
            # relative to the largest one, with ~1000 ulps of room.
            rtol = 1000 * torch.finfo(dtype).eps
            s = torch.linalg.svdvals(W.double())
            assert float(s[k:].max()) <= rtol * float(s[0])
            # Random layers reach the bound (generic full rank); they can never exceed it.
            assert int(torch.linalg.matrix_rank(W, rtol=rtol)) == k


def test_rank_bound_is_min_width():
    model = nn.Sequential(nn.Linear(7, 9), nn.Linear(9, 3), nn.Linear(3, 8))
    assert rank_bound(model) == 3
    assert rank_bound(nn.Sequential(nn.Linear(2, 9), nn.Linear(9, 8))) == 2


def test_nested_sequentials_and_identity(rng):
    torch.manual_seed(5)
    model = nn.Sequential(
        nn.Linear(4, 6),
        nn.Identity(),
        nn.Sequential(nn.Linear(6, 3, bias=False), nn.Sequential(nn.Identity(), nn.Linear(3, 5))),
    )
    assert len(linear_layers(model)) == 3
    one = collapse_linear(model)
    x = torch.randn(8, 4)
    with torch.no_grad():
        torch.testing.assert_close(one(x), model(x), rtol=1e-5, atol=1e-5)


def test_result_is_a_new_independent_layer():
    model = nn.Sequential(nn.Linear(3, 2))
    one = collapse_linear(model)
    assert one is not model[0]
    torch.testing.assert_close(one.weight, model[0].weight)
    with torch.no_grad():
        one.weight.zero_()
    assert model[0].weight.abs().sum() > 0


def test_nonlinearity_is_refused_with_its_position():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"module 2 \(ReLU\) cannot be collapsed.*nonlinearity between layers"):
        collapse_linear(model)
    nested = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Linear(4, 4), nn.Tanh()))
    with pytest.raises(ValueError, match=r"module 1\.1 \(Tanh\)"):
        collapse_linear(nested)
    with pytest.raises(ValueError, match=r"module 1 \(Dropout\)"):
        collapse_linear(nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)))


def test_other_errors():
    with pytest.raises(ValueError, match=r"module 0 \(Linear\(3, 4\)\) outputs 4 .*module 1 \(Linear\(5, 2\)\) expects 5"):
        collapse_linear(nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)))
    with pytest.raises(TypeError, match="model must be a torch.nn.Sequential"):
        collapse_linear(nn.Linear(3, 4))
    with pytest.raises(TypeError, match="model must be a torch.nn.Sequential"):
        collapse_linear([nn.Linear(3, 4)])
    with pytest.raises(ValueError, match="empty nn.Sequential"):
        collapse_linear(nn.Sequential())
    with pytest.raises(ValueError, match="only nn.Identity"):
        collapse_linear(nn.Sequential(nn.Identity()))
    with pytest.raises(ValueError, match=r"dtype torch.float64 .*model.double\(\)"):
        collapse_linear(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2, dtype=torch.float64)))
    with pytest.raises(ValueError, match=r"weights\[0\] has shape \(4, 3\).*weights\[1\] has shape \(2, 5\)"):
        collapse_weights([np.ones((4, 3)), np.ones((2, 5))])
    with pytest.raises(ValueError, match="one entry per layer"):
        collapse_weights([np.ones((4, 3))], [None, None])


# --------------------------------------------------------------------------- reused modules, custom forwards, hooks, complex


def assert_same_function(model, one, n_in, dtype=torch.float64):
    x = torch.randn(64, n_in, dtype=dtype)
    with torch.no_grad():
        y, y1 = model(x), one(x)
    assert float((y - y1).abs().max()) <= tolerance(dtype, y), float((y - y1).abs().max())


def test_a_module_used_twice_is_folded_twice():
    torch.manual_seed(7)
    lin, m = nn.Linear(4, 4, dtype=torch.float64), nn.Linear(4, 4, dtype=torch.float64)
    inner = nn.Sequential(nn.Linear(4, 4, dtype=torch.float64), lin)
    for model, n_layers in [(nn.Sequential(*[lin] * 5), 5), (nn.Sequential(lin, lin), 2), (nn.Sequential(lin, m, lin), 3),
                            (nn.Sequential(inner, inner), 4), (nn.Sequential(inner, lin, nn.Identity(), inner), 5)]:
        assert len(linear_layers(model)) == n_layers
        one = collapse_linear(model)
        assert_same_function(model, one, 4)
    one = collapse_linear(nn.Sequential(lin, lin))  # the formula: weight W², bias W b + b
    with torch.no_grad():
        torch.testing.assert_close(one.weight, lin.weight @ lin.weight)
        torch.testing.assert_close(one.bias, lin.weight @ lin.bias + lin.bias)
    assert rank_bound(nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 4), nn.Linear(4, 2))) == 2


def test_random_stacks_with_reused_and_nested_modules(rng):
    torch.manual_seed(8)
    for _ in range(60):
        width = int(rng.integers(1, 7))
        pool = [nn.Linear(width, width, bias=bool(rng.integers(2)), dtype=torch.float64) for _ in range(3)]
        pool.append(nn.Identity())
        entries = [pool[int(i)] for i in rng.integers(0, len(pool), size=int(rng.integers(1, 7)))]
        if rng.integers(2):  # the same sub-Sequential, reused
            sub = nn.Sequential(*[pool[int(i)] for i in rng.integers(0, len(pool), size=2)])
            entries = entries + [sub, pool[0], sub]
        model = nn.Sequential(*entries)
        if not any(isinstance(m, nn.Linear) for m in model.modules()):
            continue
        assert_same_function(model, collapse_linear(model), width)


class Residual(nn.Sequential):
    def forward(self, x):
        return x + super().forward(x)


class Scaled(nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


class Renamed(nn.Linear):  # a subclass that keeps Linear.forward: fine
    pass


def test_custom_forwards_are_refused_with_the_module():
    with pytest.raises(ValueError, match=r"module 1 \(Residual\) cannot be collapsed: it overrides Sequential.forward"):
        collapse_linear(nn.Sequential(nn.Linear(3, 3), Residual(nn.Linear(3, 3))))
    with pytest.raises(ValueError, match=r"module model \(Residual\) .*overrides Sequential.forward"):
        collapse_linear(Residual(nn.Linear(3, 3)))
    with pytest.raises(ValueError, match=r"module 0\.1 \(Scaled\) .*overrides Linear.forward"):
        collapse_linear(nn.Sequential(nn.Sequential(nn.Linear(3, 3), Scaled(3, 3))))
    patched = nn.Linear(3, 3)
    patched.forward = lambda x: x  # an instance attribute wins over the class's forward
    with pytest.raises(ValueError, match=r"module 0 \(Linear\) .*overrides Linear.forward"):
        collapse_linear(nn.Sequential(patched))
    model = nn.Sequential(Renamed(3, 2, dtype=torch.float64), nn.Linear(2, 2, dtype=torch.float64))
    assert_same_function(model, collapse_linear(model), 3)


def test_hooks_are_refused_with_the_module():
    lin = nn.Linear(3, 3)
    handle = lin.register_forward_hook(lambda mod, inp, out: out * 0)
    with pytest.raises(ValueError, match=r"module 1 \(Linear\) cannot be collapsed: it has a forward hook"):
        collapse_linear(nn.Sequential(nn.Linear(3, 3), lin))
    handle.remove()
    collapse_linear(nn.Sequential(nn.Linear(3, 3), lin))  # fine once removed
    inner = nn.Sequential(nn.Linear(3, 3))
    handle = inner.register_forward_pre_hook(lambda mod, inp: (inp[0] * 2,))
    with pytest.raises(ValueError, match=r"module 0 \(Sequential\) .*forward pre-hook"):
        collapse_linear(nn.Sequential(inner))
    handle.remove()
    model = nn.Sequential(nn.Linear(3, 3))
    handle = model.register_forward_hook(lambda mod, inp, out: out + 1)
    with pytest.raises(ValueError, match=r"module model \(Sequential\) .*forward hook"):
        collapse_linear(model)
    handle.remove()
    handle = torch.nn.modules.module.register_module_forward_hook(lambda mod, inp, out: out)
    try:
        with pytest.raises(ValueError, match="global forward hook"):
            collapse_linear(nn.Sequential(nn.Linear(3, 3)))
    finally:
        handle.remove()
    collapse_linear(nn.Sequential(nn.Linear(3, 3)))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_layers_fold_correctly(dtype):
    torch.manual_seed(9)
    lin = nn.Linear(3, 4, dtype=dtype)
    model = nn.Sequential(nn.Linear(2, 3, dtype=dtype), lin, nn.Linear(4, 4, bias=False, dtype=dtype), nn.Linear(4, 2, dtype=dtype))
    one = collapse_linear(model)
    assert one.weight.dtype == dtype and one.weight.imag.abs().sum() > 0
    x = torch.randn(16, 2, dtype=dtype)
    with torch.no_grad():
        y, y1 = model(x), one(x)
    eps = torch.finfo(torch.float32 if dtype == torch.complex64 else torch.float64).eps
    assert float((y - y1).abs().max()) <= 500 * eps * (1 + float(y.abs().max()))
