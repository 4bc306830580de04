"""Property-based comparisons with torch: every activation, its derivative (vs autograd) and the
softmax functions, in float16, float32 and float64, over ordinary values and the extremes.

Hypothesis draws arrays mixing ordinary values, the dtype's extremes (±max, ±tiny, subnormals,
±0), the exp-overflow edges (±88.72 in float32, ±709.78 in float64) and ±inf/NaN. Runs are
deterministic (``derandomize=True``: the same examples every run, no example database) and
bounded (a few dozen examples per test).

Tolerances: a few hundred ulps of the value plus an absolute allowance below the smallest
normal number (torch may return subnormals), and for the derivatives a few eps absolute
(1 − tanh², σ(1 − σ), Φ + xφ lose relative accuracy when small, in torch's formulas as in
ours). NaN where torch gives NaN, ±inf where torch gives ±inf.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit import activations as A
from coursekit import softmax as S

# ±inf input gives NaN where torch gives NaN too (inf · 0, inf − inf); numpy says so with a warning
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning",
                                        "ignore:overflow encountered in cast:RuntimeWarning")

DTYPES = [np.float16, np.float32, np.float64]
SETTINGS = settings(derandomize=True, database=None, max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def special_values(dtype):
    fi = np.finfo(dtype)
    edge = math.log(float(fi.max))  # exp(x) overflows above it
    values = [0.0, -0.0, 1.0, -1.0, float(fi.tiny), -float(fi.tiny), float(fi.smallest_subnormal),
              float(fi.max), -float(fi.max), edge, -edge, edge - 2, -edge + 2, -edge - 2]
    return [float(dtype(v)) for v in values]


def elements(dtype, *, nonfinite=False):
    width = np.dtype(dtype).itemsize * 8
    fi = np.finfo(dtype)
    parts = [st.floats(-20, 20, width=width), st.sampled_from(special_values(dtype)),
             st.floats(-float(fi.max), float(fi.max), width=width)]
    if nonfinite:
        parts.append(st.sampled_from([math.inf, -math.inf, math.nan]))
    return st.one_of(*parts)


def arrays(dtype, *, nonfinite=False, min_dims=1, max_dims=2, min_side=1):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=6),
                      elements=elements(dtype, nonfinite=nonfinite))


def assert_matches(got, want, x, dtype, *, extra=0.0, what=""):
    """``got`` equals ``want`` within the tolerance; same NaN and ±inf pattern."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN pattern, x={x}")
    np.testing.assert_array_equal(np.isinf(got) * np.sign(got), np.isinf(want) * np.sign(want),
                                  err_msg=f"{what}: inf pattern, x={x}")
    finite = np.isfinite(want)
    fi = np.finfo(dtype)
    if dtype == np.float16:  # computed in float32 and rounded once, by torch as by us: 2 steps
        bound = 2 * float(fi.eps) * np.abs(want) + 2 * float(fi.smallest_subnormal) + extra
    else:
        bound = 300 * float(fi.eps) * np.abs(want) + 10 * float(fi.tiny) + extra
    bound = np.broadcast_to(bound, want.shape)
    with np.errstate(invalid="ignore"):  # inf − inf where both are inf: compared above
        diff = np.abs(got - want)
    bad = finite & ~(diff <= bound)
    assert not bad.any(), f"{what} {np.dtype(dtype).name}: x={np.asarray(x)[bad][:4]}, got {got[bad][:4]}, want {want[bad][:4]}"


def _extra(name, x, dtype, *, derivative):
    # GELU: 1 + erf(x/√2) cancels for x < −2, differently rounded in two erf implementations
    eps = float(np.finfo(np.float32 if dtype == np.float16 else dtype).eps)
    xa = np.abs(np.where(np.isfinite(x), x, 0.0).astype(np.float64))
    extra = 8 * eps * np.maximum(1.0, xa) if name == "gelu" else 0.0
    if derivative:
        extra = extra + 8 * float(np.finfo(dtype).eps)
    return extra


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", A.NAMES)
def test_activation_matches_torch(name, dtype):
    act = A.get(name)

    @SETTINGS
    @given(x=arrays(dtype, nonfinite=True))
    def check(x):
        got = act.numpy(x)
        assert got.dtype == dtype and got.shape == x.shape
        want = act.torch(torch.from_numpy(x.copy())).numpy()
        if name == "gelu" and dtype == np.float32:
            # torch's float32 kernel forms x·(1 + erf(x/√2)) before halving it, which overflows
            # for x > max/2 where gelu(x) = x is finite (and gives NaN at +inf): there we check
            # the true value instead (at −inf, −inf · 0 is NaN in both)
            big = np.abs(x) > np.finfo(dtype).max / 2
            xb = x[big]
            np.testing.assert_array_equal(got[big], np.where(xb > 0, xb, np.where(np.isinf(xb), np.nan, -0.0)))
            got, want, x = got[~big], want[~big], x[~big]
        if name == "gelu" and dtype == np.float16:
            # torch's float16 GELU (computed in float32, rounded once) returns NaN at +inf, where
            # gelu(x) = x·Φ(x) → +inf; coursekit returns +inf, as torch's float64 GELU does. At ±inf
            # the oracle is torch's float64 result rounded to float16 (NaN at −inf, −inf · 0, there
            # as in every dtype); every finite x is still compared with torch's float16 kernel
            inf = np.isinf(x)
            want = np.where(inf, F.gelu(torch.from_numpy(x.astype(np.float64))).numpy().astype(dtype), want)
        assert_matches(got, want, x, dtype, extra=_extra(name, x, dtype, derivative=False), what=name)

    check()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in A.NAMES if n != "step"])
def test_derivative_matches_autograd(name, dtype):
    act = A.get(name)

    @SETTINGS
    @given(x=arrays(dtype, nonfinite=True))
    def check(x):
        got = act.grad(x)
        assert got.dtype == dtype and got.shape == x.shape
        t = torch.from_numpy(x.copy()).requires_grad_()
        act.torch(t).sum().backward()
        assert_matches(got, t.grad.numpy(), x, dtype, extra=_extra(name, x, dtype, derivative=True),
                       what=f"{name}'")

    check()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [0.0, 0.2, -0.5, 3.0])
def test_leaky_relu_any_slope_matches_torch(slope, dtype):
    act = A.get("leaky_relu", negative_slope=slope)

    @SETTINGS
    @given(x=arrays(dtype, nonfinite=True))
    def check(x):
        t = torch.from_numpy(x.copy()).requires_grad_()
        y = F.leaky_relu(t, slope)
        y.sum().backward()
        assert_matches(act.numpy(x), y.detach().numpy(), x, dtype, what="leaky_relu")
        assert_matches(act.grad(x), t.grad.numpy(), x, dtype, what="leaky_relu'")

    check()


# --------------------------------------------------------------------------- softmax functions (coursekit.softmax)


def _logits(dtype):
    # finite logits: the functions are documented as stable for any finite input
    return arrays(dtype, min_dims=2, max_dims=2)


def _softmax_extra(z, dtype):
    # the log-sum-exp term lies in [0, log K]; z − max z is exact in both implementations.
    # torch rounds its float16 intermediates (z − max, the log-sum) to float16, we keep them
    # in float32: a few float16 steps of max(1, log K, |result|) apart
    k = z.shape[-1]
    if dtype == np.float16:
        scale = 1 + math.log(k) + np.abs(z.astype(np.float64) - z.max(axis=-1, keepdims=True))
        return 4 * float(np.finfo(np.float16).eps) * scale
    return 16 * float(np.finfo(dtype).eps) * (1 + math.log(k))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_matches_torch(dtype):
    @SETTINGS
    @given(z=_logits(dtype))
    def check(z):
        got = S.softmax(z)
        assert got.dtype == dtype
        want = torch.softmax(torch.from_numpy(z.copy()), dim=-1).numpy()
        assert_matches(got, want, z, dtype, extra=_softmax_extra(z, dtype), what="softmax")

    check()


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_matches_torch(dtype):
    @SETTINGS
    @given(z=_logits(dtype))
    def check(z):
        got = S.log_softmax(z)
        assert got.dtype == dtype
        want = torch.log_softmax(torch.from_numpy(z.copy()), dim=-1).numpy()
        assert_matches(got, want, z, dtype, extra=_softmax_extra(z, dtype), what="log_softmax")

    check()


@st.composite
def logits_and_targets(draw, dtype):
    z = draw(_logits(dtype))
    y = draw(hnp.arrays(np.int64, z.shape[0], elements=st.integers(0, z.shape[1] - 1)))
    return z, y


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_and_its_grad_match_torch(dtype):
    @SETTINGS
    @given(zy=logits_and_targets(dtype))
    def check(zy):
        z, y = zy
        t = torch.from_numpy(z.copy()).requires_grad_()
        loss = F.cross_entropy(t, torch.from_numpy(y))
        loss.backward()
        got = S.cross_entropy(z, y)
        extra = _softmax_extra(z, dtype)
        want = loss.detach().numpy()
        if dtype == np.float16 and np.isinf(want):
            # torch keeps float16 per-sample losses and their sum in float16, which overflow past
            # 65504 although the mean is finite: compare with torch in float64, rounded once
            want = np.float16(F.cross_entropy(torch.from_numpy(z.astype(np.float64)), torch.from_numpy(y)).item())
        assert_matches(got, want, z, dtype, extra=np.mean(extra), what="cross_entropy")
        assert_matches(S.cross_entropy_grad(z, y), t.grad.numpy(), z, dtype, extra=extra, what="cross_entropy_grad")

    check()
