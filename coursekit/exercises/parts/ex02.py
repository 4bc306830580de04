"""Exercise 02 · Fully connected networks: a dense layer, a network, its parameters, a parameter budget."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from coursekit.exercises.judging import (
    Case,
    Part,
    compare_array,
    compare_number,
    reference,
    torch_module,
)

EXERCISE = "02_fully_connected"
# not in the student edition: the case generators and the reference answers (see coursekit release)
HIDDEN = ("_cases_2_1", "_mlp_case", "_cases_2_2", "_cases_2_3", "_params", "_widest", "_cases_2_4")


def _cases_2_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d_in, d_out, label in [(5, 3, 4, "a batch of 5 inputs, 3 -> 4 units"),
                                  (1, 10, 2, "a single input, 10 -> 2 units"),
                                  (32, 8, 8, "a batch of 32, a square 8 -> 8 layer"),
                                  (16, 2, 6, "a batch of 16, 2 -> 6 units")]:
        X, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_out, d_in)), rng.normal(size=d_out)
        low = float((X @ W.T + b).min())
        if low > -0.2:  # at least one output clearly negative in every case: an activation would show
            b = b - (low + float(rng.uniform(0.2, 0.6)))
        cases.append(Case((X, W, b), {}, label))
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
    """A random network whose output has both signs and whose hidden layers have negative pre-activations.

    So every case catches a ReLU after the output layer (it zeroes the negative outputs) and a
    missing ReLU between layers; the values stay random, those two families are always there.
    """
    for _ in range(50):  # bounded: almost every draw has negative hidden pre-activations
        weights = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in pairwise(sizes)]
        biases = [rng.normal(size=o) * 0.5 for o in sizes[1:]]
        X = rng.normal(size=(n, sizes[0]))
        h, hidden_negative = X, len(weights) == 1
        for W, b in zip(weights[:-1], biases[:-1], strict=True):
            z = h @ W.T + b
            hidden_negative = hidden_negative or bool((z < -0.05).any())
            h = np.maximum(z, 0.0)
        out = h @ weights[-1].T
        if hidden_negative:
            break
    # the output bias makes at least one output clearly negative (a ReLU there would change it)
    low = float((out + biases[-1]).min())
    if low > -0.2:
        biases[-1] = biases[-1] - (low + float(rng.uniform(0.2, 0.6)))
    return Case((X, weights, biases), {}, label)


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
    # distinct sizes where the family is "unequal layers" (swapping a layer's fans must always show)
    sizes = [[int(v) for v in rng.choice(np.arange(1, 9), size=3, replace=False)],
             [784, int(rng.integers(16, 257)), 10], [4], [int(rng.integers(5, 20))] * 4,
             [int(v) for v in rng.choice(np.arange(1, 300), size=5, replace=False)]]
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
    """Parameters of n_in -> h -> n_out: counted by torch for widths it can build, else by the definition."""
    if h <= 4096:
        return _count([n_in, h, n_out])
    return (n_in * h + h) + (h * n_out + n_out)  # the same definition; torch agrees below 4096 (tested)


def _widest(n_in: int, n_out: int, budget: int) -> int:
    """The largest h >= 1 with params(n_in, h, n_out) <= budget (0 if none), by bisection on the count."""
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
    """Budgets at the edges the count has: met exactly, one short, inside the output biases' window.

    Every draw has every family; the widths are random, and in three of them far too large for a
    loop over h (billions of units), so only the count written as a function of h answers in time.
    """
    def shape(small: bool) -> tuple[int, int, int]:
        n_in, n_out = int(rng.integers(3, 60)), int(rng.integers(2, 12))
        h = int(rng.integers(5, 300)) if small else int(rng.integers(10**9, 10**11))
        return n_in, n_out, h

    cases = []
    n_in, n_out, h = shape(True)
    cases.append(Case((n_in, n_out, _params(n_in, h, n_out)), {}, "a budget met exactly"))
    n_in, n_out, h = shape(False)
    cases.append(Case((n_in, n_out, _params(n_in, h, n_out) - 1), {},
                      "a budget one parameter short of a round width, billions of units", defining=True))
    n_in, n_out, h = shape(False)
    per_unit = n_in + 1 + n_out
    window = int(rng.integers(0, n_out))  # below the output biases: the (h+1)-th unit does not fit
    cases.append(Case((n_in, n_out, (h + 1) * per_unit + window), {},
                      "a budget that pays for the next unit but not for the output biases too", defining=True))
    n_in, n_out, h = shape(False)
    cases.append(Case((784, 10, _params(784, h, 10) + int(rng.integers(0, 785))), {},
                      "a 784-h-10 network, billions of units"))
    n_in, n_out = int(rng.integers(20, 100)), int(rng.integers(2, 10))
    cases.append(Case((n_in, n_out, int(rng.integers(0, n_out))), {},
                      "a budget smaller than the output biases alone"))
    return cases


def _judge_2_4(case: Case, got: Any) -> str | None:
    n_in, n_out, budget = case.args
    expected = reference(case, lambda: _widest(n_in, n_out, budget))
    msg = compare_number(expected, got, what="the width", integer=True, rtol=0, atol=0)
    if msg and isinstance(got, (int, float)) and float(got).is_integer() and got >= 1:
        h = int(got)
        if h > expected:
            count = f" has {_count([n_in, h, n_out])} parameters" if h <= 4096 else " is"
            return msg + f" (with {h} hidden units the network{count} over the budget)"
        return msg + f" ({h + 1} hidden units would still fit in the budget)"
    return msg


PARTS = [
    Part(id="2.1", title="Dense layer forward pass", function="dense_forward", points=2,
         cases=_cases_2_1, judge=_judge_2_1,
         hints=("W is stored as torch stores it, one row per output unit: multiplying by it the other way round mixes the "
                "wrong weights, even where the shapes happen to fit.",
                "Chapter 02, §3 and §3.1 (the silent fan swap): which index of W runs over the inputs, and what shape must "
                "the output of a batch have?")),
    Part(id="2.2", title="Forward pass of a network", function="mlp_forward", points=3,
         cases=_cases_2_2, judge=_judge_2_2,
         hints=("The network's answer is the last layer's scores, so nothing may change them; between layers the "
                "nonlinearity must act, or the network collapses into one linear layer.",
                "Chapter 02, §1 and §2 (the forward pass, layer by layer): how many layers does a list of weight matrices "
                "make, and after which of them does the activation belong?")),
    Part(id="2.3", title="Parameter count", function="count_parameters", points=2,
         cases=_cases_2_3, judge=_judge_2_3,
         hints=("Every layer has its weights and its biases; the input layer only holds the data and has no parameters.",
                "Chapter 02, §4 (counting parameters): how many parameters does one torch layer from n_in to n_out "
                "units hold, and what does torch count for a list with a single size?")),
    Part(id="2.4", title="The widest hidden layer a budget allows", function="widest_hidden", points=3,
         cases=_cases_2_4, judge=_judge_2_4,
         hints=("The budget has edges: each hidden unit costs the same, and some parameters are there whatever the width. "
                "Your width is wrong at one of those edges, or your function is too slow for billions of units.",
                "Chapter 02, §4 (counting parameters): write the count of an n_in → h → n_out network as a function of h. "
                "What kind of function is it, and how do you get the largest whole h within the budget without trying "
                "every h?")),
]
