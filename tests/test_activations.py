"""Tests of coursekit.activations: numpy vs torch, analytic vs autograd, lookup, helpers."""

import math
import warnings

import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F

from coursekit import activations as A
from coursekit import neurons
from coursekit import widgets as W

#: Every activation autograd can differentiate, read from the registry (all but the step).
DIFFERENTIABLE = list(A.DIFFERENTIABLE)
DTYPES = [np.float32, np.float64]


def tol(dtype):
    """rtol a few hundred ulps; atol below any normal number (torch may return subnormals)."""
    fi = np.finfo(dtype)
    return {"rtol": 300 * fi.eps, "atol": 10 * fi.tiny}


def assert_close(got, want, x, dtype, name, *, derivative=False):
    """Within ``tol``, plus an absolute allowance of a few eps where cancellation is inherent.

    GELU: in 1 + erf(x/√2) for x < −2 two erf implementations (torch.special.erf here,
    torch's fused gelu kernel there) differ by rounding of order eps, which x then scales.
    Derivatives (all O(1)): 1 − tanh², σ(1 − σ) and Φ + xφ lose relative accuracy when the
    value is small, with absolute errors of order eps — in torch's formulas as in ours.
    """
    t = tol(dtype)
    eps = np.finfo(dtype).eps
    bound = t["atol"] + t["rtol"] * np.abs(want)
    if name == "gelu":
        bound = bound + 8 * eps * np.maximum(1.0, np.abs(x))
    if derivative:
        bound = bound + 8 * eps
    bad = ~(np.abs(got - want) <= bound)
    assert not bad.any(), f"{name} {dtype.__name__}: x={x[bad][:5]}, got {got[bad][:5]}, want {want[bad][:5]}"


def inputs(dtype, rng):
    """Extremes, tiny values, exact 0, and a spread of ordinary values."""
    big = 700.0 if dtype == np.float64 else 85.0  # just inside exp's normal range
    special = [-1e3, -big, -100, -40, -20, -5, -1, -1e-8, 0.0, 1e-8, 1, 5, 20, 40, 100, big, 1e3]
    spread = np.concatenate([rng.normal(0, 3, 500), np.linspace(-10, 10, 201)])
    return np.concatenate([special, spread]).astype(dtype)


# --- numpy vs torch -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", A.NAMES)
def test_numpy_matches_torch(name, dtype, rng):
    x = inputs(dtype, rng)
    act = A.get(name)
    got = act.numpy(x)
    want = act.torch(torch.from_numpy(x.copy())).numpy()
    assert got.dtype == dtype and got.shape == x.shape
    assert_close(got, want, x, dtype, name)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0, -0.5])
def test_leaky_relu_slopes_match_torch(slope, rng):
    x = inputs(np.float64, rng)
    act = A.get("leaky_relu", negative_slope=slope)
    np.testing.assert_allclose(act.numpy(x), F.leaky_relu(torch.from_numpy(x), slope).numpy(), rtol=1e-15)
    np.testing.assert_allclose(act.grad(x), A.autograd_grad(act, x), rtol=1e-15)


def test_leaky_relu_default_slope_is_torchs():
    assert A.PARAMS["leaky_relu"]["negative_slope"] == torch.nn.LeakyReLU().negative_slope == 0.01
    assert A.get("leaky_relu").params == {"negative_slope": 0.01}


def test_step_matches_heaviside_and_chapter_01():
    x = np.array([-3.0, -1e-300, 0.0, 1e-300, 2.0])
    want = torch.heaviside(torch.from_numpy(x), torch.tensor(0.0, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(A.step(x), want)
    np.testing.assert_array_equal(A.step(x), [0, 0, 0, 1, 1])
    assert A.step is neurons.step
    np.testing.assert_array_equal(A.step_grad(x), np.zeros(5))


def test_gelu_against_scipy_erf(rng):
    x = np.concatenate([np.linspace(-8, 8, 1601), rng.normal(0, 2, 300)])
    phi = 0.5 * (1 + scipy.special.erf(x / math.sqrt(2)))
    # absolute tolerance of a few eps·|x|: 1 + erf cancels for x < −2 (torch's formula too)
    np.testing.assert_allclose(A.gelu(x), x * phi, rtol=1e-14, atol=2e-14)
    pdf = np.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(A.gelu_grad(x), phi + x * pdf, rtol=1e-13, atol=2e-15)


def test_integers_and_bools_become_float64():
    for name in A.NAMES:
        act = A.get(name)
        assert act.numpy([-2, 0, 3]).dtype == np.float64
        assert act.grad(np.array([True, False])).dtype == np.float64
        assert act.torch(torch.tensor([-2, 0, 3])).dtype == torch.get_default_dtype()


# --- analytic derivatives vs autograd and finite differences -----------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_analytic_derivative_matches_autograd(name, dtype, rng):
    x = inputs(dtype, rng)  # includes exactly 0: the kink conventions must agree with torch
    act = A.get(name)
    got = act.grad(x)
    assert got.dtype == dtype
    assert_close(got, A.autograd_grad(act, x), x, dtype, name, derivative=True)


class _FromNumpy(torch.autograd.Function):
    """An autograd op whose forward is our numpy function and whose backward our analytic grad,
    so that gradcheck compares the analytic derivative with finite differences of our f."""

    @staticmethod
    def forward(ctx, t, name, slope):
        act = A.get(name, **({"negative_slope": slope} if name == "leaky_relu" else {}))
        ctx.save_for_backward(t)
        ctx.act = act
        return torch.from_numpy(act.numpy(t.detach().numpy()))

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * torch.from_numpy(ctx.act.grad(t.detach().numpy())), None, None


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradcheck_in_float64_away_from_kinks(name, rng):
    x = rng.normal(0, 3, 60)
    x = x[np.abs(x) > 1e-2]  # finite differences with eps 1e-6 never straddle ReLU's kink
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda u: _FromNumpy.apply(u, name, 0.1), (t,), eps=1e-6, atol=1e-7)


def test_step_has_no_autograd_derivative():
    t = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="heaviside"):
        A.get("step").torch(t).sum().backward()
    with pytest.raises(RuntimeError, match="heaviside"):
        A.autograd_grad("step", [0.0, 1.0])


def test_kink_conventions():
    assert A.relu_grad(0.0) == 0.0 == A.autograd_grad("relu", [0.0])[0]
    assert A.leaky_relu_grad(0.0, 0.3) == pytest.approx(0.3)


# --- facts the chapter states -----------------------------------------------------------


def test_sigmoid_and_tanh_derivative_peaks():
    x = np.linspace(-10, 10, 200001)  # contains 0 exactly
    d_sig = A.autograd_grad("sigmoid", x)  # autograd, independent of sigmoid_grad
    d_tanh = A.autograd_grad("tanh", x)
    assert d_sig.max() == pytest.approx(0.25, abs=1e-15) and x[d_sig.argmax()] == 0
    assert d_tanh.max() == pytest.approx(1.0, abs=1e-15) and x[d_tanh.argmax()] == 0
    s = 1 / (1 + np.exp(-x))  # the textbook formula, fine on [−10, 10]
    np.testing.assert_allclose(A.sigmoid_grad(x), s * (1 - s), rtol=1e-12)


def test_tanh_is_a_rescaled_sigmoid():
    x = np.linspace(-20, 20, 4001)
    np.testing.assert_allclose(A.tanh(x), 2 * A.sigmoid(2 * x) - 1, atol=1e-15)


@pytest.mark.parametrize("name", ["gelu", "silu", "sigmoid", "tanh", "relu", "identity"])
def test_peak_grad_matches_a_dense_grid(name):
    x = np.linspace(-8, 8, 1_600_001)
    assert A.peak_grad(name) == pytest.approx(np.abs(A.autograd_grad(name, x)).max(), abs=1e-9)


def test_peak_grad_step_and_leaky():
    assert A.peak_grad("step") == math.inf
    assert A.peak_grad("leaky_relu") == 1.0
    assert A.peak_grad("leaky_relu", negative_slope=-3) == 3.0


def test_silu_is_x_sigmoid():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(A.silu(x), x / (1 + np.exp(-x)), rtol=1e-14)


# --- stability ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", A.NAMES)
def test_no_floating_point_errors_at_extremes(name, dtype):
    hi = float(np.finfo(dtype).max)
    x = np.array([-hi, -1e3, -88.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 88.0, 1e3, hi], dtype=dtype)
    act = A.get(name)
    with warnings.catch_warnings(), np.errstate(all="raise"):  # even underflow raises here
        warnings.simplefilter("error")
        y, d = act.numpy(x), act.grad(x)
    assert y.dtype == d.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(d))


@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
@pytest.mark.parametrize("name", A.NAMES)
def test_no_warnings_anywhere_with_numpy_defaults(name, dtype):
    # numpy ignores underflow by default (tiny · tiny -> subnormal or 0 is harmless);
    # overflow, invalid and divide-by-zero warnings must not appear, even in float16.
    fi = np.finfo(dtype)
    x = np.concatenate([[-fi.max, -fi.tiny, fi.tiny, fi.max, 0.0],
                        np.geomspace(float(fi.tiny), float(fi.max) / 4, 200)])
    x = np.concatenate([-x, x]).astype(dtype)
    act = A.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, d = act.numpy(x), act.grad(x)
    assert y.dtype == d.dtype == dtype
    assert not np.isnan(y).any() and not np.isnan(d).any()


def test_sigmoid_of_plus_minus_1000_is_exact():
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(A.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
        np.testing.assert_array_equal(A.sigmoid(np.array([-1000.0, 1000.0], np.float32)), [0.0, 1.0])
        np.testing.assert_array_equal(A.sigmoid_grad(np.array([-1000.0, 1000.0])), [0.0, 0.0])


def test_nan_propagates():
    for name in A.DIFFERENTIABLE:
        assert np.isnan(A.get(name).numpy(np.array([np.nan]))[0]), name


# --- lookup and bad input -------------------------------------------------------------------


def test_names_and_lookup():
    assert A.NAMES == tuple(A.REGISTRY)  # in registration order
    assert {"step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu"} <= set(A.NAMES)  # chapter 03
    for name in A.NAMES:
        act = A.get(name)
        assert act.name == name and callable(act.numpy) and callable(act.grad) and callable(act.torch)
    assert repr(A.get("leaky_relu", negative_slope=0.2)) == "Activation('leaky_relu', negative_slope=0.2)"


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown name 'swish'; valid choices: 'step', .*'silu'"):
        A.get("swish")
    with pytest.raises(TypeError, match="name must be a string"):
        A.get(3)


def test_parameters_an_activation_does_not_take():
    with pytest.raises(TypeError, match="'tanh' takes no parameter 'negative_slope'; its parameters: none"):
        A.get("tanh", negative_slope=0.1)
    with pytest.raises(TypeError, match="takes no parameter 'slope'; its parameters: 'negative_slope'"):
        A.get("leaky_relu", slope=0.1)


@pytest.mark.parametrize("bad", ["0.1", None, [0.1], True])
def test_slope_must_be_a_number(bad):
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        A.get("leaky_relu", negative_slope=bad)
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        A.leaky_relu([1.0], negative_slope=bad)
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        A.leaky_relu_grad([1.0], negative_slope=float("nan"))


@pytest.mark.parametrize("name", A.NAMES)
def test_non_numeric_input(name):
    act = A.get(name)
    for bad in (["a", "b"], np.array([1 + 2j]), [[1.0], [1.0, 2.0]]):
        with pytest.raises(TypeError, match="must"):
            act.numpy(bad)
        with pytest.raises(TypeError, match="must"):
            act.grad(bad)
    with pytest.raises(TypeError, match=r"t must be a torch\.Tensor"):
        act.torch(np.ones(3))
    with pytest.raises(TypeError, match="t must be a real tensor"):
        act.torch(torch.ones(2, dtype=torch.complex64))


# --- saturation and dead units --------------------------------------------------------------


def test_saturated_fraction_by_hand():
    # σ'(z) < 5 % of 0.25 where |z| > 4.36 (solve σ(1−σ) = 0.0125): 5, −5, 10 yes; 0, 1, 4 no.
    edge = 2 * math.acosh(1 / math.sqrt(4 * 0.0125))  # σ'(z) = 1/(4 cosh²(z/2))
    assert 4.3 < edge < 4.4
    assert A.saturated_fraction([0, 1, 4, 5, -5, 10], "sigmoid") == 0.5
    # tanh'(z) = 1/cosh² z < 0.05 where |z| > acosh(√20) ≈ 2.18
    assert 2.17 < math.acosh(math.sqrt(20)) < 2.19
    assert A.saturated_fraction([0.0, 2.0, 2.3, -3.0], "tanh") == 0.5
    assert A.saturated_fraction(np.array([[-1.0, 0.0], [1.0, 2.0]]), "relu") == 0.5
    assert A.saturated_fraction([-1.0, 1.0], "leaky_relu") == 0.5  # 0.01 < 0.05
    assert A.saturated_fraction([-1.0, 1.0], "leaky_relu", negative_slope=0.1) == 0.0
    assert A.saturated_fraction([-3.0, 0.0, 3.0], "step") == 1.0
    assert A.saturated_fraction([-1e6, 1e6], "identity") == 0.0
    assert A.saturated_fraction([0.0, 3.0, 5.0], "sigmoid", threshold=0.5) == pytest.approx(2 / 3)
    assert A.saturated_fraction([0.0, 3.0], A.get("tanh")) == 0.5


def test_saturated_fraction_bad_input():
    with pytest.raises(TypeError, match="threshold must be a real number"):
        A.saturated_fraction([1.0], threshold="5%")
    with pytest.raises(ValueError, match="threshold must be > 0"):
        A.saturated_fraction([1.0], threshold=0)
    with pytest.raises(ValueError, match="z must contain at least one value"):
        A.saturated_fraction([])
    with pytest.raises(ValueError, match="unknown activation 'sigmod'"):
        A.saturated_fraction([1.0], "sigmod")


def test_dead_and_zero_fraction_by_hand():
    h = np.array([[0.0, 1.0, 0.0, 0.0],
                  [0.0, 2.0, 3.0, 0.0],
                  [0.0, 0.5, 0.0, 0.0]])  # units 0 and 3 dead; unit 2 alive on one sample
    assert A.dead_fraction(h) == 0.5
    assert A.zero_fraction(h) == 8 / 12
    assert A.dead_fraction(np.ones((1, 3))) == 0.0 and A.zero_fraction(np.zeros((2, 2))) == 1.0


def test_dead_units_get_exactly_zero_gradient():
    torch.manual_seed(0)
    layer = torch.nn.Linear(5, 40)
    with torch.no_grad():
        layer.bias[:20] -= 100.0  # the first 20 units can never be positive on this data
    X = torch.rand(64, 5)
    h = torch.relu(layer(X))
    dead = (h <= 0).all(dim=0)  # independent count: units never positive on the batch
    assert dead[:20].all()
    assert A.dead_fraction(h.detach().numpy()) == int(dead.sum()) / 40
    h.sum().backward()
    assert torch.all(layer.weight.grad[dead] == 0) and torch.all(layer.weight.grad[~dead].abs().sum(1) > 0)


def test_dead_fraction_bad_input():
    with pytest.raises(ValueError, match=r"h must be 2-D; got an array of shape \(3,\)"):
        A.dead_fraction([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="h must have at least one sample"):
        A.zero_fraction(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="h must contain real numbers"):
        A.dead_fraction([["a"]])


# --- figures and the explorer ---------------------------------------------------------------


def test_slope_stats():
    z = np.array([[-1.0, 2.0, -3.0], [-2.0, -1.0, -0.5]])
    s = A.slope_stats(z, 0.0)
    assert s["dead"] == pytest.approx(2 / 3) and s["zero_grad_units"] == pytest.approx(2 / 3)
    assert s["mean_grad"] == pytest.approx(1 / 6)
    s = A.slope_stats(z, 0.1)
    assert s["dead"] == 0.0 and s["zero_grad_units"] == 0.0
    assert s["mean_grad"] == pytest.approx((1 + 5 * 0.1) / 6)


def test_slope_explorer_updates_synchronously():
    z = np.array([[-1.0, 2.0, -3.0], [-2.0, -1.0, -0.5]])
    ex = W.slope_explorer(z)
    assert ex.current["a"] == 0.01 and ex.current["zero_grad_units"] == 0.0
    assert ex.current["negative_units"] == pytest.approx(2 / 3, abs=1e-4)  # a leaky output is never exactly 0
    ex.controls["slope"].value = 0.0
    assert ex.current["a"] == 0.0 and ex.current["zero_grad_units"] == pytest.approx(2 / 3, abs=1e-4)
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        W.slope_explorer(z, -0.1)


def test_slope_plot_redraws_only_its_curves():
    plot = W.SlopePlot(0.2)
    np.testing.assert_allclose(plot.line_f.get_ydata(), F.leaky_relu(torch.from_numpy(plot.x), 0.2).numpy())
    np.testing.assert_allclose(plot.line_d.get_ydata(), np.where(plot.x > 0, 1.0, 0.2))
    first = plot.png()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    plot.draw(0.4)
    assert plot.label.get_text() == "slope a = 0.40" and plot.png() != first
    plot.draw(0.2)
    assert plot.png() == first  # the background is restored, not drawn over
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        plot.draw("0.3")


# --- torch parity at the edges ----------------------------------------------------------------


@pytest.mark.parametrize("dtype,lo,hi", [(np.float32, -110.0, -80.0), (np.float64, -760.0, -700.0)])
@pytest.mark.parametrize("name", ["sigmoid", "silu"])
def test_far_negative_tail_matches_torch(name, dtype, lo, hi):
    # where torch's 1/(1 + exp(−x)) is still finite the value is tiny but not 0, and beyond it is 0
    x = np.linspace(lo, hi, 6001).astype(dtype)
    act = A.get(name)
    t = torch.from_numpy(x.copy()).requires_grad_()
    want = act.torch(t)
    want.sum().backward()
    tiny = np.finfo(dtype).smallest_subnormal
    for got, ref in [(act.numpy(x), want.detach().numpy()), (act.grad(x), t.grad.numpy())]:
        np.testing.assert_array_equal(got == 0, ref == 0)
        bound = 300 * np.finfo(dtype).eps * np.abs(ref) + 4 * (1 + np.abs(x)) * tiny
        assert np.all(np.abs(got - ref) <= bound)
    assert (act.numpy(x) != 0).any() and (act.numpy(x) == 0).any()  # the grid spans both sides


@pytest.mark.parametrize("name", A.NAMES)
def test_float16_is_computed_in_float32_and_rounded_once(name):
    x = np.linspace(-20, 20, 4001).astype(np.float16)
    act = A.get(name)
    got = act.numpy(x)
    assert got.dtype == np.float16
    want = act.torch(torch.from_numpy(x.copy())).numpy()  # torch rounds its float32 result once
    bound = 2**-10 * np.abs(want.astype(np.float64)) + 6e-8  # one float16 step, or its smallest subnormal
    if name == "gelu":  # 1 + erf(x/√2) cancels for x < −2 in float32, in torch's formula as in ours
        bound = bound + 8 * np.finfo(np.float32).eps * np.abs(x.astype(np.float64))
    assert np.all(np.abs(got.astype(np.float64) - want) <= bound)
    exact = act.numpy(x.astype(np.float32)).astype(np.float16)  # our float32 result, rounded once
    np.testing.assert_array_equal(got, exact)
    if name == "sigmoid":
        assert got[np.searchsorted(x, -9.0)] == pytest.approx(1.234e-4, rel=1e-3)  # not 0


@pytest.mark.parametrize("name", A.NAMES)
def test_numbers_and_0d_arrays_keep_shape(name):
    act = A.get(name)
    for x in (1.5, np.float32(1.5), np.array(1.5), -2):
        for f in (act.numpy, act.grad):
            y = f(x)
            assert np.shape(y) == (), (name, x, y)
            # the step comes from coursekit.neurons, which returns a numpy scalar for a number
            assert isinstance(y, np.ndarray) or f is act.numpy and name == "step", (name, x, y)


def test_relu_conventions_at_minus_zero_and_nan_are_torchs():
    x = np.array([np.nan, -0.0, 0.0, -1.0, 2.0])
    t = torch.from_numpy(x.copy()).requires_grad_()
    y = torch.relu(t)
    y.sum().backward()
    got = A.relu(x)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(y.detach().numpy()))
    np.testing.assert_array_equal(got, y.detach().numpy())  # NaN == NaN for assert_array_equal
    np.testing.assert_array_equal(A.relu_grad(x), t.grad.numpy())  # relu'(NaN) = 1 in torch
    t2 = torch.from_numpy(x.copy()).requires_grad_()
    F.leaky_relu(t2, 0.2).sum().backward()
    np.testing.assert_array_equal(A.leaky_relu_grad(x, 0.2), t2.grad.numpy())


def test_bfloat16_tensors_get_an_error_naming_the_argument():
    t = torch.ones(3, dtype=torch.bfloat16)
    for f in (A.sigmoid, A.relu_grad, A.gelu, A.dead_fraction):
        with pytest.raises(TypeError, match=r"(x|h) is a tensor of dtype torch.bfloat16.*\.float\(\)"):
            f(t.reshape(1, 3) if f is A.dead_fraction else t)
    assert A.get("sigmoid").torch(t).dtype == torch.bfloat16  # the torch side takes it as it is


def test_slope_explorer_text_fallback():
    z = np.array([[-1.0, 2.0, -3.0], [-2.0, -1.0, -0.5]])
    bundle = W.slope_explorer(z)._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert bundle["text/plain"] == "live explorer: run this cell in JupyterLab"
    with pytest.raises(ValueError, match="negative_slope must be <= 0.5"):
        W.slope_explorer(z, 0.7)


def test_slope_stats_names_its_arguments():
    with pytest.raises(ValueError, match="z must be 2-D"):
        A.slope_stats(np.ones(3), 0.1)
