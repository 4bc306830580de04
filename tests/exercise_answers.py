"""A shared set of answers for every exercise part: right, stub, transcription bugs, hint-copying, partial.

Each answer is the source of a notebook cell and the points it must earn under the course's scoring
rule (written here from the rule, not read from the code under test): ``check()`` and ``coursekit
grade`` are both held to it. ``None`` means "full marks" (the part's points).
"""

from __future__ import annotations

FULL = None


def stub(function: str, part_id: str, args: str) -> str:
    return f"def {function}({args}):\n    # YOUR CODE HERE\n    raise NotImplementedError(\"Exercise {part_id}: stub\")\n"


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
        ("always None (partial: the inseparable table only)", "def gate_weights(table):\n    return None\n", 3 / 5),
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
        ("the textbook formula (overflows)", "def sigmoid(z):\n    with np.errstate(over='ignore'):\n"
         "        return 1 / (1 + np.exp(-z))\n", 0),
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
        ("stub", stub("tanh_std", "5.4", "fan_in"), 0),
        ("LeCun's 1/sqrt(fan_in)", "def tanh_std(fan_in):\n    return 1 / np.sqrt(fan_in)\n", 0),
        ("the gain itself", "def tanh_std(fan_in):\n    return 5 / 3\n", 0),
    ],
    "5.5": [
        ("stub", stub("distinct_units", "5.5", "W1, b1, W2, b2, X, y, lr, steps"), 0),
        ("the width (symmetry ignored)", "def distinct_units(W1, b1, W2, b2, X, y, lr, steps):\n"
         "    return W1.shape[0]\n", 0),
        ("rows of W1 counted before training (hint 2 with the training left out; partial: 5 of 6)",
         "def distinct_units(W1, b1, W2, b2, X, y, lr, steps):\n"
         "    rows = []\n    for row in W1:\n"
         "        if not any(np.max(np.abs(row - r)) <= 1e-8 for r in rows):\n            rows.append(row)\n"
         "    return len(rows)\n", 2 * 5 / 6),
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
    ],
    "6.2": [
        ("stub", stub("log_softmax", "6.2", "z"), 0),
        ("log of softmax", "def log_softmax(z):\n    with np.errstate(all='ignore'):\n"
         "        return np.log(softmax(z))\n", 0),
    ],
    "6.3": [
        ("stub", stub("cross_entropy", "6.3", "logits, targets"), 0),
        ("an epsilon in the log", "def cross_entropy(logits, targets):\n    p = softmax(logits)\n"
         "    return float(-np.log(p[np.arange(len(targets)), targets] + 1e-7).mean())\n", 0),
        ("sum instead of mean", "def cross_entropy(logits, targets):\n"
         "    return float(-log_softmax(logits)[np.arange(len(targets)), targets].sum())\n", 0),
    ],
    "6.4": [
        ("stub", stub("cross_entropy_grad", "6.4", "logits, targets, T"), 0),
        ("the chapter's gradient, temperature ignored", "def cross_entropy_grad(logits, targets, T):\n"
         "    g = softmax(logits)\n    g[np.arange(len(targets)), targets] -= 1\n    return g / len(targets)\n", 0),
        ("chain rule forgotten (T times too large)", "def cross_entropy_grad(logits, targets, T):\n"
         "    g = softmax(logits / T)\n    g[np.arange(len(targets)), targets] -= 1\n    return g / len(targets)\n", 0),
    ],
    "6.5": [
        ("stub", stub("diagnose", "6.5", "losses, K"), 0),
        ("every run looks fine (partial: the two fine logs)", "def diagnose(losses, K):\n    return False, False\n",
         2 * 2 / 5),
        ("the ln K check only (partial: misses the doubled softmax)", "def diagnose(losses, K):\n"
         "    return bool(losses[0] > 2 * np.log(K)), False\n", 2 * 3 / 5),
    ],
}
