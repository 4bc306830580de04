"""Every training loop of the course: small seeded runs, chapters 01 to 06.

Everything here is numbers only (figures live in :mod:`coursekit.plotting`), small
enough to run in a notebook cell in about a second, and reproducible by
construction: every function that draws random numbers takes an explicit
``rng`` (numpy) or ``seed`` (which seeds its own ``torch.Generator``), so a
result never depends on what an earlier cell happened to draw.

Training is plain full-batch gradient descent, ``p ← p − lr · ∂loss/∂p``, written
out so that the update is visible (chapter 02, section 5; chapter 05's :func:`train` even
writes the backward pass out in numpy); the exceptions are :func:`fit_curve` and chapter 04's
:func:`fit_binary`, which use Adam to reach a fit in few steps. Networks use the activations
of the registry (:data:`coursekit.activations.MODULES`), the data comes from
:mod:`coursekit.data`. Every model and tensor of chapters 02–03 is float64 (``DTYPE``), like
the numpy arrays of the chapters; chapter 05's deep runs train in float32, as torch does by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit import activations as acts
from coursekit import neurons
from coursekit._checks import (
    Array,
    Arrays,
    Bool,
    Choice,
    Choices,
    Indices,
    Instance,
    Int,
    Ints,
    Optional,
    Real,
    Rng,
    describe,
    validate,
)
from coursekit._lazy import lazy_import, one_torch_thread
from coursekit.data import (
    MAX_CLASSES,
    MAX_SAMPLES,
    MAX_SPREAD,
    make_moons,
    make_xor,  # noqa: F401  (moved to coursekit.data; importable from here too)
)
from coursekit.init import INIT_SPEC, InitSpec, make_weights
from coursekit.softmax import _check_targets

torch = lazy_import("torch")  # imported on first use: `import coursekit.experiments` stays light
nn = lazy_import("torch.nn")

#: Activations :func:`mlp` and the training runs can use: the registry's differentiable ones
#: (:data:`coursekit.activations.DIFFERENTIABLE`, all but the step), a live view, so an
#: activation registered later trains too. Each becomes ``activations.MODULES[name](**params)``.
ACTIVATIONS: Sequence[str] = acts.DIFFERENTIABLE

#: Largest layer :func:`linear_layer` builds (weights, float64: 800 MB), and widest layer elsewhere.
MAX_LAYER_PARAMS = 10**8
MAX_WIDTH = 10_000

#: Most gradient-descent steps one run takes.
MAX_STEPS = 1_000_000


def __getattr__(name: str):
    if name == "DTYPE":  # torch.float64, the dtype of chapter 02-03's models; read lazily (torch is lazy)
        return torch.float64
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- models -----------------------------------------------------------------------------------


def _activation_module(name: str, negative_slope: float) -> nn.Module:
    """The registry's module for ``name`` (``activations.MODULES``), with ``negative_slope`` if it takes one."""
    params = {"negative_slope": negative_slope} if "negative_slope" in acts.PARAMS[name] else {}
    return acts.MODULES[name](**params)


def _example_model() -> nn.Module:
    """A model the declarations offer as an example: ``nn.Sequential(nn.Linear(2, 1))`` in float64."""
    return nn.Sequential(nn.Linear(2, 1, dtype=torch.float64))


# The declarations shared by the runs below (see coursekit._checks.validate).
ACTIVATION = Choice(ACTIVATIONS, label="activation")  # read live: a registered activation trains too
SEED = Int(minimum=0)
STEPS = Int(minimum=1, maximum=MAX_STEPS)
LR = Real(positive=True)
WIDTH = Int(minimum=1, maximum=MAX_WIDTH)
N_POINTS = Int(minimum=1, maximum=MAX_SAMPLES)
GENERATOR = Instance("torch", "Generator", what="a torch.Generator",
                     hint="make one with torch.Generator().manual_seed(seed)",
                     make=lambda: torch.Generator().manual_seed(0))
MODEL = Instance("torch.nn", "Module", what="a torch.nn.Module (e.g. from coursekit.training.mlp)",
                 make=_example_model)


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


@validate(n_in=Int(minimum=1, maximum=MAX_LAYER_PARAMS), n_out=Int(minimum=1, maximum=MAX_LAYER_PARAMS),
          generator=GENERATOR)
def linear_layer(n_in: int, n_out: int, *, generator: torch.Generator) -> nn.Linear:
    """An ``nn.Linear(n_in, n_out)`` in float64 with PyTorch's default init drawn from ``generator``.

    The default init is ``kaiming_uniform_(a=√5)`` = U(±1/√n_in) for the weights and
    U(±1/√n_in) for the bias; drawing it from an explicit generator makes it reproducible.
    """
    if n_in * n_out > MAX_LAYER_PARAMS:
        raise ValueError(f"n_in * n_out = {n_in * n_out} weights is too many (at most {MAX_LAYER_PARAMS:.0e} here); "
                         f"got n_in={n_in}, n_out={n_out}")
    layer = nn.Linear(n_in, n_out, dtype=torch.float64)
    bound = 1.0 / math.sqrt(n_in)
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


@validate(sizes=Ints(minimum=1, maximum=MAX_WIDTH, min_len=2, what="layer widths like [2, 8, 1]",
                    too_short="at least 2 widths, [n_in, ..., n_out]"),
          activation=ACTIVATION, generator=GENERATOR, negative_slope=Real())
def mlp(sizes: Sequence[int], activation: str = "relu", *, generator: torch.Generator,
        negative_slope: float = 0.01) -> nn.Sequential:
    """A fully connected network with widths ``sizes = [n_in, n_1, ..., n_out]`` (float64).

    ``activation`` (one of :data:`ACTIVATIONS`) follows every layer but the last, whose
    output is left raw (a logit for classification, a value for regression).
    """
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(linear_layer(a, b, generator=generator))
        if k < len(sizes) - 2:
            layers.append(_activation_module(activation, negative_slope))
    return nn.Sequential(*layers)


# --- training ---------------------------------------------------------------------------------


def _as_tensor_xy(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}: they must match")
    return torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64).reshape(X.shape[0], -1)


@validate(model=MODEL, X=Array(ndim=2), y=Array(ndim=(1, 2)), steps=STEPS, lr=LR, loss=Choice(("bce", "mse")))
def gradient_descent(model: nn.Module, X, y, *, steps: int, lr: float, loss: str = "bce") -> np.ndarray:
    """Train ``model`` in place by full-batch gradient descent; return the loss before each step.

    ``loss``: "bce" (binary cross-entropy on the raw output, a logit; y in {0, 1}) or
    "mse" (mean squared error). Each step: forward pass, loss, ``loss.backward()``,
    then ``p -= lr * p.grad`` for every parameter. A run whose loss becomes NaN or inf
    stops there; the returned array (length ``steps``) holds NaN for the missing steps.
    """
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


@validate(model=MODEL, X=Array(ndim=2))
def predict_proba(model: nn.Module, X) -> np.ndarray:
    """sigmoid(model(X)): the probability of class 1 for each row of ``X`` (N, 2); shape (N,)."""
    with torch.no_grad():
        return torch.sigmoid(_forward(model, torch.as_tensor(X, dtype=torch.float64))).numpy().ravel()


@validate(model=MODEL, X=Array(ndim=2), y=Array(ndim=1))
def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of rows of ``X`` whose predicted class (probability > 0.5) equals ``y``."""
    p = predict_proba(model, X)
    if p.shape != y.shape:
        raise ValueError(f"X has {p.shape[0]} rows but y has {y.shape[0]} labels: they must match")
    return float(np.mean((p > 0.5) == (y == 1)))


@validate(model=MODEL, X=Array(ndim=2), n=Int(minimum=2, maximum=2000), margin=Real(minimum=0.0))
def decision_grid(model: nn.Module, X, *, n: int = 200, margin: float = 0.5):
    """The model's probability of class 1 on an n×n grid covering ``X`` (N, 2) plus ``margin``.

    Returns ``(g1, g2, p)``, three (n, n) arrays as ``np.meshgrid`` makes them; draw with
    :func:`coursekit.plotting.plot_decision_regions`.
    """
    if X.shape[0] == 0 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2) with N >= 1 (points in the plane); got shape {X.shape}")
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


@validate(X=Array(ndim=2), y=Array(ndim=1), hidden=Ints(minimum=1, maximum=MAX_WIDTH, what="layer widths like [8, 8]"), activation=ACTIVATION,
          steps=STEPS, lr=LR, seed=SEED)
def train_classifier(X, y, hidden: Sequence[int], *, activation: str = "tanh", steps: int = 2000,
                     lr: float = 0.5, seed: int) -> ClassifierRun:
    """Build ``mlp([2, *hidden, 1])`` from ``seed`` and train it on (X, y) with BCE by gradient descent.

    ``hidden = []`` gives logistic regression: a single linear layer, one straight boundary.
    """
    generator = torch.Generator().manual_seed(seed)
    model = mlp([X.shape[1], *hidden, 1], activation, generator=generator)
    losses = gradient_descent(model, X, y, steps=steps, lr=lr, loss="bce")
    return ClassifierRun(model, losses, accuracy(model, X, y))


# --- universal approximation: one hidden layer, growing width --------------------------------


@validate(x=Array())
def curve_target(x) -> np.ndarray:
    """The 1-D curve of :func:`fit_curve`: ``sin(2x) + 0.3·x²``, not monotone, on any shape."""
    return np.sin(2.0 * x) + 0.3 * x**2


@validate(width=Int(minimum=0, maximum=MAX_WIDTH), seed=SEED, steps=Int(minimum=1, maximum=100_000), lr=LR,
          n=Int(minimum=2, maximum=MAX_SAMPLES), activation=ACTIVATION)
def fit_curve(width: int, *, seed: int, steps: int = 1500, lr: float = 0.02, n: int = 200,
              activation: str = "tanh"):
    """Fit :func:`curve_target` on n points of [−3, 3] with a 1-``width``-1 network (Adam, MSE).

    ``width = 0`` is the linear model y = w·x + b (no hidden layer). Returns
    ``(x, prediction, mse)``: x (n,), the fitted values (n,), the final mean squared error.
    """
    x = np.linspace(-3.0, 3.0, n)
    generator = torch.Generator().manual_seed(seed)
    sizes = [1, 1] if width == 0 else [1, width, 1]
    model = mlp(sizes, activation, generator=generator)
    xt = torch.as_tensor(x[:, None], dtype=torch.float64)
    yt = torch.as_tensor(curve_target(x)[:, None], dtype=torch.float64)
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
    X = torch.randn(n, 2, generator=generator, dtype=torch.float64)  # (n, 2)
    return X, torch.sin(X[:, :1]) + 0.5 * X[:, 1:]  # (n, 1)


@validate(model=MODEL, X=Array(ndim=2))
def dead_units(model: nn.Sequential, X) -> np.ndarray:
    """Which units of the first hidden layer are dead on ``X``: pre-activation ≤ 0 on every row.

    Returns a boolean array (n_hidden,). A dead ReLU unit outputs 0 and receives gradient 0
    from every sample of ``X``.
    """
    if not (isinstance(model, nn.Sequential) and len(model) > 0 and isinstance(model[0], nn.Linear)):
        raise TypeError(f"model must be an nn.Sequential whose first layer is an nn.Linear (as mlp builds it); "
                        f"got {type(model).__name__}")
    Xt = torch.as_tensor(X, dtype=torch.float64)
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


@validate(lr=LR, seed=SEED, steps=STEPS, width=WIDTH, n=N_POINTS)
def dead_after_training(lr: float, *, seed: int, steps: int = 300, width: int = 64, n: int = 256) -> DeadRun:
    """Train a 2-``width``-1 ReLU net ``steps`` steps at learning rate ``lr``; count dead units.

    Task: y = sin(x1) + x2/2 on n standard-normal inputs, MSE, full-batch gradient
    descent, PyTorch's default init. Dead units are measured on the training inputs.
    """
    generator = torch.Generator().manual_seed(seed)
    X, y = _regression_task(n, generator)
    model = mlp([2, width, 1], "relu", generator=generator)
    return _run_dead(model, X.numpy(), y.numpy(), steps=steps, lr=lr)


@validate(activation=Choice(("relu", "leaky_relu")), seed=SEED, bias_shift=Real(), negative_slope=Real(), width=WIDTH,
          n=N_POINTS)
def damaged_layer(activation: str = "relu", *, seed: int, bias_shift: float = -2.0,
                  negative_slope: float = 0.01, width: int = 64, n: int = 512):
    """A 2-``width``-1 net (PyTorch's default init) whose hidden biases were shifted by ``bias_shift``.

    The shift leaves most hidden units negative on every input: dead, for ReLU.
    Returns ``(model, X, y)``: the model, its n standard-normal inputs (n, 2) and the
    targets y = sin(x1) + x2/2 (n, 1) of :func:`damaged_layer_run`. The same seed gives
    the same data and weights for every ``activation`` ("relu" or "leaky_relu").
    """
    generator = torch.Generator().manual_seed(seed)
    X, y = _regression_task(n, generator)
    model = mlp([2, width, 1], activation, generator=generator, negative_slope=negative_slope)
    with torch.no_grad():
        model[0].bias += bias_shift
    return model, X.numpy(), y.numpy()


@validate(activation=Choice(("relu", "leaky_relu")), seed=SEED, steps=STEPS, lr=LR, bias_shift=Real(), negative_slope=Real(),
          width=WIDTH, n=N_POINTS)
def damaged_layer_run(activation: str, *, seed: int, steps: int = 2000, lr: float = 0.05,
                      bias_shift: float = -2.0, negative_slope: float = 0.01, width: int = 64,
                      n: int = 512) -> DeadRun:
    """Kill units on purpose (:func:`damaged_layer`), then train: does the activation bring them back?

    ``steps`` steps of gradient descent at learning rate ``lr`` fit y = sin(x1) + x2/2 (MSE).
    ``revived`` counts the units dead at the start that are active on some input at the end.
    """
    model, X, y = damaged_layer(activation, seed=seed, bias_shift=bias_shift,
                                negative_slope=negative_slope, width=width, n=n)
    return _run_dead(model, X, y, steps=steps, lr=lr)


@validate(seed=SEED, width=WIDTH, n=N_POINTS)
def default_init_dead(*, seed: int, width: int = 64, n: int = 512):
    """Dead units of a fresh ``nn.Linear(2, width)`` + ReLU on n standard-normal inputs.

    A unit is dead on the batch when its line w·x + b = 0 misses the whole data cloud,
    i.e. ``b ≤ −max_i w·x_i``. Returns ``(dead, b, reach)``, three (width,) arrays:
    the dead mask, the biases and ``reach = max_i w·x_i``, so dead == (b + reach ≤ 0).
    """
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    layer = linear_layer(2, width, generator=generator)
    with torch.no_grad():
        reach = (X @ layer.weight.T).max(dim=0).values.numpy()  # (width,)
        b = layer.bias.numpy().copy()
        dead = np.all(torch.relu(layer(X)).numpy() == 0, axis=0)
    return dead, b, reach


# --- gradients through sigmoid layers --------------------------------------------------------


@validate(depth=Int(minimum=1, maximum=100), width=Int(minimum=1, maximum=2000),
          weight_std=Real(positive=True, maximum=MAX_SPREAD / 2000), seed=SEED)  # z sums width draws: finite
def sigmoid_stack_gradient(depth: int = 5, width: int = 100, weight_std: float = 1.0, *, seed: int) -> dict:
    """Backward factor through ``depth`` sigmoid layers h_l = σ(W_l h_{l−1}), W_l ~ N(0, weight_std²).

    The Jacobian is J = Π_l diag(σ'(z_l)) W_l. Returns a dict with ``norm``: the largest
    singular value of J (the most a gradient can grow), and ``bound``: Π_l max σ'(z_l)·‖W_l‖₂,
    which it never exceeds; the 0.25 alone bounds nothing once the weights are large.
    """
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(width, generator=generator, dtype=torch.float64)
    J = torch.eye(width, dtype=torch.float64)
    bound = 1.0
    for _ in range(depth):
        W = weight_std * torch.randn(width, width, generator=generator, dtype=torch.float64)
        z = W @ h
        s = torch.sigmoid(z)
        d = s * (1 - s)  # σ'(z), each at most 1/4
        J = (d[:, None] * W) @ J
        bound *= d.max().item() * torch.linalg.matrix_norm(W, ord=2).item()
        h = s
    return {"norm": torch.linalg.matrix_norm(J, ord=2).item(), "bound": bound}


# --- activations compared on one task ---------------------------------------------------------


@validate(names=Choices(ACTIVATIONS, what="activation names like ['relu', 'tanh']"), seed=SEED,
          depth=Int(minimum=1, maximum=50), width=WIDTH, steps=STEPS, lr=LR, n=Int(minimum=2, maximum=MAX_SAMPLES))
def compare_activations(names: Sequence[str], *, seed: int, depth: int = 4, width: int = 16,
                        steps: int = 1000, lr: float = 0.3, n: int = 200) -> dict[str, ClassifierRun]:
    """Train the same ``depth``-hidden-layer net on two moons once per activation.

    Same data, same seed for the weights, same steps and learning rate for all; only
    the activation differs. Returns ``{name: ClassifierRun}``.
    """
    X, y = make_moons(n, 0.15, rng=np.random.default_rng(seed))
    return {name: train_classifier(X, y, [width] * depth, activation=name, steps=steps, lr=lr, seed=seed)
            for name in names}


# --- chapter 05: a small MLP trained by hand-written backprop in numpy, and transfer --------------


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns; lists have one entry per epoch (before each update, then final)."""

    losses: list[float]  # binary cross-entropy on the training set
    accuracy: float  # final training accuracy
    row_spread: list[float]  # max over hidden layers of max_i |W[i] − W[0]|: 0 means all units identical
    weights: list[np.ndarray]  # final hidden weights (out, in) then the output weight (1, n_hidden)


def _row_spread(weights: Sequence[np.ndarray]) -> float:
    return max(float(np.max(np.abs(W - W[0]))) for W in weights)


def _binary_data(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Declared X (N, D) and y (N,): one label per row, each 0 or 1 (what the training runs take)."""
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one label per row of X ({X.shape[0]}); got {describe(y)}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1 (binary labels)")
    return X, y


@validate(X=Array(ndim=2), y=Array(ndim=1), init=INIT_SPEC, activation=ACTIVATION,
          hidden=Ints(minimum=1, maximum=MAX_WIDTH, min_len=1, what="layer sizes, e.g. (16, 16)"),
          epochs=Int(minimum=0, maximum=MAX_STEPS), lr=LR, rng=Rng())
def train(X, y, *, init: InitSpec = "xavier_normal", activation: str = "tanh",
          hidden: Sequence[int] = (16, 16), epochs: int = 300, lr: float = 0.5,
          rng: np.random.Generator) -> TrainResult:
    """Full-batch gradient descent on a small MLP for binary classification, biases starting at 0.

    X (N, D), y (N,) of 0/1; layers h_l = f(h_{l-1} W_lᵀ + b_l), logit = h_L w_outᵀ + b_out,
    loss = mean binary cross-entropy of sigmoid(logit). Every weight matrix, the output one
    included, is drawn with ``init`` (see :func:`coursekit.init.make_weights`).
    """
    X, y = _binary_data(X, y)
    act = acts.get(activation)
    sizes = hidden
    Ws, fan_in = [], X.shape[1]
    for n in [*sizes, 1]:
        Ws.append(make_weights(1, n, init, rng=rng, n_inputs=fan_in)[0])
        fan_in = n
    bs = [np.zeros(W.shape[0]) for W in Ws]
    N = X.shape[0]
    losses, spread = [], []
    for _ in range(epochs + 1):  # epochs updates, and one last evaluation
        hs, zs, h = [X], [], X
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            z = h @ W.T + b
            h = act.numpy(z)
            zs.append(z)
            hs.append(h)
        logit = (h @ Ws[-1].T + bs[-1])[:, 0]  # (N,)
        # BCE from logits, stable: log(1 + e^{-|t|}) + max(t, 0) − y·t
        losses.append(float(np.mean(np.logaddexp(0.0, logit) - y * logit)))
        spread.append(_row_spread(Ws[:-1]))
        if len(losses) > epochs:
            break
        g = ((acts.sigmoid(logit) - y) / N)[:, None]  # ∂L/∂logit, (N, 1)
        grads_W = [g.T @ hs[-1]]
        grads_b = [g.sum(axis=0)]
        g = g @ Ws[-1]
        for W, z, h_in in zip(reversed(Ws[:-1]), reversed(zs), reversed(hs[:-1]), strict=True):
            gz = g * act.grad(z)
            grads_W.append(gz.T @ h_in)
            grads_b.append(gz.sum(axis=0))
            g = gz @ W
        for W, b, gW, gb in zip(Ws, bs, reversed(grads_W), reversed(grads_b), strict=True):
            W -= lr * gW
            b -= lr * gb
    accuracy = float(np.mean((logit > 0) == (y == 1)))
    return TrainResult(losses, accuracy, spread, [W.copy() for W in Ws])


@validate(weights=Arrays(2, what="(out, in) weight matrices", min_len=1))
def from_weights(weights: Sequence[np.ndarray]) -> Callable[..., np.ndarray]:
    """An ``init`` for :func:`train` that hands out copies of ``weights`` in layer order (pretrained start)."""
    weights = [W.copy() for W in weights]
    it = iter(weights)

    def init(shape, rng=None):
        W = next(it, None)
        if W is None:
            raise ValueError(f"from_weights: more layers asked for than the {len(weights)} matrices given")
        if W.shape != tuple(shape):
            raise ValueError(f"from_weights: the next matrix has shape {W.shape} but the layer needs {tuple(shape)}")
        return W.copy()

    return init


# --- chapter 05: depth decides, a deep MLP trained with torch ------------------------------------


@dataclass(frozen=True)
class DeepRun:
    """What :func:`train_deep` returns. Per-layer lists run over the hidden layers, then the output layer.

    ``losses``: training BCE before each update, then after the last one (``steps + 1`` values;
    inf or NaN once a run has exploded, and then it stops); ``diverged_at``: the first step whose
    loss is not finite, else None. ``act_std`` / ``input_share``: the std and input share
    (:func:`coursekit.activations.variance_split`) of each hidden layer's output at the start; ``grad_w_std``: std of ∂L/∂W per layer at the start
    and ``grad_weights`` the gradients themselves (for histograms); ``update_ratio``
    (steps, layers): std(lr · ∂L/∂W) / std(W) at every step, the update:data ratio;
    ``start_accuracy``: the training accuracy of the initial weights (``accuracy`` is the final one).
    """

    losses: list[float]
    accuracy: float
    diverged_at: int | None
    act_std: list[float]
    input_share: list[float]
    grad_w_std: list[float]
    grad_weights: list[np.ndarray]
    update_ratio: np.ndarray
    start_accuracy: float = math.nan


@validate(X=Array(ndim=2), y=Array(ndim=1), depth=Int(minimum=1), width=WIDTH, init=INIT_SPEC,
          activation=ACTIVATION, batchnorm=Ints(minimum=1, what="hidden-layer numbers like [1, 2]"),
          steps=Int(minimum=0, maximum=MAX_STEPS), lr=LR, seed=SEED)
def train_deep(X, y, *, depth: int = 15, width: int = 64, init: InitSpec = "kaiming_normal",
               activation: str = "relu", batchnorm: Sequence[int] = (), steps: int = 200, lr: float = 0.05,
               seed: int = 0) -> DeepRun:
    """Full-batch SGD on a deep MLP for binary labels: ``depth`` hidden layers of ``width`` units.

    X (N, D), y (N,) of 0/1. h_l = f(BN?(h_{l-1} W_lᵀ + b_l)), logit = h_depth w_outᵀ + b_out, loss =
    mean binary cross-entropy from the logit (``BCEWithLogits``), float32 as torch trains by default.
    Every weight matrix (the output one included) is drawn with ``init`` from
    ``numpy.random.default_rng(seed)`` (see :func:`coursekit.init.make_weights`); biases start at 0.
    ``batchnorm``: the hidden layers (1 … depth) after whose linear part a ``BatchNorm1d`` sits
    (batch statistics of the full batch, learnable scale and shift starting at 1 and 0).
    """
    X, y = _binary_data(X, y)
    act = acts.get(activation).torch  # the registry's torch function (any registered activation)
    bn_layers = set(batchnorm)
    if bn_layers and max(bn_layers) > depth:
        raise ValueError(f"batchnorm must list hidden layers 1 … {depth} (depth={depth}); got {list(batchnorm)}")
    rng = np.random.default_rng(seed)

    arrays = make_weights(depth, width, init, rng=rng, n_inputs=X.shape[1])
    arrays += make_weights(1, 1, init, rng=rng, n_inputs=width)
    Ws = [torch.tensor(W, dtype=torch.float32, requires_grad=True) for W in arrays]
    bs = [torch.zeros(W.shape[0], requires_grad=True) for W in arrays]
    bns = {k: torch.nn.BatchNorm1d(width) for k in sorted(bn_layers)}
    params = [*Ws, *bs, *(p for bn in bns.values() for p in bn.parameters())]
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)

    def run() -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        h, hidden = Xt, []
        for k, (W, b) in enumerate(zip(Ws[:-1], bs[:-1], strict=True), start=1):
            z = h @ W.T + b
            h = act(bns[k](z) if k in bns else z)
            hidden.append(h)
        logit = (h @ Ws[-1].T + bs[-1])[:, 0]
        return torch.nn.functional.binary_cross_entropy_with_logits(logit, yt), hidden, logit

    losses: list[float] = []
    ratios: list[list[float]] = []
    diverged_at = None
    act_std = input_share = grad_w_std = None
    start_accuracy = math.nan
    grad_weights: list[np.ndarray] = []
    with one_torch_thread():
        for step in range(steps + 1):
            loss, hidden, logit = run()
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                diverged_at = step
                break
            if step == 0:
                start_accuracy = float(np.mean((logit.detach().numpy() > 0) == (y == 1)))
                spreads = [acts.variance_split(h.detach().numpy()) for h in hidden]  # (std, unit std, input share)
                act_std = [s[0] for s in spreads]
                input_share = [s[2] for s in spreads]
            if step == steps:
                break
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                if step == 0:
                    grad_weights = [W.grad.numpy().copy() for W in Ws]
                    grad_w_std = [float(g.std()) for g in grad_weights]
                ratios.append([float(lr * W.grad.std() / W.std()) if float(W.std()) > 0 else math.inf
                               for W in Ws])
                for p in params:
                    p -= lr * p.grad
    if grad_w_std is None:  # steps == 0, or it exploded at once: the gradients of the start all the same
        for p in params:
            p.grad = None
        with one_torch_thread():
            loss, _, _ = run()
            if math.isfinite(float(loss.detach())):
                loss.backward()
                grad_weights = [W.grad.numpy().copy() for W in Ws]
        grad_w_std = [float(g.std()) for g in grad_weights]
    accuracy = float(np.mean((logit.detach().numpy() > 0) == (y == 1))) if diverged_at is None else math.nan
    return DeepRun(losses, accuracy, diverged_at, act_std or [], input_share or [], grad_w_std, grad_weights,
                   np.array(ratios).reshape(len(ratios), len(Ws)), start_accuracy)


# --- chapter 04: XOR networks trained with Adam ---------------------------------------------------


def _logits(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """net(X), or a ValueError naming net where a net for other inputs fails deep inside torch."""
    try:
        out = net(X)
    except RuntimeError as exc:  # another input width or dtype
        raise ValueError(f"net cannot take X of shape {tuple(X.shape)} as float32: {exc}") from None
    if not isinstance(out, torch.Tensor) or out.shape != y.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else describe(out)
        raise ValueError(f"net must return logits of shape {tuple(y.shape)} (one per row of X); got {got}")
    return out


@validate(net=Instance("torch.nn", "Module", what="a torch.nn.Module",
                       make=lambda: nn.Sequential(nn.Linear(2, 1))),
          X=Array(ndim=2), y=Array(ndim=2), steps=Int(minimum=0, maximum=MAX_STEPS), lr=LR)
def fit_binary(net: torch.nn.Module, X, y, *, steps: int = 1000, lr: float = 0.01) -> tuple[float, float]:
    """Train ``net`` (logits out, shape (N, 1)) with Adam on ``BCEWithLogitsLoss``; return (final loss, accuracy).

    X (N, D) and y (N, 1) of 0/1 as float tensors (or arrays). Full batch, one torch thread
    (tiny matrices are slower split across threads). Chapter 04 trains its XOR networks with it.
    """
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32)
    if y.shape != (X.shape[0], 1):
        raise ValueError(f"y must have shape ({X.shape[0]}, 1), one 0/1 label per row of X; got {tuple(y.shape)}")
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1 (binary labels)")
    if not any(p.requires_grad for p in net.parameters()):
        raise ValueError(f"net has no trainable parameters; got {describe(net)}")
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()  # sigmoid + cross-entropy, on the logit
    with one_torch_thread():
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(_logits(net, X, y), y)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            logits = _logits(net, X, y)
            loss = loss_fn(logits, y).item()
            acc = ((logits > 0).float() == y).float().mean().item()
    return loss, acc


# --- chapter 01: the perceptron learning rule --------------------------------------------------


@dataclass
class PerceptronRun:
    """What :func:`train_perceptron` returns: the final weights and the history of errors."""

    w: np.ndarray  # (D,) final weights
    b: float  # final bias
    errors: list[int]  # misclassified samples after each epoch
    converged_epoch: int | None  # first epoch after which nothing was misclassified, or None

    @property
    def converged(self) -> bool:
        return self.converged_epoch is not None


@validate(X=Array(ndim=2), y=Array(ndim=1), lr=Real(positive=True), epochs=Int(minimum=1, maximum=100_000),
          w0=Optional(Array(ndim=1)), b0=Real())
def train_perceptron(X, y, *, lr: float = 0.1, epochs: int = 20, w0=None, b0: float = 0.0) -> PerceptronRun:
    """Rosenblatt's perceptron rule, one sample at a time in the given order.

    For each sample: ``y_hat = step(w·x + b)``, then ``w += lr·(y − y_hat)·x`` and
    ``b += lr·(y − y_hat)``. Deterministic: weights start at ``w0`` (zeros by default).

    - X: inputs, shape (N, D); y: targets 0/1, shape (N,)
    Returns a :class:`PerceptronRun` with ``errors[e]`` = samples misclassified after epoch e+1.
    Training runs all ``epochs`` so a failure to converge (XOR) is visible in ``errors``.
    """
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]} targets: they must match")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must contain only 0 and 1 (the perceptron's two classes)")
    w = np.zeros(X.shape[1]) if w0 is None else w0.astype(float).copy()
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w0 has {w.shape[0]} weights but X has {X.shape[1]} inputs per sample")
    b = b0
    errors: list[int] = []
    converged_epoch = None
    for epoch in range(1, epochs + 1):
        for x_i, y_i in zip(X, y):
            update = lr * (y_i - float(x_i @ w + b > 0))  # 0 when the sample is right
            w += update * x_i
            b += update
        n_wrong = int(np.sum(neurons.step(X @ w + b) != y))
        errors.append(n_wrong)
        if n_wrong == 0 and converged_epoch is None:
            converged_epoch = epoch
    return PerceptronRun(w=w, b=float(b), errors=errors, converged_epoch=converged_epoch)


# --- chapter 06: a linear classifier trained two ways (softmax before the loss: the classic bug) ----


@validate(X=Array(ndim=2), y=Indices(), softmax_first=Bool(), steps=STEPS, lr=LR,
          seed=SEED)
def train_linear_classifier(X: Any, y: Any, *, softmax_first: bool = False, steps: int = 300, lr: float = 0.5,
                            seed: int = 0) -> dict[str, Any]:
    """Full-batch SGD on ``nn.Linear(D, K)`` with ``nn.CrossEntropyLoss``, float32, ``torch.manual_seed(seed)``.

    ``softmax_first=True`` is the classic bug: the loss is given ``softmax(logits)`` instead of
    the logits. Returns the model and per-step arrays ``reported`` (the loss that was minimised)
    and ``true_ce`` (the cross-entropy of the model's logits), both before each update.
    """
    import torch

    X = torch.tensor(X, dtype=torch.float32)
    t = torch.from_numpy(_check_targets(y, X.shape[0], np.iinfo(np.int64).max, "y", "X"))
    if t.numel() == 0:
        raise ValueError(f"X must hold at least one row (the loss is a mean over rows); got {tuple(X.shape)}")
    k = int(t.max()) + 1
    if k > MAX_CLASSES:
        raise ValueError(f"y holds class index {k - 1}: the classifier would need {k:,} outputs "
                         f"(at most {MAX_CLASSES:,})")
    torch.manual_seed(seed)
    model = torch.nn.Linear(X.shape[1], k)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ce = torch.nn.CrossEntropyLoss()
    reported, true_ce = [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a (1000, 2) @ (2, 10) product only slows down on more threads
    try:
        for _ in range(steps):
            z = model(X)  # (N, K) logits
            loss = ce(torch.softmax(z, dim=1), t) if softmax_first else ce(z, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            reported.append(loss.item())
            true_ce.append(ce(z.detach(), t).item())
    finally:
        torch.set_num_threads(threads)
    return {"model": model, "reported": np.array(reported), "true_ce": np.array(true_ce)}
