"""The exercises: specs, instant feedback, solution sources and generated student copies.

The reference solutions are taken from the solution notebooks themselves, so
the test checks what students and instructors actually get.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import threading
from pathlib import Path

import nbformat
import numpy as np
import pytest
from exercise_answers import ANSWERS  # tests/ is on sys.path (pytest rootdir-relative import)

from coursekit.exercises import (
    EXERCISES,
    PUBLIC_SEED,
    CheckResult,
    check,
    feedback,
    get_part,
    to_plain,
)
from coursekit.exercises.feedback import run_check
from coursekit.exercises.release import release, render, strip_regions, stub_message, student_copy
from coursekit.exercises.spec import (
    all_parts,
    compare_array,
    compare_number,
    draws_fresh_cases,
    score_part,
    scoring_rule,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "exercises" / "source"
PART_IDS = [p.id for p in all_parts()]
SQRT2 = math.sqrt(2)


def _source(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(SOURCES / f"{stem}.ipynb", as_version=4)


def _grade_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def _namespace(nb, grade_id: str) -> dict:
    """Run the setup cell and the solution cells of ``nb`` up to ``grade_id`` in a fresh namespace."""
    ns: dict = {}
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (grading.get("grade_id", "").endswith("_setup") or grading.get("solution")):
            exec(cell.source, ns)  # noqa: S102 - our own notebooks
            if grading.get("grade_id") == grade_id:
                break
    return ns


def reference(part_id: str):
    part = get_part(part_id)
    return _namespace(_source(part.exercise), part.grade_id)[part.function]


def stub(part_id: str):
    part = get_part(part_id)
    copy = student_copy(_source(part.exercise), name=part.exercise)
    return _namespace(copy, part.grade_id)[part.function]


# ---------------------------------------------------------------- the specs


def test_the_registry_is_the_discovered_part_modules_in_exercise_order():
    """No hand list: every exNN module of coursekit/exercises/parts is an exercise, in the order of NN."""
    from coursekit.exercises import parts as package
    from coursekit.exercises.parts import MODULES, discover

    files = sorted(p.stem for p in Path(package.__file__).parent.glob("ex[0-9][0-9].py"))
    assert [m.__name__.rsplit(".", 1)[1] for m in MODULES] == files
    assert list(EXERCISES) == [m.EXERCISE for m in MODULES] and discover() == MODULES
    assert [int(stem[:2]) for stem in EXERCISES] == sorted({int(stem[:2]) for stem in EXERCISES})


def test_a_new_exercise_module_is_discovered_in_its_place(tmp_path, monkeypatch):
    """Adding exercise 07 is adding parts/ex07.py: discover() finds it after 06, with no list to edit."""
    import sys

    from coursekit.exercises import parts as package
    from coursekit.exercises.parts import MODULES, discover

    (tmp_path / "ex07.py").write_text('EXERCISE = "07_dummy"\nPARTS = []\n')
    (tmp_path / "ex00x.py").write_text("raise AssertionError('not an exercise module: never imported')\n")
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    try:
        found = discover()
        assert found[:-1] == MODULES and found[-1].EXERCISE == "07_dummy"
        (tmp_path / "ex08.py").write_text('EXERCISE = "07_copied"\nPARTS = []\n')
        with pytest.raises(ValueError, match=r"ex08: expected EXERCISE = '08_<name>'.*got EXERCISE = '07_copied'"):
            discover()
    finally:
        for name in ("ex07", "ex08"):
            sys.modules.pop(f"{package.__name__}.{name}", None)


def test_every_exercise_has_parts_of_ten_points():
    for stem, parts in EXERCISES.items():
        assert parts, stem
        assert sum(p.points for p in parts) == 10, stem  # README: each exercise notebook is worth 10 points
        number = int(stem[:2])
        assert [p.id for p in parts] == [f"{number}.{k}" for k in range(1, len(parts) + 1)]
        for p in parts:
            assert p.exercise == stem
            assert p.grade_id.startswith(f"ex{number}_{p.id.split('.')[1]}_")
            assert p.function.isidentifier() and p.hint == p.hints[0] and len(p.hints) >= 2 and p.time_limit > 0


def test_get_part_lists_valid_ids_on_unknown_id():
    assert get_part("6.1").function == "softmax"
    with pytest.raises(ValueError, match=r"unknown exercise part '9\.9'; valid parts: 1\.1, 1\.2"):
        get_part("9.9")


@pytest.mark.parametrize("part_id", PART_IDS)
def test_cases_are_reproducible_and_labelled(part_id):
    part = get_part(part_id)
    a = part.cases(np.random.default_rng(PUBLIC_SEED))
    b = part.cases(np.random.default_rng(PUBLIC_SEED))
    assert len(a) >= 3
    assert len({c.label for c in a}) == len(a), "labels tell the cases apart"
    for ca, cb in zip(a, b, strict=True):
        assert ca.label == cb.label and ca.kwargs == cb.kwargs
        for x, y in zip(ca.args, cb.args, strict=True):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
        assert not re.search(r"\d\.\d{3}", ca.label), "labels describe, they do not print inputs"


def test_to_plain_converts_and_rejects():
    import torch

    assert isinstance(to_plain(torch.ones(2, 3)), np.ndarray)
    assert to_plain(np.float32(1.5)) == 1.5 and type(to_plain(np.int64(3))) is int
    out = to_plain((np.zeros(2), [1, 2.5], None, True))
    assert isinstance(out, tuple) and isinstance(out[1], list) and out[2] is None and out[3] is True
    for bad, words in [("abc", "a string"), ({"a": 1}, "a dict"), (np.array(["x"]), "dtype <U1"),
                       (np.array([object()]), "dtype object"), (1 + 2j, "complex"), (object(), "type object")]:
        with pytest.raises(TypeError, match=re.escape(words)):
            to_plain(bad)
    nested = [[[[[[1.0]]]]]]
    with pytest.raises(TypeError, match="nested too deeply"):
        to_plain(nested)


# ---------------------------------------------------------------- feedback on right answers


@pytest.mark.parametrize("part_id", PART_IDS)
def test_reference_solution_passes_check(part_id, capsys):
    part = get_part(part_id)
    result = check(part_id, reference(part_id))
    out = capsys.readouterr().out
    assert result == CheckResult(part_id, True, part.points, part.points, result.message)
    note = "" if draws_fresh_cases(part) else feedback.OTHER_INPUTS_NOTE + "\n"
    assert out == f"✔ {part.id} {part.title}: all {len(part.cases(np.random.default_rng(0)))} checks passed. " \
                  f"{part.points}/{part.points} points.\n" + note


@pytest.mark.parametrize("part_id", PART_IDS)
def test_reference_solution_passes_grade_time_cases(part_id):
    """The grader draws other seeds: the judges must accept a right answer on any of them."""
    part = get_part(part_id)
    func = reference(part_id)
    for seed in (1, 2, 3):
        for case in part.cases(np.random.default_rng(seed)):
            args = copy.deepcopy(case.args)  # as check() and the grader do: the judge keeps the rng's state
            assert part.judge(case, to_plain(func(*args, **case.kwargs))) is None, (seed, case.label)


# ---------------------------------------------------------------- feedback on stubs and wrong answers


@pytest.mark.parametrize("part_id", PART_IDS)
def test_stub_says_not_implemented(part_id, capsys):
    part = get_part(part_id)
    result = check(part_id, stub(part_id))
    assert (result.passed, result.score, result.max_score) == (False, 0, part.points)
    assert capsys.readouterr().out == (
        f"… {part.id} {part.title}: not implemented yet. Replace the `raise NotImplementedError(...)` line "
        f"in `{part.function}` with your code, run that cell, then this one again.\n")


WRONG_WORDS = {  # part -> [(index in the shared answer set, words the first failure must contain)]
    "1.1": [(1, "values differ")],
    "1.2": [(1, "z = 0 exactly should give 0")],
    "1.3": [(1, "can be computed by one perceptron, but you returned None")],
    "1.4": [(1, "misclassifies")],
    "2.1": [(1, "raised ValueError")],
    "2.2": [(1, "raised ValueError")],
    "2.3": [(1, "weights only")],
    "2.4": [(1, "over the budget")],
    "3.1": [(1, "NaN"), (2, "scipy")],
    "3.2": [(1, "wrong value at z = 0 exactly")],
    "3.3": [(1, "a few random inputs can miss it")],
    "3.4": [(1, "at your z the derivative")],
    "4.1": [(1, "only the last layer's bias")],
    "4.2": [(1, "has rank")],
    "4.3": [(1, "it should be")],
    "5.1": [(1, "not drawn from the rng argument")],
    "5.2": [(1, "not drawn from the rng argument"), (2, "variance")],
    "5.3": [(1, "before the activation")],
    "5.4": [(1, "too small"), (2, "too large")],
    "5.5": [(1, "that is the width"), (2, "before training"), (3, "returned a string")],
    "6.1": [(1, "NaN"), (2, "`torch`"), (3, "NaN")],
    "6.2": [(1, "-inf")],
    "6.3": [(1, "epsilon of 1e-07 inside the log"), (2, "sum over the batch")],
    "6.4": [(1, "values differ"), (2, "times the right gradient: the chain rule")],
    "6.5": [(1, "should be True"), (2, "softmax_before_ce should be True")],
}


def _answer(part_id: str, index: int):
    """The function defined by answer ``index`` of the shared set, with the solutions of the earlier parts."""
    part = get_part(part_id)
    ns: dict = {"np": np}
    cells = _grade_cells(_source(part.exercise))
    for p in EXERCISES[part.exercise]:
        if p.id == part_id:
            break
        exec(cells[p.grade_id].source, ns)  # noqa: S102 - our own notebooks
    exec(ANSWERS[part_id][index][1], ns)  # noqa: S102
    return ns[part.function]


def test_every_part_has_wrong_answers():
    assert set(WRONG_WORDS) == set(PART_IDS)


@pytest.mark.parametrize(("part_id", "index", "words"), [(p, i, w) for p, ws in WRONG_WORDS.items() for i, w in ws])
def test_wrong_answer_gets_specific_feedback_and_the_rule_s_score(part_id, index, words):
    part = get_part(part_id)
    result = run_check(part_id, _answer(part_id, index), tier=1)
    expected = ANSWERS[part_id][index][2]
    assert not result.passed and result.max_score == part.points
    assert result.score == (part.points if expected is None else round(expected, 2)), result.message
    assert words in result.message, result.message
    assert re.search(rf"^✘ {re.escape(part.id)} .* of \d+ checks passed \(.*/{part.points} points\)\.",
                     result.message.splitlines()[0]), result.message
    assert "First failure, case " in result.message and f"Hint: {part.hints[0]}" in result.message
    assert "Traceback" not in result.message and "coursekit/" not in result.message


@pytest.mark.parametrize("part_id", ["3.1", "5.2", "5.5", "6.1", "6.2"])
def test_defining_property_is_all_or_nothing(part_id):
    """The transcription bug each of these parts exists to catch scores 0, whatever else it gets right."""
    part = get_part(part_id)
    cases = part.cases(np.random.default_rng(PUBLIC_SEED))
    assert any(c.defining for c in cases) and not all(c.defining for c in cases)
    verdicts = [("wrong" if c.defining else None) for c in cases]
    assert score_part(part, cases, verdicts) == 0
    assert score_part(part, cases, [None] * len(cases)) == part.points
    first_plain = next(k for k, c in enumerate(cases) if not c.defining)
    verdicts = [("wrong" if k == first_plain else None) for k in range(len(cases))]
    assert score_part(part, cases, verdicts) == round(part.points * (len(cases) - 1) / len(cases), 2)
    assert "all or nothing" in scoring_rule(part, cases)


def test_hints_come_in_tiers_in_the_same_kernel():
    feedback._failures.pop("6.1", None)
    naive = _answer("6.1", 1)
    first = run_check("6.1", naive)
    second = run_check("6.1", naive)
    part = get_part("6.1")
    assert f"Hint: {part.hints[0]}" in first.message and f"Hint: {part.hints[1]}" in second.message
    assert first.score == second.score == 0
    feedback._failures.pop("6.1", None)


def test_hints_and_rules_never_hold_code():
    for part in all_parts():
        for hint in part.hints:
            assert not re.search(r"np\.|\[.*:.*\]|==|\breturn\b|\bfor \w+ in\b|\w+\(\w+, \w+", hint), (part.id, hint)


def test_a_copied_hint_is_not_an_answer():
    """Hints are prose: pasted into the function as they are, not one of them even compiles."""
    for part in all_parts():
        for hint in part.hints:
            with pytest.raises(SyntaxError):
                compile(f"def {part.function}(*args):\n    return {hint}\n", "<hint>", "exec")


def test_compare_number_shows_digits_until_the_values_differ_and_names_an_epsilon():
    assert compare_number(1.8094213, 1.8094219, rtol=1e-9) == "the result should be 1.809421, got 1.809422"
    part = get_part("6.3")
    case = part.cases(np.random.default_rng(PUBLIC_SEED))[0]
    msg = part.judge(case, float(_answer("6.3", 1)(*case.args)))
    worst = re.search(r"should be (\S+), got (\S+?)( |$)", msg)
    assert worst and worst.group(1) != worst.group(2), msg
    assert "epsilon of 1e-07 inside the log" in msg


def test_small_differences_are_shown_with_enough_digits():
    part = get_part("6.1")
    case = part.cases(np.random.default_rng(PUBLIC_SEED))[1]
    right = reference("6.1")(*case.args)
    assert part.judge(case, right.astype(np.float32)) is None  # rounding to float32 alone is tolerated
    msg = compare_array(right, (right * (1 + 1e-6)).astype(np.float32), what="softmax(z)", rtol=1e-7)
    assert msg == "softmax(z) is right only to float32 precision; the check needs float64 " \
                  "(keep the input's dtype, don't convert to float32)"
    msg = part.judge(case, right * (1 + 1e-5))
    worst = re.search(r"expected (\S+), got (\S+)$", msg)
    assert worst and worst.group(1) != worst.group(2), msg


def test_partially_right_answer_gets_partial_score():
    # right except exactly on the boundary z = 0: 2 of 3 cases pass
    result = run_check("1.2", lambda X, w, b: np.where(X @ w + b >= 0, 1.0, 0.0), tier=1)
    assert result.message.startswith("✘ 1.2 Perceptron output: 2 of 3 checks passed (1.33/2 points).")
    assert result.score == 1.33 and "case 1 of 3 (12 inputs, some exactly on the boundary" in result.message


# ---------------------------------------------------------------- bad things handed to check


def test_not_a_function():
    result = run_check("6.1", np.zeros(3))
    assert not result.passed and result.score == 0
    assert "check needs your function `softmax` itself; got an array of shape (3,)" in result.message
    assert "instead of the function itself" in result.message
    assert "itself; got type" in run_check("6.1", np.ndarray).message


def test_wrong_signature():
    result = run_check("1.4", lambda X, y: (np.zeros(2), 0.0))
    assert "cannot be called the way the exercise calls it (2 positional arguments and keyword arguments " \
           "lr, epochs)" in result.message
    assert "unexpected keyword argument 'lr'" in result.message
    assert "Keep the signature" in result.message and not result.passed
    # a keyword argument that only some cases pass is caught before anything runs
    result = run_check("5.2", lambda fan_in, fan_out, rng, gain=1.0: rng.normal(size=(fan_out, fan_in)))
    assert "(3 positional arguments and keyword argument mode): got an unexpected keyword argument" \
        in result.message, result.message


def test_raising_function_shows_type_message_and_line():
    def softmax(z):
        total = z.sum()
        raise KeyError(f"oops {total > 0 or True}")

    result = run_check("6.1", softmax)
    assert "your function raised KeyError: 'oops True' (line 3 of softmax)" in result.message
    assert "0 of 5 checks passed" in result.message


def test_system_exit_and_recursion_do_not_escape():
    def softmax(z):
        raise SystemExit(3)

    assert "raised SystemExit" in run_check("6.1", softmax).message

    def log_softmax(z):
        return log_softmax(z)

    assert "RecursionError" in run_check("6.2", log_softmax).message


def test_wrong_return_type():
    result = run_check("6.1", lambda z: "probabilities")
    assert "your function returned a string; expected a numpy array" in result.message
    assert "returned None" not in result.message
    assert "None (did you forget to return?)" in run_check("6.1", lambda z: None).message


def _fast(monkeypatch, part_id: str, seconds: float):
    part = dataclasses.replace(get_part(part_id), time_limit=seconds)
    monkeypatch.setattr(feedback, "get_part", lambda pid: part)


def test_infinite_loop_is_stopped(monkeypatch):
    _fast(monkeypatch, "6.1", 0.3)

    def softmax(z):
        while True:
            try:
                pass
            except Exception:  # a student's broad except must not swallow the time limit
                pass

    result = run_check("6.1", softmax)
    assert "case 1 of 5 (a single vector of 5 logits): took longer than 0.3 s; is there an infinite loop" \
           in result.message
    assert not result.passed and result.score == 0


def test_infinite_loop_is_stopped_outside_the_main_thread(monkeypatch):
    _fast(monkeypatch, "6.1", 0.3)
    stop = threading.Event()

    def softmax(z):
        while not stop.is_set():  # bounded: the test sets stop when done
            pass

    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", run_check("6.1", softmax)))
    worker.start()
    worker.join(10)
    stop.set()
    assert "took longer than 0.3 s" in box["r"].message


def test_from_scratch_rule():
    import torch

    def softmax(z):
        return torch.softmax(torch.from_numpy(z), dim=-1).numpy()

    result = run_check("6.1", softmax)
    assert not result.passed and result.score == 0
    assert "written from scratch with numpy, but your function (its code, its cell or a helper it calls) " \
           "uses `torch`. The grader's sandbox has only numpy and Python's standard library" in result.message

    from scipy.special import softmax as sp_softmax

    def helper(z):
        return sp_softmax(z, axis=-1)

    def softmax2(z):
        return helper(z)

    assert "uses `scipy`" in run_check("6.1", softmax2).message


def test_changing_the_input_in_place_is_noted():
    def softmax(z):
        z -= z.max(axis=-1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=-1, keepdims=True)
        return z

    result = run_check("6.1", softmax)
    assert result.passed
    assert "Note: your function changed its argument `z` in place; work on a copy." in result.message


def test_initializers_must_draw_from_the_given_rng():
    def own_seed(fan_in, fan_out, rng, gain=1.0):
        a = gain * np.sqrt(6 / (fan_in + fan_out))
        return np.random.default_rng(0).uniform(-a, a, size=(fan_out, fan_in))

    def global_state(fan_in, fan_out, rng, gain=1.0):
        a = gain * np.sqrt(6 / (fan_in + fan_out))
        return np.random.uniform(-a, a, size=(fan_out, fan_in))  # noqa: NPY002 - the mistake under test

    for wrong in (own_seed, global_state):
        result = run_check("5.1", wrong)
        assert "not drawn from the rng argument" in result.message and result.score == 0
    assert run_check("5.1", reference("5.1")).passed


def test_calling_an_unfinished_earlier_part():
    def cross_entropy(logits, targets):
        raise NotImplementedError("Exercise 6.2: log-softmax")

    assert "calls the function of exercise 6.2, which is not implemented yet" in \
        run_check("6.3", cross_entropy).message


def test_check_never_raises_and_stays_quiet(capsys, monkeypatch):
    result = check("0.0", len)
    assert result.max_score == 0 and "unknown exercise part '0.0'" in capsys.readouterr().out
    assert check("6.1", stub("6.1"), quiet=True).passed is False
    assert capsys.readouterr().out == ""

    def broken(part_id, func):
        raise RuntimeError("bug")

    monkeypatch.setattr(feedback, "run_check", broken)
    result = check("6.1", len)
    assert "check failed unexpectedly: RuntimeError: bug" in capsys.readouterr().out
    assert not result.passed


def test_result_repr_is_short_and_displays_nothing():
    result = run_check("6.1", reference("6.1"))
    assert repr(result) == "CheckResult(part='6.1', passed=True, score=2, max_score=2)"
    assert result._ipython_display_() is None  # IPython shows no Out[] for it


def test_alarm_handler_is_restored():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    run_check("6.1", reference("6.1"))
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# ---------------------------------------------------------------- release


def test_strip_regions_keeps_indent_and_drops_hidden_tests():
    part = get_part("6.1")
    src = ("def softmax(z):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    return z\n    ### END SOLUTION\n"
           "x = 1\n### BEGIN HIDDEN TESTS\nassert False\n### END HIDDEN TESTS\n")
    assert strip_regions(src, part, where="t") == (
        'def softmax(z):\n    """doc"""\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("Exercise 6.1: stable softmax")\nx = 1')
    for bad, words in [("### BEGIN SOLUTION\nx", "not closed"), ("x\n### END SOLUTION", "without its BEGIN"),
                       ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS", "starts inside"),
                       ("### BEGIN HIDDEN TESTS\nx", "hidden region is not closed")]:
        with pytest.raises(ValueError, match=words):
            strip_regions(bad, part, where="t")
    with pytest.raises(ValueError, match="not a solution cell"):
        strip_regions("### BEGIN SOLUTION\n### END SOLUTION", None, where="t")


def test_stub_messages():
    assert stub_message(get_part("6.1")) == "Exercise 6.1: stable softmax"
    assert stub_message(get_part("5.1")) == "Exercise 5.1: Xavier uniform initializer"
    assert stub_message(get_part("5.2")) == "Exercise 5.2: He (Kaiming) normal initializer"
    assert stub_message(get_part("3.1")) == "Exercise 3.1: a sigmoid that never overflows"
    assert stub_message(get_part("4.3")) == "Exercise 4.3: XOR with one ReLU layer"


@pytest.mark.parametrize("stem", list(EXERCISES))
def test_student_copy_hides_solutions_and_keeps_locks(stem):
    source = _source(stem)
    copy = student_copy(source, name=stem)
    assert render(copy) == render(student_copy(source, name=stem)), "deterministic"
    assert copy.metadata["coursekit"] == {"exercise": stem}
    assert [c.id for c in copy.cells] == [c.id for c in source.cells]
    text = render(copy).decode()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    parts = {p.grade_id: p for p in EXERCISES[stem]}
    for src_cell, cell in zip(source.cells, copy.cells, strict=True):
        grading = cell.metadata["nbgrader"]
        assert grading == src_cell.metadata["nbgrader"]
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if grading["locked"]:
            assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        if grading["solution"]:
            part = parts[grading["grade_id"]]
            assert f'    # YOUR CODE HERE\n    raise NotImplementedError("{stub_message(part)}")' in cell.source
            solution = src_cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            for line in solution.strip().splitlines():
                if len(line.strip()) > 12:  # long enough to be a real line of the answer
                    assert line.strip() not in cell.source
            assert cell.source.startswith(f"def {part.function}(")


def test_release_writes_headings_scoring_rules_and_points_from_the_spec(tmp_path, monkeypatch):
    """What the spec says is never typed: release rewrites a source that states other points or rules."""
    from coursekit.exercises import release as release_module
    from coursekit.exercises.release import heading, with_spec_text

    nb = _source("06_softmax")
    stale = copy.deepcopy(nb)
    cells = _grade_cells(stale)
    task = cells["ex6_1_softmax_task"]
    task.source = task.source.replace("(2 points)", "(5 points)").rsplit("\n", 1)[0] + "\n*Scoring: by hand.*"
    cells["ex6_1_softmax_check"].metadata["nbgrader"]["points"] = 5
    cells["ex6_2_log_softmax_task"].source = cells["ex6_2_log_softmax_task"].source.rsplit("\n\n", 1)[0]  # no rule
    stale.cells[0].source = stale.cells[0].source.replace("5 parts, 10 points", "4 parts, 12 points")
    assert render(with_spec_text(stale)) == render(nb), "the committed source is what the spec says"

    folder = tmp_path / "source"
    folder.mkdir()
    nbformat.write(stale, folder / "06_softmax.ipynb")
    assert [r.status for r in release(folder, tmp_path / "out", check=True)] == ["stale", "missing"]
    assert [r.status for r in release(folder, tmp_path / "out")] == ["written", "written"]
    assert (folder / "06_softmax.ipynb").read_bytes() == render(nb)
    assert [r.status for r in release(folder, tmp_path / "out", check=True)] == ["unchanged"]

    # a part given other points in its spec: its copy says so in the heading, the rule, the check and the intro
    part = get_part("6.1")
    changed = dataclasses.replace(part, points=3)
    monkeypatch.setitem(release_module.EXERCISES, "06_softmax", [changed, *EXERCISES["06_softmax"][1:]])
    copy_cells = _grade_cells(student_copy(nb, name="06"))
    assert copy_cells["ex6_1_softmax_task"].source.startswith(heading(changed) + "\n")
    assert heading(changed) == "## 6.1 · Stable softmax (3 points)"
    assert copy_cells["ex6_1_softmax_task"].source.endswith(f"*{scoring_rule(changed)}*")
    assert "Otherwise 3 points in proportion to the 5 checks passed." in scoring_rule(changed)
    assert copy_cells["ex6_1_softmax_check"].metadata["nbgrader"]["points"] == 3
    assert "5 parts, 11 points" in student_copy(nb, name="06").cells[0].source


def test_committed_student_copies_are_up_to_date():
    stale = [r for r in release(SOURCES, ROOT / "exercises", check=True) if r.status != "unchanged"]
    assert not stale, f"run 'coursekit release': {[str(r.target) for r in stale]} out of date"


def test_release_cli_writes_checks_and_detects_stale(tmp_path):
    from coursekit.cli import main

    out = tmp_path / "out"
    args = ["release", "--source", str(SOURCES), "--out", str(out)]
    assert main([*args, "--check"]) == 1  # nothing released yet: missing
    assert main(args) == 0
    first = {p.name: p.read_bytes() for p in out.glob("*.ipynb")}
    assert sorted(first) == [f"{s}.ipynb" for s in EXERCISES]
    assert main(args) == 0 and {p.name: p.read_bytes() for p in out.glob("*.ipynb")} == first
    assert main([*args, "--check"]) == 0
    (out / "03_activations.ipynb").write_bytes(first["03_activations.ipynb"].replace(b"sigmoid", b"sigmoyd"))
    assert main([*args, "--check"]) == 1
    assert main([*args, "03_activations"]) == 0 and main([*args, "--check"]) == 0
    assert main([*args, "99_nothing"]) == 2  # a clear error, not a traceback
    (out / "07_gone.ipynb").write_bytes(first["06_softmax.ipynb"])  # its source was deleted
    assert main(args) == 0 and main([*args, "--check"]) == 1


def test_release_rejects_a_source_without_exercise_metadata(tmp_path):
    nb = _source("06_softmax")
    del nb.metadata["coursekit"]
    with pytest.raises(ValueError, match="coursekit.exercise is None"):
        student_copy(nb, name="x.ipynb")
    nb = _source("06_softmax")
    cells = _grade_cells(nb)
    cells["ex6_2_log_softmax"].metadata["nbgrader"]["grade_id"] = "ex6_9_other"
    with pytest.raises(ValueError, match="grade_id is not a part of 06_softmax"):
        student_copy(nb, name="x.ipynb")


# ---------------------------------------------------------------- the solution sources


def test_every_chapter_has_its_exercise_with_the_same_name():
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert lessons == list(EXERCISES), "exercise names follow the chapter notebooks (README, links)"
    assert sorted(p.stem for p in SOURCES.glob("[0-9][0-9]_*.ipynb")) == list(EXERCISES)


@pytest.mark.parametrize("stem", list(EXERCISES))
def test_solution_source_is_nbgrader_ready_and_executed(stem):
    nb = _source(stem)
    assert nb.metadata["coursekit"] == {"exercise": stem}
    assert nb.cells[0].source.startswith(f"# Exercises {stem[:2]} · ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run 'coursekit execute'"
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert len(set(grade_ids)) == len(grade_ids)
    cells = _grade_cells(nb)
    for part in EXERCISES[stem]:
        sol = cells[part.grade_id].metadata["nbgrader"]
        assert sol == {"grade": False, "solution": True, "locked": False, "grade_id": part.grade_id,
                       "schema_version": 3}
        chk = cells[f"{part.grade_id}_check"]
        assert chk.metadata["nbgrader"] == {"grade": True, "solution": False, "locked": True,
                                            "points": part.points, "grade_id": f"{part.grade_id}_check",
                                            "schema_version": 3}
        assert chk.source.startswith(f'check("{part.id}", {part.function})\n')
        # a display block: the feedback as HTML, with the same text as its plain-text fallback
        assert [_output_text(o) for o in chk.outputs] == [
            f"✔ {part.id} {part.title}: all {len(part.cases(np.random.default_rng(0)))} checks passed. "
            f"{part.points}/{part.points} points."
            + ("" if draws_fresh_cases(part) else "\n" + feedback.OTHER_INPUTS_NOTE)]
        assert all(o.data["text/html"].startswith('<div class="coursekit-check coursekit-check-pass"')
                   for o in chk.outputs)
        task = cells[f"{part.grade_id}_task"]
        assert task.source.startswith(f"## {part.id} · {part.title} ({part.points} points)")
        assert scoring_rule(part) in task.source, "the notebook states the part's scoring rule"
        assert task.metadata["nbgrader"]["locked"] is True


def _output_text(output) -> str:
    """A cell output's text: a stream's, or a display's plain-text fallback."""
    if output.output_type == "stream":
        return output.text
    return output.get("data", {}).get("text/plain", "")


@pytest.mark.parametrize("stem", list(EXERCISES))
def test_nbgrader_metadata_follows_its_schema(stem):
    """The rules of nbgrader's cell-metadata schema (v3) and validator, checked without installing it."""
    allowed = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points", "checksum",
               "cell_type"}
    ids = []
    for cell in _source(stem).cells:
        meta = cell.metadata["nbgrader"]
        assert set(meta) <= allowed and {"schema_version", "grade", "locked", "solution"} <= set(meta)
        assert meta["schema_version"] == 3
        assert re.fullmatch(r"[a-zA-Z0-9_\-]+", meta["grade_id"])
        ids.append(meta["grade_id"])
        if meta["grade"]:
            assert meta["points"] > 0 and cell.cell_type == "code"
        if cell.cell_type == "markdown":
            assert not meta["grade"] and not meta["solution"] and meta["locked"]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- student copies run


@pytest.mark.slow
def test_student_copies_execute_with_only_not_implemented(tmp_path):
    from nbclient import NotebookClient

    for stem in EXERCISES:
        nb = nbformat.read(ROOT / "exercises" / f"{stem}.ipynb", as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(ROOT / "exercises")}}).execute()
        errors = [o.get("ename") for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert set(errors) <= {"NotImplementedError"}, (stem, errors)
        for part in EXERCISES[stem]:
            cell = _grade_cells(nb)[f"{part.grade_id}_check"]
            text = "".join(_output_text(o) for o in cell.outputs)
            assert text.startswith(f"… {part.id} {part.title}: not implemented yet."), (stem, text)
            assert not any(o.output_type == "execute_result" for o in cell.outputs)


@pytest.mark.parametrize("part_id", ["5.1", "5.2"])
def test_statistical_judges_accept_right_answers_on_many_seeds(part_id):
    """Bands of 8 standard errors: a right initializer must never be rejected (here: 40 seeds)."""
    part = get_part(part_id)
    func = reference(part_id)
    for seed in range(100, 140):
        for case in part.cases(np.random.default_rng(seed)):
            args = copy.deepcopy(case.args)
            assert part.judge(case, func(*args, **case.kwargs)) is None, (seed, case.label)


def test_cross_entropy_judge_knows_ln_k():
    """The cross-entropy judge agrees with the fact the chapter teaches: ln K at a uniform start."""
    part = get_part("6.3")
    case = next(c for c in part.cases(np.random.default_rng(0)) if "uniform" in c.label)
    k = case.args[0].shape[1]
    assert part.judge(case, math.log(k)) is None
    assert part.judge(case, math.log(k) + 1e-3) is not None


def test_symmetry_cases_have_the_answers_the_lesson_says_and_clear_margins():
    """5.5 on 20 seeds: units that start identical stay identical (to far below the 1e-8 tolerance), units that
    differ anywhere end up far apart; torch's autograd training is the judge, so check the kinds' answers."""
    from coursekit.exercises.parts import ex05

    part = get_part("5.5")
    for seed in range(20):
        for case in part.cases(np.random.default_rng(seed)):
            W1, b1, W2 = case.args[0], case.args[1], case.args[2]
            trained = ex05._trained_w1(case)
            gaps = np.max(np.abs(trained[:, None, :] - trained[None, :, :]), axis=2)[np.triu_indices(len(W1), 1)]
            assert np.all((gaps < 1e-10) | (gaps > 1e-6)), (seed, case.label, gaps.min())
            units = np.hstack([W1, b1[:, None], W2.T])  # whole units at the start: exact copies or not
            copies = len({tuple(u) for u in units})
            answer = ex05._count_rows(trained)
            assert answer == copies, (seed, case.label)
            if "constant init: every" in case.label or case.label == "zero init":
                assert answer == 1 and case.defining == ("constant" in case.label)
            elif "in groups" in case.label:
                assert 2 <= answer <= len(W1) // 2
            else:
                assert answer == len(W1), (seed, case.label)
                if "constant first layer" in case.label:
                    assert ex05._count_rows(W1) == 1  # W1 alone looks symmetric; W2 breaks the tie


def test_symmetry_case_uses_nn_linear_s_default_init():
    """The case labelled nn.Linear's default draws what torch draws: U(±1/√fan_in) for weights and biases."""
    import torch

    layer = torch.nn.Linear(400, 300, dtype=torch.float64)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound and np.abs(w).max() > bound * (1 - 1e-3)
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 8 * 0.45 / math.sqrt(w.size)
    case = next(c for c in get_part("5.5").cases(np.random.default_rng(PUBLIC_SEED)) if "nn.Linear" in c.label)
    W1, b1 = case.args[0], case.args[1]
    assert np.abs(W1).max() <= 1 / math.sqrt(W1.shape[1]) and np.abs(b1).max() <= 1 / math.sqrt(W1.shape[1])


def _solution_body_lines(stem: str) -> set[str]:
    lines = set()
    for cell in _grade_cells(_source(stem)).values():
        if "### BEGIN SOLUTION" in cell.source:
            body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            lines |= {" ".join(line.split("#")[0].split()) for line in body.splitlines()}
    return {line for line in lines if len(line) > 8}


def test_hints_teach_and_do_not_solve():
    """Tier 1 names the property, tier 2 points to a chapter section and asks; no tier holds a line or formula."""
    for part in all_parts():
        chapter = part.id.split(".")[0]
        first, second = part.hints
        assert second.startswith(f"Chapter 0{chapter}, §") and second.rstrip().endswith("?"), (part.id, second)
        solution = _solution_body_lines(part.exercise)
        for hint in part.hints:
            assert "=" not in hint and "`" not in hint, (part.id, "a hint states no formula or code", hint)
            flat = " ".join(hint.split())
            leaked = [line for line in solution if line in flat]
            assert not leaked, (part.id, leaked)
            # no arithmetic on named quantities either: "w_i x_i", "lr · (t − o)", "a²/3", "gain/√fan"
            assert not re.search(r"[·×/√²]|\b\w+_\w+ \w+_\w+\b|\(\s*\w+\s*[−+-]\s*\w+\s*\)", hint.replace(
                "n_in → h → n_out", "").replace("Xavier/Glorot, He/Kaiming", "")), (part.id, hint)


def test_the_references_beyond_torchs_reach_agree_with_torch_where_it_reaches():
    """3.3 enumerates corners with torch up to 12 dimensions, 2.4 counts with torch up to 4096 units."""
    from coursekit.exercises.parts import ex02, ex03

    rng = np.random.default_rng(5)
    for _ in range(30):
        d = int(rng.integers(1, 13))
        W, b = rng.normal(size=(15, d)), rng.normal(size=15) * np.sqrt(d)
        low, high = sorted(rng.uniform(-2, 2, size=2))
        corners = ex03._dead_reference(W, b, low, high)
        assert np.array_equal(corners, np.maximum(W * low, W * high).sum(axis=1) + b <= 0)
    for n_in, h, n_out in [(3, 1, 1), (784, 4096, 10), (50, 4000, 7), (1, 2, 3)]:
        assert ex02._count([n_in, h, n_out]) == (n_in * h + h) + (h * n_out + n_out)
    assert ex02._widest(784, 10, ex02._params(784, 10**10, 10) - 1) == 10**10 - 1


def test_perceptron_rule_reference_is_the_rule_the_task_states():
    """The reference reaches zero errors on the cases, and a rule without the bias update cannot do AND."""
    from coursekit.exercises.parts import ex01

    part = get_part("1.4")
    for seed in range(5):
        for case in part.cases(np.random.default_rng(seed)):
            X, y = case.args
            w, b = ex01.perceptron_rule(X, y, case.kwargs["lr"], case.kwargs["epochs"])
            assert np.array_equal((X @ w + b > 0) * 1.0, y)
            if case.defining:  # AND / NAND: no hyperplane through the origin computes them
                assert b != 0


def test_the_course_sigmoid_passes_3_1():
    """One sigmoid semantics in the course: coursekit.activations.sigmoid (torch's: 0 far below zero) is right."""
    from coursekit.activations import sigmoid

    for seed in range(5):
        part = get_part("3.1")
        cases = part.cases(np.random.default_rng(seed))
        assert all(part.judge(c, sigmoid(c.args[0])) is None for c in cases)


def test_the_all_or_nothing_headline_only_when_that_check_failed_for_its_own_reason():
    printed = run_check("6.1", lambda z: print(z), tier=1).message
    assert "all-or-nothing" not in printed and "0 of 5 checks passed" in printed
    keepdim = run_check("6.1", lambda z: np.exp(z - z.max(axis=-1, keepdim=True)), tier=1).message
    assert "all-or-nothing" not in keepdim and "TypeError" in keepdim
    naive = run_check("6.1", lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True), tier=1).message
    assert "The all-or-nothing check (a batch of 4 rows, one logit of 1e4" in naive


def test_symmetry_feedback_counts_in_words():
    part = get_part("5.5")
    case = next(c for c in part.cases(np.random.default_rng(0)) if c.label.startswith("constant init"))
    assert "after training there is 1 distinct hidden unit, you said 3" in part.judge(case, 3)


@pytest.fixture
def dummy_activation():
    """A registered activation that no module names; removed again after the test."""
    from coursekit import activations

    name = "dummy_twice"
    spec = activations.register(activations.Spec(
        name, numpy=lambda x: 2 * np.asarray(x, dtype=float), grad=lambda x: np.full(np.shape(x), 2.0),
        torch=lambda t, scale=2.0: scale * t, peak=lambda scale=2.0: abs(scale), hist_range=(-8.0, 8.0),
        params={"scale": 2.0}, title="Twice"))
    try:
        yield spec
    finally:
        activations.REGISTRY.pop(name)


def test_exercise_03_takes_its_torch_table_from_the_activation_registry(dummy_activation):
    """A registered activation is in exercise 03's torch table with no other edit, called with its parameters."""
    import torch

    from coursekit.exercises.parts import ex03

    assert ex03.TORCH[dummy_activation.name] is dummy_activation.torch
    t = torch.tensor([-1.5, 0.0, 3.0], dtype=torch.float64)
    assert torch.equal(ex03.torch_activation(dummy_activation.name)(t), 2.0 * t)
    for name in ex03._GRAD_NAMES:  # the part's four: the registry's torch functions, torch's default parameters
        assert name in ex03.TORCH
    assert torch.equal(ex03.torch_activation("leaky_relu")(-t), torch.nn.functional.leaky_relu(-t, 0.01))
