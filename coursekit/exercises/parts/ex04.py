"""Exercise 04 · The linear-collapse proof: collapse a stack, lose rank on purpose, XOR with one ReLU layer."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from coursekit.exercises.judging import (
    Case,
    Part,
    as_array,
    compare_array,
    describe_got,
    fmt,
    pair,
    torch_module,
)

EXERCISE = "04_linear_collapse"
# not in the student edition: the case generators (see coursekit release); the judges use torch or properties
HIDDEN = ("_stack", "_cases_4_1", "_cases_4_2", "_cases_4_3")


def _stack(rng: np.random.Generator, sizes: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in pairwise(sizes)]  # keep products of order 1
    return weights, [rng.normal(size=o) for o in sizes[1:]]


def _collapse_reference(weights: list[np.ndarray], biases: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Read W and b off the stack's behaviour: b = f(0), column i of W = f(e_i) - f(0) (computed by torch)."""
    torch = torch_module()
    F = torch.nn.functional
    d = weights[0].shape[1]
    h = torch.cat([torch.zeros(1, d, dtype=torch.float64), torch.eye(d, dtype=torch.float64)])
    for W, b in zip(weights, biases, strict=False):
        h = F.linear(h, torch.from_numpy(W), torch.from_numpy(b))
    b = h[0]
    return (h[1:] - b).T.numpy(), b.numpy()


def _cases_4_1(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sizes, label in [([3, 2], "a single layer"), ([3, 4, 2], "two layers 3 -> 4 -> 2"),
                         ([4, 6, 5, 2], "three layers 4 -> 6 -> 5 -> 2"), ([3, 3, 3, 3, 3, 3], "five square layers"),
                         ([6, 8, 1, 8, 4], "four layers with a bottleneck")]:
        cases.append(Case(_stack(rng, sizes), {}, label))
    return cases


def _judge_4_1(case: Case, got: Any) -> str | None:
    weights, biases = case.args
    W_exp, b_exp = _collapse_reference(weights, biases)
    wb, msg = pair(got, "the result")
    if msg:
        return msg + " (W, b)"
    W, b = wb
    msg = compare_array(W_exp, W, what="W", rtol=1e-7, atol=1e-9)
    if msg and isinstance(W, np.ndarray) and len(weights) >= 2:
        rev = weights[0]
        for M in weights[1:]:
            rev = rev @ M if rev.shape[1] == M.shape[0] else None
            if rev is None:
                break
        if rev is not None and rev.shape == W.shape and np.allclose(W, rev):
            return "W multiplies the matrices in the wrong order: the first layer acts first, so W = W_L ⋯ W_2 W_1"
        if W.shape == W_exp.shape[::-1]:
            return msg + "; the collapsed W maps the input to the output, so it has shape (out, in)"
    if msg:
        return msg
    msg = compare_array(b_exp, b, what="b", rtol=1e-7, atol=1e-9)
    if msg and isinstance(b, np.ndarray) and b.shape == b_exp.shape and np.allclose(b, biases[-1]) \
            and len(weights) >= 2:
        return "b is only the last layer's bias: earlier biases pass through the later layers' weights too"
    return msg


def _cases_4_2(rng: np.random.Generator) -> list[Case]:
    cases = []
    for lo, hi, extra, label, defining in [
            (3, 7, False, "input, one wider hidden layer, output", False),
            (3, 7, False, "another input / hidden / output width", False),
            (3, 7, False, "a third input / hidden / output width", False),
            (3, 7, True, "two equal hidden layers", False),
            # a construction answers at once; a numerical search for the weights (gradient steps on the
            # product's singular values) needs 20 s or more here (measured), ten times the time limit
            (200, 261, False, "widths in the hundreds: the rank has to come from the construction", True)]:
        a, c = int(rng.integers(lo, hi)), int(rng.integers(lo, hi))
        m = int(rng.integers(max(a, c) + 1, a + c + 1))
        rank = int(rng.integers(max(a + c - m, 1), min(a, c)))
        sizes = [a, m, m, c] if extra else [a, m, c]
        cases.append(Case((sizes, rank), {}, label, defining))
    return cases


def _judge_4_2(case: Case, got: Any) -> str | None:
    sizes, rank = case.args
    n = len(sizes) - 1
    if not isinstance(got, (list, tuple)) or len(got) != n:
        return f"the result should be a list of {n} weight matrices, one per layer; got {describe_got(got)}"
    mats = []
    for k, (W, (i, o)) in enumerate(zip(got, pairwise(sizes), strict=True), start=1):
        arr, msg = as_array(W, f"layer {k}'s weights")
        if msg:
            return msg
        if arr.shape != (o, i):
            return f"layer {k}'s weights should have shape (out, in) = {(o, i)}, got {arr.shape}"
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            return f"layer {k}'s weights contain NaN or inf"
        s = np.linalg.svd(arr, compute_uv=False)
        if s[0] == 0 or s[-1] < 1e-6 * s[0]:
            return (f"layer {k} is not full rank (a {o} × {i} matrix can have rank {min(o, i)}): the point is a "
                    "product that loses rank although no single layer does")
        mats.append(arr)
    product = mats[0]
    for W in mats[1:]:
        product = W @ product
    s = np.linalg.svd(product, compute_uv=False)
    top = s[0] if s.size and s[0] > 0 else 1.0
    have = int(np.sum(s > 1e-9 * top)) if s.size and s[0] > 0 else 0
    if have != rank or (rank and s[rank - 1] < 1e-6 * top):
        return (f"the product of your layers has rank {have}, but rank {rank} was asked for "
                f"(every layer here allows rank {min(sizes)})")
    return None


def _cases_4_3(rng: np.random.Generator) -> list[Case]:
    low = float(rng.uniform(-5, 3))
    high = low + float(rng.uniform(1, 2))  # at least 1 apart
    low2 = float(rng.uniform(1, 10))
    return [
        Case((0.0, 1.0), {}, "bits encoded as 0 and 1"),
        Case((-1.0, 1.0), {}, "bits encoded as -1 and +1"),
        Case((low, high), {}, "bits encoded as two random levels"),
        # all or nothing: a network that computes XOR only for the levels it was tried on (a table of the
        # public cases, weights searched or fitted numerically, a scale swept with check()) fails here
        Case((low2, low2 + float(rng.uniform(0.001, 0.01))), {}, "two levels less than 0.01 apart", True),
    ]


XOR_TOL = 1e-6  # the network's output must be XOR (0 or 1) to within this


def _judge_4_3(case: Case, got: Any) -> str | None:
    torch = torch_module()
    low, high = case.args
    parts, msg = pair(got, "the result", 4)
    if msg:
        return msg + " (W1, b1, W2, b2)"
    W1, msg = as_array(parts[0], "W1")
    if msg:
        return msg
    if W1.ndim != 2 or W1.shape[1] != 2 or W1.shape[0] < 1:
        return f"W1 should have shape (hidden, 2): one row per hidden unit, one column per input; got {W1.shape}"
    h = W1.shape[0]
    b1, msg = as_array(np.atleast_1d(np.asarray(parts[1], dtype=float)) if not isinstance(parts[1], (list, tuple))
                       else parts[1], "b1")
    if msg:
        return msg
    W2, msg = as_array(parts[2], "W2")
    if msg:
        return msg
    if b1.shape != (h,) or W2.reshape(-1).shape != (h,):
        return f"b1 should have shape ({h},) and W2 shape (1, {h}); got {b1.shape} and {W2.shape}"
    b2 = np.asarray(parts[3], dtype=float).reshape(-1)
    if b2.shape != (1,):
        return f"b2 should be one number; got shape {b2.shape}"
    X = torch.tensor([[low, low], [low, high], [high, low], [high, high]], dtype=torch.float64)
    t = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (W1, b1, W2.reshape(1, h), b2)]
    if not all(torch.isfinite(a).all() for a in t):
        return "the weights contain NaN or inf"
    out = torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(X, t[0], t[1])), t[2], t[3])[:, 0].tolist()
    xor = [0, 1, 1, 0]
    for bits, o, want in zip([(0, 0), (0, 1), (1, 0), (1, 1)], out, xor, strict=True):
        if not abs(o - want) <= XOR_TOL:
            msg = f"for the bits {bits} the network outputs {fmt(o)}; it should be {want}, their XOR"
            if all((v > 0) == bool(w) for v, w in zip(out, xor, strict=True)):
                msg += (" — the signs are right, but the network should compute XOR itself, 1 where the bits "
                        "differ and 0 where they agree, for whatever two levels encode them")
            return msg
    return None


PARTS = [
    Part(id="4.1", title="Collapse any stack of linear layers", function="collapse", points=4,
         cases=_cases_4_1, judge=_judge_4_1,
         hints=("A stack of affine layers is one affine map: its matrix and its offset must reproduce the whole stack on "
                "every input, and both depend on every layer.",
                "Chapter 04, §2 and §3 (two layers; induction): if the stack so far is one affine map, what does the next "
                "layer make of it? Which matrix acts first, and what happens to the earlier offsets?")),
    Part(id="4.2", title="A stack that loses rank", function="low_rank_stack", points=3,
         cases=_cases_4_2, judge=_judge_4_2,
         hints=("Every layer must be full rank and the product must have exactly the rank asked for: the loss has to come "
                "from how the layers fit together, not from one weak layer, for any widths, hundreds of units included, "
                "so the layers have to be built rather than searched for.",
                "Chapter 04, §5 (the rank bound) gives only an upper bound on the rank of a product. When does what one "
                "layer produces fall into what the next one sends to zero, and how much room does a full-rank layer leave?")),
    Part(id="4.3", title="XOR with one ReLU layer", function="xor_relu", points=3,
         cases=_cases_4_3, judge=_judge_4_3,
         hints=("The network must compute XOR itself, one where the bits differ and zero where they agree, for whatever "
                "two levels encode the bits, even levels very close together: weights that work for the levels you tried "
                "need not work for any others.",
                "Chapter 04, §6 and §7 (one activation breaks the collapse): what does each hidden unit respond to, and "
                "how must the weights scale as the two levels move closer, so that the hidden units see the same picture?")),
]
