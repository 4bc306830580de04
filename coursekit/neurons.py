"""Chapter 01: the artificial neuron, logic gates and the perceptron.

A neuron computes ``y = f(w · x + b)``: a weighted sum of its inputs plus a
bias, passed through an activation ``f``. The perceptron uses the step
function as ``f`` and learns ``w`` and ``b`` with Rosenblatt's rule
(:func:`coursekit.training.train_perceptron`, with the course's other training loops).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from coursekit._checks import Array, Choice, Function, Real, validate

#: The four input pairs of a two-input logic gate, one per row: shape (4, 2).
GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)

#: Truth tables: gate name -> the four outputs for GATE_INPUTS, shape (4,).
GATE_OUTPUTS = {
    "AND": np.array([0, 0, 0, 1], dtype=float),
    "OR": np.array([0, 1, 1, 1], dtype=float),
    "NAND": np.array([1, 1, 1, 0], dtype=float),
    "XOR": np.array([0, 1, 1, 0], dtype=float),
}

#: Hand-picked perceptron weights (w1, w2, b) that implement each linearly separable gate.
#: XOR has none: no straight line separates its 1s from its 0s.
GATE_WEIGHTS = {
    "AND": (np.array([0.5, 0.5]), -0.7),
    "OR": (np.array([0.5, 0.5]), -0.2),
    "NAND": (np.array([-0.5, -0.5]), 0.7),
}


@validate(z=Array())
def step(z):
    """Step (Heaviside) activation: 1 where z > 0, else 0. Same shape and float dtype as ``z``.

    The value at exactly 0 is a convention; we use 0, i.e. ``torch.heaviside(z, 0)``.
    """
    return (z > 0).astype(z.dtype)


@validate(x=Array(ndim=(1, 2)), w=Array(ndim=1), b=Real())
def weighted_sum(x, w, b: float = 0.0):
    """Pre-activation ``z = x · w + b``.

    - x: inputs, shape (D,) for one sample or (N, D) for a batch
    - w: weights, shape (D,)
    - b: bias, a number
    Returns a number for one sample, shape (N,) for a batch.
    """
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x has {x.shape[-1]} inputs per sample (shape {x.shape}) but w has {w.shape[0]} weights: "
            "they must match"
        )
    return x @ w + b


@validate(x=Array(ndim=(1, 2)), w=Array(ndim=1), b=Real(),
          activation=Function("a function such as coursekit.neurons.step"))
def neuron(x, w, b: float = 0.0, activation: Callable = step):
    """One artificial neuron: ``y = activation(x · w + b)``. Shapes as :func:`weighted_sum`."""
    return activation(weighted_sum(x, w, b))


@validate(name=Choice(GATE_OUTPUTS, label="gate"), x=Array(ndim=(1, 2)))
def gate(name: str, x=GATE_INPUTS):
    """A logic gate computed by one perceptron (AND, OR, NAND) or two layers of them (XOR).

    - x: shape (4, 2) by default (all input pairs), or any (N, 2) array of 0/1 values
    Returns shape (N,) of 0.0 / 1.0.
    """
    if name == "XOR":
        return xor_two_layer(x)
    w, b = GATE_WEIGHTS[name]
    return neuron(x, w, b)


@validate(x=Array(ndim=2))
def xor_two_layer(x=GATE_INPUTS):
    """XOR from two layers of perceptrons: a hidden layer computes NAND and OR, the output ANDs them.

    - x: shape (N, 2). Returns shape (N,).
    """
    if x.shape[1] != 2:
        raise ValueError(f"x must have 2 columns (two inputs); got shape {x.shape}")
    h = np.stack([gate("NAND", x), gate("OR", x)], axis=1)  # (N, 2) hidden layer
    return gate("AND", h)
