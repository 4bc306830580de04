"""Exercise 06 · Softmax and the output layer: stable softmax and log-softmax, cross-entropy, a derived gradient."""

from __future__ import annotations

import math
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

EXERCISE = "06_softmax"
# not in the student edition: the case generators and the reference answers (see coursekit release)
HIDDEN = ("_cases_6_1", "_cases_6_2", "_ce_cases", "_cases_6_4", "KINDS", "_softmax_rows", "training_log", "_floor",
          "_near_the_floor", "_cases_6_5", "_truth")


def _cases_6_1(rng: np.random.Generator) -> list[Case]:
    big = rng.normal(size=(4, 6))
    big[int(rng.integers(4)), int(rng.integers(6))] = 1e4
    return [
        Case((rng.normal(size=5),), {}, "a single vector of 5 logits"),
        Case((rng.normal(size=(4, 3)) * 2,), {}, "a batch of 4 rows of 3 logits"),
        Case((big,), {}, "a batch of 4 rows, one logit of 1e4 (no overflow allowed)", defining=True),
        Case(((rng.normal(size=(3, 5)) * 5 + 100).astype(np.float32),), {},
             "float32 logits around 100 (no overflow allowed)", defining=True),
        Case((rng.normal(size=(2, 3, 4)),), {}, "a (2, 3, 4) array: softmax over the last axis"),
    ]


def _softmax_tol(z: np.ndarray) -> dict:
    return {"rtol": 1e-5, "atol": 1e-7} if z.dtype == np.float32 else {"rtol": 1e-7, "atol": 1e-12}


def _judge_6_1(case: Case, got: Any) -> str | None:
    torch = torch_module()
    z = case.args[0]
    expected = torch.softmax(torch.from_numpy(z).double(), dim=-1).numpy()
    msg = compare_array(expected, got, what="softmax(z)", **_softmax_tol(z))
    if msg and isinstance(got, np.ndarray) and got.shape == z.shape and z.ndim >= 2 \
            and np.all(np.isfinite(got)):
        if np.allclose(got.sum(axis=0), 1) and not np.allclose(got.sum(axis=-1), 1):
            return "your values sum to 1 down each column: normalise along the last axis"
    if msg and "NaN" in msg:
        msg += "; exp overflowed to inf"
    return msg


def _cases_6_2(rng: np.random.Generator) -> list[Case]:
    far = rng.normal(size=(3, 4))
    far[int(rng.integers(3)), int(rng.integers(4))] = 1000.0
    return [
        Case((rng.normal(size=6),), {}, "a single vector of 6 logits"),
        Case((rng.normal(size=(5, 3)),), {}, "a batch of 5 rows of 3 logits"),
        Case((far,), {}, "a row where one logit is 1000 above the others (no log of 0 allowed)", defining=True),
        Case((rng.normal(size=(2, 4)) + 800,), {}, "logits around 800 (no overflow allowed)", defining=True),
    ]


def _judge_6_2(case: Case, got: Any) -> str | None:
    torch = torch_module()
    z = case.args[0]
    expected = torch.log_softmax(torch.from_numpy(z), dim=-1).numpy()
    msg = compare_array(expected, got, what="log_softmax(z)", rtol=1e-7, atol=1e-9)
    if msg and "inf" in msg:
        msg += ": the softmax of the small logits underflowed to 0 and its log is -inf"
    return msg


def _ce_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, k, scale, label, defining in [
        (4, 3, 1.0, "a batch of 4, 3 classes", False),
        (32, 10, 2.0, "a batch of 32, 10 classes", False),
        (5, int(rng.integers(3, 12)), 0.0, "all-zero logits (a uniform start)", False),
        (6, 4, 300.0, "large logits, hundreds apart (no overflow, no log of 0 allowed)", True),
    ]:
        cases.append(Case((rng.normal(size=(n, k)) * scale, rng.integers(0, k, size=n)), {}, label, defining))
    return cases


def _judge_6_3(case: Case, got: Any) -> str | None:
    torch = torch_module()
    logits, targets = case.args
    F = torch.nn.functional
    lt, tt = torch.from_numpy(logits), torch.from_numpy(targets).long()
    expected = F.cross_entropy(lt, tt).item()
    p = torch.softmax(lt, dim=1)[torch.arange(len(targets)), tt]

    def with_eps(eps: float) -> float:
        return float(-torch.log(p + eps).mean())

    msg = compare_number(expected, got, what="the loss", rtol=1e-9, atol=1e-12, with_epsilon=with_eps,
                         epsilon_words="inside the log")
    if msg and isinstance(got, (int, float)) and math.isfinite(got) and "epsilon" not in msg:
        if math.isclose(got, F.cross_entropy(lt, tt, reduction="sum").item(), rel_tol=1e-6):
            return msg + " (that is the sum over the batch; the loss is the mean)"
        if math.isclose(got, F.cross_entropy(torch.softmax(lt, dim=1), tt).item(), rel_tol=1e-6):
            return msg + " (softmax was applied twice: cross-entropy takes raw logits)"
    return msg


def _cases_6_4(rng: np.random.Generator) -> list[Case]:
    """Temperatures below and above 1 in every draw, and one batch too large for finite differences."""
    cases = []
    for n, k, scale, cold, label in [(4, 3, 1.0, True, "a batch of 4, 3 classes, T < 1"),
                                     (16, 10, 2.0, False, "a batch of 16, 10 classes, T > 1"),
                                     (1, 5, 1.0, False, "a single example, T > 1"),
                                     (8, 4, 50.0, True, "large logits, T < 1")]:
        T = float(rng.uniform(0.3, 0.8) if cold else rng.uniform(1.5, 5.0))
        cases.append(Case((rng.normal(size=(n, k)) * scale, rng.integers(0, k, size=n), T), {}, label))
    # 100 000 logits (800 kB): a derived formula takes a millisecond, differencing them one by one costs
    # 200 000 evaluations of the loss, far beyond the 2 s a call may take
    n, k = 400, 250
    cases.append(Case((rng.normal(size=(n, k)) * 3, rng.integers(0, k, size=n), float(rng.uniform(0.5, 4.0))), {},
                      "400 examples of 250 classes (derived, not differenced)", defining=True))
    return cases


def _judge_6_4(case: Case, got: Any) -> str | None:
    torch = torch_module()
    logits, targets, T = case.args
    lt = torch.from_numpy(logits).requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(lt / T, torch.from_numpy(targets).long())
    (grad,) = torch.autograd.grad(loss, lt)
    expected = grad.numpy()
    msg = compare_array(expected, got, what="the gradient", rtol=1e-6, atol=1e-10)
    if msg and isinstance(got, np.ndarray) and got.shape == expected.shape:
        n = len(logits)
        if np.allclose(got, expected * T, rtol=1e-6, atol=1e-10):
            return msg + (f" (it is T = {T:.3g} times the right gradient: the chain rule through z / T "
                          "contributes a factor 1/T)")
        if np.allclose(got, expected / T, rtol=1e-6, atol=1e-10):
            return msg + f" (it is 1/T = {1 / T:.3g} times the right gradient: the factor 1/T appears once, not twice)"
        if n > 1 and np.allclose(got, expected * n, rtol=1e-6, atol=1e-10):
            return msg + " (it is N times too large: the loss is a mean over the batch)"
        if np.allclose(got, -expected, rtol=1e-6, atol=1e-10):
            return msg + " (it has the wrong sign)"
    return msg


# (kind, the range of K): the same five families in every draw. A fine run with many classes ends
# near 0.75 ln K, a doubled softmax with 3 or 4 classes stays above its floor near 0.65 ln K: no
# fraction of ln K sorts both, only the floor ln(1 + (K - 1)/e) does.
KINDS = (("ok", 3, 11), ("ok", 60, 101), ("init_too_large", 3, 31), ("softmax_twice", 3, 5),
         ("softmax_twice", 60, 101))


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def training_log(rng: np.random.Generator, kind: str, steps: int = 200, lr: float = 0.5,
                 stop_below: float | None = None, classes: tuple[int, int] = (3, 101)) -> tuple[np.ndarray, int]:
    """The loss, step by step, of a linear softmax classifier trained by full-batch gradient descent.

    ``kind``: "ok"; "init_too_large" (weights of std 3 to 6 instead of 0.01); "softmax_twice" (the
    model's output goes through softmax before a cross-entropy that applies softmax itself).
    K is drawn from ``classes`` (low, high + 1); between 3 and 100 classes the floor of a doubled
    softmax is between 0.5 and 0.8 of ln K, so no fixed fraction of ln K tells the cases apart.
    ``stop_below`` (a fraction of that floor) ends the run at the first loss below it.
    """
    K, D, N = int(rng.integers(*classes)), 8, 256
    X = rng.normal(size=(N, D))
    y = np.argmax(X @ rng.normal(size=(K, D)).T, axis=1)  # labels from a random linear teacher
    W = rng.normal(size=(K, D)) * (rng.uniform(3, 6) if kind == "init_too_large" else 0.01)
    b = np.zeros(K)
    onehot = np.eye(K)[y]
    losses = []
    for _ in range(steps):
        p1 = _softmax_rows(X @ W.T + b)
        p = _softmax_rows(p1) if kind == "softmax_twice" else p1
        losses.append(float(-np.log(p[np.arange(N), y]).mean()))
        if stop_below is not None and losses[-1] < stop_below * _floor(K):
            break
        g = (p - onehot) / N  # d loss / d (what the cross-entropy was given)
        if kind == "softmax_twice":
            g = p1 * (g - (g * p1).sum(axis=1, keepdims=True))  # back through the extra softmax
        W -= lr * g.T @ X
        b -= lr * g.sum(axis=0)
    return np.array(losses), K


def _floor(K: int) -> float:
    """The lowest cross-entropy a softmax of probabilities allows: a one-hot input, ln(1 + (K - 1)/e)."""
    return math.log(1 + (K - 1) / math.e)


def _near_the_floor(kind: str, losses: np.ndarray, K: int) -> np.ndarray | None:
    """The log cut so that its lowest loss sits near the doubled-softmax floor, or None if it cannot be.

    A fine run is cut at the first step below 0.97 of the floor (so its minimum is just under it),
    a doubled-softmax run always stays above the floor; a run started too large is cut after it
    has trained below the floor. So the logs sit close to the boundary a threshold must find.
    """
    floor = _floor(K)
    if kind == "softmax_twice":
        return losses if abs(losses[0] / math.log(K) - 1) < 0.05 and losses.min() > floor else None
    below = np.flatnonzero(losses < (0.97 if kind == "ok" else 0.9) * floor)
    if below.size == 0:
        return None
    cut = losses[: int(below[0]) + 1]
    if kind == "init_too_large":
        return cut if cut[0] > 4 * math.log(K) else None
    return cut if abs(cut[0] / math.log(K) - 1) < 0.05 and len(cut) >= 10 else None


def _cases_6_5(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k, i in enumerate(rng.permutation(len(KINDS)), start=1):
        kind, low, high = KINDS[i]
        log = None
        for _ in range(50):  # bounded: most draws qualify at once
            losses, K = training_log(rng, kind, stop_below=None if kind == "softmax_twice" else
                                     (0.97 if kind == "ok" else 0.9), classes=(low, high))
            log = _near_the_floor(kind, losses, K)
            if log is not None:
                break
        if log is None:
            raise RuntimeError(f"no {kind} log near the floor in 50 draws")
        # the diagnosis is one idea: any log misread scores 0 (thresholds that are not the two
        # facts misread one of the five families in every draw)
        cases.append(Case((log, K), {}, f"training log {k} of {len(KINDS)}", True))
    return cases


def _truth(losses: np.ndarray, K: int) -> tuple[bool, bool]:
    """What went wrong, read off the log by the two facts the chapter teaches."""
    return bool(losses[0] > 2 * math.log(K)), bool(losses.min() > _floor(K))


def _judge_6_5(case: Case, got: Any) -> str | None:
    losses, K = case.args
    want = reference(case, lambda: _truth(losses, K))
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(v, bool) for v in got):
        return "the result should be a pair of booleans (init_too_large, softmax_before_ce)"
    names = ("init_too_large", "softmax_before_ce")
    for name, g, w in zip(names, got, want, strict=True):
        if g != w:
            return f"{name} should be {w} for this log, got {g}"
    return None


PARTS = [
    Part(id="6.1", title="Stable softmax", function="softmax", points=2,
         cases=_cases_6_1, judge=_judge_6_1,
         hints=("Softmax of large logits overflows unless the exponentials stay bounded, and each row (the last axis) is "
                "one distribution that must sum to 1.",
                "Chapter 06, §3 and §4 (the naive formula and the stable one): what can you add to a row of logits without "
                "changing its softmax, and which choice keeps every exponential at most 1?")),
    Part(id="6.2", title="Log-softmax", function="log_softmax", points=2,
         cases=_cases_6_2, judge=_judge_6_2,
         hints=("The log of a probability that underflowed to 0 is minus infinity: log-softmax has to be computed without "
                "forming those probabilities first.",
                "Chapter 06, §6 (log-softmax and cross-entropy from logits): what is the log of a ratio, and how does the "
                "shift of 6.1 keep the log of the denominator finite?")),
    Part(id="6.3", title="Cross-entropy from logits", function="cross_entropy", points=2,
         cases=_ce_cases, judge=_judge_6_3,
         hints=("Cross-entropy takes raw logits and averages, over the batch, the negative log-probability of each "
                "example's target class; a guard epsilon changes the value, and a stable log-softmax needs none.",
                "Chapter 06, §6 and §9 (the loss at the start is ln K): which entry of each row belongs to the target, and "
                "what loss must equal logits give?")),
    Part(id="6.4", title="Gradient with a temperature", function="cross_entropy_grad", points=2,
         cases=_cases_6_4, judge=_judge_6_4,
         hints=("The gradient must be derived, not measured: exact, and fast for 100 000 logits. Yours differs from "
                "autograd's by a factor, a sign or a term somewhere along the chain.",
                "Chapter 06, §5 (temperature) and §7 (the gradient): what is the gradient with respect to the scaled "
                "logits, and what does the division by T contribute on the way back to the raw logits?")),
    Part(id="6.5", title="Diagnose a training log", function="diagnose", points=2,
         cases=_cases_6_5, judge=_judge_6_5,
         hints=("Each log tells one story, and the diagnosis must read it from facts that hold for every K: thresholds "
                "fitted to a few logs misread others.",
                "Chapter 06, §8 and §9 (the loss at the start is ln K): where must the first loss be when the outputs "
                "start about uniform, and what is the smallest loss a cross-entropy can reach when it is given "
                "probabilities, as a function of K?")),
]
