"""Exercise 03 · Activation functions: a sigmoid that never overflows, derivatives, dead units, saturation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.exercises.judging import (
    Case,
    Part,
    as_array,
    compare_array,
    compare_number,
    fmt,
    torch_module,
)

EXERCISE = "03_activations"


def with_zeros(z: np.ndarray, rng: np.random.Generator, k: int = 3) -> np.ndarray:
    """Put exact zeros into z: the kinks of ReLU-like functions live there."""
    z = z.copy()
    z.flat[rng.choice(z.size, size=min(k, z.size), replace=False)] = 0.0
    return z


def torch_activation(name: str):
    torch = torch_module()
    F = torch.nn.functional
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
            "leaky_relu": lambda t: F.leaky_relu(t, 0.01)}[name]


def _cases_3_1(rng: np.random.Generator) -> list[Case]:
    tail = rng.uniform(710, 725, size=8) * np.where(rng.random(8) < 0.75, -1.0, 1.0)
    return [
        Case((rng.uniform(-6, 6, size=13),), {}, "13 values between -6 and 6"),
        Case((rng.normal(size=(4, 5)) * 3,), {}, "a (4, 5) matrix"),
        Case((np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),), {}, "inputs of ±1000 and ±50"),
        Case((tail,), {}, "inputs beyond ±710, where exp(710) overflows (no overflow allowed)", defining=True),
    ]


def _judge_3_1(case: Case, got: Any) -> str | None:
    torch = torch_module()
    z = case.args[0]
    if not case.defining:
        return compare_array(torch.sigmoid(torch.from_numpy(z)).numpy(), got, what="sigmoid(z)")
    # far below 0, sigmoid(z) = e^z / (1 + e^z) is a tiny but representable number: judged relatively
    with np.errstate(over="ignore"):
        expected = np.where(z < 0, np.exp(np.minimum(z, 0)) / (1 + np.exp(np.minimum(z, 0))),
                            torch.sigmoid(torch.from_numpy(z)).numpy())
    msg = compare_array(expected, got, what="sigmoid(z)", rtol=1e-6, atol=0.0)
    if msg and isinstance(got, np.ndarray) and got.shape == z.shape and np.any((got == 0) & (expected > 0)):
        return msg + (" — for z far below 0 the true value is tiny but not 0 (sigmoid(-715) is about 1.6e-311); "
                      "a 0 there means an exponential overflowed to inf")
    return msg


_GRAD_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu")


def _cases_3_2(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name in _GRAD_NAMES:
        z = with_zeros(rng.normal(size=12) * 2.5, rng)
        cases.append(Case((z, name), {}, f"the derivative of {name}, inputs including exact zeros"))
    cases.append(Case((rng.normal(size=(3, 4)), "tanh"), {}, "the derivative of tanh on a (3, 4) matrix"))
    return cases


def _judge_3_2(case: Case, got: Any) -> str | None:
    torch = torch_module()
    z, name = case.args
    t = torch.from_numpy(z).requires_grad_(True)
    f = torch_activation(name)
    (grad,) = torch.autograd.grad(f(t).sum(), t)  # autograd: the reference derivative, kinks included
    msg = compare_array(grad.numpy(), got, what=f"the derivative of {name}")
    if msg and isinstance(got, np.ndarray) and got.shape == z.shape:
        value = f(torch.from_numpy(z)).numpy()
        if np.allclose(got, value):
            return f"you returned {name}(z) itself, not its derivative"
        at_zero = (z == 0) & ~np.isclose(got, grad.numpy())
        if at_zero.any() and np.allclose(got[z != 0], grad.numpy()[z != 0]):
            return (f"wrong value at z = 0 exactly: the course follows torch, where the derivative of "
                    f"{name} at 0 is {fmt(grad.numpy()[z == 0][0])}")
    return msg


def _cases_3_3(rng: np.random.Generator) -> list[Case]:
    cases = []
    for d, units, low, high, label in [(3, 12, 0.0, 1.0, "inputs in the unit cube, 12 units"),
                                       (6, 20, -1.0, 1.0, "inputs in [-1, 1]^6, 20 units"),
                                       (10, 30, 0.0, 2.0, "inputs in [0, 2]^10, 30 units"),
                                       (4, 16, -3.0, 0.5, "inputs in [-3, 0.5]^4, 16 units")]:
        W = rng.normal(size=(units, d))
        top = np.maximum(W * low, W * high).sum(axis=1)  # the largest W x over the box, per unit
        # biases close to the edge: the largest pre-activation is a little above or below 0
        margin = rng.uniform(0.02, 0.2, size=units) * np.where(rng.random(units) < 0.5, -1.0, 1.0)
        b = -top + margin
        cases.append(Case((W, b, low, high), {}, label))
    return cases


def _judge_3_3(case: Case, got: Any) -> str | None:
    torch = torch_module()
    W, b, low, high = case.args
    # every corner of the box, through torch: a linear function is largest at one of them
    d = W.shape[1]
    corners = torch.cartesian_prod(*[torch.tensor([low, high], dtype=torch.float64)] * d).reshape(-1, d)
    pre = torch.nn.functional.linear(corners, torch.from_numpy(W), torch.from_numpy(b))
    expected = (torch.relu(pre) == 0).all(dim=0).numpy()
    arr, msg = as_array(got, "the mask")
    if msg:
        return msg
    if arr.shape != expected.shape:
        return f"the mask should have shape {expected.shape}, one entry per unit; got {arr.shape}"
    if arr.dtype.kind not in "biuf" or not np.all((arr == 0) | (arr == 1)):
        return "the mask should hold True / False (or 1 / 0) for each unit"
    a = arr.astype(bool)
    for j in range(len(a)):
        if a[j] and not expected[j]:
            return (f"unit {j} is marked dead, but some input in the box makes its pre-activation positive "
                    "(a few random inputs can miss it)")
        if expected[j] and not a[j]:
            return f"unit {j} is dead: no input in the box makes its pre-activation positive"
    return None


def _saturation_reference(name: str, eps: float) -> float:
    if name == "sigmoid":  # s(1 - s) = eps, s > 1/2; 1 - s written without cancellation
        r = math.sqrt(1 - 4 * eps)
        one_minus_s = 2 * eps / (1 + r)
        return math.log((1 - one_minus_s) / one_minus_s)
    t = math.sqrt(1 - eps)  # 1 - t^2 = eps, t > 0
    return 0.5 * (math.log1p(t) - math.log(eps / (1 + t)))  # artanh(t), with 1 - t = eps / (1 + t)


def _cases_3_4(rng: np.random.Generator) -> list[Case]:
    return [
        Case(("sigmoid", float(rng.uniform(0.01, 0.2))), {}, "sigmoid, a threshold between 0.01 and 0.2"),
        Case(("tanh", float(rng.uniform(0.01, 0.9))), {}, "tanh, a threshold between 0.01 and 0.9"),
        Case(("sigmoid", float(10 ** rng.uniform(-8, -4))), {}, "sigmoid, a tiny threshold"),
        Case(("tanh", float(10 ** rng.uniform(-8, -4))), {}, "tanh, a tiny threshold"),
    ]


def _judge_3_4(case: Case, got: Any) -> str | None:
    torch = torch_module()
    name, eps = case.args
    expected = _saturation_reference(name, eps)
    msg = compare_number(expected, got, what="the saturation point", rtol=1e-6, atol=1e-9)
    if msg and isinstance(got, (int, float)) and math.isfinite(got) and abs(got) < 1e6:
        if got < 0 and math.isclose(-got, expected, rel_tol=1e-6):
            return msg + " (the point asked for is the positive one, z > 0)"
        t = torch.tensor(float(got), dtype=torch.float64, requires_grad=True)
        (d,) = torch.autograd.grad(torch_activation(name)(t), t)
        msg += f" (at your z the derivative of {name} is {fmt(d.item())}, not the threshold)"
    return msg


PARTS = [
    Part(id="3.1", title="A sigmoid that never overflows", function="sigmoid", points=2,
         cases=_cases_3_1, judge=_judge_3_1,
         hints=("For z far below 0, e^(−z) overflows to inf and 1/(1 + inf) rounds a tiny but representable "
                "value to 0. A stable sigmoid only ever takes exp of a number ≤ 0.",
                "Treat z ≥ 0 and z < 0 separately: for negative z, multiply numerator and denominator of the "
                "formula by e^z, so the exponential you compute is at most 1.")),
    Part(id="3.2", title="Derivatives of activations", function="activation_grad", points=3,
         cases=_cases_3_2, judge=_judge_3_2,
         hints=("Differentiate each function by hand; the derivatives of sigmoid and tanh can be written with "
                "the function's own output. At a kink the course follows torch's autograd.",
                "At z = 0 exactly, torch gives relu a derivative of 0 and leaky_relu its slope 0.01: check "
                "whether your comparison is strict.")),
    Part(id="3.3", title="Which units are dead", function="dead_units", points=3,
         cases=_cases_3_3, judge=_judge_3_3,
         hints=("A unit is dead on the box when its pre-activation w·x + b is at most 0 for every input x in "
                "the box, so what matters is the largest value w·x + b takes there. Random samples can miss it.",
                "w·x + b is linear in x, so over a box it is largest at a corner: for each input coordinate, the "
                "end of [low, high] that makes w_i x_i larger. No sampling needed.")),
    Part(id="3.4", title="Where saturation starts", function="saturation_point", points=2,
         cases=_cases_3_4, judge=_judge_3_4,
         hints=("Write the derivative as a function of the activation's output (you derived both in 3.2), "
                "solve 'derivative = eps' for the output first, then go back to z.",
                "The equation for the output is a quadratic: take the root on the z > 0 side, then invert the "
                "activation; for tiny eps avoid subtracting two numbers that are almost equal.")),
]
