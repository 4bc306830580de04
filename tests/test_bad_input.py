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

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from coursekit import activations, collapse, dense, experiments, init, neurons, plotting, softmax  # noqa: E402

MODULES = {"neurons": neurons, "dense": dense, "activations": activations, "collapse": collapse, "init": init,
           "softmax": softmax, "experiments": experiments, "plotting": plotting}


def R():
    return np.random.default_rng(0)


X43 = np.linspace(-1, 1, 12).reshape(4, 3)
W33 = [np.eye(3), np.eye(3) * 0.5]
ZS = experiments.forward(X43, W33, "sigmoid")[0]
MOONS_X, MOONS_Y = experiments.make_moons(20, rng=np.random.default_rng(1))
STATS = [experiments.layer_stats(np.ones((4, 3)), np.ones((4, 3)))]
MODEL = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
GRID = (*np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 5)), np.linspace(0, 1, 25).reshape(5, 5))

# --------------------------------------------------------------------------- bad values by kind

COMMON = [("None", None), ("str", "abc"), ("dict", {"a": 1}), ("object", object())]
ARRAY = COMMON + [("strings", ["a", "b"]), ("ragged", [[1.0], [1.0, 2.0]]), ("complex", np.array([1 + 2j])),
                  ("bf16", torch.ones(3, dtype=torch.bfloat16))]
ARRAY_OR_NONE = [b for b in ARRAY if b[0] != "None"]
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
RNG_OPTIONAL = [b for b in RNG if b[0] != "None"]
SHAPE = [("str", "3x3"), ("None", None), ("negative", (3, -1)), ("float", (2.5, 3)), ("bool", (True, 2)),
         ("huge", (10**6, 10**6))]
BOOL = [("str", "no"), ("None", None), ("int", 2), ("list", [True])]
AXES = [("int", 123), ("str", "x")]
MODELS = [("None", None), ("Linear", nn.Linear(2, 2)), ("list", [nn.Linear(2, 2)]), ("str", "model")]
LAYERS = [("None", None), ("array", np.ones((2, 2))), ("empty", []), ("strings", ["a"]), ("1d", [np.ones(3)]),
          ("int", 5)]
SIZES = [("None", None), ("str", "16"), ("int", 16), ("strs", [16, "a"]), ("floats", [16, 2.5]), ("zero", [3, 0])]
CALLABLE_OR_NONE = [("str", "relu"), ("int", 3)]
DTYPE = [("int", np.int64), ("str", "abc"), ("complex", np.complex128)]
FIGSIZE = [("str", "big"), ("one", (3.0,)), ("negative", (-1.0, 2.0)), ("strs", ("a", "b"))]
INIT = [("unknown", "nope"), ("list", ["normal"]), ("negative", -1.0), ("nan", math.nan)]  # a scheme name or a std


def case(func, good, kinds, *, alias=None):
    """``func`` called as ``func(**good)`` works; each argument in ``kinds`` gets its bad values."""
    return func, good, kinds, alias or {}


CASES = {
    # neurons
    "neurons.step": case(neurons.step, {"z": [0.5, -1.0]}, {"z": ARRAY}),
    "neurons.weighted_sum": case(neurons.weighted_sum, {"x": [1.0, 2.0], "w": [0.5, 0.5], "b": 0.1},
                                 {"x": ARRAY, "w": ARRAY, "b": FLOAT}),
    "neurons.neuron": case(neurons.neuron, {"x": [1.0, 2.0], "w": [0.5, 0.5], "b": 0.1},
                           {"x": ARRAY, "w": ARRAY, "b": FLOAT, "activation": CALLABLE_OR_NONE}),
    "neurons.gate": case(neurons.gate, {"name": "AND"}, {"name": CHOICE, "x": ARRAY2D}, alias={"name": "gate"}),
    "neurons.xor_two_layer": case(neurons.xor_two_layer, {}, {"x": ARRAY2D}),
    "neurons.train_perceptron": case(neurons.train_perceptron,
                                     {"X": neurons.GATE_INPUTS, "y": [0.0, 0.0, 0.0, 1.0], "epochs": 3},
                                     {"X": ARRAY2D, "y": ARRAY, "lr": SCALE, "epochs": COUNT, "w0": ARRAY_OR_NONE,
                                      "b0": FLOAT}),
    "neurons.plot_decision_boundary": case(neurons.plot_decision_boundary, {"w": [1.0, 1.0], "b": -1.5},
                                           {"w": ARRAY, "b": FLOAT, "X": ARRAY2D, "y": ARRAY_OR_NONE, "ax": AXES}),
    # dense
    "dense.dense_forward": case(dense.dense_forward, {"X": X43, "weights": W33},
                                {"X": ARRAY, "weights": LAYERS, "biases": [("str", "b"), ("int", 3)],
                                 "activation": CALLABLE_OR_NONE, "output_activation": CALLABLE_OR_NONE,
                                 "return_all": BOOL}),
    "dense.layer_params": case(dense.layer_params, {"n_in": 3, "n_out": 2},
                               {"n_in": COUNT, "n_out": COUNT, "bias": BOOL}),
    "dense.count_params": case(dense.count_params, {"layer_sizes": [3, 4, 2]}, {"layer_sizes": SIZES, "bias": BOOL}),
    "dense.layer_names": case(dense.layer_names, {"n_layers": 3}, {"n_layers": COUNT}),
    "dense.draw_network": case(dense.draw_network, {"layer_sizes": [2, 3, 1]},
                               {"layer_sizes": SIZES, "ax": AXES}),
    # activations: every numpy function, then the helpers
    **{f"activations.{name}": case(getattr(activations, name), {"x": [0.5, -1.0]}, {"x": ARRAY})
       for name in ["step_grad", "identity", "identity_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu",
                    "relu_grad", "gelu", "gelu_grad", "silu", "silu_grad"]},
    "activations.leaky_relu": case(activations.leaky_relu, {"x": [0.5, -1.0]},
                                   {"x": ARRAY, "negative_slope": FLOAT}),
    "activations.leaky_relu_grad": case(activations.leaky_relu_grad, {"x": [0.5, -1.0]},
                                        {"x": ARRAY, "negative_slope": FLOAT}),
    "activations.register": case(activations.register, None, {"spec": COMMON + [("name", "tanh")]}),
    "activations.peak_grad": case(activations.peak_grad, {"name": "sigmoid"}, {"name": CHOICE}),
    "activations.get": case(activations.get, {"name": "sigmoid"}, {"name": CHOICE}),
    "activations.saturation_bounds": case(activations.saturation_bounds, {"name": "sigmoid"},
                                          {"name": CHOICE + [("no interval", "gelu")], "threshold": SCALE + [("above 1", 2.0)]}),
    "activations.autograd_grad": case(activations.autograd_grad, {"activation": "tanh", "x": [0.5, -1.0]},
                                      {"activation": CHOICE, "x": ARRAY}, alias={"activation": "name"}),
    "activations.saturated_fraction": case(activations.saturated_fraction, {"z": [0.5, 5.0]},
                                           {"z": ARRAY, "activation": CHOICE, "threshold": SCALE + [("above 1", 2.0)]},
                                           alias={"activation": "name"}),
    "activations.dead_fraction": case(activations.dead_fraction, {"h": np.ones((2, 2))}, {"h": ARRAY2D}),
    "activations.zero_fraction": case(activations.zero_fraction, {"h": np.ones((2, 2))}, {"h": ARRAY2D}),
    "activations.plot_activation": case(activations.plot_activation, {"activation": "tanh"},
                                        {"activation": CHOICE, "x": ARRAY_OR_NONE + [("2d", np.ones((2, 2)))],
                                         "axes": AXES}, alias={"activation": "name"}),
    "activations.slope_stats": case(activations.slope_stats, {"z": np.ones((2, 2)), "negative_slope": 0.1},
                                    {"z": ARRAY2D, "negative_slope": FLOAT}),
    "activations.SlopePlot": case(activations.SlopePlot, {"negative_slope": 0.1},
                                  {"negative_slope": FLOAT, "figsize": FIGSIZE, "dpi": COUNT}),
    "activations.slope_explorer": case(activations.slope_explorer, {"z": np.ones((2, 2))},
                                       {"z": ARRAY2D, "negative_slope": FLOAT + [("too big", 0.7)]}),
    # collapse
    "collapse.collapse_weights": case(collapse.collapse_weights, {"weights": W33},
                                      {"weights": LAYERS, "biases": [("str", "b"), ("int", 3), ("short", [None])]}),
    "collapse.linear_layers": case(collapse.linear_layers, {"model": MODEL}, {"model": MODELS}),
    "collapse.collapse_linear": case(collapse.collapse_linear, {"model": MODEL}, {"model": MODELS}),
    "collapse.rank_bound": case(collapse.rank_bound, {"model": MODEL}, {"model": MODELS}),
    # init
    "init.fans": case(init.fans, {"shape": (3, 4)}, {"shape": SHAPE + [("1d", (3,))]}),
    "init.calculate_gain": case(init.calculate_gain, {"nonlinearity": "leaky_relu"},
                                {"nonlinearity": CHOICE, "param": [b for b in FLOAT if b[0] != "None"]}),
    "init.zeros": case(init.zeros, {"shape": (3, 4)}, {"shape": SHAPE, "dtype": DTYPE}),
    "init.ones": case(init.ones, {"shape": (3, 4)}, {"shape": SHAPE, "dtype": DTYPE}),
    "init.constant": case(init.constant, {"shape": (3, 4), "value": 0.5},
                          {"shape": SHAPE, "value": FLOAT, "dtype": DTYPE}),
    "init.eye": case(init.eye, {"shape": (3, 4)}, {"shape": SHAPE + [("3d", (2, 2, 2))], "dtype": DTYPE}),
    "init.dirac": case(init.dirac, {"shape": (4, 2, 3)},
                       {"shape": SHAPE + [("2d", (2, 2))], "groups": COUNT + [("not dividing", 3)], "dtype": DTYPE}),
    "init.normal": case(init.normal, {"shape": (3, 4), "rng": R()},
                        {"shape": SHAPE, "mean": FLOAT, "std": HUGE, "rng": RNG, "dtype": DTYPE}),
    "init.uniform": case(init.uniform, {"shape": (3, 4), "rng": R()},
                         {"shape": SHAPE, "a": FLOAT, "b": FLOAT + [("above", -1.0)],
                          "rng": RNG, "dtype": DTYPE}),
    "init.trunc_normal": case(init.trunc_normal, {"shape": (3, 4), "rng": R()},
                              {"shape": SHAPE, "mean": FLOAT, "std": SCALE, "a": FLOAT + [("above b", 3.0)],
                               "b": FLOAT, "rng": RNG, "dtype": DTYPE}),
    "init.sparse": case(init.sparse, {"shape": (3, 4), "sparsity": 0.5, "rng": R()},
                        {"shape": SHAPE + [("3d", (2, 2, 2))], "sparsity": SCALE, "std": HUGE, "rng": RNG,
                         "dtype": DTYPE}),
    **{f"init.{name}": case(getattr(init, name), {"shape": (3, 4), "rng": R()},
                            {"shape": SHAPE + [("1d", (3,))], "rng": RNG, "dtype": DTYPE})
       for name in ["lecun_normal", "lecun_uniform"]},
    **{f"init.{name}": case(getattr(init, name), {"shape": (3, 4), "rng": R()},
                            {"shape": SHAPE + [("1d", (3,))], "gain": HUGE if name != "orthogonal" else SCALE,
                             "rng": RNG, "dtype": DTYPE})
       for name in ["xavier_normal", "xavier_uniform", "orthogonal"]},
    **{f"init.{name}": case(getattr(init, name), {"shape": (3, 4), "rng": R()},
                            {"shape": SHAPE + [("1d", (3,))], "a": FLOAT, "mode": CHOICE, "nonlinearity": CHOICE,
                             "rng": RNG, "dtype": DTYPE})
       for name in ["kaiming_normal", "kaiming_uniform"]},
    "init.get": case(init.get, {"name": "normal"}, {"name": CHOICE}, alias={"name": "scheme"}),
    "init.initialize": case(init.initialize, {"name": "normal", "shape": (3, 4), "rng": R()},
                            {"name": CHOICE, "shape": SHAPE, "rng": RNG, "dtype": DTYPE}, alias={"name": "scheme"}),
    # softmax (H4)
    **{f"softmax.{name}": case(getattr(softmax, name), {"z": X43},
                               {"z": ARRAY + [("ints", np.ones((2, 2), dtype=int))], "axis": COUNT + [("out", 5)]})
       for name in ["softmax", "log_softmax", "naive_softmax"]},
    "softmax.softmax_jacobian": case(softmax.softmax_jacobian, {"z": [0.5, 1.0]}, {"z": ARRAY}),
    "softmax.one_hot": case(softmax.one_hot, {"targets": [0, 2], "num_classes": 3},
                            {"targets": ARRAY + [("out of range", [0, 3])], "num_classes": COUNT,
                             "dtype": [("str", "abc")]}),  # integer one-hot rows are fine
    "softmax.cross_entropy": case(softmax.cross_entropy, {"logits": X43, "targets": [0, 1, 2, 0]},
                                  {"logits": ARRAY2D, "targets": ARRAY + [("out of range", [0, 1, 2, 3])]}),
    "softmax.cross_entropy_grad": case(softmax.cross_entropy_grad, {"logits": X43, "targets": [0, 1, 2, 0]},
                                       {"logits": ARRAY2D, "targets": ARRAY + [("out of range", [0, 1, 2, 3])]}),
    # experiments (H4)
    "experiments.make_weights": case(experiments.make_weights, {"depth": 2, "width": 3, "rng": R()},
                                     {"depth": COUNT, "width": COUNT, "init": INIT,
                                      "rng": RNG, "scale": HUGE, "n_inputs": COUNT[1:]}, alias={"init": "scheme"}),
    "experiments.forward": case(experiments.forward, {"X": X43, "weights": W33},
                                {"X": ARRAY2D, "weights": LAYERS, "activation": CHOICE}),
    "experiments.layer_stats": case(experiments.layer_stats, {"z": np.ones((4, 3)), "h": np.ones((4, 3))},
                                    {"z": ARRAY2D, "h": ARRAY2D, "activation": CHOICE}),
    "experiments.format_stats": case(experiments.format_stats, {"stats": STATS, "activation": "sigmoid"},
                                     {"stats": [("None", None), ("str", "s"), ("ints", [1, 2])],
                                      "activation": CHOICE}),
    "experiments.forward_experiment": case(experiments.forward_experiment, {"depth": 2, "width": 4, "n_samples": 10},
                                           {"depth": COUNT, "width": COUNT, "n_samples": COUNT, "activation": CHOICE,
                                            "init": INIT, "scale": SCALE, "seed": COUNT[1:], "rng": RNG_OPTIONAL},
                                           alias={"init": "scheme"}),
    "experiments.backward": case(experiments.backward, {"grad_out": np.ones((4, 3)), "X": X43, "weights": W33,
                                                        "zs": ZS},
                                 {"grad_out": ARRAY2D, "X": ARRAY2D, "weights": LAYERS, "zs": LAYERS,
                                  "activation": CHOICE}),
    "experiments.backward_experiment": case(experiments.backward_experiment,
                                            {"depth": 2, "width": 4, "n_samples": 10},
                                            {"depth": COUNT, "width": COUNT, "n_samples": COUNT,
                                             "activation": CHOICE, "init": INIT, "scale": SCALE,
                                             "seed": COUNT[1:], "rng": RNG_OPTIONAL}, alias={"init": "scheme"}),
    "experiments.variance_recursion": case(experiments.variance_recursion, {"depth": 2, "width": 4},
                                           {"depth": COUNT, "width": COUNT, "weight_std": HUGE,
                                            "activation": CHOICE, "input_var": SCALE}),
    "experiments.make_moons": case(experiments.make_moons, {"n_samples": 20, "rng": R()},
                                   {"n_samples": COUNT, "noise": SCALE, "rng": RNG}),
    "experiments.train": case(experiments.train, {"X": MOONS_X, "y": MOONS_Y, "hidden": (4,), "epochs": 2,
                                                  "rng": R()},
                              {"X": ARRAY2D, "y": ARRAY, "init": INIT, "activation": CHOICE, "hidden": SIZES,
                               "epochs": COUNT, "lr": SCALE, "rng": RNG}, alias={"init": "scheme"}),
    "experiments.saturation_bounds": case(experiments.saturation_bounds, {"activation": "sigmoid"},
                                          {"activation": CHOICE}),
    "experiments.HistogramFrames": case(experiments.HistogramFrames, {"X": X43, "weights": W33},
                                        {"X": ARRAY2D, "weights": LAYERS}),
    "experiments.histogram_frame": case(experiments.histogram_frame, {"X": X43, "weights": W33},
                                        {"X": ARRAY2D, "weights": LAYERS, "activation": CHOICE, "scale": SCALE,
                                         "bins": COUNT, "value_range": [("None", None), ("str", "ab"),
                                                                        ("one", (1.0,)), ("reversed", (1.0, 0.0))]}),
    # plotting (H3)
    "plotting.activation_title": case(plotting.activation_title, {"name": "leaky_relu"}, {"name": CHOICE}),
    "plotting.plot_jump": case(plotting.plot_jump, {"ax": None, "x0": 0.0, "value": 0.0, "other": 1.0},
                               {"ax": AXES, "x0": FLOAT, "value": FLOAT, "other": FLOAT}),
    "plotting.plot_piecewise": case(plotting.plot_piecewise, {"ax": None, "x": [-1.0, 1.0], "y": [0.0, 1.0]},
                                    {"ax": AXES, "x": ARRAY, "y": ARRAY, "jump_at": FLOAT}),
    "plotting.plot_activation": case(plotting.plot_activation, {"activation": "tanh"},
                                     {"activation": CHOICE, "x": ARRAY_OR_NONE + [("2d", np.ones((2, 2)))],
                                      "axes": AXES}, alias={"activation": "name"}),
    "plotting.scatter_classes": case(plotting.scatter_classes, {"X": MOONS_X, "y": MOONS_Y},
                                     {"X": ARRAY2D, "y": ARRAY, "ax": AXES, "labels": [("None", None), ("int", 3)],
                                      "s": FLOAT}),
    "plotting.plot_decision_regions": case(plotting.plot_decision_regions,
                                           {"g1": GRID[0], "g2": GRID[1], "p": GRID[2], "X": MOONS_X, "y": MOONS_Y},
                                           {"g1": ARRAY2D, "g2": ARRAY2D, "p": ARRAY2D, "X": ARRAY2D, "y": ARRAY,
                                            "ax": AXES}),
    "plotting.plot_losses": case(plotting.plot_losses, {"histories": {"a": [1.0, 0.5]}},
                                 {"histories": [("None", None), ("list", [1.0, 2.0]), ("strings", {"a": ["x"]})],
                                  "ax": AXES, "log": BOOL}),
    "plotting.integer_ticks": case(plotting.integer_ticks, {"ax": None}, {"ax": AXES, "axis": CHOICE}),
    "plotting.get_ax": case(plotting.get_ax, {}, {"ax": AXES, "figsize": FIGSIZE}),
    "plotting.plot_function": case(plotting.plot_function, {"x": [0.0, 1.0], "ys": {"y": [0.0, 1.0]}},
                                   {"x": ARRAY, "ys": [("None", None), ("list", [1.0, 2.0]), ("short", {"y": [1.0]})],
                                    "ax": AXES, "styles": [("str", "--"), ("int", 3)]}),
}

# Helpers that draw into an axes they are given (no ax=None default).
NEEDS_AX = {plotting.plot_jump, plotting.plot_piecewise, plotting.integer_ticks}

# Public callables that take no argument a student could get wrong (records, the style switch).
NOT_WALKED = {"neurons.PerceptronRun", "experiments.LayerStats", "experiments.ForwardResult",
              "experiments.BackwardResult", "experiments.TrainResult", "activations.Spec", "activations.Activation",
              "plotting.use_style"}


# Known failures in modules owned elsewhere: (case, argument, the failing bad labels) -> reason.
H3, H4 = "owner: H3 (neurons.py, dense.py, plotting.py)", "owner: H4 (softmax.py, experiments.py)"
BF16 = f"{H4} — a bfloat16 tensor reaches torch's 'Got unsupported ScalarType BFloat16' (_to_numpy calls .numpy())"
XFAIL: dict[tuple[str, str, str], str] = {
    ("neurons.plot_decision_boundary", "b", "None str list bool nan inf"): f"{H3} — b is not checked: None/str fail inside numpy, "
                                                  "True/[0.1]/nan/inf are drawn",
    ("neurons.plot_decision_boundary", "ax", "int str"): f"{H3} — ax is not checked: AttributeError 'int' object has no "
                                                   "attribute 'contourf'",
    ("dense.dense_forward", "return_all", "str None int list"): f"{H3} — return_all='no'/None/2/[True] taken by truthiness",
    ("dense.layer_params", "bias", "str None int list"): f"{H3} — bias='no' counts as True (truthiness), None as False",
    ("dense.count_params", "bias", "str None int list"): f"{H3} — bias='no' counts as True (truthiness), None as False",
    ("dense.draw_network", "ax", "int str"): f"{H3} — draw_network(ax='x'): AttributeError 'str' object has no "
                                       "attribute 'add_collection'",
    ("plotting.get_ax", "ax", "int str"): f"{H3} — get_ax returns any ax it is given (123, 'x') unchecked",
    ("plotting.get_ax", "figsize", "str one negative strs"): f"{H3} — figsize unchecked: matplotlib's 'Invalid unit', 'figure size must "
                                         "be positive finite', ufunc 'isfinite' errors",
    ("plotting.plot_function", "x", "None str dict object strings ragged complex bf16"): f"{H3} — x unchecked: matplotlib's 'x and y must have same first "
                                          "dimension', unhashable dict, strings plotted as categories",
    ("plotting.plot_function", "ys", "None list short"): f"{H3} — ys unchecked: AttributeError 'NoneType' object has no "
                                           "attribute 'items'",
    ("plotting.plot_function", "ax", "int str"): f"{H3} — ax unchecked: AttributeError 'int' object has no attribute 'plot'",
    ("plotting.plot_function", "styles", "str int"): f"{H3} — styles unchecked: AttributeError 'str' object has no "
                                               "attribute 'get'",
    **{(f"softmax.{f}", arg, "bf16"): BF16 for f, arg in [("softmax", "z"), ("log_softmax", "z"),
                                                          ("naive_softmax", "z"), ("softmax_jacobian", "z"),
                                                          ("one_hot", "targets"), ("cross_entropy", "logits"),
                                                          ("cross_entropy", "targets"),
                                                          ("cross_entropy_grad", "logits"),
                                                          ("cross_entropy_grad", "targets")]},
    ("softmax.one_hot", "targets", "ragged bf16"): f"{H4} — ragged targets reach numpy's 'inhomogeneous shape' ValueError",
    ("softmax.one_hot", "dtype", "str"): f"{H4} — dtype='abc' reaches numpy's 'data type 'abc' not understood'",
    ("experiments.make_weights", "scale", "huge"): f"{H4} — scale=1e307 overflows the weights to inf (a warning, "
                                                   "no error)",
    ("experiments.forward", "weights", "None empty int"): f"{H4} — forward(weights=None/5): 'NoneType' object is not iterable; "
                                             "weights=[] returns empty lists",
    ("experiments.layer_stats", "z", "1d 3d"): f"{H4} — layer_stats takes 1-D and 3-D z without complaint",
    ("experiments.format_stats", "stats", "None str ints"): f"{H4} — stats unchecked: 'NoneType' object is not iterable, 'str' "
                                                "object has no attribute 'mean'",
    ("experiments.format_stats", "activation", "None int unknown list"): f"{H4} — activation is not checked at all",
    ("experiments.backward", "weights", "None array empty strings 1d int"): f"{H4} — backward(weights=...) unchecked: 'not reversible', "
                                              "'zip() argument 2 is longer', matmul errors",
    ("experiments.backward", "zs", "None array empty strings 1d int"): f"{H4} — backward(zs=...) unchecked: 'zip() argument 2 is shorter', "
                                         "'not subscriptable', broadcast errors",
    ("experiments.variance_recursion", "weight_std", "huge"): f"{H4} — variance_recursion(weight_std=1e307): "
                                                              "OverflowError (34, 'Numerical result out of range')",
    ("experiments.train", "hidden", "None int"): f"{H4} — train(hidden=16 or None): 'int' object is not iterable",
    ("experiments.saturation_bounds", "activation", "list"): f"{H4} — saturation_bounds(['sigmoid']): unhashable "
                                                             "type 'list' from functools.cache",
    ("experiments.HistogramFrames", "weights", "None int"): f"{H4} — HistogramFrames(weights=None/5): 'NoneType' object is "
                                                     "not iterable",
    ("experiments.histogram_frame", "weights", "None int"): f"{H4} — histogram_frame(weights=None/5): 'NoneType' object "
                                                     "is not iterable",
    ("experiments.histogram_frame", "value_range", "None one"): f"{H4} — value_range=None / (1.0,): 'not subscriptable', "
                                                         "IndexError",
    ("plotting.plot_jump", "ax", "int str"): f"{H3} — plot_jump does not check its arguments: matplotlib's errors, or None/nan/[0.1] plotted",
    ("plotting.plot_jump", "x0", "None str list bool complex nan inf array"): f"{H3} — plot_jump does not check its arguments: matplotlib's errors, or None/nan/[0.1] plotted",
    ("plotting.plot_jump", "value", "None str list bool complex nan inf array"): f"{H3} — plot_jump does not check its arguments: matplotlib's errors, or None/nan/[0.1] plotted",
    ("plotting.plot_jump", "other", "None str list bool complex nan inf array"): f"{H3} — plot_jump does not check its arguments: matplotlib's errors, or None/nan/[0.1] plotted",
    ("plotting.plot_piecewise", "ax", "int str"): f"{H3} — plot_piecewise does not check its arguments: numpy/matplotlib errors, or no error",
    ("plotting.plot_piecewise", "x", "None str dict object strings ragged complex bf16"): f"{H3} — plot_piecewise does not check its arguments: numpy/matplotlib errors, or no error",
    ("plotting.plot_piecewise", "y", "None str dict object strings complex"): f"{H3} — plot_piecewise does not check its arguments: numpy/matplotlib errors, or no error",
    ("plotting.plot_piecewise", "jump_at", "None str list bool complex nan inf array"): f"{H3} — plot_piecewise does not check its arguments: numpy/matplotlib errors, or no error",
    ("plotting.plot_activation", "x", "str dict object strings ragged complex bf16 2d"): f"{H3} — plotting.plot_activation does not check x or axes (np.asarray(x, dtype=float), 'int' object is not iterable); coursekit.activations.plot_activation does",
    ("plotting.plot_activation", "axes", "int str"): f"{H3} — plotting.plot_activation does not check x or axes (np.asarray(x, dtype=float), 'int' object is not iterable); coursekit.activations.plot_activation does",
    ("plotting.scatter_classes", "X", "str dict object strings ragged bf16"): f"{H3} — scatter_classes: 'X must have shape (N, 2)' only for shapes; strings, ax, labels and s reach numpy/matplotlib",
    ("plotting.scatter_classes", "ax", "int str"): f"{H3} — scatter_classes: 'X must have shape (N, 2)' only for shapes; strings, ax, labels and s reach numpy/matplotlib",
    ("plotting.scatter_classes", "labels", "None int"): f"{H3} — scatter_classes: 'X must have shape (N, 2)' only for shapes; strings, ax, labels and s reach numpy/matplotlib",
    ("plotting.scatter_classes", "s", "None str list bool complex nan inf array"): f"{H3} — scatter_classes: 'X must have shape (N, 2)' only for shapes; strings, ax, labels and s reach numpy/matplotlib",
    ("plotting.plot_decision_regions", "g1", "None str dict object strings ragged complex bf16 1d 3d"): f"{H3} — plot_decision_regions does not check g1, g2, p, X or ax: matplotlib's contourf errors",
    ("plotting.plot_decision_regions", "g2", "None str dict object strings ragged complex bf16 1d 3d"): f"{H3} — plot_decision_regions does not check g1, g2, p, X or ax: matplotlib's contourf errors",
    ("plotting.plot_decision_regions", "p", "complex 1d 3d"): f"{H3} — plot_decision_regions does not check g1, g2, p, X or ax: matplotlib's contourf errors",
    ("plotting.plot_decision_regions", "X", "str dict object strings ragged bf16"): f"{H3} — plot_decision_regions does not check g1, g2, p, X or ax: matplotlib's contourf errors",
    ("plotting.plot_decision_regions", "ax", "int str"): f"{H3} — plot_decision_regions does not check g1, g2, p, X or ax: matplotlib's contourf errors",
    ("plotting.plot_losses", "histories", "None list strings"): f"{H3} — plot_losses does not check histories, ax or log (AttributeError 'items', truthiness)",
    ("plotting.plot_losses", "ax", "int str"): f"{H3} — plot_losses does not check histories, ax or log (AttributeError 'items', truthiness)",
    ("plotting.plot_losses", "log", "str None int list"): f"{H3} — plot_losses does not check histories, ax or log (AttributeError 'items', truthiness)",
    ("plotting.integer_ticks", "ax", "int str"): f"{H3} — integer_ticks does not check ax or axis (any axis but 'y' means x)",
    ("plotting.integer_ticks", "axis", "None int unknown list"): f"{H3} — integer_ticks does not check ax or axis (any axis but 'y' means x)",
}
FLOAT32_XFAIL = {("experiments.make_weights", "init"), ("experiments.forward_experiment", "init"),
                 ("experiments.backward_experiment", "init"), ("experiments.train", "init")}


def test_every_public_function_is_walked():
    public = set()
    for mod_name, mod in MODULES.items():
        for name, obj in vars(mod).items():
            if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == mod.__name__:
                public.add(f"{mod_name}.{name}")
    assert public - NOT_WALKED == set(CASES), sorted((public - NOT_WALKED) ^ set(CASES))


def _call(func, kwargs):
    if "ax" in kwargs and kwargs["ax"] is None and func in NEEDS_AX:
        kwargs = {**kwargs, "ax": plt.subplots()[1]}
    try:
        return func(**kwargs)
    finally:
        plt.close("all")


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
                marks = []
                if (key, arg) in FLOAT32_XFAIL:
                    marks = [pytest.mark.xfail(strict=True, reason=f"{H4} — init=np.float32(0.01) refused by "
                                               "make_weights' isinstance(init, (int, float)); np.float64 passes")]
                yield pytest.param(key, arg, id=f"{key}-{arg}", marks=marks)


NUMPY_SCALAR_VALUES = {"init": 0.01, "negative_slope": 0.1, "std": 0.5, "sparsity": 0.5, "threshold": 0.05}


@pytest.mark.parametrize("key,arg", list(_float_params()))
def test_numpy_float32_is_accepted_where_a_float_is(key, arg):
    func, good, _, _ = CASES[key]
    kwargs = dict(good)
    default = kwargs.get(arg, NUMPY_SCALAR_VALUES.get(arg, 0.5))
    kwargs[arg] = np.float32(default)
    _call(func, kwargs)
