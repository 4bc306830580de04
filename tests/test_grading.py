"""``coursekit grade``: real bubblewrap sandboxes grading honest and hostile submissions.

Most submissions are graded in one batch (module fixture, two workers, a
2-second limit per submission), then each test asserts one submission's exact
score and error text. Scores are computed from the spec's points, never
copied from the grader's output. The attacks of issue 13 are in
``test_grading_isolation.py``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from coursekit.cli import main
from coursekit.exercises.spec import EXERCISES, Case, Part
from coursekit.grading.grader import grade, prepare
from coursekit.grading.notebook import Found
from coursekit.grading.sandbox import Sandbox
from coursekit.paths import solution_notebooks, student_notebooks

EX = "01_neurons"
POINTS = {p.id: p.points for p in EXERCISES[EX]}
FULL = sum(POINTS.values())
TIMEOUT = 2.0

SETUP = "import numpy as np\nfrom coursekit.exercises import check\n%matplotlib inline"
SOLUTIONS = {
    "1.1": "def weighted_sum(X, w, b):\n    return X @ w + b\n",
    "1.2": "def perceptron(X, w, b):\n    return (weighted_sum(X, w, b) > 0).astype(float)\n",
    "1.3": (  # the search of the solution notebook: small integer weights, half-integer biases
        "def gate_weights(table):\n"
        "    inputs = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])\n"
        "    for w1 in (-1.0, 0.0, 1.0):\n"
        "        for w2 in (-1.0, 0.0, 1.0):\n"
        "            w = np.array([w1, w2])\n"
        "            for b in (-1.5, -0.5, 0.5, 1.5):\n"
        "                if np.array_equal((inputs @ w + b > 0).astype(float), table):\n"
        "                    return w, b\n"
        "    return None\n"
    ),
    "1.4": (
        "def train_perceptron(X, y, lr=1.0, epochs=100):\n"
        "    w = np.zeros(X.shape[1])\n"
        "    b = 0.0\n"
        "    for _ in range(epochs):\n"
        "        errors = 0\n"
        "        for x, t in zip(X, y):\n"
        "            e = t - float(x @ w + b > 0)\n"
        "            if e:\n"
        "                w = w + lr * e * x\n"
        "                b += lr * e\n"
        "                errors += 1\n"
        "        if not errors:\n"
        "            break\n"
        "    return w, b\n"
    ),
}
GRADE_IDS = {p.id: p.grade_id for p in EXERCISES[EX]}
FUNCTIONS = {p.id: p.function for p in EXERCISES[EX]}


def notebook(*cells, exercise: str | None = EX, metadata: bool = True) -> nbformat.NotebookNode:
    """A notebook from cells given as source strings or (source, grade_id) pairs."""
    nb = new_notebook()
    if exercise:
        nb.metadata["coursekit"] = {"exercise": exercise}
    nb.cells.append(new_markdown_cell("# 01 · Exercises"))
    for c in cells:
        src, gid = (c, None) if isinstance(c, str) else c
        cell = new_code_cell(src)
        if gid and metadata:
            cell.metadata["nbgrader"] = {"grade_id": gid, "solution": True, "points": 0}
        nb.cells.append(cell)
    return nb


def solved(replace: dict[str, str] | None = None, *, extra_before=(), extra_after=(), checks=True):
    """The reference answers in the usual layout, with some parts' code replaced."""
    sols = dict(SOLUTIONS, **(replace or {}))
    cells: list = [SETUP, *extra_before]
    for pid, src in sols.items():
        cells.append((src, GRADE_IDS[pid]))
        if checks:
            cells.append(f"check({pid!r}, {FUNCTIONS[pid]})")
    cells += list(extra_after)
    return notebook(*cells)


def cell_number(nb, needle: str) -> int:
    """1-based index (among all cells) of the first cell containing ``needle``."""
    return next(i for i, c in enumerate(nb.cells, start=1) if needle in c.source)


STUB = {pid: f"def {FUNCTIONS[pid]}(*args, **kwargs):\n    raise NotImplementedError('Exercise {pid}')\n"
        for pid in SOLUTIONS}
ALWAYS_EQUAL = (
    "class AlwaysEqual:\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __ne__(self, other):\n        return False\n"
    "def weighted_sum(X, w, b):\n    return AlwaysEqual()\n"
)
ND_SUBCLASS = (
    "class Liar(np.ndarray):\n"
    "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
    "    def __array_finalize__(self, obj):\n        pass\n"
    "def weighted_sum(X, w, b):\n    return np.zeros(len(X)).view(Liar)\n"
)
MONKEYPATCH = (
    "import torch, numpy\n"
    "import coursekit.exercises.spec as spec\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "torch.allclose = lambda *a, **k: True\n"
    "torch.Tensor.__eq__ = lambda *a, **k: True\n"
    "import coursekit.exercises.judging as judging\n"
    "spec.compare_array = judging.compare_array = lambda *a, **k: None\n"
    "judging.judge_result = spec.judge_result = lambda *a, **k: None\n"
    "judging.score_part = spec.score_part = lambda part, *a, **k: part.points\n"
    "for part in spec.EXERCISES['01_neurons']:\n"
    "    object.__setattr__(part, 'judge', lambda case, got: None)\n"
)
FAKE_PRINT = (
    "import json, sys\n"
    "print('1.1 Weighted sum: 2/2 points. Total: 10/10')\n"
    "print(json.dumps({'submissions': [{'score': 10, 'max_score': 10}]}))\n"
    "sys.stderr.write('score 10/10\\n')\n"
)
WRONG = {
    "1.1": "def weighted_sum(X, w, b):\n    return X @ w\n",
    "1.2": "def perceptron(X, w, b):\n    return np.full(len(X), 0.5)\n",
    "1.3": "def gate_weights(table):\n    return np.zeros(3), 0.0\n",  # fails all five tables, whichever are drawn
    "1.4": "def train_perceptron(X, y, lr=1.0, epochs=100):\n    return np.zeros(X.shape[1]), 0.0\n",
}
# kill the other workers of this grader, whatever submission they are running
KILL_SIBLINGS = (
    "import os, signal\n"
    "def ppid(pid):\n"
    "    stat = open(f'/proc/{pid}/stat', 'rb').read()\n"
    "    return int(stat[stat.rfind(b')') + 2:].split()[1])\n"
    "me = os.getppid()\n"
    "grader = ppid(me)\n"
    "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
    "    try:\n"
    "        if pid != me and ppid(pid) == grader:\n"
    "            os.kill(pid, signal.SIGKILL)\n"
    "    except OSError:\n"
    "        pass\n"
)
CORRUPT_CHANNEL = (  # every descriptor it may hold (the sandbox has no /proc to list them)
    "import os\n"
    "for fd in range(64):\n"
    "    try:\n"
    "        os.write(fd, b'\\xff\\xff\\xff\\xffgarbage')\n"
    "    except OSError:\n"
    "        pass\n"
)


def submissions() -> dict[str, nbformat.NotebookNode | bytes]:
    subs: dict[str, nbformat.NotebookNode | bytes] = {}
    subs["reference"] = solved()
    subs["stub"] = solved(STUB)
    # the search without its `return None`: the four separable tables pass, XOR / XNOR fails
    subs["partial"] = solved({"1.3": SOLUTIONS["1.3"].replace("return None", "return np.zeros(2), 0.0")})
    # cells re-ordered, stale wrong copies around the right answers (the last definition wins,
    # as in a notebook run top to bottom), no nbgrader metadata at all
    subs["shuffled"] = notebook(
        SOLUTIONS["1.4"], WRONG["1.1"], SOLUTIONS["1.2"], SETUP, WRONG["1.3"], SOLUTIONS["1.1"],
        SOLUTIONS["1.3"], WRONG["1.2"], SOLUTIONS["1.2"],
    )
    # answers re-typed into fresh cells, the grade_ids moved onto the wrong cells
    swapped = list(GRADE_IDS.values())[::-1]
    subs["retyped"] = notebook(SETUP, *zip(SOLUTIONS.values(), swapped, strict=True))
    subs["monkeypatch"] = solved(WRONG, extra_before=[MONKEYPATCH])
    subs["fakeprint"] = solved(WRONG, extra_before=[FAKE_PRINT], extra_after=[FAKE_PRINT])
    subs["alwayseq"] = solved({"1.1": ALWAYS_EQUAL})
    subs["ndsubclass"] = solved({"1.1": ND_SUBCLASS})
    subs["sysexit"] = solved(extra_before=["import sys\nsys.exit('bye')"])
    subs["osexit"] = solved({"1.2": "import os\ndef perceptron(X, w, b):\n    os._exit(0)\n"})
    nb = solved()
    for c in nb.cells:
        if "nbgrader" in c.metadata:
            c.metadata["nbgrader"]["points"] = 1000
    subs["points"] = nb
    nb = solved()
    nb.metadata["coursekit"]["exercise"] = "99_anything"
    subs["unknownmeta"] = nb
    subs["killparent"] = solved(extra_before=["import os\nos.kill(os.getppid(), 9)"])
    subs["killsiblings"] = solved(extra_before=[KILL_SIBLINGS])
    subs["killgroup"] = solved(extra_before=["import os\nos.killpg(0, 9)"])
    subs["stopparent"] = solved(extra_before=["import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)"])
    subs["escape"] = solved(extra_before=[
        "import os, time\npid = os.fork()\nif pid == 0:\n    os.setsid()\n    time.sleep(60)\n    os._exit(0)\n"
        "raise RuntimeError(f'escaped={pid}')"
    ])
    subs["disk"] = solved(extra_before=[
        "import os\nopen('leak.txt', 'w').write('x')\nos.mkdir('sub')\nraise RuntimeError('cwd=' + os.getcwd())"
    ])
    subs["torch"] = solved({"1.1": "import torch\ndef weighted_sum(X, w, b):\n"
                                   "    return (torch.from_numpy(X) @ torch.from_numpy(w) + b).numpy()\n"})
    subs["alias"] = solved(
        {"1.2": "def perceptron(X, w, b):\n    return step(weighted_sum(X, w, b))\n"},
        extra_before=["import torch\nstep = lambda z: torch.heaviside(torch.from_numpy(z), "
                      "torch.tensor(0.0, dtype=torch.float64)).numpy()"],
    )
    subs["syntax"] = solved({"1.3": "def gate_weights(table)\n    return None\n"})
    subs["loop"] = solved({"1.4": "def train_perceptron(X, y, lr=1.0, epochs=100):\n    while True:\n"
                                  "        pass\n"})
    subs["hardloop"] = solved(
        {"1.4": "def train_perceptron(X, y, lr=1.0, epochs=100):\n    while True:\n        pass\n"},
        extra_before=["import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)"],
    )
    subs["membomb"] = solved(
        {"1.3": "def gate_weights(table):\n    return bytearray(2**40)\n"},
        extra_before=["x = np.ones(2**40)"],
    )
    subs["corrupt"] = solved(extra_before=[CORRUPT_CHANNEL])
    subs["huge"] = solved({"1.1": "def weighted_sum(X, w, b):\n    return np.zeros(10**7)\n"})
    subs["longlist"] = solved({"1.1": "def weighted_sum(X, w, b):\n    return ['x' * 2**24]\n"})
    subs["nometa"] = notebook(SETUP, *SOLUTIONS.values(), exercise=None)
    subs["junk"] = b"{not json"
    subs["image"] = b"\x89PNG\r\n\x1a\n\x00\x00binary"
    subs["nocells"] = json.dumps({"metadata": {}, "nbformat": 4}).encode()
    return subs


@pytest.fixture(scope="module")
def pool():
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def batch(tmp_path_factory, pool):
    folder = tmp_path_factory.mktemp("submissions")
    subs = submissions()
    for name, nb in subs.items():
        path = folder / f"{name}.ipynb"
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        else:
            nbformat.write(nb, path)
    cwd = os.getcwd()
    results = grade([folder], timeout=TIMEOUT, sandbox=pool, seed=1234, names_from_files=True)
    assert os.getcwd() == cwd
    by_name = {r.student: r for r in results}
    assert sorted(by_name) == sorted(subs)
    return by_name, subs, folder


def scores(r) -> dict[str, float]:
    return {p.id: p.score for p in r.parts}


def feedback(r, pid: str) -> str:
    return next(p.feedback for p in r.parts if p.id == pid)


def errors(r) -> str:
    return "\n".join(r.errors)


# -- honest submissions -------------------------------------------------------------


def test_reference_answers_get_full_marks(batch):
    r = batch[0]["reference"]
    assert r.exercise == EX and r.errors == []
    assert scores(r) == POINTS and r.score == FULL and r.max_score == FULL
    assert all(p.feedback.startswith("all ") for p in r.parts)


def test_stubs_get_zero_with_not_implemented(batch):
    r = batch[0]["stub"]
    assert r.score == 0 and r.max_score == FULL
    assert "not implemented yet (NotImplementedError: Exercise 1.1)" in feedback(r, "1.1")


def test_partial_credit_per_case(batch):
    r = batch[0]["partial"]
    # the grader's own draw for this file (seed and file name): where the XOR / XNOR table is
    cases = prepare(Found(Path(r.file), "partial"), exercise=None, exercises=EXERCISES, seed=1234).cases["1.3"]
    k, _ = [k for k, c in enumerate(cases, start=1) if tuple(c.args[0]) in {(0, 1, 1, 0), (1, 0, 0, 1)}]
    # 1.3 has no all-or-nothing check: 14 of its 16 tables right earn 14/16 of its points
    assert not any(c.defining for c in cases)
    assert scores(r) == dict(POINTS, **{"1.3": round(POINTS["1.3"] * 14 / 16, 2)})
    assert feedback(r, "1.3").split("\n") == [
        f"14 of 16 checks passed ({round(POINTS['1.3'] * 14 / 16, 2):g}/{POINTS['1.3']} points).",
        f"First failure, case {k} of 16 (truth table {k} of 16): this table has its 1s on opposite corners "
        "of the square: no single perceptron computes it, so the answer is None",
        "Hint: " + EXERCISES[EX][2].hints[0],
    ]


def test_reordered_duplicated_cells_without_metadata_still_grade(batch):
    r = batch[0]["shuffled"]
    assert scores(r) == POINTS, r.parts
    assert batch[0]["retyped"].score == FULL


def test_metadata_and_points_come_from_the_spec_not_the_notebook(batch):
    r = batch[0]["points"]  # 1000 points written into every cell's metadata
    assert r.exercise == EX
    assert r.score == FULL and r.max_score == FULL
    r = batch[0]["unknownmeta"]  # the metadata decides the exercise: an unknown one is refused
    assert r.parts == [] and r.score == 0
    assert r.errors == ["its metadata names exercise '99_anything', which is not one of: "
                        + ", ".join(EXERCISES)]


def test_missing_metadata_needs_exercise(batch, pool, tmp_path):
    r = batch[0]["nometa"]
    assert r.parts == [] and r.score == 0
    assert "cannot tell which exercise this notebook is (its metadata does not say); pass --exercise" in errors(r)
    path = tmp_path / "nometa.ipynb"
    nbformat.write(batch[1]["nometa"], path)
    (forced,) = grade([path], exercise=EX, timeout=TIMEOUT, sandbox=pool)
    assert forced.score == FULL


# -- hostile submissions --------------------------------------------------------------


def test_monkeypatching_numpy_torch_coursekit_changes_nothing(batch):
    r = batch[0]["monkeypatch"]
    assert r.score == 0
    for p in r.parts:  # every case of every part judged wrong, from the first on
        assert f"0 of {p.total} checks passed (0/{p.max_score} points)." in p.feedback, p.feedback
        assert "\nFirst failure, case 1 of " in p.feedback, p.feedback


def test_printing_a_fake_score_changes_nothing(batch):
    assert batch[0]["fakeprint"].score == 0


def test_object_with_custom_eq_is_rejected(batch):
    r = batch[0]["alwayseq"]
    assert scores(r)["1.1"] == 0
    assert "returned an object of type AlwaysEqual; expected a numpy array" in feedback(r, "1.1")
    # an ndarray subclass is judged on its data only (zeros here), whatever its __eq__ says
    r = batch[0]["ndsubclass"]
    assert scores(r)["1.1"] == 0 and "z is all zeros" in feedback(r, "1.1")


def test_sys_exit_in_a_cell_skips_that_cell(batch):
    r = batch[0]["sysexit"]
    assert r.score == FULL
    n = cell_number(batch[1]["sysexit"], "sys.exit")
    assert f"cell {n}: called sys.exit() / exit(); skipped" in r.errors


def test_os_exit_in_one_part_costs_that_part_only(batch):
    r = batch[0]["osexit"]  # the parts after the one that ended the process run again, in a sandbox of their own
    assert scores(r) == dict(POINTS, **{"1.2": 0})
    assert "the submission's process ended before it finished (os._exit?)" in r.errors
    assert "no result (the submission's process ended before it finished" in feedback(r, "1.2")


def test_killing_the_parent_process_changes_nothing(batch):
    # its parent is the PID namespace's init (bubblewrap's), which ignores signals from inside
    for name in ("killparent", "stopparent"):
        r = batch[0][name]
        assert r.score == FULL and r.errors == [], name


def test_killing_the_other_processes_changes_no_other_score(batch):
    # the other submissions' exact scores are asserted by the other tests of this batch;
    # in its PID namespace there is nothing else to kill
    r = batch[0]["killsiblings"]
    assert r.score == FULL and all(e.startswith("cell ") for e in r.errors), r.errors  # its own cell, at most


def test_killing_its_own_process_group(batch):
    r = batch[0]["killgroup"]
    assert r.score == 0
    assert "the submission's process was killed by SIGKILL before it finished" in r.errors


def test_processes_a_submission_starts_do_not_outlive_it(batch):
    r = batch[0]["escape"]
    assert r.score == FULL
    n = cell_number(batch[1]["escape"], "os.fork()")
    # no new processes at all, whoever runs the grader (the sandbox's seccomp filter)
    assert f"cell {n}: BlockingIOError: [Errno 11] Resource temporarily unavailable" in r.errors


def test_files_written_stay_in_the_sandbox(batch):
    r = batch[0]["disk"]
    assert r.score == FULL
    assert any(e.endswith("RuntimeError: cwd=/tmp") for e in r.errors), r.errors  # the sandbox's own tmpfs
    assert not (Path.cwd() / "leak.txt").exists() and not (batch[2] / "leak.txt").exists()
    assert not Path("/tmp/leak.txt").exists()


def test_from_scratch_parts_cannot_import_torch(batch):
    r = batch[0]["torch"]
    # perceptron (1.2) calls this weighted_sum: without torch it cannot run either
    assert scores(r) == dict(POINTS, **{"1.1": 0, "1.2": 0})
    n = cell_number(batch[1]["torch"], "import torch\ndef weighted_sum")
    assert f"cell {n}: ModuleNotFoundError: No module named 'torch'" in r.errors
    assert feedback(r, "1.1").startswith(
        "Part 1.1 must be written from scratch (numpy only): nothing but numpy and Python's standard library "
        f"can be imported when it is graded (cell {n}: ModuleNotFoundError: No module named 'torch').\n"
        f"0 of 4 checks passed (0/{POINTS['1.1']} points).\n"
        "First failure, case 1 of 4 (4 inputs with 2 features): no function `weighted_sum` is defined")
    # a library call hidden behind a helper defined in another cell fails the same way
    r = batch[0]["alias"]
    assert scores(r) == dict(POINTS, **{"1.2": 0})
    n = cell_number(batch[1]["alias"], "step = lambda")
    assert f"(cell {n}: ModuleNotFoundError: No module named 'torch')" in feedback(r, "1.2")
    assert "raised NameError: name 'step' is not defined" in feedback(r, "1.2")


def test_syntax_error_scores_that_part_zero(batch):
    r = batch[0]["syntax"]
    assert scores(r) == dict(POINTS, **{"1.3": 0})
    n = cell_number(batch[1]["syntax"], "def gate_weights(table)\n")
    assert f"cell {n}: SyntaxError: expected ':' (line 1)" in r.errors
    assert "no function `gate_weights` is defined" in feedback(r, "1.3")


def test_infinite_loop_in_a_function(batch):
    r = batch[0]["loop"]
    assert scores(r) == dict(POINTS, **{"1.4": 0})
    fb = feedback(r, "1.4")
    assert "\nFirst failure, case 1 of 4 (the AND gate): took longer than" in fb
    assert "s and was stopped" in fb


def test_infinite_loop_that_ignores_the_alarm_is_killed(batch):
    r = batch[0]["hardloop"]
    assert scores(r) == dict(POINTS, **{"1.4": 0})  # what was reported before the kill counts
    assert f"the submission ran longer than the time limit ({TIMEOUT:g} s) and was stopped" in r.errors


def test_memory_bombs(batch):
    r = batch[0]["membomb"]
    assert scores(r) == dict(POINTS, **{"1.3": 0})
    n = cell_number(batch[1]["membomb"], "np.ones(2**40)")
    assert any(e.startswith(f"cell {n}: MemoryError: Unable to allocate 8.00 TiB") for e in r.errors)
    assert "raised MemoryError" in feedback(r, "1.3")


def test_corrupt_result_channel(batch):
    r = batch[0]["corrupt"]
    assert r.score == 0
    assert r.errors == ["the submission wrote to the grader's result channel itself (the result stream is "
                        "corrupt (bad frame length)); nothing of it was graded"]


def test_huge_results(batch):
    r = batch[0]["huge"]  # 80 MB for one case: over the 64 MB cap, the process is stopped
    assert r.score == 0
    assert "the submission sent more than 64 MB of results and was stopped" in r.errors
    r = batch[0]["longlist"]  # too long for one JSON frame: that case fails, the rest is graded
    assert scores(r)["1.1"] == 0 and scores(r)["1.2"] == 0
    assert "raised TypeError: '>' not supported between instances of 'list' and 'int'" in feedback(r, "1.2")
    assert ("\nFirst failure, case 1 of 4 (4 inputs with 2 features): returned a result too large to send "
            "(over 1 MB as JSON); return a numpy array\n") in feedback(r, "1.1")


def test_files_that_are_not_notebooks(batch):
    res = batch[0]
    assert res["junk"].errors[0].startswith("not a notebook: the file is not valid JSON")
    assert res["image"].errors == ["not a notebook: the file is not UTF-8 text"]
    assert res["nocells"].errors == ["not a notebook: the JSON has no list of cells (nbformat 4)"]
    assert all(res[k].score == 0 and res[k].parts == [] for k in ("junk", "image", "nocells"))


def test_grade_time_inputs_differ_from_the_public_ones(tmp_path):
    path = tmp_path / "s.ipynb"
    nbformat.write(solved(), path)
    args = {"exercise": None, "exercises": EXERCISES}
    a = prepare(Found(path, "s"), seed=1, **args).cases["1.1"]
    b = prepare(Found(path, "s"), seed=1, **args).cases["1.1"]
    c = prepare(Found(path, "s"), seed=2, **args).cases["1.1"]
    assert all(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a, b, strict=True))
    assert not any(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a, c, strict=True))


# -- a spec of our own: partial credit and time limits on known cases ------------------


def _cases(rng):
    return [Case((float(i),), {}, f"input number {i}") for i in range(4)]


def _judge(case, got):
    want = case.args[0] * 2
    return None if got == want else f"expected twice the input, got {got!r}"


TOY = {"toy": [Part(id="9.1", title="Double", function="double", points=4, cases=_cases, judge=_judge,
                   hints=("x * 2", "twice"), exercise="toy")]}


def test_partial_credit_and_feedback_text(tmp_path, pool):
    path = tmp_path / "toy.ipynb"
    src = "def double(x):\n    if x >= 2:\n        return x\n    return 2 * x\n"
    assert TOY["toy"][0].grade_id == "ex9_1_double"
    nbformat.write(notebook((src, "ex9_1_double"), exercise="toy"), path)
    (r,) = grade([path], exercises=TOY, timeout=TIMEOUT, sandbox=pool)
    (p,) = r.parts
    assert (p.score, p.max_score, p.passed, p.total) == (2.0, 4, 2, 4)
    assert p.feedback == ("2 of 4 checks passed (2/4 points).\n"
                          "First failure, case 3 of 4 (input number 2): expected twice the input, got 2.0\n"
                          "Hint: x * 2")


def _cases_defining(rng):
    return [Case((float(i),), {}, f"input number {i}", defining=(i == 3)) for i in range(4)]


DEFINING = {"toy": [Part(id="9.1", title="Double", function="double", points=4, cases=_cases_defining,
                         judge=_judge, hints=("x * 2", "twice"), exercise="toy")]}


def test_a_failed_all_or_nothing_check_scores_the_part_zero(tmp_path, pool):
    wrong_from_2 = "def double(x):\n    if x >= 2:\n        return x\n    return 2 * x\n"  # fails 2 and 3
    wrong_at_2 = "def double(x):\n    if x == 2:\n        return x\n    return 2 * x\n"  # fails 2 only
    for name, src in (("from2", wrong_from_2), ("at2", wrong_at_2)):
        (tmp_path / name).mkdir()
        nbformat.write(notebook((src, "ex9_1_double"), exercise="toy"), tmp_path / name / "toy.ipynb")
    by = {r.student: r for r in grade([tmp_path], exercises=DEFINING, timeout=TIMEOUT, sandbox=pool)}
    (p,) = by["from2"].parts  # the defining case 4 failed: nothing for the two right ones
    assert (p.score, p.passed, p.total) == (0, 2, 4)
    assert p.feedback == ("2 of 4 checks passed (0/4 points). The all-or-nothing check (input number 3) "
                          "failed, so the part scores 0.\n"
                          "First failure, case 3 of 4 (input number 2): expected twice the input, got 2.0\n"
                          "Hint: x * 2")
    (p,) = by["at2"].parts  # only an ordinary case failed: 3 of 4 checks, 3 of the 4 points
    assert (p.score, p.passed, p.total) == (3.0, 3, 4)
    assert p.feedback.startswith("3 of 4 checks passed (3/4 points).\nFirst failure, case 3 of 4 (input number 2)")


# -- the command line -----------------------------------------------------------------


def test_cli_writes_gradebook_feedback_and_json(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "bob").mkdir()
    # alice also prints what looks like the grader's JSON: stdout must stay the grader's own
    fake = 'print(\'{"submissions": [{"score": 99}]}\')'
    nbformat.write(solved(extra_before=[fake], extra_after=[fake]), subs / "alice" / f"{EX}.ipynb")
    nbformat.write(solved({"1.3": WRONG["1.3"]}), subs / "bob" / f"{EX}.ipynb")
    (subs / "carol.ipynb").write_text("not a notebook")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "coursekit.cli", "grade", str(subs), "--out", str(out), "--json",
         "--timeout", "5", "--workers", "1", "--seed", "99"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    by = {s["student"]: s for s in data["submissions"]}
    assert set(by) == {"alice", "bob", "subs"}  # a notebook directly in the folder is the folder's
    assert by["alice"]["score"] == FULL and by["alice"]["max_score"] == FULL, json.dumps(data)
    assert by["bob"]["score"] == FULL - POINTS["1.3"]
    assert set(by["bob"]["parts"][0]) == {"id", "score", "max_score", "feedback"}
    assert by["subs"]["errors"][0].startswith("not a notebook")
    with (out / "gradebook.csv").open() as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"alice", "bob", "subs"}
    assert {rows[s]["seed"] for s in rows} == {"99"} and rows["bob"]["isolation"] == "bubblewrap"
    assert float(rows["bob"]["1.3"]) == 0 and float(rows["bob"]["total"]) == FULL - POINTS["1.3"]
    assert int(rows["alice"]["max"]) == FULL
    (fb,) = (out / "feedback").glob(f"*/bob_{EX}.md")
    assert rows["bob"]["feedback"] == str(fb.relative_to(out))
    text = fb.read_text()
    assert f"Total: {FULL - POINTS['1.3']:g} / {FULL} points" in text
    # the first of bob's five tables, drawn again here from the seed and the file's name
    (first, *_) = prepare(Found(Path(by["bob"]["file"]), "bob"), exercise=None, exercises=EXERCISES,
                          seed=99).cases["1.3"]
    why = ("this table has its 1s on opposite corners of the square: no single perceptron computes it, "
           "so the answer is None" if tuple(first.args[0]) in {(0, 1, 1, 0), (1, 0, 0, 1)}
           else "w should have shape (2,), one weight per input; got (3,)")
    # one paragraph per line of the feedback, no newline shown as an escape
    assert (f"\n\n0 of 16 checks passed (0/{POINTS['1.3']} points).\n\n"
            f"First failure, case 1 of 16 (truth table 1 of 16): {why}\n\n"
            f"Hint: {EXERCISES[EX][2].hints[0]}\n\n") in text
    assert "x0a" not in text
    assert "array(" not in text  # grade-time inputs are never shown


def test_cli_rejects_unknown_exercise(tmp_path, capsys):
    assert main(["grade", str(tmp_path), "--exercise", "nope"]) == 2
    assert "unknown exercise 'nope'; known: 01_neurons" in capsys.readouterr().err


# -- the course's own notebooks --------------------------------------------------------


def test_solution_sources_get_full_marks(pool):
    sources = solution_notebooks()
    if not sources:
        pytest.skip("no exercises/source/*.ipynb yet")
    results = grade(sources, timeout=30, sandbox=pool, seed=7, mixed=True)
    for r in results:
        assert r.max_score == sum(p.points for p in EXERCISES[r.exercise]), r.file
        assert r.score == r.max_score, (r.file, [p.feedback for p in r.parts], r.errors)


def test_released_student_copies_get_zero_without_crashing(pool):
    copies = student_notebooks()
    if not copies:
        pytest.skip("no exercises/NN_*.ipynb yet")
    results = grade(copies, timeout=30, sandbox=pool, seed=7, mixed=True)
    for r in results:
        assert r.exercise in EXERCISES and r.parts, r.file
        assert r.score == 0, (r.file, [p.feedback for p in r.parts])


def test_the_grader_reads_its_limits_from_the_one_table(tmp_path, pool, monkeypatch):
    """A limit changed in coursekit.grading.limits alone is the limit the sandbox applies (here: a cell's)."""
    from coursekit.grading import limits

    path = tmp_path / "toy.ipynb"
    slow = "import time\ntime.sleep(0.8)\n"
    nb = notebook(slow, ("def double(x):\n    return 2 * x\n", "ex9_1_double"), exercise="toy")
    nbformat.write(nb, path)
    monkeypatch.setattr(limits, "CELL_SECONDS", 0.3)
    (r,) = grade([path], exercises=TOY, timeout=TIMEOUT, sandbox=pool)
    assert r.errors == [f"cell {cell_number(nb, 'sleep')}: took longer than 0.3 s and was stopped"]
    assert r.score == 4  # the cells after it ran
    monkeypatch.setattr(limits, "CELL_SECONDS", 5.0)
    (r,) = grade([path], exercises=TOY, timeout=TIMEOUT, sandbox=pool)
    assert r.errors == [] and r.score == 4
