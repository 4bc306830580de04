"""A shared set of answers for every exercise part: right, stub, transcription bugs, hint-copying, partial.

Each answer is the source of a notebook cell and the points it must earn under the course's scoring
rule (written here from the rule, not read from the code under test): ``check()`` and ``coursekit
grade`` are both held to it. ``None`` means "full marks" (the part's points).
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

#: The first code cell of a generated submission, as the student copies have it.
SETUP = "import numpy as np\n\nfrom coursekit.exercises import check"

FULL = None
AGREE = "agree"  # no value written here: check() and the grader must give the same points


def stub(function: str, part_id: str, args: str) -> str:
    return f"def {function}({args}):\n    # YOUR CODE HERE\n    raise NotImplementedError(\"Exercise {part_id}: stub\")\n"


# A right answer that calls no other part: a notebook can replace one part and keep the others' scores
# (the grader's attack tests build their notebooks from these, tests/test_grading_isolation.py).
SELF_CONTAINED = "right, calling no other part"


# part id -> [(label, cell source, expected points)]; the reference solution is added by the tests
ANSWERS: dict[str, list[tuple[str, str, float | None]]] = {
    "1.1": [
        ("stub", stub("weighted_sum", "1.1", "X, w, b"), 0),
        ("no bias", "def weighted_sum(X, w, b):\n    return X @ w\n", 0),
    ],
    "1.2": [
        ("stub", stub("perceptron", "1.2", "X, w, b"), 0),
        ("step at 0 gives 1 (partial: 2 of 3)", "def perceptron(X, w, b):\n"
         "    return np.where(X @ w + b >= 0, 1.0, 0.0)\n", 2 * 2 / 3),
    ],
    "1.3": [
        ("stub", stub("gate_weights", "1.3", "table"), 0),
        ("always None (partial: the 2 inseparable tables of 16)", "def gate_weights(table):\n    return None\n", 3 * 2 / 16),
    ],
    "1.4": [
        ("stub", stub("train_perceptron", "1.4", "X, y, lr=1.0, epochs=100"), 0),
        ("no training", "def train_perceptron(X, y, lr=1.0, epochs=100):\n    return np.zeros(X.shape[1]), 0.0\n", 0),
    ],
    "2.1": [
        ("stub", stub("dense_forward", "2.1", "X, W, b"), 0),
        ("W not transposed", "def dense_forward(X, W, b):\n    return X @ W + b\n", 0),
    ],
    "2.2": [
        ("stub", stub("mlp_forward", "2.2", "X, weights, biases"), 0),
        ("W not transposed", "def mlp_forward(X, weights, biases):\n    h = X\n"
         "    for W, b in zip(weights, biases):\n        h = np.maximum(h @ W + b, 0.0)\n    return h\n", 0),
    ],
    "2.3": [
        ("stub", stub("count_parameters", "2.3", "sizes"), 0),
        ("weights only (partial: only an input layer passes)",
         "def count_parameters(sizes):\n    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))\n", 2 / 5),
    ],
    "2.4": [
        ("stub", stub("widest_hidden", "2.4", "n_in, n_out, budget"), 0),
        ("one unit more than fits", "def widest_hidden(n_in, n_out, budget):\n"
         "    return max((budget - n_out) // (n_in + 1 + n_out), 0) + 1\n", 0),
    ],
    "3.1": [
        ("stub", stub("sigmoid", "3.1", "z"), 0),
        ("e^z / (1 + e^z) everywhere (inf / inf = NaN far above 0)", "def sigmoid(z):\n"
         "    with np.errstate(over='ignore', invalid='ignore'):\n        e = np.exp(z)\n        return e / (1 + e)\n", 0),
        ("scipy's expit", "from scipy.special import expit\n\ndef sigmoid(z):\n    return expit(z)\n", 0),
    ],
    "3.2": [
        ("stub", stub("activation_grad", "3.2", "z, name"), 0),
        ("relu'(0) = 1 (partial: sigmoid, tanh and tanh again pass)", "def activation_grad(z, name):\n"
         "    if name == 'sigmoid':\n        s = 1 / (1 + np.exp(-z))\n        return s * (1 - s)\n"
         "    if name == 'tanh':\n        return 1 - np.tanh(z) ** 2\n"
         "    return np.where(z >= 0, 1.0, 0.01 if name == 'leaky_relu' else 0.0)\n", 3 * 3 / 5),
    ],
    "3.3": [
        ("stub", stub("dead_units", "3.3", "W, b, low, high"), 0),
        ("sampling the box (the hint taken as a recipe)", "def dead_units(W, b, low, high):\n"
         "    X = np.random.default_rng(0).uniform(low, high, size=(200, W.shape[1]))\n"
         "    return np.all(X @ W.T + b <= 0, axis=0)\n", 0),
    ],
    "3.4": [
        ("stub", stub("saturation_point", "3.4", "name, eps"), 0),
        ("the output instead of z", "def saturation_point(name, eps):\n"
         "    return float((1 + np.sqrt(1 - 4 * eps)) / 2) if name == 'sigmoid' else float(np.sqrt(1 - eps))\n", 0),
    ],
    "4.1": [
        ("stub", stub("collapse", "4.1", "weights, biases"), 0),
        ("only the last bias (partial: the single layer passes)", "def collapse(weights, biases):\n"
         "    W = weights[0]\n    for M in weights[1:]:\n        W = M @ W\n    return W, biases[-1]\n", 4 / 5),
    ],
    "4.2": [
        ("stub", stub("low_rank_stack", "4.2", "sizes, rank"), 0),
        ("random layers (the rank bound is reached)", "def low_rank_stack(sizes, rank):\n"
         "    rng = np.random.default_rng(0)\n"
         "    return [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]\n", 0),
    ],
    "4.3": [
        ("stub", stub("xor_relu", "4.3", "low, high"), 0),
        ("a linear network (no ReLU can help it)", "def xor_relu(low, high):\n"
         "    return np.eye(2), np.full(2, 10.0 * abs(low) + 10.0), np.array([[1.0, 1.0]]), np.array([-1.0])\n", 0),
    ],
    "5.1": [
        ("stub", stub("xavier_uniform", "5.1", "fan_in, fan_out, rng, gain=1.0"), 0),
        ("global np.random", "def xavier_uniform(fan_in, fan_out, rng, gain=1.0):\n"
         "    a = gain * np.sqrt(6 / (fan_in + fan_out))\n"
         "    return np.random.uniform(-a, a, size=(fan_out, fan_in))\n", 0),
    ],
    "5.2": [
        ("stub", stub("kaiming_normal", "5.2", "fan_in, fan_out, rng, mode='fan_in', gain=2**0.5"), 0),
        ("global np.random", "def kaiming_normal(fan_in, fan_out, rng, mode='fan_in', gain=2**0.5):\n"
         "    fan = fan_in if mode == 'fan_in' else fan_out\n"
         "    return np.random.normal(0, gain / np.sqrt(fan), size=(fan_out, fan_in))\n", 0),
        ("variance used as the std (partial: only the rng check passes)",
         "def kaiming_normal(fan_in, fan_out, rng, mode='fan_in', gain=2**0.5):\n"
         "    fan = fan_in if mode == 'fan_in' else fan_out\n"
         "    return rng.normal(0, gain**2 / fan, size=(fan_out, fan_in))\n", 2 / 5),
    ],
    "5.3": [
        ("stub", stub("layer_stats", "5.3", "X, weights, activation"), 0),
        ("statistics before the activation", "def layer_stats(X, weights, activation):\n"
         "    f = {'sigmoid': lambda z: 1 / (1 + np.exp(-z)), 'tanh': np.tanh, 'relu': lambda z: np.maximum(z, 0)}\n"
         "    h, rows = X, []\n    for W in weights:\n        z = h @ W.T\n        h = f[activation](z)\n"
         "        rows.append([z.mean(), z.std()])\n    return np.array(rows)\n", 0),
    ],
    "5.4": [
        ("stub", stub("tanh_std", "5.4", "fan_in, target"), 0),
        ("LeCun's 1/sqrt(fan_in)", "def tanh_std(fan_in, target):\n    return 1 / np.sqrt(fan_in)\n", 0),
        ("the gain itself", "def tanh_std(fan_in, target):\n    return 5 / 3\n", 0),
    ],
    "5.5": [
        ("stub", stub("distinct_units", "5.5", "W1, b1, W2, b2, X, y, lr, steps"), 0),
        ("the width (symmetry ignored)", "def distinct_units(W1, b1, W2, b2, X, y, lr, steps):\n"
         "    return W1.shape[0]\n", 0),
        ("rows of W1 counted before training (fails the all-or-nothing 'constant first layer' case)",
         "def distinct_units(W1, b1, W2, b2, X, y, lr, steps):\n"
         "    rows = []\n    for row in W1:\n"
         "        if not any(np.max(np.abs(row - r)) <= 1e-8 for r in rows):\n            rows.append(row)\n"
         "    return len(rows)\n", 0),
        ("the hint pasted as the answer", "def distinct_units(W1, b1, W2, b2, X, y, lr, steps):\n"
         "    return ('Two hidden units with the same incoming weights and bias compute the same activation; '\n"
         "            'units that differ anywhere drift apart once training starts')\n", 0),
        ("reasoning instead of training: whole units (incoming, bias, outgoing) compared at the start",
         "def distinct_units(W1, b1, W2, b2, X, y, lr, steps):\n"
         "    units = np.hstack([W1, b1[:, None], W2.T])\n    kept = []\n    for u in units:\n"
         "        if not any(np.max(np.abs(u - v)) <= 1e-8 for v in kept):\n            kept.append(u)\n"
         "    return len(kept)\n", FULL),
    ],
    "6.1": [
        ("stub", stub("softmax", "6.1", "z"), 0),
        ("naive (overflows)", "def softmax(z):\n    with np.errstate(all='ignore'):\n        e = np.exp(z)\n"
         "        return e / e.sum(axis=-1, keepdims=True)\n", 0),
        ("torch", "import torch\n\ndef softmax(z):\n"
         "    return torch.softmax(torch.from_numpy(z), dim=-1).numpy()\n", 0),
        ("one global shift (the hint half-read)", "def softmax(z):\n    with np.errstate(all='ignore'):\n"
         "        e = np.exp(z - z.max())\n        return e / e.sum(axis=-1, keepdims=True)\n", 0),
        (SELF_CONTAINED, "def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
         "    return e / e.sum(axis=-1, keepdims=True)\n", FULL),
    ],
    "6.2": [
        ("stub", stub("log_softmax", "6.2", "z"), 0),
        ("log of softmax", "def log_softmax(z):\n    with np.errstate(all='ignore'):\n"
         "        return np.log(softmax(z))\n", 0),
        (SELF_CONTAINED, "def log_softmax(z):\n    s = z - z.max(axis=-1, keepdims=True)\n"
         "    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))\n", FULL),
    ],
    "6.3": [
        ("stub", stub("cross_entropy", "6.3", "logits, targets"), 0),
        ("an epsilon in the log", "def cross_entropy(logits, targets):\n    p = softmax(logits)\n"
         "    return float(-np.log(p[np.arange(len(targets)), targets] + 1e-7).mean())\n", 0),
        ("sum instead of mean", "def cross_entropy(logits, targets):\n"
         "    return float(-log_softmax(logits)[np.arange(len(targets)), targets].sum())\n", 0),
        (SELF_CONTAINED, "def cross_entropy(logits, targets):\n    s = logits - logits.max(axis=1, keepdims=True)\n"
         "    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
         "    return float(-logp[np.arange(len(targets)), targets].mean())\n", FULL),
    ],
    "6.4": [
        ("stub", stub("cross_entropy_grad", "6.4", "logits, targets, T"), 0),
        ("the chapter's gradient, temperature ignored", "def cross_entropy_grad(logits, targets, T):\n"
         "    g = softmax(logits)\n    g[np.arange(len(targets)), targets] -= 1\n    return g / len(targets)\n", 0),
        ("chain rule forgotten (T times too large)", "def cross_entropy_grad(logits, targets, T):\n"
         "    g = softmax(logits / T)\n    g[np.arange(len(targets)), targets] -= 1\n    return g / len(targets)\n", 0),
        (SELF_CONTAINED, "def cross_entropy_grad(logits, targets, T):\n    n = len(targets)\n    u = logits / T\n"
         "    e = np.exp(u - u.max(axis=1, keepdims=True))\n    g = e / e.sum(axis=1, keepdims=True)\n"
         "    g[np.arange(n), targets] -= 1.0\n    return g / (n * T)\n", FULL),
    ],
    "6.5": [
        ("stub", stub("diagnose", "6.5", "losses, K"), 0),
        ("every run looks fine (the faulty runs are all or nothing)", "def diagnose(losses, K):\n"
         "    return False, False\n", 0),
        ("the ln K check only (misses the doubled softmax: all or nothing)", "def diagnose(losses, K):\n"
         "    return bool(losses[0] > 2 * np.log(K)), False\n", 0),
        # ln K at a uniform start; a doubled softmax cannot go below log(1 + (K - 1) / e)
        (SELF_CONTAINED, "def diagnose(losses, K):\n"
         "    return bool(losses[0] > 2 * np.log(K)), bool(losses.min() > np.log(1 + (K - 1) / np.e))\n", FULL),
    ],
}


def fn(signature: str, body: str) -> str:
    """A cell defining ``def signature:`` with ``body`` (lines separated by newlines, indented here)."""
    return f"def {signature}:\n" + "".join(f"    {line}\n" for line in body.strip("\n").split("\n"))


# part id -> typical mistakes: (label, cell source, expected points or AGREE). With the shared answers
# above, every part has at least five; tests/test_exercises_agreement.py grades them over three seeds.
MISTAKES: dict[str, list[tuple[str, str, float | None | str]]] = {
    "1.1": [
        ("bias added to every feature", fn("weighted_sum(X, w, b)", "return (X + b) @ w"), 0),
        ("summed over the wrong axis", fn("weighted_sum(X, w, b)", "return (X * w).sum(axis=0) + b"), 0),
        ("printed instead of returned", fn("weighted_sum(X, w, b)", "print(X @ w + b)"), 0),
        ("float32 result (accepted: right to the check's tolerance)",
         fn("weighted_sum(X, w, b)", "return (X @ w + b).astype(np.float32)"), FULL),
        ("a list of floats (accepted)", fn("weighted_sum(X, w, b)", "return list(X @ w + b)"), FULL),
    ],
    "1.2": [
        ("z itself, no step", fn("perceptron(X, w, b)", "return X @ w + b"), 0),
        ("the sign function (-1 / +1)", fn("perceptron(X, w, b)", "return np.sign(X @ w + b)"), 0),
        ("heaviside with 0.5 at z = 0 (partial)", fn("perceptron(X, w, b)", "return np.heaviside(X @ w + b, 0.5)"),
         2 * 2 / 3),
        ("booleans (accepted)", fn("perceptron(X, w, b)", "return X @ w + b > 0"), FULL),
        ("printed instead of returned", fn("perceptron(X, w, b)", "print((X @ w + b > 0) * 1.0)"), 0),
    ],
    "1.3": [
        ("a search whose biases are never positive (misses NAND and the other 1-at-origin tables)",
         fn("gate_weights(table)", """
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
for w1 in (-1.0, 0.0, 1.0):
    for w2 in (-1.0, 0.0, 1.0):
        for b in (-1.5, -0.5):
            if np.array_equal((X @ np.array([w1, w2]) + b > 0) * 1.0, table):
                return np.array([w1, w2]), b
return None"""), 3 * 9 / 16),
        ("never None: the closest line for XOR and XNOR too",
         fn("gate_weights(table)", """
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
best = None
for w1 in (-1.0, 0.0, 1.0):
    for w2 in (-1.0, 0.0, 1.0):
        for b in (-1.5, -0.5, 0.5, 1.5):
            errors = int(((X @ np.array([w1, w2]) + b > 0) * 1.0 != table).sum())
            if best is None or errors < best[0]:
                best = (errors, np.array([w1, w2]), b)
return best[1], best[2]"""), 3 * 14 / 16),
        ("(b, w) instead of (w, b)", fn("gate_weights(table)", """
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
for w1 in (-1.0, 0.0, 1.0):
    for w2 in (-1.0, 0.0, 1.0):
        for b in (-1.5, -0.5, 0.5, 1.5):
            if np.array_equal((X @ np.array([w1, w2]) + b > 0) * 1.0, table):
                return b, np.array([w1, w2])
return None"""), 3 * 2 / 16),
        ("numpy scalars for b (accepted)", fn("gate_weights(table)", """
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
for w1 in (-1.0, 0.0, 1.0):
    for w2 in (-1.0, 0.0, 1.0):
        for b in np.array([-1.5, -0.5, 0.5, 1.5]):
            if np.array_equal((X @ np.array([w1, w2]) + b > 0) * 1.0, table):
                return np.array([w1, w2]), b
return None"""), FULL),
    ],
    "1.4": [
        ("no bias update (fails the all-or-nothing AND / NAND)", fn("train_perceptron(X, y, lr=1.0, epochs=100)", """
w = np.zeros(X.shape[1])
for _ in range(epochs):
    for x, t in zip(X, y):
        o = 1.0 if x @ w > 0 else 0.0
        w = w + lr * (t - o) * x
return w, 0.0"""), 0),
        ("one update per epoch (batch), not per row", fn("train_perceptron(X, y, lr=1.0, epochs=100)", """
w, b = np.zeros(X.shape[1]), 0.0
for _ in range(epochs):
    o = (X @ w + b > 0) * 1.0
    if np.all(o == y):
        break
    w = w + lr * (y - o) @ X
    b = b + lr * (y - o).sum()
return w, b"""), 0),
        ("step(0) = 1", fn("train_perceptron(X, y, lr=1.0, epochs=100)", """
w, b = np.zeros(X.shape[1]), 0.0
for _ in range(epochs):
    mistakes = 0
    for x, t in zip(X, y):
        o = 1.0 if x @ w + b >= 0 else 0.0
        if o != t:
            w, b, mistakes = w + lr * (t - o) * x, b + lr * (t - o), mistakes + 1
    if mistakes == 0:
        break
return w, b"""), AGREE),
        ("random start from np.random", fn("train_perceptron(X, y, lr=1.0, epochs=100)", """
w, b = np.random.normal(size=X.shape[1]), 0.0
for _ in range(epochs):
    mistakes = 0
    for x, t in zip(X, y):
        o = 1.0 if x @ w + b > 0 else 0.0
        if o != t:
            w, b, mistakes = w + lr * (t - o) * x, b + lr * (t - o), mistakes + 1
    if mistakes == 0:
        break
return w, b"""), 0),
        ("only w returned", fn("train_perceptron(X, y, lr=1.0, epochs=100)", "return np.zeros(X.shape[1])"), 0),
    ],
    "2.1": [
        ("W @ X.T", fn("dense_forward(X, W, b)", "return W @ X.T + b"), 0),
        ("no bias", fn("dense_forward(X, W, b)", "return X @ W.T"), 0),
        ("result transposed", fn("dense_forward(X, W, b)", "return (X @ W.T + b).T"), 0),
        ("ReLU applied", fn("dense_forward(X, W, b)", "return np.maximum(X @ W.T + b, 0)"), 0),
        ("float32 (accepted: right to the check's tolerance)",
         fn("dense_forward(X, W, b)", "return (X @ W.T + b).astype(np.float32)"), FULL),
    ],
    "2.2": [
        ("ReLU after the output layer too", fn("mlp_forward(X, weights, biases)", """
h = X
for W, b in zip(weights, biases):
    h = np.maximum(h @ W.T + b, 0)
return h"""), 0),
        ("no ReLU at all (partial: the single layer)", fn("mlp_forward(X, weights, biases)", """
h = X
for W, b in zip(weights, biases):
    h = h @ W.T + b
return h"""), 3 / 4),
        ("the last layer skipped (off by one)", fn("mlp_forward(X, weights, biases)", """
h = X
for W, b in zip(weights[:-1], biases[:-1]):
    h = np.maximum(h @ W.T + b, 0)
return h"""), 0),
        ("sigmoid between layers (partial: the single layer)", fn("mlp_forward(X, weights, biases)", """
h = X
for k, (W, b) in enumerate(zip(weights, biases)):
    h = h @ W.T + b
    if k < len(weights) - 1:
        h = 1 / (1 + np.exp(-h))
return h"""), 3 / 4),
        ("ReLU on the input first", fn("mlp_forward(X, weights, biases)", """
h = np.maximum(X, 0)
for k, (W, b) in enumerate(zip(weights, biases)):
    h = h @ W.T + b
    if k < len(weights) - 1:
        h = np.maximum(h, 0)
return h"""), 0),
    ],
    "2.3": [
        ("the input layer's units counted as biases", fn("count_parameters(sizes)",
         "return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])) + sizes[0]"), 0),
        ("one bias per input unit (partial: only an input layer and the square layers)", fn("count_parameters(sizes)",
         "return sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:]))"), 2 * 2 / 5),
        ("off by one: an index past the end", fn("count_parameters(sizes)",
         "return sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes)))"), 0),
        ("a numpy integer (accepted)", fn("count_parameters(sizes)",
         "s = np.array(sizes)\nreturn np.int64((s[:-1] * s[1:] + s[1:]).sum())"), FULL),
        ("printed instead of returned", fn("count_parameters(sizes)",
         "print(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))"), 0),
    ],
    "2.4": [
        ("no output biases (fails the all-or-nothing budget edges)", fn("widest_hidden(n_in, n_out, budget)",
         "return max(budget // (n_in + 1 + n_out), 0)"), 0),
        ("sweep: a loop over h (too slow for billions of units)", fn("widest_hidden(n_in, n_out, budget)", """
h = 0
while (n_in + 1) * (h + 1) + (h + 1 + 1) * n_out <= budget:
    h += 1
return h"""), 0),
        ("hidden biases forgotten", fn("widest_hidden(n_in, n_out, budget)",
         "return max((budget - n_out) // (n_in + n_out), 0)"), 0),
        ("no max(…, 0) (partial: the budgets that fit a unit)", fn("widest_hidden(n_in, n_out, budget)",
         "return (budget - n_out) // (n_in + 1 + n_out)"), 3 * 4 / 5),
        ("true division, not floor", fn("widest_hidden(n_in, n_out, budget)",
         "return max((budget - n_out) / (n_in + 1 + n_out), 0)"), 0),
    ],
    "3.1": [
        ("the textbook formula (torch's values; overflow warnings)", fn("sigmoid(z)",
         "with np.errstate(over='ignore'):\n    return 1 / (1 + np.exp(-z))"), FULL),
        ("float32 (partial: the exact 0s and 1s of the far cases)", fn("sigmoid(z)", "e = np.exp(-np.abs(z))\n"
                       "return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(np.float32)"), 2 * 2 / 4),
        ("tanh form (accepted)", fn("sigmoid(z)", "return 0.5 * (1 + np.tanh(z / 2))"), FULL),
        ("printed instead of returned", fn("sigmoid(z)", "print(0.5 * (1 + np.tanh(z / 2)))"), 0),
        ("clipped to ±30 (wrong far out)", fn("sigmoid(z)", "return 1 / (1 + np.exp(-np.clip(z, -30, 30)))"),
         AGREE),
    ],
    "3.2": [
        ("σ(x)(1 − x) for sigmoid (partial)", fn("activation_grad(z, name)", """
if name == 'sigmoid':
    return 1 / (1 + np.exp(-z)) * (1 - z)
if name == 'tanh':
    return 1 - np.tanh(z) ** 2
return np.where(z > 0, 1.0, 0.01 if name == 'leaky_relu' else 0.0)"""), 3 * 4 / 5),
        ("1 − tanh, not squared (partial)", fn("activation_grad(z, name)", """
if name == 'sigmoid':
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)
if name == 'tanh':
    return 1 - np.tanh(z)
return np.where(z > 0, 1.0, 0.01 if name == 'leaky_relu' else 0.0)"""), 3 * 3 / 5),
        ("leaky slope 0.1 (partial)", fn("activation_grad(z, name)", """
if name == 'sigmoid':
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)
if name == 'tanh':
    return 1 - np.tanh(z) ** 2
return np.where(z > 0, 1.0, 0.1 if name == 'leaky_relu' else 0.0)"""), 3 * 4 / 5),
        ("the activation itself", fn("activation_grad(z, name)", """
return {'sigmoid': lambda v: 1 / (1 + np.exp(-v)), 'tanh': np.tanh,
        'relu': lambda v: np.maximum(v, 0), 'leaky_relu': lambda v: np.where(v > 0, v, 0.01 * v)}[name](z)"""), 0),
    ],
    "3.3": [
        ("only the centre of the box", fn("dead_units(W, b, low, high)",
         "x = np.full(W.shape[1], (low + high) / 2)\nreturn W @ x + b <= 0"), 0),
        ("only the `high` corner", fn("dead_units(W, b, low, high)",
         "return W @ np.full(W.shape[1], high) + b <= 0"), 0),
        ("|w| · max(|low|, |high|) (right only on the symmetric box; fails the all-or-nothing 48-d box)",
         fn("dead_units(W, b, low, high)",
            "return np.abs(W).sum(axis=1) * max(abs(low), abs(high)) + b <= 0"), 0),
        ("sweep: every corner of the box enumerated (2^48 corners never finish)", fn("dead_units(W, b, low, high)", """
import itertools
best = np.full(W.shape[0], -np.inf)
for corner in itertools.product([low, high], repeat=W.shape[1]):
    best = np.maximum(best, W @ np.array(corner) + b)
return best <= 0"""), 0),
        ("the alive mask instead", fn("dead_units(W, b, low, high)",
         "top = np.maximum(W * low, W * high).sum(axis=1)\nreturn top + b > 0"), 0),
    ],
    "3.4": [
        ("the root on the wrong side (negative z)", fn("saturation_point(name, eps)", """
if name == 'sigmoid':
    s = (1 - np.sqrt(1 - 4 * eps)) / 2
    return float(np.log(s / (1 - s)))
return float(-np.arctanh(np.sqrt(1 - eps)))"""), 0),
        ("naive log(s / (1 − s)) (partial: inf below 1e-17)", fn("saturation_point(name, eps)", """
if name == 'sigmoid':
    s = (1 + np.sqrt(1 - 4 * eps)) / 2
    return np.log(s / (1 - s))
return np.arctanh(np.sqrt(1 - eps))"""), 2 * 2 / 4),
        ("tanh' = 1 − t taken for 1 − t² (fails the all-or-nothing tanh thresholds near the peak)",
         fn("saturation_point(name, eps)", """
if name == 'sigmoid':
    r = np.sqrt(1 - 4 * eps)
    q = 2 * eps / (1 + r)
    return np.log((1 - q) / q)
return np.arctanh(1 - eps)"""), 0),
        ("printed instead of returned", fn("saturation_point(name, eps)", "print(1.0)"), 0),
    ],
    "4.1": [
        ("the product in the wrong order (partial: the single layer)", fn("collapse(weights, biases)", """
W, b = weights[0], biases[0]
for Wk, bk in zip(weights[1:], biases[1:]):
    W, b = W @ Wk if W.shape[1] == Wk.shape[0] else Wk @ W, Wk @ b + bk
return W, b"""), AGREE),
        ("the biases added up, not carried through (partial: the single layer)", fn("collapse(weights, biases)", """
W = weights[0]
for Wk in weights[1:]:
    W = Wk @ W
return W, biases[-1] * 0 + sum(b.sum() for b in biases[:-1]) + biases[-1]"""), 4 / 5),
        ("W transposed to (in, out)", fn("collapse(weights, biases)", """
W, b = weights[0], biases[0]
for Wk, bk in zip(weights[1:], biases[1:]):
    W, b = Wk @ W, Wk @ b + bk
return W.T, b"""), 0),
        ("printed instead of returned", fn("collapse(weights, biases)", "print(weights[-1])"), 0),
    ],
    "4.2": [
        ("a zero layer (not full rank)", fn("low_rank_stack(sizes, rank)", """
mats = [np.eye(o, i) for i, o in zip(sizes[:-1], sizes[1:])]
mats[1] = np.zeros_like(mats[1])
return mats"""), 0),
        ("the first layer truncated to rank `rank`", fn("low_rank_stack(sizes, rank)", """
mats = [np.eye(o, i) for i, o in zip(sizes[:-1], sizes[1:])]
mats[0][rank:] = 0
return mats"""), 0),
        ("(in, out) shapes", fn("low_rank_stack(sizes, rank)",
         "return [np.eye(i, o) for i, o in zip(sizes[:-1], sizes[1:])]"), 0),
        ("one rank too many", fn("low_rank_stack(sizes, rank)", """
a, m, c = sizes[0], sizes[1], sizes[-1]
first = np.eye(m, a)
shift = np.roll(np.eye(m), a - rank - 1 if a > rank + 1 else 0, axis=1)
mats = [first] + [np.eye(m) for _ in sizes[2:-1]] + [np.eye(c, m) @ shift]
return mats"""), AGREE),
    ],
    "4.3": [
        ("solved for 0 / 1 only, output shifted by -0.5 (not XOR itself; fails the all-or-nothing close levels)",
         fn("xor_relu(low, high)", """
return (np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2), np.array([[1.0, 1.0]]), np.array([-0.5]))"""), 0),
        ("the output's sign flipped", fn("xor_relu(low, high)", """
g = high - low
return (np.array([[1.0, -1.0], [-1.0, 1.0]]) / g, np.zeros(2), np.array([[-1.0, -1.0]]), np.array([0.5]))"""), 0),
        ("b1 of the wrong shape", fn("xor_relu(low, high)", """
g = high - low
return (np.array([[1.0, -1.0], [-1.0, 1.0]]) / g, np.zeros(3), np.array([[1.0, 1.0]]), np.array([-0.5]))"""), 0),
        ("both units look the same way", fn("xor_relu(low, high)", """
g = high - low
return (np.array([[1.0, -1.0], [1.0, -1.0]]) / g, np.zeros(2), np.array([[1.0, 1.0]]), np.array([-0.5]))"""), 0),
    ],
    "5.1": [
        ("(in, out) shape: swapped fans", fn("xavier_uniform(fan_in, fan_out, rng, gain=1.0)", """
a = gain * np.sqrt(6 / (fan_in + fan_out))
return rng.uniform(-a, a, size=(fan_in, fan_out))"""), 0),
        ("the std used as the bound (partial: the rng check)", fn("xavier_uniform(fan_in, fan_out, rng, gain=1.0)", """
a = gain * np.sqrt(2 / (fan_in + fan_out))
return rng.uniform(-a, a, size=(fan_out, fan_in))"""), 2 / 4),
        ("gain ignored (partial)", fn("xavier_uniform(fan_in, fan_out, rng, gain=1.0)", """
a = np.sqrt(6 / (fan_in + fan_out))
return rng.uniform(-a, a, size=(fan_out, fan_in))"""), 2 * 2 / 4),
        ("a normal, not a uniform", fn("xavier_uniform(fan_in, fan_out, rng, gain=1.0)", """
a = gain * np.sqrt(6 / (fan_in + fan_out))
return rng.normal(0, a / np.sqrt(3), size=(fan_out, fan_in))"""), 0),
    ],
    "5.2": [
        ("fan_out always (mode ignored; partial)", fn("kaiming_normal(fan_in, fan_out, rng, mode='fan_in', gain=2**0.5)", """
return rng.normal(0, gain / np.sqrt(fan_out), size=(fan_out, fan_in))"""), AGREE),
        ("a uniform with the same std", fn("kaiming_normal(fan_in, fan_out, rng, mode='fan_in', gain=2**0.5)", """
fan = fan_in if mode == 'fan_in' else fan_out
a = np.sqrt(3) * gain / np.sqrt(fan)
return rng.uniform(-a, a, size=(fan_out, fan_in))"""), 0),
        ("gain squared (partial)", fn("kaiming_normal(fan_in, fan_out, rng, mode='fan_in', gain=2**0.5)", """
fan = fan_in if mode == 'fan_in' else fan_out
return rng.normal(0, gain ** 2 / np.sqrt(fan), size=(fan_out, fan_in))"""), 2 * 2 / 5),
    ],
    "5.3": [
        ("sample std (ddof = 1)", fn("layer_stats(X, weights, activation)", """
f = {'sigmoid': lambda z: 1 / (1 + np.exp(-z)), 'tanh': np.tanh, 'relu': lambda z: np.maximum(z, 0)}[activation]
h, rows = X, []
for W in weights:
    h = f(h @ W.T)
    rows.append([h.mean(), h.std(ddof=1)])
return np.array(rows)"""), 0),
        ("std per unit, then averaged (the wrong axis)", fn("layer_stats(X, weights, activation)", """
f = {'sigmoid': lambda z: 1 / (1 + np.exp(-z)), 'tanh': np.tanh, 'relu': lambda z: np.maximum(z, 0)}[activation]
h, rows = X, []
for W in weights:
    h = f(h @ W.T)
    rows.append([h.mean(), h.std(axis=0).mean()])
return np.array(rows)"""), 0),
        ("weights not transposed", fn("layer_stats(X, weights, activation)", """
f = {'sigmoid': lambda z: 1 / (1 + np.exp(-z)), 'tanh': np.tanh, 'relu': lambda z: np.maximum(z, 0)}[activation]
h, rows = X, []
for W in weights:
    h = f(h @ W)
    rows.append([h.mean(), h.std()])
return np.array(rows)"""), 0),
        ("a list of numpy-scalar pairs (accepted)", fn("layer_stats(X, weights, activation)", """
f = {'sigmoid': lambda z: 1 / (1 + np.exp(-z)), 'tanh': np.tanh, 'relu': lambda z: np.maximum(z, 0)}[activation]
h, rows = X, []
for W in weights:
    h = f(h @ W.T)
    rows.append((h.mean(), h.std()))
return rows"""), FULL),
    ],
    "5.4": [
        ("sweep: the chapter's tanh gain 5/3 over √fan_in (a table lookup)", fn("tanh_std(fan_in, target)",
         "return 5 / 3 / np.sqrt(fan_in)"), 0),
        ("Xavier's √(2 / (2 fan_in))", fn("tanh_std(fan_in, target)", "return np.sqrt(1 / fan_in)"), 0),
        ("printed instead of returned", fn("tanh_std(fan_in, target)", "print(1.7 / np.sqrt(fan_in))"), 0),
        ("the target as the gain", fn("tanh_std(fan_in, target)", "return target / np.sqrt(fan_in)"), 0),
        ("the old signature, without the target", fn("tanh_std(fan_in)", "return 1.7 / np.sqrt(fan_in)"), 0),
    ],
    "5.5": [
        ("rows of W1 with a loose tolerance 1e-3 (partial: misses the tiny noise)",
         fn("distinct_units(W1, b1, W2, b2, X, y, lr, steps)", """
units = np.hstack([W1, b1[:, None], W2.T])
kept = []
for u in units:
    if not any(np.max(np.abs(u - v)) <= 1e-3 for v in kept):
        kept.append(u)
return len(kept)"""), 2 * 5 / 6),
        ("incoming weights and bias only, before training", fn("distinct_units(W1, b1, W2, b2, X, y, lr, steps)", """
units = np.hstack([W1, b1[:, None]])
return len(np.unique(units, axis=0))"""), 0),
    ],
    "6.1": [
        ("normalised over the first axis", fn("softmax(z)", """
e = np.exp(z - z.max(axis=0, keepdims=True))
return e / e.sum(axis=0, keepdims=True)"""), 0),
        ("float32 for float64 logits (accepted: right to the check's tolerance)", fn("softmax(z)", """
e = np.exp(z - z.max(axis=-1, keepdims=True))
return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)"""), FULL),
        ("the minimum subtracted", fn("softmax(z)", """
with np.errstate(all='ignore'):
    e = np.exp(z - z.min(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)"""), 0),
    ],
    "6.2": [
        ("log-sum-exp without the shift", fn("log_softmax(z)", """
with np.errstate(all='ignore'):
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))"""), 0),
        ("the wrong axis", fn("log_softmax(z)", """
m = z.max(axis=0, keepdims=True)
return z - m - np.log(np.exp(z - m).sum(axis=0, keepdims=True))"""), 0),
        ("float32 (accepted: right to the check's tolerance)", fn("log_softmax(z)", """
m = z.max(axis=-1, keepdims=True)
return (z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))).astype(np.float32)"""), FULL),
        ("keepdims forgotten", fn("log_softmax(z)", """
m = z.max(axis=-1)
return z - m - np.log(np.exp(z - m).sum(axis=-1))"""), AGREE),
    ],
    "6.3": [
        ("softmax applied before (softmax twice)", fn("cross_entropy(logits, targets)", """
e = np.exp(logits - logits.max(axis=1, keepdims=True))
p = e / e.sum(axis=1, keepdims=True)
m = p.max(axis=1, keepdims=True)
lsm = p - m - np.log(np.exp(p - m).sum(axis=1, keepdims=True))
return float(-lsm[np.arange(len(targets)), targets].mean())"""), 0),
        ("the largest logit's class instead of the target", fn("cross_entropy(logits, targets)", """
m = logits.max(axis=1, keepdims=True)
lsm = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
return float(-lsm.max(axis=1).mean())"""), 0),
        ("a 0-d array (accepted)", fn("cross_entropy(logits, targets)", """
m = logits.max(axis=1, keepdims=True)
lsm = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
return np.array(-lsm[np.arange(len(targets)), targets].mean())"""), FULL),
        ("a long double (accepted)", fn("cross_entropy(logits, targets)", """
m = logits.max(axis=1, keepdims=True)
lsm = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
return np.longdouble(-lsm[np.arange(len(targets)), targets].mean())"""), FULL),
    ],
    "6.4": [
        ("1/T twice", fn("cross_entropy_grad(logits, targets, T)", """
u = logits / T
e = np.exp(u - u.max(axis=1, keepdims=True))
g = e / e.sum(axis=1, keepdims=True)
g[np.arange(len(targets)), targets] -= 1
return g / len(targets) / T / T"""), 0),
        ("summed, not averaged (fails the all-or-nothing large batch)", fn("cross_entropy_grad(logits, targets, T)", """
u = logits / T
e = np.exp(u - u.max(axis=1, keepdims=True))
g = e / e.sum(axis=1, keepdims=True)
g[np.arange(len(targets)), targets] -= 1
return g / T"""), 0),
        ("sweep: central differences of the loss (the numerical substitute)", fn("cross_entropy_grad(logits, targets, T)", """
def loss(z):
    u = z / T
    m = u.max(axis=1, keepdims=True)
    lsm = u - m - np.log(np.exp(u - m).sum(axis=1, keepdims=True))
    return -lsm[np.arange(len(targets)), targets].mean()
g = np.zeros_like(logits)
for idx in np.ndindex(*logits.shape):
    d = np.zeros_like(logits)
    d[idx] = 1e-6
    g[idx] = (loss(logits + d) - loss(logits - d)) / 2e-6
return g"""), 0),
    ],
    "6.5": [
        ("sweep: thresholds as fractions of ln K (what a sweep of check() finds)", fn("diagnose(losses, K)",
         "return bool(losses[0] > 2 * np.log(K)), bool(losses.min() > 0.7 * np.log(K))"), 0),
        ("numpy booleans (accepted)", fn("diagnose(losses, K)",
         "return losses[0] > 2 * np.log(K), losses.min() > np.log(1 + (K - 1) / np.e)"), FULL),
        ("the floor taken as ln K / 2", fn("diagnose(losses, K)",
         "return bool(losses[0] > 2 * np.log(K)), bool(losses.min() > np.log(K) / 2)"), 0),
    ],
}


def answer(part_id: str, label: str) -> str:
    """The cell source of ``part_id``'s answer called ``label`` ("stub", SELF_CONTAINED, ...)."""
    found = [src for lab, src, _ in ANSWERS.get(part_id, []) + MISTAKES.get(part_id, []) if lab == label]
    if not found:
        raise KeyError(f"tests/exercise_answers.py has no answer {label!r} for part {part_id}; add one")
    return found[0]


def submission(stem: str, cells) -> nbformat.NotebookNode:
    """A student's notebook for exercise ``stem``: ``cells`` are (part, source) pairs, each answer
    cell marked as nbgrader marks it and followed by its ``check()`` call."""
    nb = new_notebook()
    nb.metadata["coursekit"] = {"exercise": stem}
    nb.cells.append(new_markdown_cell(f"# {stem}"))
    nb.cells.append(new_code_cell(SETUP))
    for part, src in cells:
        cell = new_code_cell(src)
        cell.metadata["nbgrader"] = {"grade_id": part.grade_id, "solution": True, "grade": False, "locked": False,
                                     "schema_version": 3}
        nb.cells.append(cell)
        nb.cells.append(new_code_cell(f'check("{part.id}", {part.function})'))
    return nb
