"""Every public function of coursekit's math modules, called with bad arguments.

For each function a cheap good call is written out (and must succeed), then each argument in
turn is replaced by every entry of the bad-value table for its kind: wrong types, shapes and
dtypes, None, NaN and inf, lists, strings, complex numbers, bool where a number is expected,
huge values. Each bad call must raise ValueError or TypeError whose message names the
argument — never an error from deep inside numpy, torch or matplotlib. numpy scalars such as
np.float32 where a float is expected must be accepted.

Entries that fail in modules this test does not fix are marked ``xfail(strict=True)`` with
their owner and what is wrong, so they turn into failures once fixed and the mark can go.
"""

from __future__ import annotations

import importlib
import inspect
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from coursekit import (  # noqa: E402
    activations,
    collapse,
    data,
    dense,
    experiments,
    init,
    neurons,
    plotting,
    softmax,
    training,
)
from coursekit._checks import (  # noqa: E402
    ArgumentTypeError,
    ArgumentValueError,
    Array,
    Arrays,
    Bool,
    Choice,
    Choices,
    Distribution,
    Dtype,
    Function,
    Indices,
    Instance,
    Int,
    Ints,
    Optional,
    Real,
    Rng,
    Text,
    is_sequence,
    validate,
)

MODULES = {"neurons": neurons, "dense": dense, "activations": activations, "collapse": collapse, "init": init,
           "softmax": softmax, "data": data, "training": training, "experiments": experiments, "plotting": plotting}


X43 = np.linspace(-1, 1, 12).reshape(4, 3)
W33 = [np.eye(3), np.eye(3) * 0.5]
MOONS_X, MOONS_Y = data.make_moons(20, rng=np.random.default_rng(1), standardize=True)  # chapter 05's inputs
GRID = (*np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 5)), np.linspace(0, 1, 25).reshape(5, 5))

# --------------------------------------------------------------------------- bad values by kind

COMMON = [("None", None), ("str", "abc"), ("dict", {"a": 1}), ("object", object())]
ARRAY = COMMON + [("strings", ["a", "b"]), ("ragged", [[1.0], [1.0, 2.0]]), ("complex", np.array([1 + 2j])),
                  ("bf16", torch.ones(3, dtype=torch.bfloat16))]
ARRAY2D = ARRAY + [("1d", np.ones(3)), ("3d", np.ones((2, 2, 2)))]
FLOAT = [("None", None), ("str", "0.1"), ("list", [0.1]), ("bool", True), ("complex", 1j), ("nan", math.nan),
         ("inf", math.inf), ("array", np.ones(2))]
SCALE = FLOAT + [("negative", -1.0)]  # a std, a scale, a width of a distribution
HUGE = SCALE + [("huge", 1e307)]  # ... whose samples, tens of std wide, would overflow float64
INT = [("None", None), ("str", "3"), ("float", 2.5), ("bool", True), ("list", [3]), ("negative", -3),
       ("huge", 10**12)]
COUNT = [b for b in INT if b[0] != "huge"]
CHOICE = [("None", None), ("int", 3), ("unknown", "nope"), ("list", ["sigmoid"])]
RNG = [("None", None), ("int", 42), ("legacy", np.random.RandomState(0))]  # noqa: NPY002 - refused on purpose
LAYERS = [("None", None), ("array", np.ones((2, 2))), ("empty", []), ("strings", ["a"]), ("1d", [np.ones(3)]),
          ("int", 5)]
FIGSIZE = [("str", "big"), ("one", (3.0,)), ("negative", (-1.0, 2.0)), ("strs", ("a", "b"))]


def case(where, good, kinds, *, alias=None):
    """``where`` ("module.name") called as ``func(**good)`` works; each argument in ``kinds`` gets its bad values."""
    return where, good, kinds, alias or {}


def _resolve(where: str):
    """The function written as "module.name", or, if it moved, the math module's function of that name."""
    mod_name, name = where.split(".", 1)
    func = getattr(importlib.import_module(f"coursekit.{mod_name}"), name, None)
    if func is None:
        func = next((vars(mod)[name] for mod in MODULES.values() if name in vars(mod)), None)
    return func


def _home(func, default: str) -> str:
    """"module.name" where ``func`` is defined, if that is a math module (rows follow a function that moves)."""
    mod_name = getattr(func, "__module__", "").removeprefix("coursekit.")
    return f"{mod_name}.{func.__name__}" if mod_name in MODULES else default


def _misfit(func, good, kinds) -> str | None:
    """Why a written row no longer fits ``func``'s signature (renamed arguments), or None."""
    params = inspect.signature(func).parameters
    unknown = [k for k in [*(good or {}), *kinds] if k not in params]
    return f"no argument {unknown} in {func.__name__}{inspect.signature(func)}" if unknown else None


def _rows(written: dict) -> tuple[dict, dict]:
    """The written rows keyed by each function's home, and the rows that fit no function any more."""
    rows, misfits = {}, {}
    for key, (where, good, kinds, alias) in written.items():
        func = _resolve(where) if isinstance(where, str) else where
        why = "no such function" if func is None else _misfit(func, good, kinds)
        if why:
            misfits[key] = why
        else:
            rows.setdefault(_home(func, key), (func, good, kinds, alias))
    return rows, misfits


WRITTEN = {
    # Every module walked here declares its arguments (@validate): their rows are derived below. Written rows
    # are left for the live explorers of coursekit.widgets only, until they declare theirs.
    "widgets.SlopePlot": case("widgets.SlopePlot", {"negative_slope": 0.1},
                                  {"negative_slope": FLOAT, "figsize": FIGSIZE, "dpi": COUNT}),
    "widgets.slope_explorer": case("widgets.slope_explorer", {"z": np.ones((2, 2))},
                                       {"z": ARRAY2D, "negative_slope": FLOAT + [("too big", 0.7)]}),
    "widgets.HistogramFrames": case("widgets.HistogramFrames", {"X": X43, "weights": W33},
                                        {"X": ARRAY2D, "weights": LAYERS}),
    "widgets.histogram_frame": case("widgets.histogram_frame", {"X": X43, "weights": W33},
                                        {"X": ARRAY2D, "weights": LAYERS, "activation": CHOICE, "scale": SCALE,
                                         "bins": COUNT, "value_range": [("None", None), ("str", "ab"),
                                                                        ("one", (1.0,)), ("reversed", (1.0, 0.0))]}),
}

CASES, MISFITS = _rows(WRITTEN)

# Public callables that take no argument a student could get wrong (records, the style switch).
NOT_WALKED_WRITTEN = {"training.PerceptronRun", "experiments.LayerStats", "experiments.ForwardResult",
              "experiments.BackwardResult", "experiments.TrainResult", "experiments.DeepRun", "activations.Spec", "activations.Activation",
              "init.Scheme", "init.scheme_table",
              "plotting.use_style", "training.ClassifierRun", "training.DeadRun"}
NOT_WALKED = {_home(f, w) for w in NOT_WALKED_WRITTEN if (f := _resolve(w)) is not None}



# Known failures in modules owned elsewhere: (case, argument, the failing bad labels separated by spaces) ->
# "owner: ... — what is wrong". None at the moment.
XFAIL: dict[tuple[str, str, str], str] = {}


def _public():
    """``{"module.name": callable}`` for every public callable defined in the math modules."""
    public = {}
    for mod_name, mod in MODULES.items():
        for name, obj in vars(mod).items():
            if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == mod.__name__:
                public[f"{mod_name}.{name}"] = obj
    return public


PUBLIC = _public()
DECLARED = {key: func for key, func in PUBLIC.items() if hasattr(func, "__constraints__")}


def test_every_public_function_is_walked():
    problems = []
    for key in PUBLIC:
        if key in NOT_WALKED or key in DECLARED:
            continue
        mod_name = key.split(".")[0]
        if key in CASES and any(k.startswith(mod_name + ".") for k in DECLARED):
            problems.append(f"{key} has a hand-written row, but {mod_name} declares its arguments: "
                            "declare this one too (@validate) and delete the row")
        elif key not in CASES:
            if any(k.startswith(mod_name + ".") for k in DECLARED):
                problems.append(f"{key} is public but declares no constraints: decorate it with "
                                "@validate(arg=..., ...) from coursekit._checks, one constraint per argument")
            else:
                problems.append(f"{key} is public but has no row in CASES and no @validate declaration")
    problems += [f"{key} declares its arguments (@validate): delete its hand-written row" for key in CASES
                 if key in DECLARED]
    walked = {key for key in CASES if not key.startswith("widgets.")}  # the explorers' cases: not a math module
    problems += [f"{key}: a row in CASES for no public function (renamed or moved?)" for key in walked - PUBLIC.keys()]
    problems += [f"the written row {key!r} fits no function any more: {why}" for key, why in MISFITS.items()
                 if (func := _resolve(WRITTEN[key][0])) is None or _home(func, key) not in CASES]
    assert not problems, "\n".join(problems)


def test_every_module_with_declarations_declares_them_all():
    # every public function of every module walked here declares its arguments (records and use_style excepted)
    for mod_name in MODULES:
        undeclared = [k for k in PUBLIC if k.startswith(mod_name + ".") and k not in DECLARED
                      and k not in NOT_WALKED]
        assert not undeclared, undeclared


def _call(func, kwargs):
    # register_scheme's and register's example calls add a scheme, an activation: taken out again
    tables = [(table, dict(table)) for table in (init.SCHEMES, activations.REGISTRY)]
    try:
        return func(**kwargs)
    finally:
        plt.close("all")
        for table, saved in tables:
            if table != saved:
                table.clear()
                table.update(saved)


# Checks that relate an argument to another one (or to a model's shape) stay in the function's body: the
# declarations cannot see them. One bad call each, over an otherwise good call; the error must name the argument.
def NET():
    return training.mlp([2, 3, 1], "tanh", generator=torch.Generator().manual_seed(0))


RELATIONS = {
    ("training.gradient_descent", "model", "3 inputs"): lambda: training.gradient_descent(
        nn.Linear(3, 1, dtype=torch.float64), MOONS_X, MOONS_Y, steps=2, lr=0.1),
    ("training.gradient_descent", "model", "2 outputs"): lambda: training.gradient_descent(
        nn.Linear(2, 2, dtype=torch.float64), MOONS_X, MOONS_Y, steps=2, lr=0.1),
    ("training.gradient_descent", "model", "float32"): lambda: training.gradient_descent(
        nn.Linear(2, 1), MOONS_X, MOONS_Y, steps=2, lr=0.1),
    ("training.gradient_descent", "model", "no parameters"): lambda: training.gradient_descent(
        nn.Identity(), MOONS_X, MOONS_Y, steps=2, lr=0.1),
    ("training.gradient_descent", "y", "short"): lambda: training.gradient_descent(
        NET(), MOONS_X, MOONS_Y[:3], steps=2, lr=0.1),
    ("training.gradient_descent", "y", "not 0/1"): lambda: training.gradient_descent(
        NET(), MOONS_X, MOONS_Y + 0.5, steps=2, lr=0.1),
    ("training.accuracy", "y", "short"): lambda: training.accuracy(NET(), MOONS_X, MOONS_Y[:3]),
    ("training.decision_grid", "X", "3 columns"): lambda: training.decision_grid(NET(), np.ones((4, 3)), n=5),
    ("training.dead_units", "model", "not a Sequential"): lambda: training.dead_units(nn.Linear(2, 3), MOONS_X),
    ("training.train_deep", "y", "not 0/1"): lambda: training.train_deep(MOONS_X, MOONS_Y + 0.5, steps=2),
    ("training.train_deep", "batchnorm", "beyond depth"): lambda: training.train_deep(
        MOONS_X, MOONS_Y, depth=2, width=3, batchnorm=[3], steps=2),
    ("training.train", "y", "short"): lambda: training.train(MOONS_X, MOONS_Y[:3], epochs=2, rng=np.random.default_rng(0)),
    ("training.fit_binary", "net", "3 inputs"): lambda: training.fit_binary(nn.Linear(3, 1), MOONS_X, MOONS_Y[:, None],
                                                                              steps=2),
    ("training.fit_binary", "net", "float64"): lambda: training.fit_binary(
        nn.Linear(2, 1, dtype=torch.float64), MOONS_X, MOONS_Y[:, None], steps=2),
    ("training.fit_binary", "net", "no parameters"): lambda: training.fit_binary(nn.Identity(), MOONS_X,
                                                                                   MOONS_Y[:, None], steps=2),
    ("training.fit_binary", "y", "(N,)"): lambda: training.fit_binary(nn.Linear(2, 1), MOONS_X, MOONS_Y, steps=2),
    ("training.train_perceptron", "y", "not 0/1"): lambda: training.train_perceptron(MOONS_X, MOONS_Y + 0.5),
    ("training.train_perceptron", "w0", "3 weights"): lambda: training.train_perceptron(MOONS_X, MOONS_Y, w0=np.ones(3)),
    ("training.train_linear_classifier", "y", "short"): lambda: training.train_linear_classifier(
        MOONS_X, np.zeros(3, dtype=int), steps=2),
    ("data.rotate", "X", "3 columns"): lambda: data.rotate(np.ones((4, 3)), 30.0),
    ("data.make_blobs", "num_classes", "too many points"): lambda: data.make_blobs(
        1000, 10_000, rng=np.random.default_rng(0)),
    ("init.dirac", "groups", "not dividing"): lambda: init.dirac((4, 2, 3), groups=3),
    ("init.uniform", "b", "below a"): lambda: init.uniform((3, 4), a=1.0, b=-1.0, rng=np.random.default_rng(0)),
    ("init.trunc_normal", "a", "above b"): lambda: init.trunc_normal((3, 4), a=3.0, rng=np.random.default_rng(0)),
    ("init.normal", "std", "huge"): lambda: init.normal((3, 4), std=1e307, rng=np.random.default_rng(0)),
    ("init.xavier_normal", "gain", "huge"): lambda: init.xavier_normal((3, 4), gain=1e307,
                                                                       rng=np.random.default_rng(0)),
    ("init.make_weights", "scale", "huge"): lambda: init.make_weights(2, 3, rng=np.random.default_rng(0), scale=1e300),
    ("experiments.backward", "zs", "one short"): lambda: experiments.backward(
        np.ones((4, 3)), X43, W33, experiments.forward(X43, W33[:1])[0]),
    ("experiments.variance_recursion", "weight_std", "huge"): lambda: experiments.variance_recursion(weight_std=1e200),
    ("activations.saturation_bounds", "name", "no interval"): lambda: activations.saturation_bounds("gelu"),
    ("activations.get", "negative_slope", "not its parameter"): lambda: activations.get("tanh", negative_slope=0.1),
    ("plotting.scatter_classes", "y", "class 2"): lambda: plotting.scatter_classes(MOONS_X, np.full(20, 2.0)),
    ("plotting.plot_function", "ys", "short"): lambda: plotting.plot_function([0.0, 1.0], {"y": [1.0]}),
    ("plotting.plot_decision_regions", "p", "other shape"): lambda: plotting.plot_decision_regions(
        GRID[0], GRID[1], np.ones((4, 4)), MOONS_X, MOONS_Y),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("key", list(RELATIONS), ids=["-".join(k) for k in RELATIONS])
def test_relation_checks_name_the_argument(key):
    _, arg, _ = key
    try:
        with pytest.raises((TypeError, ValueError)) as info:
            RELATIONS[key]()
    finally:
        plt.close("all")
    assert arg in str(info.value), f"{type(info.value).__name__}: {info.value}"
    tb = info.traceback
    assert "coursekit" in str(tb[-1].path) or "coursekit" in str(tb[-2].path), f"raised from {tb[-1].path}"


@pytest.mark.parametrize("key", [k for k, c in CASES.items() if c[1] is not None])
def test_the_good_call_works(key):
    func, good, _, _ = CASES[key]
    _call(func, dict(good))


def _bad_params():
    for key, (_func, _good, kinds, _alias) in CASES.items():
        for arg, bads in kinds.items():
            for label, value in bads:
                marks = []
                reason = next((why for (k, a, labels), why in XFAIL.items()
                               if k == key and a == arg and label in labels.split(" ")), None)
                if reason:
                    marks = [pytest.mark.xfail(strict=True, reason=reason)]
                yield pytest.param(key, arg, label, value, id=f"{key}-{arg}-{label}", marks=marks)


@pytest.mark.filterwarnings("ignore::UserWarning")  # e.g. trunc_normal's "mean is more than 2 std" warning
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # matplotlib casting a bad complex value
@pytest.mark.parametrize("key,arg,label,value", list(_bad_params()))
def test_bad_argument_is_named(key, arg, label, value):
    func, good, _, alias = CASES[key]
    kwargs = dict(good or {})
    kwargs[arg] = value
    with pytest.raises((TypeError, ValueError)) as info:
        _call(func, kwargs)
    message = str(info.value)
    names = {arg, alias.get(arg, arg)}
    assert any(n in message for n in names), f"{type(info.value).__name__}: {message}"
    # an error raised by numpy/torch/matplotlib internals is not a check: it must come from coursekit
    tb = info.traceback
    assert "coursekit" in str(tb[-1].path) or "coursekit" in str(tb[-2].path), f"raised from {tb[-1].path}"


def _float_params():
    for key, (_func, good, kinds, _alias) in CASES.items():
        if good is None:
            continue
        for arg, bads in kinds.items():
            if bads in (FLOAT, SCALE, HUGE) or any(b[0] == "nan" for b in bads):
                yield pytest.param(key, arg, id=f"{key}-{arg}")


NUMPY_SCALAR_VALUES = {"init": 0.01, "negative_slope": 0.1, "std": 0.5, "sparsity": 0.5, "threshold": 0.05}


@pytest.mark.parametrize("key,arg", list(_float_params()))
def test_numpy_float32_is_accepted_where_a_float_is(key, arg):
    func, good, _, _ = CASES[key]
    kwargs = dict(good)
    default = kwargs.get(arg, NUMPY_SCALAR_VALUES.get(arg, 0.5))
    kwargs[arg] = np.float32(default)
    _call(func, kwargs)


def test_bfloat16_logits_are_widened_like_torch():
    # numpy has no bfloat16: softmax & co. widen it (exactly) to float32 and answer in float32,
    # the values torch computes from the same bfloat16 tensor widened to float32
    z = torch.tensor([[0.5, -1.25, 3.0, 0.0], [10.0, 9.5, -2.0, 1.0]], dtype=torch.bfloat16)
    zf = z.float()
    for name, want in [("softmax", torch.softmax(zf, dim=-1)), ("naive_softmax", torch.softmax(zf, dim=-1)),
                       ("log_softmax", torch.log_softmax(zf, dim=-1))]:
        got = getattr(softmax, name)(z)
        assert got.dtype == np.float32, name
        np.testing.assert_allclose(got, want.numpy(), rtol=2e-6, atol=1e-7, err_msg=name)
        # and within bfloat16's rounding (8 significant bits) of torch's own bfloat16 result; log_softmax
        # z - max - log Σ exp rounds terms as large as max|z| in bfloat16, so its error scales with them
        ref = getattr(torch, name.removeprefix("naive_"))(z, dim=-1).float().numpy()
        atol = 2**-7 * float(zf.abs().max()) if name == "log_softmax" else 1e-6
        np.testing.assert_allclose(got, ref, rtol=2**-7, atol=atol, err_msg=name)
    got = softmax.softmax(z, axis=0)
    np.testing.assert_allclose(got, torch.softmax(zf, dim=0).numpy(), rtol=2e-6, atol=1e-7)
    v = z[0]
    jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=-1), v.float())
    got = softmax.softmax_jacobian(v)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, jac.numpy(), rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- rows derived from the declarations
#
# A function declared with @validate needs no row: its arguments' constraints give a call that
# passes every declaration (defaults, and each required argument's example) and, per argument,
# a short list of bad values of that kind. The decorator checks every argument before the body
# runs, so each bad value must be refused by *that argument's* declaration: the error carries
# ``.argument``, names it in the message, and is raised in coursekit, never inside numpy.

ARGUMENT_ERRORS = (ArgumentTypeError, ArgumentValueError)


def _origin(exc: BaseException) -> str:
    """The file of the innermost frame that raised: for an argument error, of the check it re-raises."""
    if isinstance(exc, ARGUMENT_ERRORS) and exc.__context__ is not None:
        exc = exc.__context__  # the check's own error (raised "from None", so still the context)
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename


# Arguments that make a declared function's generated call cheap (a training run of 2 steps, not 2000), or
# agree with each other where one example cannot fit all (fit_binary's y is one column); each is a good value.
CHEAP = {
    "training.train_perceptron": {"epochs": 2},
    "training.train_linear_classifier": {"steps": 2},
    "training.gradient_descent": {"steps": 2},
    "training.train_classifier": {"steps": 2},
    "training.fit_curve": {"steps": 2, "n": 10},
    "training.dead_after_training": {"steps": 2, "width": 3, "n": 10},
    "training.damaged_layer": {"width": 3, "n": 10},
    "training.damaged_layer_run": {"steps": 2, "width": 3, "n": 10},
    "training.default_init_dead": {"width": 3, "n": 10},
    "training.sigmoid_stack_gradient": {"width": 3},
    "training.compare_activations": {"steps": 2, "depth": 1, "width": 2, "n": 10},
    "training.train": {"epochs": 2, "hidden": (3,)},
    "training.train_deep": {"steps": 2, "depth": 2, "width": 3},
    "training.fit_binary": {"y": np.ones((2, 1)), "steps": 2},
    "activations.saturation_bounds": {"name": "sigmoid"},  # the first name, the step, has no unsaturated interval
    "plotting.plot_decision_regions": {"g1": GRID[0], "g2": GRID[1], "p": GRID[2], "X": MOONS_X, "y": MOONS_Y},
}


def _declared_call(func) -> dict:
    # the required arguments, and an rng whose None default stands for "required" (see _checks.Rng)
    call = {name: func.__constraints__[name].example()
            for name, param in inspect.signature(func).parameters.items()
            if (param.default is param.empty and param.kind != param.VAR_KEYWORD)
            or (param.default is None and getattr(func.__constraints__[name], "none_default_required", False))}
    return {**call, **CHEAP.get(_home(func, ""), {})}


def _named_in(message: str, arg: str, constraint) -> bool:
    label = getattr(getattr(constraint, "inner", constraint), "label", None)  # Choice(label="gate"): "unknown gate"
    return arg in message or (label is not None and label in message)


def _derived_params():
    for key, func in DECLARED.items():
        for arg, constraint in func.__constraints__.items():
            for label, value in constraint.bad_values():
                yield pytest.param(key, arg, label, value, id=f"{key}-{arg}-{label}")


@pytest.mark.parametrize("key,arg,label,value", list(_derived_params()))
def test_declared_argument_refuses_its_bad_values(key, arg, label, value):
    func = DECLARED[key]
    with pytest.raises(ARGUMENT_ERRORS) as info:
        _call(func, {**_declared_call(func), arg: value})
    assert info.value.argument == arg, f"refused as {info.value.argument!r}: {info.value}"
    assert _named_in(str(info.value), arg, func.__constraints__[arg]), str(info.value)
    assert "coursekit" in _origin(info.value), f"raised from {_origin(info.value)}"


@pytest.mark.parametrize("key", list(DECLARED))
def test_declared_function_runs_on_its_examples(key):
    # the generated call is a good call (so each bad value above is the only thing wrong with its call)
    _call(DECLARED[key], _declared_call(DECLARED[key]))


def _declared_reals():
    for key, func in DECLARED.items():
        params = inspect.signature(func).parameters
        for arg, constraint in func.__constraints__.items():  # (a **params keyword is named by the caller)
            if isinstance(getattr(constraint, "inner", constraint), Real) and params[arg].kind != params[arg].VAR_KEYWORD:
                yield pytest.param(key, arg, id=f"{key}-{arg}")


@pytest.mark.parametrize("key,arg", list(_declared_reals()))
def test_declared_real_accepts_numpy_float32(key, arg):
    func = DECLARED[key]
    constraint = func.__constraints__[arg]
    value = np.float32(constraint.example())
    assert type(constraint.check(arg, value)) is float
    _call(func, {**_declared_call(func), arg: value})


# --------------------------------------------------------------------------- the mechanism itself

KINDS = {
    "n": Int(minimum=1, maximum=10), "r": Real(positive=True, maximum=10.0), "m": Real(minimum=-1.0), "flag": Bool(),
    "mode": Choice(["fan_in", "fan_out"]), "rng": Rng(), "f": Function(none_means="the identity"),
    "x": Array(ndim=2), "z": Array(ndim=1, logits=True), "w0": Optional(Array(ndim=1)), "t": Indices(),
    "p": Distribution(), "dtype": Dtype(), "sizes": Ints(minimum=1, min_len=2), "Ws": Arrays(2, what="matrices", min_len=1),
    "model": Instance("torch.nn", "Sequential", what="a torch.nn.Sequential", make=lambda: nn.Sequential()),
    "names": Choices(["relu", "tanh"], what="activation names"), "title": Text(),
}


@validate(**KINDS)
def dummy(n, r, m, flag, mode, rng, f, x, z, w0, t, p, dtype, sizes, Ws, model, names, title):
    return dict(n=n, r=r, m=m, flag=flag, mode=mode, rng=rng, f=f, x=x, z=z, w0=w0, t=t, p=p, dtype=dtype,
                sizes=sizes, Ws=Ws, model=model, names=names, title=title)


GOOD = {name: c.example() for name, c in KINDS.items()}


def test_dummy_accepts_every_example_and_converts():
    got = dummy(**{**GOOD, "x": [[1, 2], [3, 4]], "sizes": np.array([3, 4]), "Ws": np.ones((2, 3, 3))})
    assert isinstance(got["x"], np.ndarray) and got["x"].dtype == np.float64  # ints became floats
    assert got["sizes"] == [3, 4] and all(type(k) is int for k in got["sizes"])  # an array of widths is a list
    assert len(got["Ws"]) == 2 and got["Ws"][0].shape == (3, 3)  # (L, out, in) is L matrices
    assert got["f"] is np.tanh and got["dtype"] == np.float64


@pytest.mark.parametrize("arg", list(KINDS))
def test_dummy_refuses_each_bad_kind_naming_the_argument(arg):
    # one test per kind, every bad value of that kind in it (the walk above has one id per value)
    wrong = []
    for label, value in KINDS[arg].bad_values():
        try:
            dummy(**{**GOOD, arg: value})
            wrong.append(f"{label}: accepted")
        except ARGUMENT_ERRORS as exc:
            where = _origin(exc)  # refused in coursekit._checks, never inside numpy or torch
            if exc.argument != arg or arg not in str(exc) or not where.endswith("_checks.py"):
                wrong.append(f"{label}: {exc.argument!r} in {where}: {exc}")
    assert KINDS[arg].bad_values() and not wrong, wrong


def test_numpy_scalars_are_accepted_as_python_numbers():
    got = dummy(**{**GOOD, "n": np.int64(3), "r": np.float32(0.25), "m": np.float16(-0.5), "flag": np.bool_(False)})
    assert (got["n"], got["r"], got["m"], got["flag"]) == (3, 0.25, -0.5, False)
    assert (type(got["n"]), type(got["r"]), type(got["m"]), type(got["flag"])) == (int, float, float, bool)


def test_declarations_are_introspectable_and_keep_the_signature():
    assert dict(dummy.__constraints__) == KINDS
    with pytest.raises(TypeError):
        dummy.__constraints__["n"] = Int()  # read-only: the declaration is the one place
    assert list(inspect.signature(dummy).parameters) == list(KINDS)
    assert neurons.weighted_sum.__constraints__["w"].ndim == (1,)


def test_a_declaration_must_cover_every_parameter_and_its_defaults():
    with pytest.raises(TypeError, match=r"missing \['b'\]"):
        validate(a=Int())(lambda a, b: None)
    with pytest.raises(TypeError, match=r"not parameters \['c'\]"):
        validate(a=Int(), c=Int())(lambda a: None)
    with pytest.raises(ValueError, match="a must be >= 1; got 0"):  # a default its own rule refuses
        validate(a=Int(minimum=1))(lambda a=0: None)


def test_each_extra_keyword_is_checked_under_its_own_name():
    @validate(x=Int(), params=Real(positive=True))
    def f(x, **params):
        return x, params

    got = f(1, a=np.float32(0.5), b=2)
    assert got == (1, {"a": 0.5, "b": 2.0}) and all(type(v) is float for v in got[1].values())
    assert f(x=3) == (3, {})
    with pytest.raises(ArgumentValueError, match="b must be > 0; got 0.0") as info:
        f(1, a=1.0, b=0.0)
    assert info.value.argument == "b"
    with pytest.raises(TypeError, match="positional argument"):
        f(1, 2)
    with pytest.raises(TypeError, match="missing a required argument"):
        f(a=1.0)


def test_an_rng_whose_default_is_none_must_still_be_given():
    @validate(rng=Rng())
    def draw(*, rng=None):  # the signature every init scheme shares
        return rng.standard_normal()

    with pytest.raises(ArgumentTypeError, match="rng must be a numpy.random.Generator") as info:
        draw()
    assert info.value.argument == "rng"
    assert isinstance(draw(rng=np.random.default_rng(0)), float)


def test_wrong_arity_is_pythons_own_error():
    with pytest.raises(TypeError, match="missing a required argument"):
        neurons.weighted_sum([1.0])


def test_one_meaning_of_a_sequence():
    yes = [[1, 2], (1, 2), range(3), np.array([3, 4, 2]), np.ones((2, 3, 3)), []]
    no = ["16", b"16", {"a": 1}, {1, 2}, (k for k in range(2)), np.array(3), 16, None, torch.ones(3)]
    assert all(is_sequence(v) for v in yes)
    assert not any(is_sequence(v) for v in no)


def test_a_single_matrix_where_a_list_of_them_is_expected_is_a_type_error():
    with pytest.raises(TypeError, match="weights must be a non-empty list of .out, in. matrices"):
        dense.dense_forward(np.ones((2, 3)), np.ones((4, 3)))
    out = dense.dense_forward(np.ones((2, 3)), np.stack([np.eye(3), np.eye(3)]))  # (L, out, in): L layers
    np.testing.assert_array_equal(out, np.ones((2, 3)))
