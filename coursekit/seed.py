"""Reproducibility: one call seeds every random number generator we use."""

from __future__ import annotations

import random

import numpy as np

from coursekit._checks import check_int


def set_seed(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, numpy's global state and torch; return a fresh ``rng``.

    Chapters call this once in their setup cell. Functions that draw random
    numbers still take an explicit ``rng`` / ``generator``, so a result does
    not depend on how many random numbers an earlier cell happened to draw.
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # legacy global state, for code that still uses it  # noqa: NPY002
    try:
        import torch
    except ImportError:  # torch is a dependency, but keep set_seed usable without it
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
