"""The grading contract between check() and the grader, piece by piece (no sandbox needed here).

- One value conversion: what a function returns is judged as ``to_plain(value)`` in check(), and as
  ``to_plain(decode(encode(value)))`` in the grader (the sandbox's encoder only transports). The two
  must be the same plain data, type for type, for every kind of value students return.
- One from-scratch list: check() refuses exactly what the sandbox cannot import.
- A check() call that steers code (a loop, a condition, a function) returns no verdict, like the
  grader's stand-in, so a search over check() ends in the same state in both.
"""

from __future__ import annotations

import fractions
import linecache
import math

import numpy as np
import pytest

from coursekit.exercises import feedback
from coursekit.exercises.feedback import CheckResult, run_check
from coursekit.exercises.judging import (
    FROM_SCRATCH_ALLOWED,
    allowed_from_scratch,
    judge_result,
    to_plain,
)
from coursekit.exercises.spec import all_parts, draws_fresh_cases, get_part
from coursekit.grading import _runner
from coursekit.grading.wire import decode_value, encode_value


def _over_the_wire(value):
    blobs: list[bytes] = []
    node = encode_value(value, blobs)
    return decode_value(node, [memoryview(b) for b in blobs])


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


VALUES = [
    np.True_, np.False_, np.bool_(True), np.int8(-3), np.uint16(7), np.int64(2**40), np.float16(0.5),
    np.float32(1.25), np.float64(-2.5), np.longdouble("0.1"), np.longdouble(1e300),
    fractions.Fraction(1, 3), fractions.Fraction(7, 1), np.array(3.5), np.array(True), np.array(4, dtype=np.int32),
    np.array(2.5, dtype=np.longdouble), np.array([1.5, 2.5], dtype=np.longdouble), np.array([[1, 2], [3, 4]]),
    np.array([True, False]), np.zeros((2, 0)), [np.True_, np.False_], (np.float64(1.0), np.int32(2)),
    [1, 2.5, None, True], (np.array([1.0]), [np.longdouble(2)]), float("nan"), float("inf"), -0.0, 10**18,
    True, None, 3, 2.5,
]


@pytest.mark.parametrize("value", VALUES, ids=[f"{type(v).__name__}-{i}" for i, v in enumerate(VALUES)])
def test_check_and_grader_see_the_same_plain_data(value):
    here = to_plain(value)
    there = to_plain(_over_the_wire(value))
    assert _same(here, there), (value, here, there)


def test_plain_scalars_are_python_numbers():
    assert to_plain(np.True_) is True and to_plain(np.array(False)) is False
    assert type(to_plain(np.longdouble(2.5))) is float and to_plain(np.longdouble(2.5)) == 2.5
    assert to_plain(fractions.Fraction(1, 4)) == 0.25 and type(to_plain(np.array(3))) is int
    assert to_plain(np.array([1, 2], dtype=np.longdouble)).dtype == np.float64


@pytest.mark.parametrize("bad", ["text", {"a": 1}, 1 + 2j, np.complex128(1j), np.array(["x"]), 2**70, object()])
def test_what_neither_side_accepts_gets_the_same_verdict(bad):
    part = get_part("6.5")
    case = part.cases(np.random.default_rng(0))[0]
    here = judge_result(part, case, bad)
    try:
        there = judge_result(part, case, _over_the_wire(bad))
    except _runner.NotPlain as exc:  # refused in the sandbox: the grader shows the runner's reason
        there = f"your function {exc}"
    assert here.startswith("your function returned") and there.startswith("your function returned"), (here, there)


def test_numpy_booleans_score_as_booleans_in_both():
    """The issue's case: 6.5 answered with numpy booleans scored 2/2 in check() and 0/2 in the grader."""
    part = get_part("6.5")
    for case in part.cases(np.random.default_rng(3)):
        losses, K = case.args
        want = judge_result(part, case, (bool(losses[0] > 2 * np.log(K)), False))
        got = judge_result(part, case, _over_the_wire((np.bool_(losses[0] > 2 * np.log(K)), np.False_)))
        assert want == got


def test_one_from_scratch_list():
    from coursekit.grading.sandbox import Environment

    assert FROM_SCRATCH_ALLOWED == ("numpy",)
    env = Environment.detect()
    mounted = set(env.profiles["numpy"])
    assert "numpy" in mounted and not {"torch", "scipy", "sympy", "matplotlib", "coursekit"} & mounted
    for module, ok in [("numpy", True), ("numpy.linalg", True), ("math", True), ("itertools", True),
                       ("fractions", True), ("coursekit.exercises", True), ("torch", False), ("scipy.special", False),
                       ("sympy", False), ("matplotlib.pyplot", False), ("coursekit", False),
                       ("coursekit.softmax", False), ("coursekit.exercises.parts.ex06", False)]:
        assert allowed_from_scratch(module) is ok, module


def test_the_from_scratch_list_is_read_from_judging_alone(monkeypatch):
    """A library added to judging.FROM_SCRATCH_ALLOWED is mounted, accepted by check() and by the grader's
    explanation, and named in their words, with no other edit."""
    from coursekit.exercises import judging
    from coursekit.grading.grader import blocked_import
    from coursekit.grading.sandbox import Environment

    scipy = pytest.importorskip("scipy")
    ns = _cell("scipy", "from scipy.special import softmax as s\n\ndef softmax(z):\n    return s(z, axis=-1)\n")
    assert run_check("6.1", ns["softmax"]).score == 0 and blocked_import("No module named 'scipy'")
    monkeypatch.setattr(judging, "FROM_SCRATCH_ALLOWED", ("numpy", "scipy"))
    assert scipy.__name__ in Environment.detect().profiles["numpy"]
    assert run_check("6.1", ns["softmax"]).passed and not blocked_import("No module named 'scipy.special'")
    assert judging.from_scratch_words() == "numpy, scipy and Python's standard library"


def _cell(name: str, src: str) -> dict:
    filename = f"<contract {name}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
    ns: dict = {"__name__": "__main__"}
    exec(compile(src, filename, "exec"), ns)  # noqa: S102 - the test's own cell
    return ns


@pytest.mark.parametrize("library", ["sympy", "matplotlib.pyplot"])
def test_check_refuses_what_the_sandbox_cannot_import(library):
    pytest.importorskip(library.split(".")[0])
    ns = _cell(f"imports {library}", f"import numpy as np\nimport {library}\n\n"
                                      "def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                                      "    return e / e.sum(axis=-1, keepdims=True)\n")
    result = run_check("6.1", ns["softmax"])
    top = library.split(".")[0]
    assert result.score == 0 and f"uses `{top}`" in result.message


def test_a_right_answer_with_only_numpy_and_the_stdlib_passes():
    ns = _cell("stdlib", "import math\nimport numpy as np\nfrom coursekit.exercises import check\n\n"
                         "def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                         "    return e / e.sum(axis=-1, keepdims=True) * math.prod([1])\n")
    assert run_check("6.1", ns["softmax"]).passed


SEARCH = """
from coursekit.exercises import check
import numpy as np

found = None
for gain in [1.0, 1.2, 1.4, 1.6, 1.8, 2.0]:
    def tanh_std(fan_in, gain=gain):
        return gain / np.sqrt(fan_in)
    if check("5.4", tanh_std, quiet=True).passed:
        found = gain
        break
last = gain
direct = check("6.1", lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True), quiet=True)
"""


def test_check_in_a_loop_returns_no_verdict_like_the_graders_stand_in():
    ns = _cell("search", SEARCH)
    assert ns["found"] is None and ns["last"] == 2.0  # the loop ran to its end, as in the grader
    assert isinstance(ns["direct"], CheckResult) and ns["direct"].max_score == 2  # a call on its own line judges
    # the grader's stand-in returns the same kind of result
    _runner._shim()
    try:
        import sys

        stand_in = sys.modules["coursekit.exercises"].check("5.4", lambda n: 1.0)
    finally:
        import sys

        for name in ("coursekit", "coursekit.exercises"):
            sys.modules.pop(name, None)
        import coursekit.exercises  # noqa: F401 - the real package back
    assert (stand_in.passed, stand_in.score, stand_in.max_score) == (False, 0, 0)
    ns2 = _cell("search2", SEARCH.replace("quiet=True).passed", "quiet=True).score > 1"))
    assert ns2["found"] is None


def test_the_hint_escalates_only_after_a_substantive_failure():
    feedback._failures.clear()
    for _ in range(3):  # a typo: NameError every time
        msg = run_check("6.1", lambda z: undefined_name).message  # noqa: F821
        assert get_part("6.1").hint_at(1) in msg
    msg = run_check("6.1", lambda z: "text").message  # a type error: still tier 1
    assert get_part("6.1").hint_at(1) in msg
    run_check("6.1", lambda z: np.ones_like(z))  # a substantive failure
    msg = run_check("6.1", lambda z: np.ones_like(z)).message
    assert get_part("6.1").hint_at(2) in msg
    feedback._failures.clear()


def test_warnings_of_the_function_are_reported_in_its_check():
    import warnings

    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        msg = run_check("6.1", lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)).message
    assert "issued a warning" in msg and "RuntimeWarning: overflow encountered in exp" in msg
    assert not [w for w in leaked if "overflow" in str(w.message)]


def test_feedback_renders_as_a_block_with_a_plain_text_fallback():
    result = run_check("6.1", lambda z: np.ones_like(z))
    block = feedback._Feedback(result)
    assert repr(block) == result.message
    html = block._repr_html_()
    assert html.startswith('<div class="coursekit-check coursekit-check-fail"')
    assert html.count("<div") == 1 + 1 + len(result.message.split("\n")) - 1


def test_check_says_it_cannot_be_sure_when_the_function_reaches_into_the_kernel():
    """Reading check()'s own cases or judges through sys.modules works in the kernel, not in the grader."""
    ns = _cell("peek", "import sys\n\ndef diagnose(losses, K):\n"
                       "    judge = sys.modules['coursekit.exercises.parts.ex06']\n"
                       "    return judge.HIDDEN and (False, False)\n")
    msg = run_check("6.5", ns["diagnose"]).message
    assert "check() cannot see what your function reaches through `modules`" in msg


def test_a_copied_case_still_has_no_stored_answer():
    """The grader deep-copies a batch's cases for each submission: a copy (or a pickle) of a case
    must still ask the instructor's code for its reference answer, not compare against a stray
    sentinel (the reference solution of 1.4 scored 0 when it did)."""
    import copy
    import pickle

    from coursekit.exercises.judging import NO_ANSWER, Case, reference

    case = Case(args=(1,))
    for twin in (copy.copy(case), copy.deepcopy(case), pickle.loads(pickle.dumps(case))):
        assert twin.answer is NO_ANSWER
        assert reference(twin, lambda: 42) == 42


# ---------------------------------------------------------------- public cases vs new cases of the same families


def _solution(part_id: str):
    """The course's solution of ``part_id``: the source notebook's setup and solution cells up to it."""
    import nbformat

    from coursekit.paths import course_root

    part = get_part(part_id)
    nb = nbformat.read(course_root() / "exercises" / "source" / f"{part.exercise}.ipynb", as_version=4)
    ns: dict = {}
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (grading.get("grade_id", "").endswith("_setup") or grading.get("solution")):
            exec(cell.source, ns)  # noqa: S102 - the course's own solutions
            if grading.get("grade_id") == part.grade_id:
                break
    return ns[part.function]


FRESH_PARTS = [p.id for p in all_parts() if draws_fresh_cases(p)]
STORED_PARTS = [p.id for p in all_parts() if not draws_fresh_cases(p)]
FRESH_SEEDS = (0, 1, 2, 3)


def test_which_parts_draw_new_cases_follows_from_their_judges():
    """Parts judged by properties or by torch draw new cases; parts judged against a reference answer
    (which only the public cases carry, in the student edition) cannot."""
    from coursekit.exercises.judging import PUBLIC_SEED, judges_by_reference

    assert {"4.2", "4.3", "6.1", "2.2"} <= set(FRESH_PARTS)
    assert {"1.3", "1.4", "2.4", "3.3", "3.4", "5.5", "6.5"} <= set(STORED_PARTS)
    for part in all_parts():
        public = part.cases(np.random.default_rng(PUBLIC_SEED))
        assert judges_by_reference(part, public) is (part.id in STORED_PARTS), part.id


@pytest.mark.parametrize("pid", FRESH_PARTS)
def test_a_right_answer_never_gets_the_new_cases_warning(pid):
    """The course's solution passes the new cases check() draws, on every seed: no warning, no note."""
    func = _solution(pid)
    for seed in FRESH_SEEDS:
        result = run_check(pid, func, tier=1, fresh_seed=seed)
        assert result.passed and result.score == result.max_score, (pid, seed, result.message)
        assert result.fresh_failures == 0, (pid, seed, result.message)  # the new cases ran, and passed
        assert "\n" not in result.message, (pid, seed, result.message)


TABLE = """
import pickle

import numpy as np

ANSWERS = pickle.loads({answers!r})  # the public cases' answers, read from coursekit.exercises


def {function}(*args):
    key = pickle.dumps(args)
    return ANSWERS.get(key, next(iter(ANSWERS.values())))
"""


@pytest.mark.parametrize("pid", ["2.1", "4.1", "4.3", "6.1"])
def test_a_table_of_the_public_cases_scores_full_here_but_gets_the_warning(pid):
    """A table of the public cases (the solution's answers, keyed by the exact inputs) scores the public
    points, and check() says that it fails on new inputs of the same kinds, on every seed, without
    showing what the new cases expected."""
    import pickle

    from coursekit.exercises.judging import PUBLIC_SEED

    part, func = get_part(pid), _solution(pid)
    answers = {pickle.dumps(c.args): func(*c.args) for c in part.cases(np.random.default_rng(PUBLIC_SEED))}
    table = _cell(f"table {pid}", TABLE.format(answers=pickle.dumps(answers), function=part.function))
    for seed in FRESH_SEEDS:
        result = run_check(pid, table[part.function], tier=1, fresh_seed=seed)
        assert result.score == part.points and not result.passed, (pid, seed, result.message)
        assert result.fresh_failures and "fails on new inputs of the same kinds" in result.message, result.message
        assert "expected" not in result.message and "should be" not in result.message, result.message


@pytest.mark.parametrize("pid", STORED_PARTS)
def test_parts_judged_against_stored_answers_say_that_the_grader_uses_other_inputs(pid):
    result = run_check(pid, _solution(pid), tier=1)
    assert result.passed and result.fresh_failures is None, result.message
    assert result.message.split("\n")[1:] == [feedback.OTHER_INPUTS_NOTE], result.message


def test_without_the_generator_check_says_that_the_grader_uses_other_inputs(monkeypatch):
    """The student edition has no case generator (spec replays the stored public cases): check() then draws
    nothing new, and every part's result says that the grader uses other inputs of the same kinds."""
    from coursekit.exercises import spec

    monkeypatch.setattr(spec, "_GENERATORS", {})
    monkeypatch.setattr(spec, "_JUDGEABLE", {})
    for pid in ("4.3", "6.1"):
        result = run_check(pid, _solution(pid), tier=1, fresh_seed=0)
        assert result.passed and result.fresh_failures is None, result.message
        assert result.message.split("\n")[1:] == [feedback.OTHER_INPUTS_NOTE], result.message
