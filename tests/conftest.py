"""Shared fixtures for the unit tests."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # unit tests draw off-screen; notebooks choose their own backend

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(20261125)
