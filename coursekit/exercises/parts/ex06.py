"""Exercise 06 · Softmax and the output layer: stable softmax and log-softmax, cross-entropy, a derived gradient."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.exercises.judging import Case, Part, compare_array, compare_number, torch_module

EXERCISE = "06_softmax"


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
    cases = []
    for n, k, scale, label in [(4, 3, 1.0, "a batch of 4, 3 classes"), (16, 10, 2.0, "a batch of 16, 10 classes"),
                               (1, 5, 1.0, "a single example"), (8, 4, 50.0, "large logits")]:
        T = float(rng.uniform(0.3, 0.8) if rng.random() < 0.5 else rng.uniform(1.5, 5.0))
        cases.append(Case((rng.normal(size=(n, k)) * scale, rng.integers(0, k, size=n), T), {}, label))
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
            return msg + " (it is T times too large: the chain rule through z / T contributes a factor 1/T)"
        if n > 1 and np.allclose(got, expected * n, rtol=1e-6, atol=1e-10):
            return msg + " (it is N times too large: the loss is a mean over the batch)"
        if np.allclose(got, -expected, rtol=1e-6, atol=1e-10):
            return msg + " (it has the wrong sign)"
    return msg


KINDS = ("ok", "ok", "init_too_large", "softmax_twice", "softmax_twice")


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def training_log(rng: np.random.Generator, kind: str, steps: int = 200, lr: float = 0.5) -> tuple[np.ndarray, int]:
    """The loss, step by step, of a linear softmax classifier trained by full-batch gradient descent.

    ``kind``: "ok"; "init_too_large" (weights of std 3 to 6 instead of 0.01); "softmax_twice" (the
    model's output goes through softmax before a cross-entropy that applies softmax itself).
    """
    K, D, N = int(rng.integers(3, 21)), 8, 256
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
        g = (p - onehot) / N  # d loss / d (what the cross-entropy was given)
        if kind == "softmax_twice":
            g = p1 * (g - (g * p1).sum(axis=1, keepdims=True))  # back through the extra softmax
        W -= lr * g.T @ X
        b -= lr * g.sum(axis=0)
    return np.array(losses), K


def _unambiguous(kind: str, losses: np.ndarray, K: int) -> bool:
    """The log shows its kind beyond doubt (ln K at the start; the floor of a doubled softmax)."""
    start, floor = losses[0] / math.log(K), math.log(1 + (K - 1) / math.e)
    if kind == "init_too_large":  # far above ln K, and trained below the floor afterwards
        return start > 4 and losses.min() < 0.8 * floor
    return abs(start - 1) < 0.05 and (losses.min() > 1.1 * floor if kind == "softmax_twice"
                                      else losses.min() < 0.5 * floor)


def _cases_6_5(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k, i in enumerate(rng.permutation(len(KINDS)), start=1):
        kind = KINDS[i]
        for _ in range(20):  # bounded: almost every draw is unambiguous at once
            losses, K = training_log(rng, kind)
            if _unambiguous(kind, losses, K):
                break
        cases.append(Case((losses, K), {}, f"training log {k} of {len(KINDS)}", False))
    return cases


def _truth(losses: np.ndarray, K: int) -> tuple[bool, bool]:
    """What went wrong, read off the log by the two facts the chapter teaches."""
    return bool(losses[0] > 2 * math.log(K)), bool(losses.min() > math.log(1 + (K - 1) / math.e))


def _judge_6_5(case: Case, got: Any) -> str | None:
    losses, K = case.args
    want = _truth(losses, K)
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
         hints=("Softmax does not change when the same number is added to every logit of a row; use that to "
                "keep every exponent at most 0, so nothing overflows.",
                "The shift must be chosen per row (the row's largest logit), kept as a column so it broadcasts "
                "along the last axis, and the sums are taken along the last axis too.")),
    Part(id="6.2", title="Log-softmax", function="log_softmax", points=2,
         cases=_cases_6_2, judge=_judge_6_2,
         hints=("Taking the log of a softmax fails when a probability underflows to 0. Write log-softmax "
                "algebraically: the log of a ratio is a difference, and the shift of 6.1 works here too.",
                "After shifting by the row maximum, the log of the denominator is a log of a sum of exponentials "
                "that is at least 1, so it never meets log(0).")),
    Part(id="6.3", title="Cross-entropy from logits", function="cross_entropy", points=2,
         cases=_ce_cases, judge=_judge_6_3,
         hints=("Cross-entropy takes raw logits: for each example, the negative log-probability of its target "
                "class, averaged over the batch. A stable log-softmax needs no epsilon guard.",
                "Use your log_softmax, pick in each row the entry of that row's target class, and take the mean; "
                "with all logits equal the loss is ln K, a quick check.")),
    Part(id="6.4", title="Gradient with a temperature", function="cross_entropy_grad", points=2,
         cases=_cases_6_4, judge=_judge_6_4,
         hints=("Derive it with the chain rule: the loss is the mean cross-entropy of the logits divided by T, "
                "and you know the gradient of cross-entropy with respect to its own input.",
                "Write u = z / T. The gradient with respect to u is the familiar (softmax − one-hot) / N; "
                "each entry of u depends on one entry of z, with derivative 1/T. Check against autograd.")),
    Part(id="6.5", title="Diagnose a training log", function="diagnose", points=2,
         cases=_cases_6_5, judge=_judge_6_5,
         hints=("Two facts about a softmax classifier tell you a lot from its first and its lowest loss: where "
                "the loss starts when the outputs are about uniform, and how low it can go when the "
                "cross-entropy is given probabilities instead of logits.",
                "At a uniform start the loss is ln K, so a first loss far above it means large initial logits. "
                "Probabilities lie in [0, 1]: a second softmax sees logits that differ by at most 1, so its "
                "loss cannot fall below the value for a one-hot input; compute that floor.")),
]
