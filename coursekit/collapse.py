"""Collapsing a stack of linear layers into one (chapter 04).

Convention: layer k computes ``h_k = W_k h_{k-1} + b_k`` with ``W_k`` of shape
(out, in), as ``torch.nn.Linear`` stores it. Without activations between them,
L layers are one layer::

    W = W_L ... W_2 W_1,        b = sum_k W_L ... W_{k+1} b_k

computed here by folding one layer at a time: ``(W, b) <- (W_k W, W_k b + b_k)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coursekit._checks import Instance, validate
from coursekit.dense import BIASES, WEIGHTS


def _fold(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """The fold itself, for validated (out, in) matrices and (out,) biases (real or complex)."""
    dtype = np.result_type(*Ws, *[b for b in bs if b is not None])
    W = np.eye(Ws[0].shape[1], dtype=dtype)
    b = np.zeros(Ws[0].shape[1], dtype=dtype)
    for Wk, bk in zip(Ws, bs, strict=True):
        # Substituting h_{k-1} = W h_0 + b into h_k = W_k h_{k-1} + b_k.
        W, b = Wk @ W, Wk @ b
        if bk is not None:
            b = b + bk
    return W, b


@validate(weights=WEIGHTS, biases=BIASES)
def collapse_weights(weights: Sequence, biases: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Collapse linear layers given as numpy arrays into one ``(W, b)``.

    ``weights[k]``: (n_{k+1}, n_k), stored (out, in); ``biases[k]``: (n_{k+1},) or None
    (``biases=None`` means no layer has a bias). Returns ``W = W_L...W_1`` of shape
    (n_L, n_0) and ``b = sum_k W_L...W_{k+1} b_k`` of shape (n_L,) (zeros if no biases).
    """
    from coursekit.dense import _check_layers  # the same shape checks as the forward pass

    Ws, bs = _check_layers(weights, biases)
    return _fold(Ws, bs)


def _hooks(module) -> list[str]:
    """The kinds of forward hooks on ``module`` (they can change what its forward computes)."""
    kinds = []
    if getattr(module, "_forward_pre_hooks", None):
        kinds.append("forward pre-hook")
    if getattr(module, "_forward_hooks", None):
        kinds.append("forward hook")
    return kinds


def _refuse(where: str, module, why: str) -> ValueError:
    return ValueError(f"module {where} ({type(module).__name__}) cannot be collapsed: {why}")


def _check_plain(where: str, module, base: type) -> None:
    """Refuse a module whose forward is not ``base.forward``, or that has forward hooks."""
    if type(module).forward is not base.forward or "forward" in vars(module):
        raise _refuse(where, module, f"it overrides {base.__name__}.forward, so its output is not what the "
                      f"layer's weights alone say; collapse only plain nn.{base.__name__} modules")
    kinds = _hooks(module)
    if kinds:
        raise _refuse(where, module, f"it has a {' and a '.join(kinds)}, which may change its output; "
                      "remove the hooks (handle.remove()) first")


def _flatten(model, prefix: str = "") -> list[tuple[str, object]]:
    """(position, module) for every entry of nested Sequentials, in the order forward applies them.

    Positions look like "2" or "1.0". The Sequential is walked as ``Sequential.forward`` walks
    it, entry by entry: a module that appears twice (``nn.Sequential(l, l)``) is applied twice
    and listed twice (``named_children()`` would list it once).
    """
    import torch.nn as nn

    out = []
    for name, module in model._modules.items():  # what iter(model), and so model.forward, goes through
        where = f"{prefix}{name}"
        if isinstance(module, nn.Sequential):
            _check_plain(where, module, nn.Sequential)
            out.extend(_flatten(module, where + "."))
        else:
            out.append((where, module))
    return out


def _global_hooks() -> list[str]:
    from torch.nn.modules import module as torch_module

    kinds = []
    if getattr(torch_module, "_global_forward_pre_hooks", None):
        kinds.append("global forward pre-hook")
    if getattr(torch_module, "_global_forward_hooks", None):
        kinds.append("global forward hook")
    return kinds


def _small_sequential():
    import torch.nn as nn

    return nn.Sequential(nn.Linear(2, 2))


#: What every function here takes; the linear-only rules are checked in :func:`linear_layers`.
MODEL = Instance("torch.nn", "Sequential", what="a torch.nn.Sequential of nn.Linear layers",
                 hint="wrap a single layer as nn.Sequential(layer)", make=_small_sequential)


@validate(model=MODEL)
def linear_layers(model) -> list:
    """The ``nn.Linear`` layers of ``model`` in the order its forward applies them, checked for collapsing.

    ``model`` must be an ``nn.Sequential`` (possibly nested) of ``nn.Linear`` and
    ``nn.Identity`` modules whose sizes chain; a layer used twice appears twice. Anything
    else raises ValueError naming the module and its position: a nonlinearity, a Sequential
    or Linear subclass with its own ``forward``, a module with forward hooks.
    """
    import torch.nn as nn

    _check_plain("model", model, nn.Sequential)
    kinds = _global_hooks()
    if kinds:
        raise ValueError(
            f"model cannot be collapsed while a {' and a '.join(kinds)} is registered "
            "(torch.nn.modules.module.register_module_forward_hook): it may change every module's output"
        )
    leaves = _flatten(model)
    if not leaves:
        raise ValueError("model is an empty nn.Sequential: there is no layer to collapse")
    layers: list[tuple[str, nn.Linear]] = []
    for where, module in leaves:
        kind = type(module).__name__
        if isinstance(module, nn.Identity):
            _check_plain(where, module, nn.Identity)
            continue  # x -> x is linear (W = I, b = 0): nothing to fold in
        if not isinstance(module, nn.Linear) or isinstance(module, nn.modules.lazy.LazyModuleMixin):
            raise _refuse(
                where, module,
                "only nn.Linear and nn.Identity are folded (they are affine maps). A nonlinearity between "
                "layers is exactly what stops the collapse: W2 g(W1 x + b1) + b2 is not of the form W x + b "
                "when g is not affine",
            )
        _check_plain(where, module, nn.Linear)
        if layers and layers[-1][1].out_features != module.in_features:
            prev_where, prev = layers[-1]
            raise ValueError(
                f"layer sizes do not match: module {prev_where} ({type(prev).__name__}"
                f"({prev.in_features}, {prev.out_features})) outputs {prev.out_features} features but "
                f"module {where} ({kind}({module.in_features}, {module.out_features})) expects "
                f"{module.in_features}"
            )
        if layers and module.weight.dtype != layers[-1][1].weight.dtype:
            raise ValueError(
                f"module {where} ({kind}) has dtype {module.weight.dtype} but module {layers[-1][0]} has "
                f"{layers[-1][1].weight.dtype}; convert the model to one dtype first (model.double())"
            )
        if not (module.weight.dtype.is_floating_point or module.weight.dtype.is_complex):
            raise _refuse(where, module, f"its weight has dtype {module.weight.dtype}; only floating "
                          "and complex layers are folded")
        layers.append((where, module))
    if not layers:
        raise ValueError("model contains only nn.Identity modules: there is no nn.Linear layer to collapse")
    return [layer for _, layer in layers]


@validate(model=MODEL)
def collapse_linear(model):
    """Collapse an ``nn.Sequential`` of ``nn.Linear`` (and ``nn.Identity``) into one ``nn.Linear``.

    Input (N, n_0) -> output (N, n_L), the same function as ``model``:
    ``W = W_L...W_1`` (n_L, n_0), ``b = sum_k W_L...W_{k+1} b_k``. A layer that appears twice
    is folded in twice, as the forward pass applies it twice. The product is formed in float64
    (complex128 for complex layers: ``nn.Linear`` computes x Wᵀ + b without conjugating, and so
    does the fold) and stored in the model's dtype and device. The result has a bias if any layer
    had one (``bias=False`` when none did: then the stack maps 0 to 0, and so does the layer).
    Raises ValueError naming the module and position of anything that is not affine.
    """
    import torch
    import torch.nn as nn

    layers = linear_layers(model)
    first = layers[0].weight
    wide = torch.complex128 if first.dtype.is_complex else torch.float64
    with torch.no_grad():
        Ws = [layer.weight.detach().cpu().to(wide).numpy() for layer in layers]
        bs = [None if layer.bias is None else layer.bias.detach().cpu().to(wide).numpy() for layer in layers]
        W, b = _fold(Ws, bs)
        has_bias = any(bk is not None for bk in bs)
        out = nn.Linear(W.shape[1], W.shape[0], bias=has_bias, dtype=first.dtype, device=first.device)
        out.weight.copy_(torch.from_numpy(W))
        if has_bias:
            out.bias.copy_(torch.from_numpy(b))
    return out


@validate(model=MODEL)
def rank_bound(model) -> int:
    """Upper bound on the rank of the collapsed matrix: ``min(n_0, n_1, ..., n_L)``.

    ``rank(W_L...W_1) <= min_k rank(W_k) <= min_k min(n_{k-1}, n_k)``: one narrow layer
    (a bottleneck of width k) limits the whole stack to rank k.
    """
    layers = linear_layers(model)
    return min([layers[0].in_features] + [layer.out_features for layer in layers])
