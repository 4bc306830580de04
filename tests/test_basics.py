"""coursekit basics: set_seed, argument checks, the figure style."""

import random

import matplotlib as mpl
import numpy as np
import pytest
import torch

from coursekit import set_seed
from coursekit._checks import as_float_array, check_choice, check_int, check_number, check_rng
from coursekit.plotting import STYLE, plot_function, use_style


def test_set_seed_makes_every_generator_repeat():
    def draw():
        rng = set_seed(7)
        return random.random(), np.random.rand(), torch.rand(1).item(), rng.normal()  # noqa: NPY002

    assert draw() == draw()
    set_seed(7)
    a = torch.rand(3)
    set_seed(8)
    assert not torch.equal(a, torch.rand(3))


def test_set_seed_rejects_bad_seeds():
    with pytest.raises(TypeError, match="seed must be an integer; got str"):
        set_seed("1")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        set_seed(-1)


def test_as_float_array_converts_and_explains():
    assert as_float_array("x", [1, 2]).dtype == np.float64
    assert as_float_array("x", np.float32([1])).dtype == np.float32
    assert as_float_array("x", torch.ones(2, dtype=torch.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="x must contain real numbers; got str"):
        as_float_array("x", "abc")
    with pytest.raises(TypeError, match="x must contain real numbers"):
        as_float_array("x", [1 + 2j])
    with pytest.raises(TypeError, match="x must be an array of real numbers"):
        as_float_array("x", [[1, 2], [3]])
    with pytest.raises(ValueError, match=r"x must be 2-D; got an array of shape \(3,\)"):
        as_float_array("x", [1, 2, 3], ndim=2)


def test_scalar_checks():
    assert check_choice("mode", "a", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="unknown mode 'c'; valid choices: 'a', 'b'"):
        check_choice("mode", "c", ["a", "b"])
    with pytest.raises(TypeError, match="mode must be a string"):
        check_choice("mode", 3, ["a"])
    with pytest.raises(TypeError, match="n must be an integer; got bool"):
        check_int("n", True)
    with pytest.raises(ValueError, match="n must be <= 3"):
        check_int("n", 4, maximum=3)
    with pytest.raises(ValueError, match="std must be finite"):
        check_number("std", float("nan"))
    with pytest.raises(TypeError, match="std must be a real number"):
        check_number("std", "1")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator .*default_rng"):
        check_rng("rng", 0)


def test_use_style_applies_the_course_style():
    with mpl.rc_context():  # leave the global style as other tests expect it
        use_style()
        for key, value in STYLE.items():
            if key != "figure.figsize":
                assert mpl.rcParams[key] == value
        ax = plot_function([0, 1], {"a": [0, 1], "b": [1, 0]}, title="t")
        assert ax.get_title() == "t" and ax.get_legend() is not None
