"""The grader's static parts (no processes): reading notebooks, from-scratch analysis, the result wire."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest

from coursekit.grading.notebook import (
    Cell,
    SubmissionError,
    from_scratch_problems,
    is_check_cell,
    part_cells,
    python_source,
    read_submission,
)
from coursekit.grading.wire import WireError, decode_value, encode_value, frame, read_frames

SOFTMAX = "def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()\n"


def cells(*sources: str) -> list[Cell]:
    return [Cell(i, python_source(s)) for i, s in enumerate(sources, start=1)]


# -- from scratch -----------------------------------------------------------------------


def test_numpy_only_code_is_from_scratch_even_next_to_torch_demos():
    nb = cells("import numpy as np, torch", "z = torch.tensor([1.0, 2.0])  # a demo", SOFTMAX)
    assert from_scratch_problems(nb, "softmax") == []  # `z` is the function's own parameter


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["import torch\ndef softmax(z):\n    return torch.softmax(z, 0)"], "`import torch` (cell 1, line 1)"),
        (["import torch.nn.functional as F", "def softmax(z):\n    return F.softmax(z, 0)"],
         "`import torch.nn.functional` (cell 1, line 1)"),
        (["from scipy.special import softmax as sm", "def softmax(z):\n    return sm(z)"],
         "`from scipy.special import ...` (cell 1, line 1)"),
        (["import coursekit.softmax as ck", "helper = ck.softmax",
          "def softmax(z):\n    return helper(z)"], "`import coursekit.softmax` (cell 1, line 1)"),
        (["def softmax(z):\n    return __import__('tor' + 'ch').softmax(z, 0)"],
         "`__import__`, which can hide what is called (cell 1, line 2)"),
        (["def softmax(z):\n    import importlib\n    return importlib.import_module('scipy')"],
         "`import importlib` (cell 1, line 2)"),
        (["from torch import *", SOFTMAX], "`from torch import *` (cell 1)"),
        (["def setup():\n    global np\n    import torch as np", "setup()", SOFTMAX],
         "`import torch` (cell 1, line 3)"),
    ],
)
def test_library_calls_are_found_wherever_they_hide(sources, expected):
    assert expected in from_scratch_problems(cells(*sources), "softmax")


def test_the_answer_cell_may_not_even_import_a_forbidden_library():
    nb = cells("import numpy as np", "import torch\n" + SOFTMAX)
    assert from_scratch_problems(nb, "softmax") == []  # the function itself is numpy only
    assert from_scratch_problems(nb, "softmax", answer_cells=[nb[1]]) == ["`import torch` (cell 2, line 1)"]


def test_functions_of_other_judged_parts_are_not_followed():
    nb = cells("import torch\ndef weighted_sum(X, w, b):\n    return torch.ones(3)",
               "def perceptron(X, w, b):\n    return weighted_sum(X, w, b) > 0")
    assert from_scratch_problems(nb, "perceptron") != []
    assert from_scratch_problems(nb, "perceptron", frozenset({"weighted_sum", "perceptron"})) == []


def test_a_function_defined_only_dynamically_cannot_be_verified():
    (msg,) = from_scratch_problems(cells("exec('def softmax(z): return z')"), "softmax")
    assert msg.startswith("no plain `def softmax(...)` was found")


def test_part_cells_by_grade_id_then_by_definition():
    nb = cells("import numpy as np", SOFTMAX, "x = 1")
    nb[2].metadata = {"nbgrader": {"grade_id": "ex6_1_softmax"}}
    assert [c.index for c in part_cells(nb, "ex6_1_softmax", "softmax")] == [3]
    assert [c.index for c in part_cells(nb, "other", "softmax")] == [2]
    assert part_cells(nb, "other", "missing") == []


def test_check_cells_and_magics():
    assert is_check_cell(Cell(1, 'check("6.1", softmax)'))
    assert is_check_cell(Cell(1, "x = 1", {"nbgrader": {"grade": True, "solution": False}}))
    assert not is_check_cell(Cell(1, 'check("6.1", softmax)\nimport torch'))
    assert not is_check_cell(Cell(1, SOFTMAX))
    src = python_source("%matplotlib inline\n!pip install x\nimport numpy as np\n")
    assert src.endswith("import numpy as np\n") and "%" not in src and "!" not in src
    compile(src, "<cell>", "exec")


# -- reading files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe binary", "not a notebook: the file is not UTF-8 text"),
        (b"{oops", "not a notebook: the file is not valid JSON"),
        (b"[1, 2]", "not a notebook: the JSON has no list of cells (nbformat 4)"),
        (json.dumps({"cells": [1]}).encode(), "not a notebook: cell 1 is not a JSON object"),
        (json.dumps({"cells": [{"cell_type": "code", "source": 5}]}).encode(),
         "not a notebook: cell 1: a cell's source is neither text nor a list of lines"),
    ],
)
def test_read_submission_rejects_non_notebooks(tmp_path, content, message):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        read_submission(path)


# -- the wire ---------------------------------------------------------------------------


def roundtrip(value):
    blobs: list[bytes] = []
    node = encode_value(value, blobs)
    frames, error = read_frames(frame({"value": node}, blobs))
    assert error is None
    (header, got_blobs), = frames
    return decode_value(header["value"], got_blobs)


def test_wire_round_trip_keeps_types_shapes_and_specials():
    value = (np.arange(6.0).reshape(2, 3), [1, 2.5, None, True], np.float32(1.5), float("nan"), -np.inf)
    got = roundtrip(value)
    assert isinstance(got, tuple) and isinstance(got[1], list)
    np.testing.assert_array_equal(got[0], value[0])
    assert got[1] == [1, 2.5, None, True] and got[2] == np.float32(1.5) and got[2].dtype == np.float32
    assert np.isnan(got[3]) and got[4] == -np.inf


def test_wire_drops_subclass_behaviour():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    got = roundtrip(np.zeros(3).view(Liar))
    assert type(got) is np.ndarray and not np.array_equal(got, np.ones(3))

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    with pytest.raises(TypeError, match="returned an object of type AlwaysEqual"):
        encode_value(AlwaysEqual(), [])


def test_parent_never_unpickles():
    # an object array saved the way np.save would, with a pickle inside: refused
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(WireError, match="an array could not be read"):
        decode_value({"t": "nd", "i": 0}, [buf.getvalue()])
    with pytest.raises(WireError, match="unknown tag"):
        decode_value({"t": "pickle", "v": pickle.dumps(1).hex()}, [])


def test_read_frames_keeps_good_frames_before_garbage():
    good = frame({"kind": "case", "value": 1})
    frames, error = read_frames(good + b"\xff\xff\xff\xffgarbage")
    assert [h["value"] for h, _ in frames] == [1]
    assert error == "the result stream is corrupt (bad frame length)"
    frames, error = read_frames(good + good[:5])
    assert len(frames) == 1 and error == "the result stream ends in the middle of a frame"
    assert read_frames(b"\x00\x00\x00\x02[]")[1] == "the result stream is corrupt (a frame is not a JSON object)"
