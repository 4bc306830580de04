"""Exercise 02 · Fully connected networks: a dense layer, a network, its parameters, a parameter budget."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from coursekit.exercises.judging import Case, Part, compare_array, compare_number, torch_module

EXERCISE = "02_fully_connected"


def _cases_2_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d_in, d_out, label in [(5, 3, 4, "a batch of 5 inputs, 3 -> 4 units"),
                                  (1, 10, 2, "a single input, 10 -> 2 units"),
                                  (32, 8, 8, "a batch of 32, a square 8 -> 8 layer"),
                                  (16, 2, 6, "a batch of 16, 2 -> 6 units")]:
        cases.append(Case((rng.normal(size=(n, d_in)), rng.normal(size=(d_out, d_in)),
                           rng.normal(size=d_out)), {}, label))
    return cases


def _judge_2_1(case: Case, got: Any) -> str | None:
    torch = torch_module()
    X, W, b = case.args
    expected = torch.nn.functional.linear(torch.from_numpy(X), torch.from_numpy(W), torch.from_numpy(b))
    msg = compare_array(expected.numpy(), got, what="the output")
    if msg and W.shape[0] == W.shape[1] and isinstance(got, np.ndarray) and got.shape == (len(X), len(W)) \
            and np.allclose(got, X @ W + b):
        return ("the output multiplies X by W as it is stored: W is (out, in) like torch, "
                "so row j of W holds the weights into output unit j")
    return msg


def _mlp_case(rng: np.random.Generator, sizes: list[int], n: int, label: str) -> Case:
    weights = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in pairwise(sizes)]
    biases = [rng.normal(size=o) * 0.5 for o in sizes[1:]]
    return Case((rng.normal(size=(n, sizes[0])), weights, biases), {}, label)


def _cases_2_2(rng: np.random.Generator) -> list[Case]:
    return [
        _mlp_case(rng, [3, 4, 2], 5, "a 3-4-2 network on a batch of 5"),
        _mlp_case(rng, [4, 3], 6, "a single layer (no hidden layer), batch of 6"),
        _mlp_case(rng, [2, 8, 8, 8, 1], 10, "a 2-8-8-8-1 network on a batch of 10"),
        _mlp_case(rng, [10, 5, 3], 1, "a 10-5-3 network on a single input"),
    ]


def _mlp_reference(X, weights, biases, relu_last: bool = False, relu: bool = True) -> np.ndarray:
    torch = torch_module()
    F = torch.nn.functional
    h = torch.from_numpy(X)
    for k, (W, b) in enumerate(zip(weights, biases, strict=False)):
        h = F.linear(h, torch.from_numpy(W), torch.from_numpy(b))
        if relu and (k < len(weights) - 1 or relu_last):
            h = F.relu(h)
    return h.numpy()


def _judge_2_2(case: Case, got: Any) -> str | None:
    X, weights, biases = case.args
    msg = compare_array(_mlp_reference(X, weights, biases), got, what="the output")
    if msg and isinstance(got, np.ndarray):
        for kwargs, why in [({"relu_last": True}, "the output layer should have no activation "
                                                  "(ReLU only between layers)"),
                            ({"relu": False}, "ReLU is missing after the hidden layers")]:
            alt = _mlp_reference(X, weights, biases, **kwargs)
            if got.shape == alt.shape and np.allclose(got, alt):
                return why
    return msg


def _count(sizes: list[int]) -> int:
    """Parameters of a stack of nn.Linear layers, counted by torch (on the meta device: no memory)."""
    torch = torch_module()
    layers = [torch.nn.Linear(i, o, device="meta") for i, o in pairwise(sizes)]
    return sum(p.numel() for layer in layers for p in layer.parameters())


def _cases_2_3(rng: np.random.Generator) -> list[Case]:
    sizes = [[int(v) for v in rng.integers(1, 9, size=3)], [784, int(rng.integers(16, 257)), 10], [4],
             [int(rng.integers(5, 20))] * 4, [int(v) for v in rng.integers(1, 300, size=5)]]
    labels = ["a small 3-layer network", "a 784-h-10 network", "only an input layer",
              "three square layers", "a random 5-layer-size network"]
    return [Case((list(s),), {}, lab) for s, lab in zip(sizes, labels, strict=True)]


def _judge_2_3(case: Case, got: Any) -> str | None:
    sizes = case.args[0]
    expected = _count(sizes)
    msg = compare_number(expected, got, what="the parameter count", integer=True, rtol=0, atol=0)
    if msg and isinstance(got, (int, float)):
        weights_only = sum(i * o for i, o in pairwise(sizes))
        if got == weights_only and expected != weights_only:
            return msg + " (that is the weights only: each layer also has one bias per output unit)"
        if got == expected + sizes[0]:
            return msg + " (the input layer has no parameters)"
    return msg


def _params(n_in: int, h: int, n_out: int) -> int:
    return _count([n_in, h, n_out])


def _widest(n_in: int, n_out: int, budget: int) -> int:
    """The largest h >= 1 with params(n_in, h, n_out) <= budget (0 if none), by bisection on torch's count."""
    if _params(n_in, 1, n_out) > budget:
        return 0
    lo, hi = 1, 2
    while _params(n_in, hi, n_out) <= budget:  # bounded: doubles until over budget
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _params(n_in, mid, n_out) <= budget else (lo, mid)
    return lo


def _cases_2_4(rng: np.random.Generator) -> list[Case]:
    cases = []
    n_in, n_out, h = int(rng.integers(3, 50)), int(rng.integers(1, 10)), int(rng.integers(5, 200))
    cases.append(Case((n_in, n_out, _params(n_in, h, n_out)), {}, "a budget met exactly"))
    n_in, n_out, h = int(rng.integers(3, 50)), int(rng.integers(2, 10)), int(rng.integers(5, 200))
    cases.append(Case((n_in, n_out, _params(n_in, h, n_out) - 1), {}, "a budget one parameter short of a round width"))
    cases.append(Case((784, 10, int(rng.integers(10_000, 1_000_000))), {}, "an MNIST-sized 784-h-10 network"))
    n_in, n_out = int(rng.integers(20, 100)), int(rng.integers(2, 10))
    cases.append(Case((n_in, n_out, int(rng.integers(0, n_in + 1 + 2 * n_out))), {},
                      "a budget too small for one hidden unit"))
    return cases


def _judge_2_4(case: Case, got: Any) -> str | None:
    n_in, n_out, budget = case.args
    expected = _widest(n_in, n_out, budget)
    msg = compare_number(expected, got, what="the width", integer=True, rtol=0, atol=0)
    if msg and isinstance(got, (int, float)) and float(got).is_integer() and got >= 1:
        h = int(got)
        if h < 10**9 and _params(n_in, h, n_out) > budget:
            return msg + f" (with {h} hidden units the network has {_params(n_in, h, n_out)} parameters, over the budget)"
        if h < expected:
            return msg + f" ({h + 1} hidden units would still fit in the budget)"
    return msg


PARTS = [
    Part(id="2.1", title="Dense layer forward pass", function="dense_forward", points=2,
         cases=_cases_2_1, judge=_judge_2_1,
         hints=("W is stored as torch stores it, (out, in): row j holds the weights into output unit j.",
                "Each output is the dot product of an input row with a row of W, plus that unit's bias; "
                "the result has shape (N, out).")),
    Part(id="2.2", title="Forward pass of a network", function="mlp_forward", points=3,
         cases=_cases_2_2, judge=_judge_2_2,
         hints=("Each layer is the dense layer of 2.1; ReLU sits between layers and not after the output "
                "layer, whose scores are the network's answer.",
                "Go through the (W, b) pairs in order, feeding each layer the previous layer's output; "
                "a network of one layer has no ReLU at all.")),
    Part(id="2.3", title="Parameter count", function="count_parameters", points=2,
         cases=_cases_2_3, judge=_judge_2_3,
         hints=("A dense layer from n_in to n_out units has one weight per pair of units and one bias per "
                "output unit; the input layer has no parameters.",
                "Add up over consecutive pairs of sizes; a list with a single size (an input layer only) "
                "has 0 parameters.")),
    Part(id="2.4", title="The widest hidden layer a budget allows", function="widest_hidden", points=3,
         cases=_cases_2_4, judge=_judge_2_4,
         hints=("Write the parameter count of an n_in → h → n_out network as a function of h, both layers' "
                "weights and biases, then find the largest h that stays within the budget.",
                "Every extra hidden unit costs the same: its incoming weights and bias, plus its outgoing "
                "weights; the output biases are there whatever h is. Return 0 when not even one unit fits.")),
]
