"""coursekit.init against torch.nn.init: same formulas, same defaults, same distributions.

Random schemes are compared statistically: the sample std must lie within a 6-sigma band of
the std the published formula gives (written out here by hand, not taken from the
code), and a two-sample KS test between a seeded numpy sample and a seeded torch sample must
not reject at p = 1e-4.
"""

import inspect
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

from coursekit import init as I

SHAPES = [(300, 200), (150, 400), (32, 16, 3, 3)]


def fan_in_out(shape):
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


def torch_sample(fn, shape, seed=0, **kwargs):
    torch.manual_seed(seed)
    w = torch.empty(shape, dtype=torch.float64)
    fn(w, **kwargs)
    return w.numpy().ravel()


def assert_std(sample, expected_std, *, uniform=False):
    """Sample std within 6 standard errors of expected (normal: SE ≈ σ/√(2n); uniform: σ·√(0.8)/(2√n))."""
    n = sample.size
    rel_se = math.sqrt(0.8) / (2 * math.sqrt(n)) if uniform else 1 / math.sqrt(2 * n)
    got = sample.std()
    assert abs(got / expected_std - 1) < 6 * rel_se, (got, expected_std)


def assert_same_distribution(a, b):
    assert stats.ks_2samp(a, b).pvalue > 1e-4


# (our name, torch function, torch kwargs, our kwargs, expected std from the formula, uniform?)
def cases(shape):
    fi, fo = fan_in_out(shape)
    return [
        ("xavier_normal", torch.nn.init.xavier_normal_, {}, {}, math.sqrt(2 / (fi + fo)), False),
        ("xavier_normal", torch.nn.init.xavier_normal_, {"gain": 5 / 3}, {"gain": 5 / 3},
         5 / 3 * math.sqrt(2 / (fi + fo)), False),
        ("xavier_uniform", torch.nn.init.xavier_uniform_, {}, {}, math.sqrt(6 / (fi + fo)) / math.sqrt(3), True),
        ("kaiming_normal", torch.nn.init.kaiming_normal_, {}, {}, math.sqrt(2 / fi), False),
        ("kaiming_normal", torch.nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"},
         {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / fo), False),
        ("kaiming_normal", torch.nn.init.kaiming_normal_, {"a": 0.2}, {"a": 0.2},
         math.sqrt(2 / (1 + 0.04)) / math.sqrt(fi), False),
        ("kaiming_uniform", torch.nn.init.kaiming_uniform_, {}, {}, math.sqrt(6 / fi) / math.sqrt(3), True),
        ("kaiming_uniform", torch.nn.init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "tanh"},
         {"mode": "fan_out", "nonlinearity": "tanh"}, 5 / 3 / math.sqrt(fo), True),
        ("lecun_normal", torch.nn.init.kaiming_normal_, {"nonlinearity": "linear"}, {}, 1 / math.sqrt(fi), False),
        ("lecun_uniform", torch.nn.init.kaiming_uniform_, {"nonlinearity": "linear"}, {},
         1 / math.sqrt(fi), True),
        ("normal", torch.nn.init.normal_, {"std": 0.01}, {"std": 0.01}, 0.01, False),
        ("normal", torch.nn.init.normal_, {}, {}, 1.0, False),
        ("uniform", torch.nn.init.uniform_, {"a": -0.5, "b": 0.5}, {"a": -0.5, "b": 0.5}, 1 / math.sqrt(12), True),
    ]


@pytest.mark.parametrize("shape", SHAPES)
def test_random_schemes_match_torch(shape):
    for k, (name, torch_fn, t_kw, our_kw, std, is_uniform) in enumerate(cases(shape)):
        ours = getattr(I, name)(shape, rng=np.random.default_rng(k), **our_kw)
        theirs = torch_sample(torch_fn, shape, seed=k, **t_kw)
        assert ours.shape == shape and ours.dtype == np.float64
        assert_std(ours.ravel(), std, uniform=is_uniform)
        assert_std(theirs, std, uniform=is_uniform)
        assert_same_distribution(ours.ravel(), theirs)
        if is_uniform and name != "uniform":  # symmetric bound √3·std, never exceeded
            bound = math.sqrt(3) * std
            assert np.abs(ours).max() <= bound
            assert np.abs(ours).max() > 0.99 * bound


def test_uniform_default_is_zero_to_one_like_torch():
    ours = I.uniform((400, 300), rng=np.random.default_rng(1))
    theirs = torch_sample(torch.nn.init.uniform_, (400, 300))
    assert 0 <= ours.min() and ours.max() <= 1
    assert_same_distribution(ours.ravel(), theirs)


def test_xavier_std_not_variance():
    # the source's error: "variance √(2/(fan_in+fan_out))". The std is that, the variance its square.
    w = I.xavier_normal((500, 500), rng=np.random.default_rng(2))
    assert abs(w.var() / (2 / 1000) - 1) < 6 * math.sqrt(2 / w.size)
    assert w.var() < 0.1 * math.sqrt(2 / 1000)


def test_lecun_is_not_xavier_unless_square():
    fi, fo = 100, 400  # shape (out, in) = (400, 100)
    lecun = I.lecun_normal((fo, fi), rng=np.random.default_rng(3)).std()
    xavier = I.xavier_normal((fo, fi), rng=np.random.default_rng(3)).std()
    assert lecun == pytest.approx(1 / math.sqrt(fi), rel=0.02)
    assert xavier == pytest.approx(math.sqrt(2 / (fi + fo)), rel=0.02)
    assert lecun > 1.4 * xavier
    square = I.xavier_normal((200, 200), rng=np.random.default_rng(3)).std()
    assert square == pytest.approx(1 / math.sqrt(200), rel=0.02)


def test_weights_are_out_in():
    # (out, in) = (50, 800): fan_in is 800. Applying the formula to (in, out) would swap the fans.
    w = I.kaiming_normal((50, 800), nonlinearity="relu", rng=np.random.default_rng(4))
    assert w.std() == pytest.approx(math.sqrt(2 / 800), rel=0.03)
    assert I.fans((50, 800)) == (800, 50)
    lin = torch.nn.Linear(800, 50)
    assert tuple(lin.weight.shape) == (50, 800)


@pytest.mark.parametrize("shape", [(3, 5), (64, 3, 3, 3), (10, 20, 5), (7, 2, 1, 4, 4)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert I.fans(shape) == expected == fan_in_out(shape)


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.fans((5,))
    with pytest.raises(ValueError, match="shape must have at least 2 dimensions.*xavier_uniform"):
        I.xavier_uniform((5,), rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    "name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"],
)
def test_calculate_gain_matches_torch(name):
    assert I.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name), rel=1e-15)


def test_calculate_gain_values_and_slopes():
    assert I.calculate_gain("sigmoid") == 1.0
    assert I.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert I.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert I.calculate_gain("selu") == pytest.approx(0.75)
    assert I.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    for slope in (0.2, 1, math.sqrt(5)):
        assert I.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope), rel=1e-15
        )
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'.*'relu'"):
        I.calculate_gain("swish")
    for bad in ("0.1", True, [1], {"a": "b"}):  # torch raises ValueError for these too
        with pytest.raises(ValueError, match="param"):
            I.calculate_gain("leaky_relu", bad)
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain("leaky_relu", bad)


def test_kaiming_defaults_match_torch():
    for ours, theirs in [(I.kaiming_normal, torch.nn.init.kaiming_normal_),
                         (I.kaiming_uniform, torch.nn.init.kaiming_uniform_)]:
        our_params = inspect.signature(ours).parameters
        their_params = inspect.signature(theirs).parameters
        for p in ("a", "mode", "nonlinearity"):
            assert our_params[p].default == their_params[p].default
    assert inspect.signature(I.xavier_normal).parameters["gain"].default == 1.0
    assert inspect.signature(I.normal).parameters["std"].default == 1.0


def test_nn_linear_default_is_uniform_one_over_sqrt_fan_in():
    torch.manual_seed(0)
    fan_in = 250
    lin = torch.nn.Linear(fan_in, 400)
    w = lin.weight.detach().numpy().ravel()
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert_std(w, math.sqrt(1 / (3 * fan_in)), uniform=True)
    # it is kaiming_uniform with a = √5, not He (He would be √(6/fan_in) = √18 times wider)
    ours = I.kaiming_uniform((400, fan_in), a=math.sqrt(5), rng=np.random.default_rng(5))
    assert np.abs(ours).max() <= bound
    assert_same_distribution(ours.ravel(), w)
    he = I.kaiming_uniform((400, fan_in), nonlinearity="relu", rng=np.random.default_rng(5))
    assert he.std() / w.std() == pytest.approx(math.sqrt(6), rel=0.03)


@pytest.mark.parametrize("shape", [(50, 50), (30, 80), (80, 30), (16, 4, 3, 3)])
def test_orthogonal(shape):
    gain = 1.5
    w = I.orthogonal(shape, gain, rng=np.random.default_rng(6))
    assert w.shape == shape
    m = w.reshape(shape[0], -1) / gain
    rows, cols = m.shape
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)
    # same distribution of entries as torch's
    samples = np.concatenate([I.orthogonal(shape, rng=np.random.default_rng(s)).ravel() for s in range(20)])
    theirs = np.concatenate([torch_sample(torch.nn.init.orthogonal_, shape, seed=s) for s in range(20)])
    assert_same_distribution(samples, theirs)


def test_constant_schemes():
    assert np.array_equal(I.zeros((3, 4)), np.zeros((3, 4)))
    assert np.array_equal(I.ones(5), np.ones(5))
    c = I.constant((2, 3), 0.25, dtype=np.float32)
    assert c.dtype == np.float32 and np.all(c == 0.25)
    t = torch.empty(2, 3)
    torch.nn.init.constant_(t, 0.25)
    np.testing.assert_array_equal(c, t.numpy())


def test_dtype_and_new_arrays():
    rng = np.random.default_rng(7)
    w = I.xavier_uniform((20, 10), rng=rng, dtype=np.float32)
    assert w.dtype == np.float32
    a, b = I.zeros((2, 2)), I.zeros((2, 2))
    a[0, 0] = 1
    assert b[0, 0] == 0
    with pytest.raises(TypeError, match="dtype"):
        I.normal((2, 2), rng=rng, dtype=np.int64)


def test_same_seed_same_weights():
    a = I.kaiming_normal((10, 10), rng=np.random.default_rng(8))
    b = I.kaiming_normal((10, 10), rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)


def test_bad_input_names_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="std must be >= 0"):
        I.normal((3, 3), std=-1.0, rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        I.xavier_normal((3, 3), rng=42)
    with pytest.raises(TypeError, match="rng"):
        I.kaiming_uniform((3, 3), rng=np.random.RandomState(0))  # noqa: NPY002 - the legacy API is refused
    with pytest.raises(TypeError, match="rng"):
        I.orthogonal((3, 3))  # rng is required
    with pytest.raises(ValueError, match="unknown mode 'fan_avg'; valid choices: 'fan_in', 'fan_out'"):
        I.kaiming_normal((3, 3), mode="fan_avg", rng=rng)
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        I.kaiming_normal((3, 3), nonlinearity="swish", rng=rng)
    with pytest.raises(ValueError, match="unknown scheme 'he'.*'kaiming_normal'"):
        I.get("he")
    with pytest.raises(TypeError, match="shape"):
        I.zeros("3x3")
    with pytest.raises(ValueError, match=r"shape\[1\] must be >= 0"):
        I.zeros((3, -1))
    with pytest.raises(ValueError, match="a <= b"):
        I.uniform((3,), a=1.0, b=0.0, rng=rng)


@pytest.mark.parametrize("shape", [(3, 0), (0, 5), (0, 0), (4, 0, 3)])
@pytest.mark.parametrize("name", ["lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform",
                                  "kaiming_normal", "kaiming_uniform"])
def test_zero_element_shapes_warn_and_return_like_torch(name, shape):
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        w = I.get(name)(shape, rng=np.random.default_rng(0))
    assert w.shape == shape and w.dtype == np.float64
    if name.startswith("kaiming"):  # torch warns the same (its xavier_ divides by zero for (0, 0))
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            getattr(torch.nn.init, name + "_")(torch.empty(shape))


def test_mode_is_case_insensitive_like_torch():
    for mode in ("FAN_OUT", "Fan_Out"):
        w = I.kaiming_normal((40, 500), mode=mode, rng=np.random.default_rng(0))
        torch.nn.init.kaiming_normal_(torch.empty(40, 500), mode=mode)  # torch accepts it too
        assert w.std() == pytest.approx(math.sqrt(2 / 40), rel=0.03)  # fan_out = 40, not fan_in = 500


def test_zero_dim_shape_gives_0d_arrays():
    rng = np.random.default_rng(0)
    for f in (I.normal, I.uniform, I.trunc_normal, I.zeros, I.ones):
        w = f((), rng=rng)
        assert isinstance(w, np.ndarray) and w.shape == () and w.dtype == np.float64, f
    assert isinstance(I.normal((), mean=3.0, rng=rng), np.ndarray)


def test_every_scheme_takes_rng_keyword_and_constant_ones_ignore_it():
    for name, f in I.INITIALIZERS.items():
        p = inspect.signature(f).parameters
        assert list(p)[0] == "shape", name
        assert p["rng"].kind is inspect.Parameter.KEYWORD_ONLY and p["rng"].default is None, name
        assert p["dtype"].kind is inspect.Parameter.KEYWORD_ONLY, name
    for name in ("zeros", "ones", "eye"):
        a = I.INITIALIZERS[name]((3, 4), rng=np.random.default_rng(0))
        b = I.INITIALIZERS[name]((3, 4))
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(I.constant((2, 2), 0.5, rng=np.random.default_rng(1)), np.full((2, 2), 0.5))
    np.testing.assert_array_equal(I.dirac((2, 2, 3), rng=np.random.default_rng(1)), I.dirac((2, 2, 3)))
    assert set(I.INITIALIZERS) == set(I.TORCH_CALLS) == set(I.SCHEMES)  # live views of the one table
    for name, call in I.TORCH_CALLS.items():  # each names a real torch.nn.init function
        fn = call.split("(")[0]
        assert callable(getattr(torch.nn.init, fn)), (name, fn)


def test_initialize_by_name():
    w = I.initialize("xavier_uniform", (40, 60), rng=np.random.default_rng(9))
    assert np.abs(w).max() <= math.sqrt(6 / 100)
    usable = {name for name, s in I.SCHEMES.items() if s.shape_only}
    assert usable >= {"zeros", "ones", "normal", "uniform", "lecun_normal", "lecun_uniform",
                      "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "orthogonal"}
    assert np.all(I.initialize("zeros", (2, 2), rng=np.random.default_rng(0)) == 0)


# --------------------------------------------------------------------------- the four schemes added for torch parity


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 7), (0, 3)])
def test_eye_equals_torch(shape):
    t = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.eye_(t)
    np.testing.assert_array_equal(I.eye(shape), t.numpy())
    assert I.eye(shape, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("shape,groups", [((4, 3, 5), 1), ((6, 2, 3, 3), 2), ((9, 3, 2, 4), 3),
                                          ((3, 5, 3, 3, 3), 1), ((6, 1, 4), 3), ((2, 4, 1, 1), 1)])
def test_dirac_equals_torch(shape, groups):
    t = torch.randn(shape, dtype=torch.float64)  # dirac_ overwrites every entry
    torch.nn.init.dirac_(t, groups)
    np.testing.assert_array_equal(I.dirac(shape, groups), t.numpy())


def test_eye_and_dirac_refuse_what_torch_refuses():
    for shape in [(3,), (2, 3, 4)]:
        with pytest.raises(ValueError, match="exactly 2 dimensions"):
            I.eye(shape)
    for shape in [(3,), (3, 3), (1, 1, 1, 1, 1, 1)]:
        with pytest.raises(ValueError, match="3, 4 or 5 dimensions"):
            I.dirac(shape)
    with pytest.raises(ValueError, match="divisible by groups"):
        I.dirac((5, 2, 3), groups=2)
    with pytest.raises(ValueError):
        torch.nn.init.dirac_(torch.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0), (0.5, 2.0, -1.0, 0.0),
                                          (0.0, 1.0, 2.0, 3.0), (1.0, 0.5, 1.5, 4.0)])
def test_trunc_normal_matches_torch(mean, std, a, b):
    n = 20_000
    ours = I.trunc_normal(n, mean, std, a, b, rng=np.random.default_rng(11))
    assert ours.min() >= a and ours.max() <= b
    # the distribution the docs name (scipy's truncnorm takes standardized bounds) ...
    z = (ours - mean) / std
    assert stats.kstest(z, "truncnorm", args=((a - mean) / std, (b - mean) / std)).pvalue > 1e-4
    # ... and the same as torch's sample
    assert_same_distribution(ours, torch_sample(torch.nn.init.trunc_normal_, (n,), seed=11,
                                                mean=mean, std=std, a=a, b=b))


def test_trunc_normal_defaults_and_dtypes_like_torch():
    ours = inspect.signature(I.trunc_normal).parameters
    theirs = inspect.signature(torch.nn.init.trunc_normal_).parameters
    for p in ("mean", "std", "a", "b"):
        assert ours[p].default == theirs[p].default
    w = I.trunc_normal((100, 100), rng=np.random.default_rng(0), dtype=np.float16)
    assert w.dtype == np.float16 and w.min() >= -2 and w.max() <= 2
    assert np.unique(w).size > 3000  # rounded once from float64: no coarse float16 steps
    with pytest.raises(ValueError, match="a < b"):
        I.trunc_normal(3, a=1.0, b=1.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="std must be > 0"):
        I.trunc_normal(3, std=0.0, rng=np.random.default_rng(0))
    with pytest.warns(UserWarning, match="more than 2 std"):
        I.trunc_normal(10, mean=10.0, a=-1.0, b=1.0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("shape,sparsity,std", [((40, 30), 0.1, 0.01), ((200, 50), 0.5, 0.3), ((7, 9), 1.0, 0.01),
                                                ((10, 5), 0.0, 1.0)])
def test_sparse_matches_torch(shape, sparsity, std):
    rows, cols = shape
    ours = I.sparse(shape, sparsity, std, rng=np.random.default_rng(5))
    torch.manual_seed(5)
    theirs = torch.nn.init.sparse_(torch.empty(shape, dtype=torch.float64), sparsity, std).numpy()
    n_zeros = math.ceil(sparsity * rows)
    # exactly ⌈sparsity·rows⌉ zeros in every column (a N(0, std²) draw is never exactly 0)
    np.testing.assert_array_equal((ours == 0).sum(axis=0), np.full(cols, n_zeros))
    np.testing.assert_array_equal((theirs == 0).sum(axis=0), np.full(cols, n_zeros))
    if n_zeros < rows:
        nonzero = ours[ours != 0]
        assert stats.kstest(nonzero, "norm", args=(0, std)).pvalue > 1e-4
        assert_same_distribution(nonzero, theirs[theirs != 0])
    # zeros at random rows: over many columns every row is hit about equally
    if 0 < n_zeros < rows and cols >= 50:
        hits = (ours == 0).sum(axis=1)
        assert stats.chisquare(hits).pvalue > 1e-4


def test_sparse_refuses_what_torch_refuses():
    rng = np.random.default_rng(0)
    for shape in [(5,), (2, 3, 4)]:
        with pytest.raises(ValueError, match="exactly 2 dimensions"):
            I.sparse(shape, 0.1, rng=rng)
        with pytest.raises(ValueError):
            torch.nn.init.sparse_(torch.empty(shape), 0.1)
    with pytest.raises(TypeError, match="sparsity"):
        I.sparse((3, 3), "0.1", rng=rng)
    with pytest.raises(ValueError, match="sparsity must be <= 1"):
        I.sparse((3, 3), 1.5, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        I.sparse((3, 3), 0.1)


def test_every_scheme_returns_an_empty_array_for_a_zero_element_shape():
    extra = {"constant": {"value": 0.5}, "sparse": {"sparsity": 0.5}}
    # not (0, 0): torch's xavier_ divides by fan_in + fan_out = 0 there (coursekit warns and returns)
    shapes = {"dirac": [(0, 2, 3), (2, 0, 3)], "eye": [(0, 3), (3, 0)], "sparse": [(0, 3), (3, 0)]}
    for name, f in I.INITIALIZERS.items():
        for shape in shapes.get(name, [(0, 3), (3, 0), (2, 0, 4)]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # the fan-based ones warn, as torch's kaiming_ does
                w = f(shape, rng=np.random.default_rng(0), **extra.get(name, {}))
            assert w.shape == shape and w.dtype == np.float64, (name, shape)
            t = torch.empty(shape, dtype=torch.float64)
            torch_fn = getattr(torch.nn.init, I.TORCH_CALLS[name].split("(")[0])
            args = {"constant": (0.5,), "sparse": (0.5,)}.get(name, ())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                torch_fn(t, *args)  # torch accepts the same shape


# --------------------------------------------------------------------------- the one table of schemes


def test_the_docstring_table_is_the_table_of_schemes():
    """The table a reader sees at the top of init.py is SCHEMES, row by row (regenerate it with
    ``print(init.scheme_table())`` after adding a scheme)."""
    assert I.scheme_table() in I.__doc__
    for name, scheme in I.SCHEMES.items():
        assert scheme.name == name and scheme.function is I.get(name) and scheme.distribution, name
        assert callable(getattr(torch.nn.init, scheme.torch_call.split("(")[0])), name


def test_shape_only_schemes_take_any_weight_by_shape_and_rng_alone():
    """shape_only is true exactly where f(shape, rng=rng) works on a 2-D (out, in) weight; the
    others need an argument (constant, sparse) or a 3-5-D kernel (dirac)."""
    for name, scheme in I.SCHEMES.items():
        try:
            w = scheme.function((3, 5), rng=np.random.default_rng(0))
        except (TypeError, ValueError):
            assert not scheme.shape_only, name
        else:
            assert scheme.shape_only and w.shape == (3, 5), name
    usable = [name for name, s in I.SCHEMES.items() if s.shape_only]
    assert [W.shape for W in I.make_weights(2, 4, usable[-1], rng=np.random.default_rng(0), n_inputs=3)] == \
        [(4, 3), (4, 4)]
    with pytest.raises(ValueError, match="'constant' needs more arguments"):
        I.make_weights(1, 3, "constant", rng=np.random.default_rng(0))


def test_the_explorer_set_is_todays_dropdown():
    """in_explorer marks the schemes chapter 05's explorer listed before the table existed (every
    scheme usable by shape alone, except eye and trunc_normal, which the chapter does not use)."""
    shown = [name for name, s in I.SCHEMES.items() if s.in_explorer]
    assert shown == ["zeros", "ones", "normal", "uniform", "lecun_normal", "lecun_uniform", "xavier_normal",
                     "xavier_uniform", "kaiming_normal", "kaiming_uniform", "orthogonal"]
    assert all(I.SCHEMES[name].shape_only for name in shown)
    assert I.SCHEMES["uniform"].label == "uniform U(0, 1): NOT centred"  # torch's default is all-positive


def test_register_scheme_refuses_bad_entries():
    with pytest.raises(ValueError, match="new identifier"):
        I.register_scheme(I.SCHEMES["normal"])  # already there
    with pytest.raises(TypeError, match="scheme must be an init.Scheme"):
        I.register_scheme("normal")
    with pytest.raises(TypeError, match="scheme.function must be callable"):
        I.register_scheme(I.Scheme("bad", 3, "normal_(w)"))
    with pytest.raises(ValueError, match="scheme.torch_call must be"):
        I.register_scheme(I.Scheme("bad", I.normal, "normal_"))
    assert "bad" not in I.SCHEMES
