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

from coursekit import (  # noqa: E402
    activations,
    collapse,
    dense,
    experiments,
    init,
    neurons,
    plotting,
    softmax,
    training,
    widgets,
)

MODULES = {"neurons": neurons, "dense": dense, "activations": activations, "collapse": collapse, "init": init,
           "softmax": softmax, "experiments": experiments, "plotting": plotting, "training": training}


def R():
    return np.random.default_rng(0)


X43 = np.linspace(-1, 1, 12).reshape(4, 3)
W33 = [np.eye(3), np.eye(3) * 0.5]
ZS = experiments.forward(X43, W33, "sigmoid")[0]
MOONS_X, MOONS_Y = experiments.make_moons(20, rng=np.random.default_rng(1))
STATS = [experiments.layer_stats(np.ones((4, 3)), np.ones((4, 3)))]
MODEL = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
def G():
    return torch.Generator().manual_seed(0)


def NET():
    return training.mlp([2, 3, 1], "tanh", generator=G())


GRID = (*np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 5)), np.linspace(0, 1, 25).reshape(5, 5))

# --------------------------------------------------------------------------- bad values by kind

COMMON = [("None", None), ("str", "abc"), ("dict", {"a": 1}), ("object", object())]
ARRAY = COMMON + [("strings", ["a", "b"]), ("ragged", [[1.0], [1.0, 2.0]]), ("complex", np.array([1 + 2j])),
                  ("bf16", torch.ones(3, dtype=torch.bfloat16))]
ARRAY_OR_NONE = [b for b in ARRAY if b[0] != "None"]
NOT_BF16 = [b for b in ARRAY if b[0] != "bf16"]
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
GENERATOR = [("None", None), ("int", 42), ("numpy", np.random.default_rng(0))]
# models with the wrong kind, input width, output width or dtype, or nothing to train
TMODELS = [("None", None), ("str", "model"), ("list", [nn.Linear(2, 1)]),
           ("3 inputs", nn.Linear(3, 1, dtype=torch.float64)), ("2 outputs", nn.Linear(2, 2, dtype=torch.float64)),
           ("float32", nn.Linear(2, 1))]
NAMES = [("None", None), ("str", "relu"), ("empty", []), ("unknown", ["nope"]), ("int", 3), ("ints", [1])]
DISTRIBUTION = ARRAY + [("negative", [-0.5, 1.5]), ("not summing to 1", [0.5, 0.2]), ("nan", [math.nan, 1.0]),
                        ("3d", np.full((2, 2, 2), 0.5))]
INIT = [("unknown", "nope"), ("needs arguments", "sparse"), ("list", ["normal"]), ("negative", -1.0), ("nan", math.nan)]  # a scheme name or a std


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
    "widgets.SlopePlot": case(widgets.SlopePlot, {"negative_slope": 0.1},
                                  {"negative_slope": FLOAT, "figsize": FIGSIZE, "dpi": COUNT}),
    "widgets.slope_explorer": case(widgets.slope_explorer, {"z": np.ones((2, 2))},
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
    # softmax
    # a bfloat16 z is widened to float32 (test_bfloat16_logits_are_widened_like_torch), not refused
    **{f"softmax.{name}": case(getattr(softmax, name), {"z": X43},
                               {"z": NOT_BF16 + [("ints", np.ones((2, 2), dtype=int))], "axis": COUNT + [("out", 5)]})
       for name in ["softmax", "log_softmax", "naive_softmax"]},
    "softmax.softmax_temperature": case(softmax.softmax_temperature, {"logits": X43, "temperature": 2.0},
                                        {"logits": NOT_BF16, "temperature": SCALE}),  # bf16 logits are accepted
    "softmax.temperature_stats": case(softmax.temperature_stats, {"logits": [1.0, 0.0], "temperature": 2.0},
                                      {"logits": ARRAY + [("2d", X43), ("one class", [1.0])], "temperature": SCALE}),
    "softmax.softmax_jacobian": case(softmax.softmax_jacobian, {"z": [0.5, 1.0]}, {"z": NOT_BF16}),
    "softmax.one_hot": case(softmax.one_hot, {"targets": [0, 2], "num_classes": 3},
                            {"targets": ARRAY + [("out of range", [0, 3])], "num_classes": COUNT,
                             "dtype": [("str", "abc")]}),  # integer one-hot rows are fine
    "softmax.cross_entropy": case(softmax.cross_entropy, {"logits": X43, "targets": [0, 1, 2, 0]},
                                  {"logits": ARRAY2D, "targets": ARRAY + [("out of range", [0, 1, 2, 3])]}),
    "softmax.cross_entropy_grad": case(softmax.cross_entropy_grad, {"logits": X43, "targets": [0, 1, 2, 0]},
                                       {"logits": ARRAY2D, "targets": ARRAY + [("out of range", [0, 1, 2, 3])]}),
    "softmax.entropy": case(softmax.entropy, {"p": [0.25, 0.75]}, {"p": DISTRIBUTION}),
    **{f"softmax.{name}": case(getattr(softmax, name), {"p": [0.25, 0.75], "q": [0.5, 0.5]},
                               {"p": DISTRIBUTION, "q": DISTRIBUTION + [("other shape", [0.2, 0.3, 0.5])]})
       for name in ["cross_entropy_dist", "kl_divergence"]},
    "softmax.make_blobs": case(softmax.make_blobs, {"num_classes": 3, "n_per_class": 2, "rng": R()},
                               {"num_classes": INT, "n_per_class": INT, "radius": SCALE, "rng": RNG}),
    "softmax.train_linear_classifier": case(softmax.train_linear_classifier,
                                            {"X": MOONS_X, "y": MOONS_Y.astype(np.int64), "steps": 2},
                                            {"X": ARRAY2D, "y": ARRAY + [("floats", MOONS_Y),
                                                                          ("short", MOONS_Y[:3].astype(np.int64)),
                                                                          ("negative", -MOONS_Y.astype(np.int64)),
                                                                          ("huge class", np.full(20, 10**9))],
                                             "softmax_first": BOOL, "steps": COUNT, "lr": SCALE, "seed": COUNT}),
    # experiments
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
    "experiments.pair_cosine": case(experiments.pair_cosine, {"h": np.ones((4, 3))}, {"h": ARRAY2D}),
    "experiments.slope_second_moment": case(experiments.slope_second_moment, {"activation": "tanh"},
                                            {"activation": CHOICE + [("step", "step")], "var": SCALE}),
    "experiments.backward_factor": case(experiments.backward_factor,
                                        {"activation": "relu", "fan_out": 3, "weight_std": 0.5},
                                        {"activation": CHOICE, "fan_out": COUNT, "weight_std": HUGE, "z_var": SCALE}),
    "experiments.train_deep": case(experiments.train_deep, {"X": MOONS_X, "y": MOONS_Y, "depth": 2, "width": 3,
                                                            "steps": 2},
                                   {"X": ARRAY2D, "y": ARRAY + [("short", MOONS_Y[:3]), ("not 0/1", MOONS_Y + 0.5)],
                                    "depth": COUNT, "width": COUNT, "init": INIT, "activation": CHOICE,
                                    "batchnorm": [("None", None), ("str", "1"), ("int", 1), ("out of range", [3]),
                                                  ("float", [1.5])],
                                    "steps": COUNT, "lr": SCALE, "seed": COUNT}, alias={"init": "scheme"}),
    "experiments.rotate": case(experiments.rotate, {"X": MOONS_X, "degrees": 30.0},
                               {"X": ARRAY2D + [("3 columns", np.ones((4, 3)))], "degrees": FLOAT}),
    "experiments.from_weights": case(experiments.from_weights, {"weights": W33}, {"weights": LAYERS}),
    "experiments.fit_binary": case(experiments.fit_binary, {"net": nn.Linear(2, 1), "X": MOONS_X,
                                                            "y": MOONS_Y[:, None], "steps": 2},
                                   {"net": [("None", None), ("str", "net"), ("list", [nn.Linear(2, 1)]),
                                            ("3 inputs", nn.Linear(3, 1)), ("2 outputs", nn.Linear(2, 2)),
                                            ("float64", nn.Linear(2, 1, dtype=torch.float64)),
                                            ("no parameters", nn.Identity())],
                                    "X": ARRAY2D, "y": ARRAY2D + [("1 column short", MOONS_Y[:3, None]),
                                                                  ("not 0/1", MOONS_Y[:, None] + 0.5),
                                                                  ("(N,)", MOONS_Y)],
                                    "steps": COUNT, "lr": SCALE}),
    "widgets.HistogramFrames": case(widgets.HistogramFrames, {"X": X43, "weights": W33},
                                        {"X": ARRAY2D, "weights": LAYERS}),
    "widgets.histogram_frame": case(widgets.histogram_frame, {"X": X43, "weights": W33},
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
                                     {"X": ARRAY2D, "y": ARRAY + [("class 2", np.full(20, 2.0))], "ax": AXES,
                                      "labels": [("None", None), ("int", 3), ("str", "class 0")],
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
    # training (H3)
    "training.make_xor": case(training.make_xor, {"n_per_corner": 2, "rng": R()},
                              {"n_per_corner": INT, "noise": HUGE, "rng": RNG}),
    "training.make_moons": case(training.make_moons, {"n": 10, "rng": R()}, {"n": INT, "noise": HUGE, "rng": RNG}),
    "training.linear_layer": case(training.linear_layer, {"n_in": 2, "n_out": 3, "generator": G()},
                                  {"n_in": INT, "n_out": INT, "generator": GENERATOR}),
    "training.mlp": case(training.mlp, {"sizes": [2, 3, 1], "generator": G()},
                         {"sizes": SIZES + [("huge", [2, 10**6, 1])], "activation": CHOICE, "generator": GENERATOR,
                          "negative_slope": FLOAT}),
    "training.gradient_descent": case(training.gradient_descent, {"model": NET(), "X": MOONS_X, "y": MOONS_Y,
                                                                  "steps": 2, "lr": 0.1},
                                      {"model": TMODELS + [("no parameters", nn.Identity())], "X": ARRAY2D,
                                       "y": ARRAY + [("short", MOONS_Y[:3]), ("not 0/1", MOONS_Y + 0.5)],
                                       "steps": INT, "lr": SCALE, "loss": CHOICE}),
    "training.predict_proba": case(training.predict_proba, {"model": NET(), "X": MOONS_X},
                                   {"model": TMODELS, "X": ARRAY2D}),
    "training.accuracy": case(training.accuracy, {"model": NET(), "X": MOONS_X, "y": MOONS_Y},
                              {"model": TMODELS, "X": ARRAY2D, "y": ARRAY + [("short", MOONS_Y[:3])]}),
    "training.decision_grid": case(training.decision_grid, {"model": NET(), "X": MOONS_X, "n": 5},
                                   {"model": TMODELS, "X": ARRAY2D + [("3 columns", np.ones((4, 3)))], "n": INT,
                                    "margin": SCALE}),
    "training.train_classifier": case(training.train_classifier, {"X": MOONS_X, "y": MOONS_Y, "hidden": [3],
                                                                  "steps": 2, "seed": 0},
                                      {"X": ARRAY2D, "y": ARRAY, "hidden": SIZES, "activation": CHOICE, "steps": INT,
                                       "lr": SCALE, "seed": COUNT}),
    "training.curve_target": case(training.curve_target, {"x": [0.5, -1.0]}, {"x": ARRAY}),
    "training.fit_curve": case(training.fit_curve, {"width": 2, "seed": 0, "steps": 2, "n": 10},
                               {"width": INT, "seed": COUNT, "steps": INT, "lr": SCALE, "n": INT,
                                "activation": CHOICE}),
    "training.dead_units": case(training.dead_units, {"model": NET(), "X": MOONS_X},
                                {"model": [b for b in TMODELS if b[0] != "float32"], "X": ARRAY2D}),
    "training.dead_after_training": case(training.dead_after_training, {"lr": 0.1, "seed": 0, "steps": 2, "width": 3,
                                                                        "n": 10},
                                         {"lr": SCALE, "seed": COUNT, "steps": INT, "width": INT, "n": INT}),
    "training.damaged_layer": case(training.damaged_layer, {"seed": 0, "width": 3, "n": 10},
                                   {"activation": CHOICE + [("tanh", "tanh")], "seed": COUNT, "bias_shift": FLOAT,
                                    "negative_slope": FLOAT, "width": INT, "n": INT}),
    "training.damaged_layer_run": case(training.damaged_layer_run, {"activation": "relu", "seed": 0, "steps": 2,
                                                                    "width": 3, "n": 10},
                                       {"activation": CHOICE, "seed": COUNT, "steps": INT, "lr": SCALE,
                                        "bias_shift": FLOAT, "negative_slope": FLOAT, "width": INT, "n": INT}),
    "training.default_init_dead": case(training.default_init_dead, {"seed": 0, "width": 3, "n": 10},
                                       {"seed": COUNT, "width": INT, "n": INT}),
    "training.sigmoid_stack_gradient": case(training.sigmoid_stack_gradient, {"depth": 2, "width": 3, "seed": 0},
                                            {"depth": INT, "width": INT, "weight_std": HUGE, "seed": COUNT}),
    "training.compare_activations": case(training.compare_activations,
                                         {"names": ["tanh"], "seed": 0, "depth": 1, "width": 2, "steps": 2, "n": 10},
                                         {"names": NAMES, "seed": COUNT, "depth": INT, "width": INT, "steps": INT,
                                          "lr": SCALE, "n": INT}),
}

# Helpers that draw into an axes they are given (no ax=None default).
NEEDS_AX = {plotting.plot_jump, plotting.plot_piecewise, plotting.integer_ticks}

# Public callables that take no argument a student could get wrong (records, the style switch).
NOT_WALKED = {"neurons.PerceptronRun", "experiments.LayerStats", "experiments.ForwardResult",
              "experiments.BackwardResult", "experiments.TrainResult", "experiments.DeepRun", "activations.Spec", "activations.Activation",
              "plotting.use_style", "training.ClassifierRun", "training.DeadRun"}


# Known failures in modules owned elsewhere: (case, argument, the failing bad labels separated by spaces) ->
# "owner: ... — what is wrong". None at the moment.
XFAIL: dict[tuple[str, str, str], str] = {}


def test_every_public_function_is_walked():
    public = set()
    for mod_name, mod in MODULES.items():
        for name, obj in vars(mod).items():
            if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == mod.__name__:
                public.add(f"{mod_name}.{name}")
    walked = {key for key in CASES if not key.startswith("widgets.")}  # the explorers' cases: not a math module
    assert public - NOT_WALKED == walked, sorted((public - NOT_WALKED) ^ walked)


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
