"""coursekit.softmax against torch.nn.functional, on random and extreme logits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.softmax import (
    cross_entropy,
    cross_entropy_grad,
    log_softmax,
    naive_softmax,
    one_hot,
    softmax,
    softmax_jacobian,
)

FLOATS = [np.float32, np.float64]
# Tolerances per dtype: a few ulps of the working precision, relative to O(1) values.
TOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12}


def _torch(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def _random_logits(rng, shape, dtype, scale=5.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _extreme_logits(dtype):
    """Rows no naive formula survives: ±1e4, huge gaps, ties, all-equal, and large shifts."""
    return np.array(
        [
            [1e4, -1e4, 0.0, 3.0],
            [-1e4, -1e4, -1e4 + 1, -1e4 + 2],
            [1e4, 1e4, 1e4, 1e4],
            [5e3, 5e3 - 1, -5e3, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [-3.0, 2.0, 700.0, 710.0],
        ],
        dtype=dtype,
    )


# ---------------------------------------------------------------- softmax / log_softmax


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_matches_torch_random(rng, dtype, axis):
    z = _random_logits(rng, (64, 10), dtype)
    got = softmax(z, axis=axis)
    want = F.softmax(_torch(z), dim=axis).numpy()
    assert got.dtype == dtype and got.shape == z.shape
    np.testing.assert_allclose(got, want, rtol=TOL[dtype] * 10, atol=TOL[dtype])
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, atol=TOL[dtype] * 10)


@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_matches_torch_random(rng, dtype):
    z = _random_logits(rng, (3, 7, 11), dtype)
    got = log_softmax(z, axis=1)
    want = F.log_softmax(_torch(z), dim=1).numpy()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


@pytest.mark.parametrize("dtype", FLOATS)
def test_extreme_logits_finite_and_match_torch(dtype):
    z = _extreme_logits(dtype)
    p, logp = softmax(z), log_softmax(z)
    assert p.dtype == dtype and logp.dtype == dtype
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(logp))
    np.testing.assert_allclose(p, F.softmax(_torch(z), dim=-1).numpy(), atol=TOL[dtype])
    np.testing.assert_allclose(logp, F.log_softmax(_torch(z), dim=-1).numpy(), rtol=TOL[dtype] * 10,
                               atol=TOL[dtype] * 10)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=TOL[dtype] * 10)


def test_pm_1e4_float32_by_hand():
    # Independent of torch: with a gap of 2e4, the winner has probability 1 and the
    # loser's log-probability is exactly -2e4.
    z = np.array([1e4, -1e4], dtype=np.float32)
    np.testing.assert_array_equal(softmax(z), np.array([1.0, 0.0], dtype=np.float32))
    np.testing.assert_array_equal(log_softmax(z), np.array([0.0, -2e4], dtype=np.float32))
    # Equal huge logits: uniform, whatever their size.
    np.testing.assert_allclose(softmax(np.full(4, -1e4, np.float32)), 0.25, rtol=1e-7)


def test_float16_kept_and_matches_float64_reference(rng):
    z16 = _random_logits(rng, (32, 6), np.float16, scale=3.0)
    ref = softmax(z16.astype(np.float64))
    got = softmax(z16)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float64), ref, atol=TOL[np.float16])
    assert log_softmax(z16).dtype == np.float16
    # Beyond float16's exp threshold (11.09) the stable version is still right.
    big = np.array([60000.0, 100.0, 90.0, -60000.0], dtype=np.float16)
    assert np.all(np.isfinite(softmax(big)))
    np.testing.assert_allclose(softmax(big).astype(np.float64), [1.0, 0.0, 0.0, 0.0], atol=1e-3)
    small = np.array([100.0, 90.0, 0.0], dtype=np.float16)  # the gaps, not the size, set the answer
    np.testing.assert_allclose(softmax(small).astype(np.float64), softmax(small.astype(np.float64)),
                               rtol=2e-3, atol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("c", [-1e3, -2.5, 7.0, 1e3])
def test_shift_invariance(rng, dtype, c):
    z = _random_logits(rng, (16, 5), dtype)
    tol = TOL[dtype] * 100 if dtype == np.float32 else 1e-12
    # float32 loses absolute precision at |c| = 1e3 (ulp ≈ 6e-5): compare the values it can hold.
    shifted = (z + dtype(c)).astype(dtype)
    np.testing.assert_allclose(softmax(shifted), softmax(shifted - shifted.max(axis=-1, keepdims=True)),
                               atol=tol)
    if abs(c) < 10:
        np.testing.assert_allclose(softmax(shifted), softmax(z), atol=tol)


def test_softmax_two_classes_is_sigmoid():
    x = np.linspace(-30, 30, 601)
    z = np.stack([x, np.zeros_like(x)], axis=1)
    np.testing.assert_allclose(softmax(z)[:, 0], torch.sigmoid(_torch(x)).numpy(), rtol=1e-12, atol=1e-300)


def test_torch_tensor_input_accepted():
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(softmax(z), F.softmax(z, dim=-1).numpy(), atol=1e-6)


# ---------------------------------------------------------------- naive softmax


@pytest.mark.parametrize(
    "dtype, threshold", [(np.float16, 11.09), (np.float32, 88.72), (np.float64, 709.78)]
)
def test_naive_softmax_overflows_exactly_past_log_max(dtype, threshold):
    log_max = float(np.log(np.finfo(dtype).max))
    assert log_max == pytest.approx(threshold, abs=0.01)
    below = np.array([0.98 * log_max, 0.0], dtype=dtype)
    above = np.array([1.02 * log_max, 0.0], dtype=dtype)
    np.testing.assert_allclose(naive_softmax(below).astype(np.float64),
                               softmax(below.astype(np.float64)), rtol=5e-3)
    out = naive_softmax(above)
    assert out.dtype == dtype
    assert np.isnan(out[0])  # inf / inf
    assert np.all(np.isfinite(softmax(above)))


def test_naive_softmax_matches_on_small_inputs_and_underflows_to_nan(rng):
    z = _random_logits(rng, (8, 4), np.float64, scale=2.0)
    np.testing.assert_allclose(naive_softmax(z), softmax(z), rtol=1e-12)
    assert np.all(np.isnan(naive_softmax(np.array([-1e4, -1e4]))))  # 0 / 0
    np.testing.assert_allclose(softmax(np.array([-1e4, -1e4])), [0.5, 0.5])


def test_naive_softmax_is_silent():
    with np.errstate(all="raise"):  # any floating-point warning would become an error here
        naive_softmax(np.array([1000.0, 0.0]))


# ---------------------------------------------------------------- jacobian


def test_softmax_jacobian_matches_autograd(rng):
    z = rng.standard_normal(6)
    want = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, -1), _torch(z)).numpy()
    np.testing.assert_allclose(softmax_jacobian(z), want, atol=1e-12)
    batch = rng.standard_normal((3, 4))
    jac = softmax_jacobian(batch)
    assert jac.shape == (3, 4, 4)
    np.testing.assert_allclose(jac.sum(axis=1), 0.0, atol=1e-12)  # probabilities keep summing to 1


# ---------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_and_grad_match_torch_random(rng, dtype):
    z = _random_logits(rng, (50, 7), dtype)
    y = rng.integers(0, 7, size=50)
    zt = _torch(z).requires_grad_(True)
    loss = F.cross_entropy(zt, torch.from_numpy(y))
    loss.backward()
    got = cross_entropy(z, y)
    assert isinstance(got, np.floating) and got.dtype == dtype
    np.testing.assert_allclose(got, loss.item(), rtol=TOL[dtype] * 10)
    grad = cross_entropy_grad(z, y)
    assert grad.dtype == dtype and grad.shape == z.shape
    np.testing.assert_allclose(grad, zt.grad.numpy(), atol=TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_extreme_matches_torch(dtype):
    z = _extreme_logits(dtype)
    y = np.array([1, 0, 2, 0, 3, 2])
    zt = _torch(z).requires_grad_(True)
    loss = F.cross_entropy(zt, torch.from_numpy(y))
    loss.backward()
    got = cross_entropy(z, y)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, loss.item(), rtol=TOL[dtype] * 10)
    np.testing.assert_allclose(cross_entropy_grad(z, y), zt.grad.numpy(), atol=TOL[dtype])


def test_cross_entropy_definitions(rng):
    z = rng.standard_normal((20, 5))
    y = rng.integers(0, 5, size=20)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)  # safe here: |z| is small
    assert cross_entropy(z, y) == pytest.approx(-np.mean(np.log(p[np.arange(20), y])), rel=1e-12)
    np.testing.assert_allclose(cross_entropy_grad(z, y), (p - one_hot(y, 5)) / 20, atol=1e-15)
    # Uniform logits: the loss is ln K whatever the targets.
    assert cross_entropy(np.zeros((9, 10)), np.arange(9)) == pytest.approx(np.log(10), rel=1e-15)
    assert cross_entropy(np.zeros((9, 10), np.float32), np.arange(9)).dtype == np.float32


def test_cross_entropy_float16(rng):
    z = _random_logits(rng, (10, 4), np.float16, scale=2.0)
    y = rng.integers(0, 4, size=10)
    got = cross_entropy(z, y)
    assert got.dtype == np.float16
    assert float(got) == pytest.approx(float(cross_entropy(z.astype(np.float64), y)), rel=2e-3)
    assert cross_entropy_grad(z, y).dtype == np.float16


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(one_hot(torch.tensor([1]), 2), [[0, 1]])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("func", [softmax, log_softmax, naive_softmax, softmax_jacobian])
def test_integer_and_bool_logits_rejected(func):
    with pytest.raises(TypeError, match=r"z must be a floating-point array.*int64.*Convert"):
        func(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match=r"z must be a floating-point array.*bool"):
        func([True, False])
    with pytest.raises(TypeError, match=r"z must be a floating-point array.*<U"):
        func(["a", "b"])


def test_bad_shapes_and_axes():
    with pytest.raises(ValueError, match=r"z has an empty class axis .*shape \(3, 0\)"):
        softmax(np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"z has an empty class axis \(axis 0\)"):
        log_softmax(np.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError, match=r"axis 2 is out of range for z with 2 axes"):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match=r"axis must be an integer"):
        softmax(np.zeros(3), axis=1.0)
    with pytest.raises(ValueError, match=r"z must have at least one axis"):
        softmax(np.float64(1.0))
    with pytest.raises(TypeError, match=r"z must be an array of floats"):
        softmax([[1.0, 2.0], [3.0]])


def test_cross_entropy_bad_logits():
    with pytest.raises(ValueError, match=r"logits must be 2-D; got an array of shape \(3,\)"):
        cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(TypeError, match=r"logits must be a floating-point array.*int64"):
        cross_entropy(np.zeros((2, 3), dtype=int), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"logits must hold at least one row"):
        cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match=r"logits must have at least one class"):
        cross_entropy_grad(np.zeros((2, 0)), np.array([0, 0]))


@pytest.mark.parametrize("func", [cross_entropy, cross_entropy_grad])
def test_cross_entropy_bad_targets(func):
    z = np.zeros((3, 4))
    with pytest.raises(TypeError, match=r"targets must be integer class indices \(not probabilities.*float64"):
        func(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"targets must be integer class indices.*bool"):
        func(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"targets must have shape \(3,\).*shape \(2,\)"):
        func(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"targets must have shape \(3,\).*shape \(3, 4\)"):
        func(z, np.eye(4, dtype=int)[:3])
    with pytest.raises(ValueError, match=r"targets must be class indices in \[0, 3\] for 4 classes.*e\.g\. 4"):
        func(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"targets must be class indices in \[0, 3\].*e\.g\. -1"):
        func(z, np.array([-1, 0, 1]))


def test_one_hot_bad_input():
    with pytest.raises(TypeError, match=r"num_classes must be an integer"):
        one_hot([0], 2.0)
    with pytest.raises(ValueError, match=r"targets must have shape \(N,\), a 1-D array"):
        one_hot(np.array([[0]]), 2)
    with pytest.raises(ValueError, match=r"targets must be class indices in \[0, 1\]"):
        one_hot(np.array([2]), 2)


def test_gap_beyond_float_max_matches_torch_silently():
    # z_max - z_min overflows float64: the shifted logit is -inf, its probability exactly 0.
    z = np.array([1e308, -1e308, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is expected
        p, logp = softmax(z), log_softmax(z)
    np.testing.assert_array_equal(p, F.softmax(_torch(z), dim=0).numpy())
    np.testing.assert_array_equal(logp, F.log_softmax(_torch(z), dim=0).numpy())
