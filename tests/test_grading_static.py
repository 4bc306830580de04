"""The grader's parts that need no sandbox: reading files, the exercise rule, the wire, escaping."""

from __future__ import annotations

import ast
import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from coursekit.exercises.spec import EXERCISES
from coursekit.grading import _runner, limits
from coursekit.grading._runner import encode_value, frame, python_source
from coursekit.grading.gradebook import md
from coursekit.grading.notebook import (
    Cell,
    Submission,
    SubmissionError,
    display,
    is_check_cell,
    read_file,
    read_submission,
    which_exercise,
)
from coursekit.grading.wire import WireError, decode_value, read_frames


@pytest.fixture(autouse=True)
def runner_limits(monkeypatch):
    """The runner's frame() and encode_value() called here read the limits a job would carry."""
    monkeypatch.setattr(_runner, "LIMITS", limits.for_runner())


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
    with pytest.raises(SubmissionError) as info:
        read_submission(path)
    assert str(info.value).startswith(message)


def test_only_regular_files_are_read_and_the_size_is_checked_first(tmp_path):
    fifo = tmp_path / "06_softmax.ipynb"
    os.mkfifo(fifo)  # opening it for reading would block forever without O_NONBLOCK
    with pytest.raises(SubmissionError, match=r"^it is a FIFO \(named pipe\), not a regular file; refused$"):
        read_file(fifo)
    link = tmp_path / "link.ipynb"
    link.symlink_to("/dev/zero")
    with pytest.raises(SubmissionError, match="^it is a symbolic link; only regular files are graded$"):
        read_file(link)
    sparse = tmp_path / "sparse.ipynb"
    with sparse.open("wb") as f:
        f.truncate(3 * 2**30)  # 3 GB of holes: refused from fstat alone, nothing is read
    with pytest.raises(SubmissionError, match=r"^not a notebook: the file is 3072 MB \(the limit is 20 MB\)$"):
        read_file(sparse)
    with pytest.raises(SubmissionError, match="^it is a character device"):
        read_file("/dev/null")


def test_check_cells_are_recognised_by_their_nbgrader_metadata():
    assert is_check_cell(Cell(1, "x = 1", {"nbgrader": {"grade": True, "solution": False}}))
    assert not is_check_cell(Cell(1, "x = 1", {"nbgrader": {"grade": True, "solution": True}}))
    assert not is_check_cell(Cell(1, 'check("6.1", softmax)'))  # runs, as a no-op check()


def test_magics_become_plain_python():
    src = python_source("%matplotlib inline\n!pip install x\nx = !ls\nnp.sum?\nimport numpy as np\n")
    assert src == "pass\npass\nx = None\npass\nimport numpy as np\n"
    assert python_source("%%timeit\ny = 2\n") == "y = 2\n"
    assert python_source("%%bash\nrm -rf /\n") is None
    compile(src, "<cell>", "exec")


# -- which exercise ---------------------------------------------------------------------


def sub(name: str, metadata_exercise: str | None, grade_ids: list[str]) -> Submission:
    meta = {"coursekit": {"exercise": metadata_exercise}} if metadata_exercise else {}
    return Submission(__import__("pathlib").Path(name), [], meta, grade_ids)


def test_the_metadata_decides_and_the_content_must_agree():
    ids6 = [p.grade_id for p in EXERCISES["06_softmax"]]
    ids1 = [p.grade_id for p in EXERCISES["01_neurons"]]
    assert which_exercise(sub("alice.ipynb", "06_softmax", ids6 + ["ex6_setup"]), None, EXERCISES) == "06_softmax"
    assert which_exercise(sub("alice.ipynb", None, ids6), "06_softmax", EXERCISES) == "06_softmax"
    with pytest.raises(SubmissionError, match="grade_ids of exercise 01_neurons, not 06_softmax"):
        which_exercise(sub("alice.ipynb", "06_softmax", ids1), None, EXERCISES)
    with pytest.raises(SubmissionError, match="metadata says exercise '01_neurons', not '06_softmax'"):
        which_exercise(sub("06_softmax.ipynb", "01_neurons", ids1), "06_softmax", EXERCISES)
    # a finished 01_neurons handed in under 06_softmax's name
    with pytest.raises(SubmissionError, match="named '06_softmax.ipynb' but the notebook is exercise 01_neurons"):
        which_exercise(sub("06_softmax.ipynb", "01_neurons", ids1), None, EXERCISES)
    with pytest.raises(SubmissionError, match="its metadata does not say"):
        which_exercise(sub("x.ipynb", None, ids6), None, EXERCISES)


# -- the wire ---------------------------------------------------------------------------


def roundtrip(value):
    blobs: list[bytes] = []
    node = encode_value(value, blobs)
    frames, error = read_frames(frame({"kind": "case", "value": node}, blobs))
    assert error is None
    (header, got_blobs), = frames
    return decode_value(header["value"], got_blobs)


def test_wire_round_trip_keeps_types_shapes_and_specials():
    value = (np.arange(6.0).reshape(2, 3), [1, 2.5, None, True], np.float32(1.5), float("nan"), -np.inf,
             np.array(3.0), np.arange(4, dtype=">i4"))
    got = roundtrip(value)
    assert isinstance(got, tuple) and isinstance(got[1], list)
    np.testing.assert_array_equal(got[0], value[0])
    assert got[1] == [1, 2.5, None, True] and got[2] == np.float32(1.5) and got[2].dtype == np.float32
    assert np.isnan(got[3]) and got[4] == -np.inf
    assert got[5].shape == () and got[5] == 3.0  # a 0-d array stays 0-d
    assert got[6].dtype == np.dtype("<i4") and got[6].tolist() == [0, 1, 2, 3]


def test_wire_drops_subclass_behaviour_and_refuses_objects():
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
    with pytest.raises(TypeError, match="returned an array of dtype object"):
        encode_value(np.array([{}], dtype=object), [])
    with pytest.raises(TypeError, match="integer too large"):
        encode_value(10**5000, [])


def nd(i=0, dtype="<f8", shape=(2,)):
    return {"t": "nd", "dtype": dtype, "shape": list(shape), "i": i}


@pytest.mark.parametrize(
    ("node", "blobs", "message"),
    [
        (nd(dtype="|O"), [b"\0" * 16], "an array of an unexpected dtype"),  # no object arrays, no pickle
        (nd(shape=(2**40,)), [b"\0" * 16], "an array whose data does not match its shape"),
        (nd(shape=(0, 2**62)), [b""], "an array with a bad shape"),
        (nd(shape=(-1,)), [b"\0" * 16], "an array with a bad shape"),
        (nd(i=3), [b"\0" * 16], "a reference to a missing array"),
        ({"t": "list", "v": [nd(), nd()]}, [b"\0" * 16], "one array's data used twice"),
        ({"t": "pickle", "v": "80049505"}, [], "unknown tag 'pickle'"),
        ({"t": "float", "v": "1e999"}, [], "a bad special float"),
    ],
)
def test_malformed_values_are_refused(node, blobs, message):
    with pytest.raises(WireError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        decode_value(node, [memoryview(b) for b in blobs])


def test_read_frames_keeps_good_frames_before_garbage_and_refuses_bad_json():
    good = frame({"kind": "case", "value": 1})
    frames, error = read_frames(good + b"\xff\xff\xff\xffgarbage")
    assert [h["value"] for h, _ in frames] == [1]
    assert error == "the result stream is corrupt (bad frame length)"
    frames, error = read_frames(good + good[:5])
    assert len(frames) == 1 and error == "the result stream ends in the middle of a frame"
    assert read_frames(b"\x00\x00\x00\x02[]")[1] == "the result stream is corrupt (a frame of an unknown kind)"
    for body in (b'{"kind": "case", "v": ' + b"9" * 5000 + b"}", b'{"kind": "case", "v": NaN}'):  # 5000 digits, NaN
        assert read_frames(struct.pack(">I", len(body)) + body)[1] == (
            "the result stream is corrupt (a frame is not valid JSON)")


def test_a_frames_kind_and_size_are_read_before_it_is_parsed():
    def framed(body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + body

    junk = b'{"kind": "cell", "v": [' + b"{}," * 10_000 + b"{}]}"  # 30 KB: too large for a cell report
    assert read_frames(framed(junk))[1] == "the result stream is corrupt (a frame too large for its kind)"
    answer = b'{"kind": "case", "v": [' + b"0," * 2**19 + b"0]}"  # 1 MB + a bit: too large even for an answer
    assert read_frames(framed(answer))[1] == "the result stream is corrupt (bad frame length)"
    for body in (b'{"value": 1, "kind": "case"}', b'{"kind": "pickle"}', b' {"kind": "case"}'):
        assert read_frames(framed(body))[1] == "the result stream is corrupt (a frame of an unknown kind)"
    # and the runner's own frames always start with their kind, whatever the header's order
    (h, _), = read_frames(frame({"part": "6.1", "kind": "part"}))[0]
    assert h == {"kind": "part", "part": "6.1", "blobs": []}


# -- escaping what students control -----------------------------------------------------


def test_terminal_and_markdown_escaping():
    assert display("al\x1b[31mice\nbob\u202e") == "al\\x1b[31mice\\x0abob\\u202e"
    text = md('<img src=x onerror=alert(1)> [click](javascript:alert(1)) `x` **b**\n# h')
    assert "<" not in text and ">" not in text and "\n" not in text
    assert text == ("&lt;img src=x onerror=alert(1)&gt; \\[click\\](javascript:alert(1)) \\`x\\` "
                    "\\*\\*b\\*\\*\\\\x0a# h")  # the backslash of \\x0a escaped too


# -- similar code -----------------------------------------------------------------------

SOFTMAX = "def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n"
LOG_SOFTMAX = ("def log_softmax(z):\n    s = z - z.max(axis=-1, keepdims=True)\n"
               "    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))\n")
OTHER_SOFTMAX = ("def softmax(z):\n    out = []\n    for row in np.atleast_2d(z):\n        m = max(row)\n"
                 "        ex = [np.exp(v - m) for v in row]\n        total = sum(ex)\n"
                 "        out.append([v / total for v in ex])\n    return np.array(out).reshape(z.shape)\n")
OTHER_LOG = ("def log_softmax(z):\n    lse = np.log(np.sum(np.exp(z - np.max(z, -1, keepdims=True)), -1, keepdims=True))\n"
             "    return z - np.max(z, -1, keepdims=True) - lse\n")


def _prints(*sources):
    from coursekit.grading.similarity import fingerprints

    return fingerprints([(i, s) for i, s in enumerate(sources)], EXERCISES["06_softmax"])


def test_similarity_sees_through_comments_names_and_layout_and_not_across_honest_work():
    from coursekit.grading.similarity import similar_pairs

    a = _prints("import numpy as np", SOFTMAX, LOG_SOFTMAX)
    disguised = _prints("import numpy as np  # mine",
                        "# my own work\ndef softmax(logits):\n    \"\"\"Softmax.\"\"\"\n"
                        "    ex = np.exp(logits - logits.max(axis=-1, keepdims=True))  # stable\n\n"
                        "    return ex / ex.sum(axis=-1,\n                       keepdims=True)\n",
                        LOG_SOFTMAX.replace("s = z", "shifted = z").replace("return s -", "return shifted -")
                        .replace("np.exp(s)", "np.exp(shifted)"))
    tweaked = _prints("import numpy as np", SOFTMAX.replace("-1", "1").replace("axis=1", "axis=-1"),
                      LOG_SOFTMAX + "    # done\n", "print('hi')")
    honest = _prints("import numpy as np", OTHER_SOFTMAX, OTHER_LOG)
    stub = _prints("def softmax(z):\n    raise NotImplementedError('Exercise 6.1')\n",
                   "def log_softmax(z):\n    raise NotImplementedError('Exercise 6.2')\n")
    assert stub == {}  # the released stubs are no one's code
    assert a["6.1"] == disguised["6.1"] and a["*"] == disguised["*"]
    flags = {(f.a, f.b): f.why for f in similar_pairs([("a", "06", a), ("disguised", "06", disguised),
                                                       ("honest", "06", honest), ("stub", "06", stub)])}
    assert flags == {("a", "disguised"): "all answers identical; identical 6.1, 6.2 (comments, names and layout "
                                         "aside)"}
    flags = {(f.a, f.b) for f in similar_pairs([("a", "06", a), ("tweaked", "06", tweaked)])}
    assert flags == {("a", "tweaked")}


def test_a_hidden_student_folder_gets_a_row_tool_folders_do_not(tmp_path):
    """A student folder is never skipped silently: '.alice' (a dot in front, by a mistake or an
    archive tool) is reported; the folders tools make (.ipynb_checkpoints, .git) are not students."""
    from coursekit.grading.notebook import find_submissions

    for folder in ("alice", ".alice", ".ipynb_checkpoints", ".git"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "06_softmax.ipynb").write_text("{}")
    found = {f.student: f.problem for f in find_submissions([tmp_path])}
    assert set(found) == {"alice", ".alice"}
    assert found["alice"] is None
    assert "hidden" in found[".alice"] and "rename it" in found[".alice"]


def test_the_from_scratch_explanation_follows_the_one_allowed_list():
    """The grader explains a from-scratch 0 for any library outside judging's allowed list
    (sympy, matplotlib ...), not only for torch, scipy and coursekit; numpy and the standard
    library are allowed, so their absence is some other fault."""
    from coursekit.grading.grader import blocked_import

    for name in ("torch", "scipy.stats", "sympy", "matplotlib.pyplot", "coursekit"):
        assert blocked_import(f"ModuleNotFoundError: No module named '{name}'"), name
    assert blocked_import("ImportError: coursekit.activations is not available in this part")
    for name in ("numpy", "numpy.linalg", "math", "fractions"):
        assert not blocked_import(f"ModuleNotFoundError: No module named '{name}'"), name
    assert not blocked_import("NameError: name 'np' is not defined")


# -- every limit in one table --------------------------------------------------------------

GRADING = Path(limits.__file__).parent
# what a limit is called, and the parameters that take one
LIMIT_NAME = re.compile(r"MAX|LIMIT|TIMEOUT|SECONDS|BYTES|_MB|GRACE|STARTUP|DEPTH|NDIM|CHARS|MEMORY|NPROC")
LIMIT_PARAMS = {"timeout", "seconds", "memory", "memory_mb", "cell_limit", "time_limit", "file_size", "nproc"}


def _number(node: ast.AST) -> bool:
    """A number written out: 60, 2.0, 64 * 2**20, -1 (not 0, which says "none")."""
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float) and node.value != 0
    if isinstance(node, ast.UnaryOp):
        return _number(node.operand)
    if not isinstance(node, ast.BinOp):
        return False
    unit = [isinstance(n, (ast.Name, ast.Attribute)) and (getattr(n, "id", None) or n.attr).isupper()
            for n in (node.left, node.right)]  # 64 * MB, 8 * limits.KB
    return (_number(node.left) or unit[0]) and (_number(node.right) or unit[1]) and not all(unit)


def _stray_limits(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) is float and node.value != 0:
            found.append(f"{path.name}:{node.lineno}: the number {node.value!r} (a time?)")
        elif isinstance(node, ast.keyword) and node.arg in LIMIT_PARAMS and _number(node.value):
            found.append(f"{path.name}:{node.lineno}: {node.arg}= a number")
        elif isinstance(node, ast.arguments):
            args = node.posonlyargs + node.args
            pairs = list(zip(args[len(args) - len(node.defaults):], node.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d is not None]
            found += [f"{path.name}:{a.lineno}: parameter {a.arg} defaults to a number"
                      for a, d in pairs if a.arg in LIMIT_PARAMS and _number(d)]
    for node in tree.body:  # module-level constants named like a limit
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            numbers = [v for v in values if _number(v) or isinstance(v, ast.Dict) and any(map(_number, v.values))]
            if any(LIMIT_NAME.search(n) for n in names) and numbers:
                found.append(f"{path.name}:{node.lineno}: {', '.join(names)} = a number")
    return found


def test_every_limit_of_the_grader_is_in_limits_py():
    """Changing a time, memory or size limit is a one-line edit in coursekit/grading/limits.py.

    No other grading module writes a time (a float), a limit-named constant, or a number for a parameter
    that takes a limit; the checker itself is checked on a module that breaks each rule.
    """
    stray = [s for path in sorted(GRADING.glob("*.py")) if path.name != "limits.py" for s in _stray_limits(path)]
    assert stray == [], "move these into coursekit/grading/limits.py"
    in_table = {s.split(": ", 1)[1] for s in _stray_limits(GRADING / "limits.py")}
    assert {"SUBMISSION_SECONDS = a number", "STARTUP_SECONDS = a number", "STREAM_BYTES = a number"} <= in_table


def test_the_checker_finds_each_kind_of_stray_limit(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("MAX_FRAME = 8 << 10\nHEAP_BYTES = 3 * limits.MB\nPOLL = 0.5\ndef run(job, timeout=60):\n    go(job, seconds=5)\n"
                   "WAIT_SECONDS = {'numpy': 3}\n")
    assert sorted(s.split(": ", 1)[1] for s in _stray_limits(bad)) == sorted([
        "parameter timeout defaults to a number", "the number 0.5 (a time?)", "seconds= a number",
        "MAX_FRAME = a number", "HEAP_BYTES = a number", "WAIT_SECONDS = a number"])


def test_the_runner_has_no_limit_of_its_own_and_gets_all_it_reads():
    """_runner.py runs without coursekit: each limit it reads (LIMITS["..."]) comes in the job, from limits.py."""
    from coursekit.grading.sandbox import Sandbox

    tree = ast.parse((GRADING / "_runner.py").read_text(encoding="utf-8"))
    read = {n.slice.value for n in ast.walk(tree) if isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name) and n.value.id in ("LIMITS", "limits")
            and isinstance(n.slice, ast.Constant)}
    assert read == set(limits.for_runner()), "the runner reads exactly the limits the job carries"
    fake = type("S", (), {"site_paths": lambda self, p: ["/site"], "debug": False, "no_threads": None})()
    header = Sandbox.job(fake, [], [], timeout=1, memory=0, profile="numpy")  # the header, without bwrap
    assert header["limits"] == limits.for_runner()
    job_keys = {n.slice.value for n in ast.walk(tree) if isinstance(n, ast.Subscript)
                and isinstance(n.value, ast.Name) and n.value.id == "job" and isinstance(n.slice, ast.Constant)}
    assert job_keys <= set(header), "every job field the runner reads is one the sandbox sends"
