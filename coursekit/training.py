"""Small seeded training runs with torch autograd, for chapters 02 and 03.

Everything here is numbers only (figures live in :mod:`coursekit.plotting`), small
enough to run in a notebook cell in about a second, and reproducible by
construction: every function that draws random numbers takes an explicit
``rng`` (numpy) or ``seed`` (which seeds its own ``torch.Generator``), so a
result never depends on what an earlier cell happened to draw.

Training is plain full-batch gradient descent, ``p ← p − lr · ∂loss/∂p``, written
out so that the update is visible (chapter 02, section 5); the one exception is
:func:`fit_curve`, which uses Adam to reach a fit in few steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from coursekit._checks import (
    as_float_array,
    check_choice,
    check_int,
    check_number,
    check_rng,
    describe,
)

#: Activations :func:`mlp` can put between its layers (torch modules, chapter 03's names).
ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu")

#: Every model and tensor here is float64, like the numpy arrays of the chapters.
DTYPE = torch.float64

#: Largest layer :func:`linear_layer` builds (weights, float64: 800 MB), and widest layer elsewhere.
MAX_LAYER_PARAMS = 10**8
MAX_WIDTH = 10_000
#: Most samples a data set or a fit made here has.
MAX_SAMPLES = 1_000_000


# --- data, made in code -----------------------------------------------------------------------


def make_xor(n_per_corner: int = 25, noise: float = 0.15, *, rng: np.random.Generator):
    """Noisy XOR: points around the four corners of the unit square, class = x1 XOR x2.

    Returns ``X`` (4·n_per_corner, 2) float64 and ``y`` (4·n_per_corner,) of 0.0 / 1.0;
    ``noise`` is the standard deviation of the Gaussian jitter around each corner.
    """
    n = check_int("n_per_corner", n_per_corner, minimum=1, maximum=100_000)
    noise = _check_spread("noise", check_number("noise", noise, minimum=0.0))
    rng = check_rng("rng", rng)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    labels = np.array([0, 1, 1, 0], dtype=float)
    X = np.repeat(corners, n, axis=0) + noise * rng.normal(size=(4 * n, 2))
    return X, np.repeat(labels, n)


def make_moons(n: int = 200, noise: float = 0.15, *, rng: np.random.Generator):
    """Two interleaving half circles ("two moons"), half the points in each class.

    Class 0: (cos t, sin t), class 1: (1 − cos t, 0.5 − sin t), t uniform in [0, π],
    plus Gaussian noise of standard deviation ``noise``. Returns ``X`` (n, 2), ``y`` (n,).
    """
    n = check_int("n", n, minimum=2, maximum=1_000_000)
    noise = _check_spread("noise", check_number("noise", noise, minimum=0.0))
    rng = check_rng("rng", rng)
    n0 = n // 2
    t = rng.uniform(0.0, np.pi, size=n)
    X = np.where(
        (np.arange(n) < n0)[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    X = X + noise * rng.normal(size=(n, 2))
    y = (np.arange(n) >= n0).astype(float)
    return X, y


def _check_spread(name: str, value: float, spread: float = 40.0) -> float:
    """ValueError unless ``spread`` · |value| is finite in float64: Gaussian draws never reach 40 sd."""
    if spread * abs(value) > float(np.finfo(np.float64).max):
        raise ValueError(f"{name} = {value:g} is too large: the numbers drawn with it would overflow float64 "
                         f"(largest {np.finfo(np.float64).max:g})")
    return value


# --- models -----------------------------------------------------------------------------------


def _activation_module(name: str, negative_slope: float) -> nn.Module:
    modules = {
        "identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
        "gelu": nn.GELU, "silu": nn.SiLU,
    }
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    return modules[name]()


def _check_generator(generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (make one with torch.Generator().manual_seed(seed)); "
            f"got {describe(generator)}"
        )
    return generator


def _check_widths(name: str, widths, *, minimum_length: int = 0) -> list[int]:
    """A list of layer widths, each an integer in [1, MAX_WIDTH]."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < minimum_length:
        at_least = f"at least {minimum_length} " if minimum_length else ""
        raise TypeError(f"{name} must be a list of {at_least}layer widths like [8, 8]; got {describe(widths)}")
    return [check_int(f"{name}[{k}]", n, minimum=1, maximum=MAX_WIDTH) for k, n in enumerate(widths)]


def _check_model(model, *, first_linear: bool = False) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. from coursekit.training.mlp); got {describe(model)}")
    if first_linear and not (isinstance(model, nn.Sequential) and len(model) > 0 and isinstance(model[0], nn.Linear)):
        raise TypeError(f"model must be an nn.Sequential whose first layer is an nn.Linear (as mlp builds it); "
                        f"got {type(model).__name__}")
    return model


def _forward(model: nn.Module, Xt: torch.Tensor) -> torch.Tensor:
    """``model(Xt)`` with a message naming the model when it cannot take ``Xt``; one output per row."""
    try:
        out = model(Xt)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"model cannot take X of shape {tuple(Xt.shape)} (float64): {exc}. Models here take "
            "(N, n_in) float64 batches, as coursekit.training.mlp builds them"
        ) from None
    if not isinstance(out, torch.Tensor) or out.shape not in ((Xt.shape[0], 1), (Xt.shape[0],)):
        raise ValueError(f"model must return one value per row of X, shape ({Xt.shape[0]}, 1); got "
                         f"{describe(out)}")
    return out.reshape(Xt.shape[0], 1)


def linear_layer(n_in: int, n_out: int, *, generator: torch.Generator) -> nn.Linear:
    """An ``nn.Linear(n_in, n_out)`` in float64 with PyTorch's default init drawn from ``generator``.

    The default init is ``kaiming_uniform_(a=√5)`` = U(±1/√n_in) for the weights and
    U(±1/√n_in) for the bias; drawing it from an explicit generator makes it reproducible.
    """
    n_in = check_int("n_in", n_in, minimum=1)
    n_out = check_int("n_out", n_out, minimum=1)
    if n_in * n_out > MAX_LAYER_PARAMS:
        raise ValueError(f"n_in * n_out = {n_in * n_out} weights is too many (at most {MAX_LAYER_PARAMS:.0e} here); "
                         f"got n_in={n_in}, n_out={n_out}")
    _check_generator(generator)
    layer = nn.Linear(n_in, n_out, dtype=DTYPE)
    bound = 1.0 / math.sqrt(n_in)
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


def mlp(sizes: Sequence[int], activation: str = "relu", *, generator: torch.Generator,
        negative_slope: float = 0.01) -> nn.Sequential:
    """A fully connected network with widths ``sizes = [n_in, n_1, ..., n_out]`` (float64).

    ``activation`` (one of :data:`ACTIVATIONS`) follows every layer but the last, whose
    output is left raw (a logit for classification, a value for regression).
    """
    sizes = _check_widths("sizes", sizes, minimum_length=2)
    activation = check_choice("activation", activation, ACTIVATIONS)
    negative_slope = check_number("negative_slope", negative_slope)
    _check_generator(generator)
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(linear_layer(a, b, generator=generator))
        if k < len(sizes) - 2:
            layers.append(_activation_module(activation, negative_slope))
    return nn.Sequential(*layers)


# --- training ---------------------------------------------------------------------------------


def _as_tensor_xy(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    X = as_float_array("X", X, ndim=2)
    y = as_float_array("y", y, ndim=(1, 2))
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}: they must match")
    return torch.as_tensor(X, dtype=DTYPE), torch.as_tensor(y, dtype=DTYPE).reshape(X.shape[0], -1)


def gradient_descent(model: nn.Module, X, y, *, steps: int, lr: float, loss: str = "bce") -> np.ndarray:
    """Train ``model`` in place by full-batch gradient descent; return the loss before each step.

    ``loss``: "bce" (binary cross-entropy on the raw output, a logit; y in {0, 1}) or
    "mse" (mean squared error). Each step: forward pass, loss, ``loss.backward()``,
    then ``p -= lr * p.grad`` for every parameter. A run whose loss becomes NaN or inf
    stops there; the returned array (length ``steps``) holds NaN for the missing steps.
    """
    model = _check_model(model)
    steps = check_int("steps", steps, minimum=1, maximum=1_000_000)
    lr = check_number("lr", lr, positive=True)
    loss = check_choice("loss", loss, ("bce", "mse"))
    Xt, yt = _as_tensor_xy(X, y)
    if loss == "bce" and not torch.all((yt == 0) | (yt == 1)):
        raise ValueError("y must contain only 0 and 1 for loss='bce'")
    if yt.shape[1] != 1:
        raise ValueError(f"y must hold one target per row of X, shape (N,) or (N, 1); got shape {tuple(yt.shape)}")
    loss_fn = nn.BCEWithLogitsLoss() if loss == "bce" else nn.MSELoss()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters: gradient descent has nothing to update")
    _forward(model, Xt)  # a model that cannot take X fails here, with its name, not inside the loop
    history = np.full(steps, np.nan)
    for step in range(steps):
        value = loss_fn(model(Xt).reshape(yt.shape), yt)
        if not torch.isfinite(value):
            break  # diverged: further steps would only spread NaN
        history[step] = value.item()
        for p in params:
            p.grad = None
        value.backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:  # a parameter the output does not depend on
                    p -= lr * p.grad
    return history


def predict_proba(model: nn.Module, X) -> np.ndarray:
    """sigmoid(model(X)): the probability of class 1 for each row of ``X`` (N, 2); shape (N,)."""
    model = _check_model(model)
    X = as_float_array("X", X, ndim=2)
    with torch.no_grad():
        return torch.sigmoid(_forward(model, torch.as_tensor(X, dtype=DTYPE))).numpy().ravel()


def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of rows of ``X`` whose predicted class (probability > 0.5) equals ``y``."""
    y = as_float_array("y", y, ndim=1)
    p = predict_proba(model, X)
    if p.shape != y.shape:
        raise ValueError(f"X has {p.shape[0]} rows but y has {y.shape[0]} labels: they must match")
    return float(np.mean((p > 0.5) == (y == 1)))


def decision_grid(model: nn.Module, X, *, n: int = 200, margin: float = 0.5):
    """The model's probability of class 1 on an n×n grid covering ``X`` (N, 2) plus ``margin``.

    Returns ``(g1, g2, p)``, three (n, n) arrays as ``np.meshgrid`` makes them; draw with
    :func:`coursekit.plotting.plot_decision_regions`.
    """
    model = _check_model(model)
    X = as_float_array("X", X, ndim=2)
    if X.shape[0] == 0 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2) with N >= 1 (points in the plane); got shape {X.shape}")
    n = check_int("n", n, minimum=2, maximum=2000)
    margin = check_number("margin", margin, minimum=0.0)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    p = predict_proba(model, np.stack([g1.ravel(), g2.ravel()], axis=1)).reshape(n, n)
    return g1, g2, p


@dataclass
class ClassifierRun:
    """What :func:`train_classifier` returns."""

    model: nn.Sequential
    losses: np.ndarray  # (steps,) loss before each step
    accuracy: float  # on the training data after the last step


def train_classifier(X, y, hidden: Sequence[int], *, activation: str = "tanh", steps: int = 2000,
                     lr: float = 0.5, seed: int) -> ClassifierRun:
    """Build ``mlp([2, *hidden, 1])`` from ``seed`` and train it on (X, y) with BCE by gradient descent.

    ``hidden = []`` gives logistic regression: a single linear layer, one straight boundary.
    """
    seed = check_int("seed", seed, minimum=0)
    X = as_float_array("X", X, ndim=2)
    hidden = _check_widths("hidden", hidden)
    generator = torch.Generator().manual_seed(seed)
    model = mlp([X.shape[1], *hidden, 1], activation, generator=generator)
    losses = gradient_descent(model, X, y, steps=steps, lr=lr, loss="bce")
    return ClassifierRun(model, losses, accuracy(model, X, y))


# --- universal approximation: one hidden layer, growing width --------------------------------


def curve_target(x) -> np.ndarray:
    """The 1-D curve of :func:`fit_curve`: ``sin(2x) + 0.3·x²``, not monotone, on any shape."""
    x = as_float_array("x", x)
    return np.sin(2.0 * x) + 0.3 * x**2


def fit_curve(width: int, *, seed: int, steps: int = 1500, lr: float = 0.02, n: int = 200,
              activation: str = "tanh"):
    """Fit :func:`curve_target` on n points of [−3, 3] with a 1-``width``-1 network (Adam, MSE).

    ``width = 0`` is the linear model y = w·x + b (no hidden layer). Returns
    ``(x, prediction, mse)``: x (n,), the fitted values (n,), the final mean squared error.
    """
    width = check_int("width", width, minimum=0, maximum=10_000)
    seed = check_int("seed", seed, minimum=0)
    steps = check_int("steps", steps, minimum=1, maximum=100_000)
    lr = check_number("lr", lr, positive=True)
    x = np.linspace(-3.0, 3.0, check_int("n", n, minimum=2, maximum=MAX_SAMPLES))
    activation = check_choice("activation", activation, ACTIVATIONS)
    generator = torch.Generator().manual_seed(seed)
    sizes = [1, 1] if width == 0 else [1, width, 1]
    model = mlp(sizes, activation, generator=generator)
    xt = torch.as_tensor(x[:, None], dtype=DTYPE)
    yt = torch.as_tensor(curve_target(x)[:, None], dtype=DTYPE)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)  # same numbers as the default loop, 2-3x faster
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(xt) - yt) ** 2).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = model(xt).numpy().ravel()
    return x, pred, float(np.mean((pred - curve_target(x)) ** 2))


# --- dead ReLU units -------------------------------------------------------------------------


def _regression_task(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.randn(n, 2, generator=generator, dtype=DTYPE)  # (n, 2)
    return X, torch.sin(X[:, :1]) + 0.5 * X[:, 1:]  # (n, 1)


def dead_units(model: nn.Sequential, X) -> np.ndarray:
    """Which units of the first hidden layer are dead on ``X``: pre-activation ≤ 0 on every row.

    Returns a boolean array (n_hidden,). A dead ReLU unit outputs 0 and receives gradient 0
    from every sample of ``X``.
    """
    model = _check_model(model, first_linear=True)
    Xt = torch.as_tensor(as_float_array("X", X, ndim=2), dtype=DTYPE)
    if Xt.shape[1] != model[0].in_features:
        raise ValueError(f"X has {Xt.shape[1]} columns but the model's first layer takes {model[0].in_features} "
                         f"inputs; got X of shape {tuple(Xt.shape)}")
    with torch.no_grad():
        z = model[0](Xt.to(model[0].weight.dtype)).numpy()  # (N, n_hidden)
    return np.all(z <= 0, axis=0)


@dataclass
class DeadRun:
    """What :func:`dead_after_training` and :func:`damaged_layer_run` return."""

    dead_at_start: np.ndarray  # (n_hidden,) bool
    dead_at_end: np.ndarray  # (n_hidden,) bool
    losses: np.ndarray  # (steps,) loss before each step; NaN after a divergence
    moved: np.ndarray  # (n_hidden,) bool: the unit's incoming weights changed

    @property
    def diverged(self) -> bool:
        return bool(np.isnan(self.losses).any())

    @property
    def dead_fraction(self) -> float:
        return float(self.dead_at_end.mean())

    @property
    def revived(self) -> int:
        """Units dead at the start that are active (z > 0) on some sample at the end."""
        return int(np.sum(self.dead_at_start & ~self.dead_at_end))


def _run_dead(model: nn.Sequential, X, y, *, steps: int, lr: float) -> DeadRun:
    dead_at_start = dead_units(model, X)
    w_start = model[0].weight.detach().clone()
    losses = gradient_descent(model, X, y, steps=steps, lr=lr, loss="mse")
    moved = (model[0].weight.detach() != w_start).any(dim=1).numpy()
    return DeadRun(dead_at_start, dead_units(model, X), losses, moved)


def dead_after_training(lr: float, *, seed: int, steps: int = 300, width: int = 64, n: int = 256) -> DeadRun:
    """Train a 2-``width``-1 ReLU net ``steps`` steps at learning rate ``lr``; count dead units.

    Task: y = sin(x1) + x2/2 on n standard-normal inputs, MSE, full-batch gradient
    descent, PyTorch's default init. Dead units are measured on the training inputs.
    """
    lr = check_number("lr", lr, positive=True)
    steps = check_int("steps", steps, minimum=1, maximum=1_000_000)
    width = check_int("width", width, minimum=1, maximum=MAX_WIDTH)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    X, y = _regression_task(check_int("n", n, minimum=1, maximum=MAX_SAMPLES), generator)
    model = mlp([2, width, 1], "relu", generator=generator)
    return _run_dead(model, X.numpy(), y.numpy(), steps=steps, lr=lr)


def damaged_layer(activation: str = "relu", *, seed: int, bias_shift: float = -2.0,
                  negative_slope: float = 0.01, width: int = 64, n: int = 512):
    """A 2-``width``-1 net (PyTorch's default init) whose hidden biases were shifted by ``bias_shift``.

    The shift leaves most hidden units negative on every input: dead, for ReLU.
    Returns ``(model, X, y)``: the model, its n standard-normal inputs (n, 2) and the
    targets y = sin(x1) + x2/2 (n, 1) of :func:`damaged_layer_run`. The same seed gives
    the same data and weights for every ``activation`` ("relu" or "leaky_relu").
    """
    activation = check_choice("activation", activation, ("relu", "leaky_relu"))
    bias_shift = check_number("bias_shift", bias_shift)
    width = check_int("width", width, minimum=1, maximum=MAX_WIDTH)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    X, y = _regression_task(check_int("n", n, minimum=1, maximum=MAX_SAMPLES), generator)
    model = mlp([2, width, 1], activation, generator=generator, negative_slope=negative_slope)
    with torch.no_grad():
        model[0].bias += bias_shift
    return model, X.numpy(), y.numpy()


def damaged_layer_run(activation: str, *, seed: int, steps: int = 2000, lr: float = 0.05,
                      bias_shift: float = -2.0, negative_slope: float = 0.01, width: int = 64,
                      n: int = 512) -> DeadRun:
    """Kill units on purpose (:func:`damaged_layer`), then train: does the activation bring them back?

    ``steps`` steps of gradient descent at learning rate ``lr`` fit y = sin(x1) + x2/2 (MSE).
    ``revived`` counts the units dead at the start that are active on some input at the end.
    """
    steps = check_int("steps", steps, minimum=1, maximum=1_000_000)
    lr = check_number("lr", lr, positive=True)
    model, X, y = damaged_layer(activation, seed=seed, bias_shift=bias_shift,
                                negative_slope=negative_slope, width=width, n=n)
    return _run_dead(model, X, y, steps=steps, lr=lr)


def default_init_dead(*, seed: int, width: int = 64, n: int = 512):
    """Dead units of a fresh ``nn.Linear(2, width)`` + ReLU on n standard-normal inputs.

    A unit is dead on the batch when its line w·x + b = 0 misses the whole data cloud,
    i.e. ``b ≤ −max_i w·x_i``. Returns ``(dead, b, reach)``, three (width,) arrays:
    the dead mask, the biases and ``reach = max_i w·x_i``, so dead == (b + reach ≤ 0).
    """
    width = check_int("width", width, minimum=1, maximum=MAX_WIDTH)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    X = torch.randn(check_int("n", n, minimum=1, maximum=MAX_SAMPLES), 2, generator=generator, dtype=DTYPE)
    layer = linear_layer(2, width, generator=generator)
    with torch.no_grad():
        reach = (X @ layer.weight.T).max(dim=0).values.numpy()  # (width,)
        b = layer.bias.numpy().copy()
        dead = np.all(torch.relu(layer(X)).numpy() == 0, axis=0)
    return dead, b, reach


# --- gradients through sigmoid layers --------------------------------------------------------


def sigmoid_stack_gradient(depth: int = 5, width: int = 100, weight_std: float = 1.0, *, seed: int) -> dict:
    """Backward factor through ``depth`` sigmoid layers h_l = σ(W_l h_{l−1}), W_l ~ N(0, weight_std²).

    The Jacobian is J = Π_l diag(σ'(z_l)) W_l. Returns a dict with ``norm``: the largest
    singular value of J (the most a gradient can grow), and ``bound``: Π_l max σ'(z_l)·‖W_l‖₂,
    which it never exceeds; the 0.25 alone bounds nothing once the weights are large.
    """
    depth = check_int("depth", depth, minimum=1, maximum=100)
    width = check_int("width", width, minimum=1, maximum=2000)
    weight_std = _check_spread("weight_std", check_number("weight_std", weight_std, positive=True), 40.0 * width)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    h = torch.randn(width, generator=generator, dtype=DTYPE)
    J = torch.eye(width, dtype=DTYPE)
    bound = 1.0
    for _ in range(depth):
        W = weight_std * torch.randn(width, width, generator=generator, dtype=DTYPE)
        z = W @ h
        s = torch.sigmoid(z)
        d = s * (1 - s)  # σ'(z), each at most 1/4
        J = (d[:, None] * W) @ J
        bound *= d.max().item() * torch.linalg.matrix_norm(W, ord=2).item()
        h = s
    return {"norm": torch.linalg.matrix_norm(J, ord=2).item(), "bound": bound}


# --- activations compared on one task ---------------------------------------------------------


def compare_activations(names: Sequence[str], *, seed: int, depth: int = 4, width: int = 16,
                        steps: int = 1000, lr: float = 0.3, n: int = 200) -> dict[str, ClassifierRun]:
    """Train the same ``depth``-hidden-layer net on two moons once per activation.

    Same data, same seed for the weights, same steps and learning rate for all; only
    the activation differs. Returns ``{name: ClassifierRun}``.
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or len(names) == 0:
        raise TypeError(f"names must be a non-empty list of activation names like ['relu', 'tanh']; "
                        f"got {describe(names)}")
    names = [check_choice(f"names[{k}]", name, ACTIVATIONS) for k, name in enumerate(names)]
    seed = check_int("seed", seed, minimum=0)
    depth = check_int("depth", depth, minimum=1, maximum=50)
    width = check_int("width", width, minimum=1, maximum=MAX_WIDTH)
    steps = check_int("steps", steps, minimum=1, maximum=1_000_000)
    lr = check_number("lr", lr, positive=True)
    X, y = make_moons(n, 0.15, rng=np.random.default_rng(seed))
    return {name: train_classifier(X, y, [width] * depth, activation=name, steps=steps, lr=lr, seed=seed)
            for name in names}
