"""Fully connected (dense) networks in plain numpy: forward pass, parameter counts.

Convention (the same as ``torch.nn.Linear``): a layer's weight matrix ``W`` has
shape ``(out, in)``, so one sample is ``z = W @ x + b`` and a batch ``X`` of
shape ``(N, in)`` is ``Z = X @ W.T + b``. Taught in chapter 02.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from coursekit._checks import Array, Arrays, Bool, Function, Int, Ints, Optional, validate

Activation = Callable[[np.ndarray], np.ndarray]


#: What a list of layers is, declared once for dense_forward and collapse.collapse_weights.
WEIGHTS = Arrays(2, what="(out, in) matrices, one per layer", min_len=1)
BIASES = Optional(Arrays(1, what="(out,) bias vectors, one per layer (None for no bias)", items_optional=True))
ACTIVATION = Function("a function applied elementwise (e.g. np.tanh)", none_means="the identity")
#: The widths of a network, input first.
SIZES = Ints(minimum=1, min_len=2, what="layer widths like [3, 4, 2] (input first)",
             too_short="at least 2 widths (an input and an output layer)")


def _check_layers(Ws, biases) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The sizes of declared ``weights`` (list of (out, in) matrices) and ``biases`` (list of (out,) or None) chain."""
    if biases is None:
        biases = [None] * len(Ws)
    if len(biases) != len(Ws):
        raise ValueError(f"biases must have one entry per layer: {len(Ws)} weight matrices but {len(biases)} biases")
    bs: list[np.ndarray | None] = []
    for k, (W, b) in enumerate(zip(Ws, biases, strict=True)):
        if k > 0 and W.shape[1] != Ws[k - 1].shape[0]:
            raise ValueError(
                f"layer sizes do not match: weights[{k - 1}] has shape {Ws[k - 1].shape} "
                f"(outputs {Ws[k - 1].shape[0]}) but weights[{k}] has shape {W.shape} (expects "
                f"{W.shape[1]} inputs); weights are stored (out, in) like torch.nn.Linear"
            )
        if b is not None:
            if b.shape[0] != W.shape[0]:
                raise ValueError(
                    f"biases[{k}] must have shape ({W.shape[0]},) to match weights[{k}] of shape "
                    f"{W.shape}; got shape {b.shape}"
                )
        bs.append(b)
    return Ws, bs


@validate(X=Array(ndim=(1, 2)), weights=WEIGHTS, biases=BIASES, activation=ACTIVATION,
          output_activation=ACTIVATION, return_all=Bool())
def dense_forward(
    X,
    weights: Sequence,
    biases: Sequence | None = None,
    activation: Activation | None = None,
    output_activation: Activation | None = None,
    *,
    return_all: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """Forward pass of a fully connected network, layer by layer.

    ``X``: (N, n_in) batch, or (n_in,) for one sample. ``weights[k]``: (n_{k+1}, n_k),
    stored (out, in) like ``torch.nn.Linear``; ``biases[k]``: (n_{k+1},) or None.
    Each layer computes ``h_k = f(h_{k-1} @ W_k.T + b_k)``, with ``f = activation`` on the
    hidden layers and ``f = output_activation`` on the last one (None means identity).

    Returns the output, (N, n_out) or (n_out,); with ``return_all=True`` the list
    ``[h_0 = X, h_1, ..., h_L]`` of every layer's output instead.
    """
    Ws, bs = _check_layers(weights, biases)
    if X.shape[-1] != Ws[0].shape[1]:
        raise ValueError(
            f"X has {X.shape[-1]} features (shape {X.shape}) but the first layer expects "
            f"{Ws[0].shape[1]} (weights[0] has shape {Ws[0].shape}, stored (out, in))"
        )
    h = X
    layers = [h]
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = h @ W.T  # (N, out): every output neuron sees every input, nothing inside a layer
        if b is not None:
            z = z + b
        f = output_activation if k == len(Ws) - 1 else activation
        h = z if f is None else np.asarray(f(z))
        layers.append(h)
    return layers if return_all else h


@validate(n_in=Int(minimum=1), n_out=Int(minimum=1), bias=Bool())
def layer_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Number of parameters of one dense layer: ``n_in * n_out`` weights (+ ``n_out`` biases)."""
    return n_in * n_out + (n_out if bias else 0)


@validate(layer_sizes=SIZES, bias=Bool())
def count_params(layer_sizes: Sequence[int], bias: bool = True) -> int:
    """Parameters of a dense network with widths ``[n_0 (input), n_1, ..., n_L]``.

    ``sum_k n_{k-1} * n_k (+ n_k)``: the input layer only holds the data, so it has none.
    """
    return sum(layer_params(a, b, bias) for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=True))


@validate(n_layers=Int(minimum=2))
def layer_names(n_layers: int) -> list[str]:
    """Names for a network with ``n_layers`` layers (input included): input, hidden 1, ..., output."""
    return ["input"] + [f"hidden {k}" for k in range(1, n_layers - 1)] + ["output"]
