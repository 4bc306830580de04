"""The activation the tests register to show that the registry feeds everything, defined once.

Softsign, x / (1 + |x|): bounded, smooth, and in torch (``F.softsign``) but not in the course.
tests/ is on sys.path (pytest's rootdir-relative import), so a test writes ``from dummies import …``.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F

from coursekit import activations as A


def softsign(x):
    x = np.asarray(x, dtype=np.float64)
    return x / (1 + np.abs(x))


def softsign_grad(x):
    x = np.asarray(x, dtype=np.float64)
    return 1 / (1 + np.abs(x)) ** 2


def softsign_spec(name: str = "softsign", title: str = "Softsign") -> A.Spec:
    """A registry entry for softsign under ``name`` (not registered: the caller registers and removes it)."""
    return A.Spec(name, softsign, softsign_grad, lambda t: F.softsign(A._as_tensor(t)), lambda: 1.0, (-1.0, 1.0),
                  title=title)
