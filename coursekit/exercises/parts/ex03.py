"""Exercise 03 · Activation functions: a sigmoid that never overflows, derivatives, dead units, saturation."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from coursekit import activations
from coursekit.exercises.judging import (
    Case,
    Part,
    as_array,
    compare_array,
    compare_number,
    fmt,
    reference,
    torch_module,
)

EXERCISE = "03_activations"
# not in the student edition: the case generators and the reference answers (see coursekit release)
HIDDEN = ("with_zeros", "_cases_3_1", "_cases_3_2", "_cases_3_3", "_dead_reference", "_saturation_reference",
          "_cases_3_4")


def with_zeros(z: np.ndarray, rng: np.random.Generator, k: int = 3) -> np.ndarray:
    """Put exact zeros into z: the kinks of ReLU-like functions live there."""
    z = z.copy()
    z.flat[rng.choice(z.size, size=min(k, z.size), replace=False)] = 0.0
    return z


# The torch function each activation is judged against: the registry's column (a registered activation is here too).
TORCH = activations.TORCH


def torch_activation(name: str):
    """The torch function of activation ``name`` with its default parameters (``TORCH`` and the registry's ``PARAMS``)."""
    return functools.partial(TORCH[name], **activations.PARAMS[name])


def _cases_3_1(rng: np.random.Generator) -> list[Case]:
    # both tails in every draw: 6 inputs below -710 and 2 above +710, in random order
    tail = np.concatenate([-rng.uniform(710, 725, size=6), rng.uniform(710, 725, size=2)])[rng.permutation(8)]
    return [
        Case((rng.uniform(-6, 6, size=13),), {}, "13 values between -6 and 6"),
        Case((rng.normal(size=(4, 5)) * 3,), {}, "a (4, 5) matrix"),
        Case((np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),), {}, "inputs of ±1000 and ±50"),
        Case((tail,), {}, "inputs beyond ±710, where exp(710) overflows (no NaN or inf allowed)", defining=True),
    ]


def _judge_3_1(case: Case, got: Any) -> str | None:
    """Judged against torch.sigmoid, the course's semantics (coursekit.activations.sigmoid agrees).

    Far below 0 the true value is below float64's smallest normal number: torch returns 0 there,
    a formula that computes e^z / (1 + e^z) returns the tiny subnormal value; both are accepted
    (absolute tolerance 1e-12). What fails is NaN or inf, which the quotient inf / inf produces.
    """
    torch = torch_module()
    z = case.args[0]
    expected = torch.sigmoid(torch.from_numpy(z)).numpy()
    msg = compare_array(expected, got, what="sigmoid(z)", rtol=1e-9, atol=1e-12)
    if msg and "NaN" in msg:
        msg += "; e^z / (1 + e^z) is inf / inf = NaN when e^z overflows"
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
                                       (4, 16, -3.0, 0.5, "inputs in [-3, 0.5]^4, 16 units"),
                                       (48, 24, -0.5, 1.0, "inputs in [-0.5, 1]^48 (2^48 corners), 24 units")]:
        W = rng.normal(size=(units, d))
        top = np.maximum(W * low, W * high).sum(axis=1)  # the largest W x over the box, per unit
        # biases close to the edge: the largest pre-activation is a little above or below 0; half the
        # units alive, half dead, in random order, and one of each within 0.01 of the edge
        signs = np.where(np.arange(units) < units // 2, 1.0, -1.0)
        margin = rng.uniform(0.02, 0.2, size=units) * signs
        margin[0], margin[units - 1] = rng.uniform(0.002, 0.01), -rng.uniform(0.002, 0.01)
        b = -top + margin[rng.permutation(units)]
        # the 48-dimensional box: reasoning answers at once, trying every corner never finishes
        cases.append(Case((W, b, low, high), {}, label, defining=d > 20))
    return cases


def _dead_reference(W: np.ndarray, b: np.ndarray, low: float, high: float) -> np.ndarray:
    """Which units are dead on the box: every corner through torch for small boxes, the per-coordinate maximum else."""
    torch = torch_module()
    d = W.shape[1]
    if d <= 12:  # every corner of the box, through torch: a linear function is largest at one of them
        corners = torch.cartesian_prod(*[torch.tensor([low, high], dtype=torch.float64)] * d).reshape(-1, d)
        pre = torch.nn.functional.linear(corners, torch.from_numpy(W), torch.from_numpy(b))
        return (torch.relu(pre) == 0).all(dim=0).numpy()
    return np.maximum(W * low, W * high).sum(axis=1) + b <= 0  # agrees with the corners below 12 (tested)


def _judge_3_3(case: Case, got: Any) -> str | None:
    W, b, low, high = case.args
    expected = reference(case, lambda: _dead_reference(W, b, low, high))
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


def _saturation_reference(name: str, eps: float | np.ndarray) -> float | np.ndarray:
    """The z > 0 where the derivative of ``name`` is ``eps``, from the output's equation (elementwise for arrays)."""
    e = np.asarray(eps, dtype=np.float64)
    if name == "sigmoid":  # s(1 - s) = eps, s > 1/2; 1 - s written without cancellation
        r = np.sqrt(1 - 4 * e)
        one_minus_s = 2 * e / (1 + r)
        z = np.log((1 - one_minus_s) / one_minus_s)
    else:
        t = np.sqrt(1 - e)  # 1 - t^2 = eps, t > 0
        z = 0.5 * (np.log1p(t) - np.log(e / (1 + t)))  # artanh(t), with 1 - t = eps / (1 + t)
    return float(z) if z.ndim == 0 else z


PEAK_THRESHOLDS = 20_000  # thresholds per near-peak case


def _cases_3_4(rng: np.random.Generator) -> list[Case]:
    # just below the derivative's peak (1/4 for sigmoid, 1 for tanh) the derivative is flat: a z found by
    # evaluating it in floats (a bisection, Newton, a sweep) is off by 1e-4 relative or more, while z computed
    # from eps through the function's output is exact to ~1e-9. Arrays of 20,000 thresholds: a bisection in
    # many-digit arithmetic (the decimal module) takes about 2 ms per threshold, 35 s for the array, far
    # beyond the time limit, while the inversion is one numpy expression. These two cases are what the part
    # is about. Not ruled out: a float start polished by three Newton steps in decimal arithmetic (about 16 us
    # a threshold, 0.3 s for the array); ruling it out would take arrays of millions, too big to ship as data.
    def near_peak(peak: float) -> np.ndarray:
        return peak - 10 ** rng.uniform(-15, -13, size=PEAK_THRESHOLDS)

    return [
        # below 1e-17, 1 - 4 eps and 1 - eps round to 1: only a formula without cancellation stays finite
        Case(("sigmoid", float(10 ** rng.uniform(-20, -17))), {}, "sigmoid, a threshold below 1e-17"),
        Case(("tanh", float(10 ** rng.uniform(-20, -17))), {}, "tanh, a threshold below 1e-17"),
        Case(("sigmoid", near_peak(0.25)), {},
             "sigmoid, an array of thresholds within 1e-13 below the peak 1/4", defining=True),
        Case(("tanh", near_peak(1.0)), {}, "tanh, an array of thresholds within 1e-13 below the peak 1", defining=True),
    ]


def _judge_3_4(case: Case, got: Any) -> str | None:
    torch = torch_module()
    name, eps = case.args
    expected = reference(case, lambda: _saturation_reference(name, eps))
    if isinstance(eps, np.ndarray):  # near the peak; relative accuracy only: z is about 1e-7 there
        msg = compare_array(expected, got, what="the saturation points", rtol=1e-6, atol=0.0)
        if msg and isinstance(got, np.ndarray) and got.shape == expected.shape and np.all(np.isfinite(got)):
            if np.allclose(-got, expected, rtol=1e-6, atol=0.0):
                return msg + " (the points asked for are the positive ones, z > 0)"
            worst = float(np.max(np.abs(got / expected - 1)))
            if worst < 0.1:
                digits = max(1, int(-math.log10(worst)))
                msg += (f" (right to only {digits} digit{'s' if digits > 1 else ''} for some thresholds: this close to "
                        f"its peak the derivative of {name} hardly changes with z, so evaluating it cannot locate z "
                        "any better; z has to follow from eps itself)")
        return msg
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
         hints=("The result holds NaN or inf, or disagrees with torch's sigmoid: far from zero an exponential overflows, "
                "and inf divided by inf is NaN. The course's sigmoid follows torch, which gives exactly 0 and 1 far out.",
                "Chapter 03, §3 (sigmoid): for a large positive and a large negative input, which exponential in your "
                "formula overflows? Can you write the same value so that no exponential sees a large positive argument?")),
    Part(id="3.2", title="Derivatives of activations", function="activation_grad", points=3,
         cases=_cases_3_2, judge=_judge_3_2,
         hints=("A derivative must agree with autograd everywhere, including at the kinks, where the course follows "
                "torch's convention.",
                "Chapter 03, §3 to §6 draw each derivative beside autograd's. Which of your four disagrees, and where: "
                "everywhere, or only at zero?")),
    Part(id="3.3", title="Which units are dead", function="dead_units", points=3,
         cases=_cases_3_3, judge=_judge_3_3,
         hints=("A unit is dead on the box only if no input anywhere in the box turns it on; samples can miss the one "
                "corner region where it comes alive, and then a live unit is called dead.",
                "Chapter 03, §8 (dead ReLUs): the pre-activation is a linear function of the input. Where on a box does a "
                "linear function take its largest value, and how can you find that point for each unit without sampling?")),
    Part(id="3.4", title="Where saturation starts", function="saturation_point", points=2,
         cases=_cases_3_4, judge=_judge_3_4,
         hints=("At your z the derivative is not the threshold to six digits. Just below its peak the derivative is "
                "nearly flat, so a z found by evaluating it is right to a few digits only; for the smallest thresholds, a "
                "formula that subtracts two nearly equal numbers loses most of its digits.",
                "Chapter 03, §7 (saturation): in 3.2 you wrote each derivative through the function's own output. What "
                "equation does that output satisfy at the saturation point, which root belongs to positive z, and how do "
                "you get from the threshold to z without evaluating the derivative and without cancelling digits?")),
]
