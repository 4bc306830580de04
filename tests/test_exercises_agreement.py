"""check() in the notebook and ``coursekit grade`` give the same points, and neither shows solution code.

For every exercise, notebooks holding, part by part, the reference solution, the untouched stub,
transcription bugs, hint-copying attempts, partial answers, answers that use a library a
from-scratch part may not use, and at least five typical mistakes per part
(tests/exercise_answers.py). One grader batch per seed (three seeds) grades them all with the real
grader in bubblewrap; check() runs the same cells in this process. For every notebook, part and
seed, both give the same points, and where the answer set says what the rule gives, that.

Since check() draws its cases from the public seed and the grader from the batch seed, equal points
mean that a part's score depends on the case families only, not on which values were drawn.
"""

from __future__ import annotations

import linecache
from pathlib import Path

import nbformat
import pytest
from exercise_answers import AGREE, ANSWERS, MISTAKES, SETUP, submission  # tests/ is on sys.path

from coursekit.exercises.feedback import run_check
from coursekit.exercises.release import student_copy
from coursekit.exercises.spec import EXERCISES, get_part
from coursekit.grading.gradebook import write_gradebook
from coursekit.grading.grader import grade

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "exercises" / "source"


def _solution_cells(stem: str) -> dict[str, str]:
    nb = nbformat.read(SOURCES / f"{stem}.ipynb", as_version=4)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells}
    return {p.id: by_id[p.grade_id] for p in EXERCISES[stem]}


def _stub_cells(stem: str) -> dict[str, str]:
    nb = student_copy(nbformat.read(SOURCES / f"{stem}.ipynb", as_version=4), name=stem)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells}
    return {p.id: by_id[p.grade_id] for p in EXERCISES[stem]}


def _answers(part) -> list[tuple[str, str, float | str | None]]:
    """The shared answers of ``part``; a part not yet in tests/exercise_answers.py gets its released stub
    only (and test_every_part_is_in_the_shared_answer_set names it), so a new exercise is graded at once."""
    if part.id not in ANSWERS:
        return [("stub", _stub_cells(part.exercise)[part.id], 0)]
    return ANSWERS[part.id] + MISTAKES.get(part.id, [])


def _variants(part) -> list[tuple[str, str, float]]:
    """(label, cell source, expected points): the solution first, then the shared answers."""
    solution = _solution_cells(part.exercise)[part.id]
    out = [("reference solution", solution, part.points)]
    answers = _answers(part)
    out += [(label, src, part.points if pts is None else pts if pts == AGREE else round(pts, 2))
            for label, src, pts in answers]
    return out


def _layout() -> list[tuple[str, int, list[tuple[object, str, str, float]]]]:
    """Notebook k of an exercise holds answer k of every part (the stub once a part has no more)."""
    books = []
    for stem, parts in EXERCISES.items():
        variants = {p.id: _variants(p) for p in parts}
        for k in range(max(len(v) for v in variants.values())):
            chosen = [(p, *(variants[p.id][k] if k < len(variants[p.id]) else variants[p.id][1])) for p in parts]
            books.append((stem, k, chosen))
    return books


LAYOUT = _layout()


def _notebook(stem: str, chosen) -> nbformat.NotebookNode:
    return submission(stem, ((part, src) for part, _label, src, _points in chosen))


def _kernel_namespace(name: str, chosen) -> dict:
    """Run the cells as a kernel would: each cell its own file in linecache, one shared namespace."""
    ns: dict = {"__name__": "__main__"}
    for i, src in enumerate([SETUP, *[c[2] for c in chosen]]):
        filename = f"<agreement {name} cell {i}>"
        linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
        exec(compile(src, filename, "exec"), ns)  # noqa: S102 - the test's own answers
    return ns


SEEDS = (31337, 7, 20261205)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for stem, k, chosen in LAYOUT:
        nbformat.write(_notebook(stem, chosen), folder / f"{stem}_{k}.ipynb")
    by_seed, texts = {}, []
    for seed in SEEDS:  # one batch per seed: every notebook of every exercise in one grader run
        results = grade([folder], timeout=60, seed=seed, workers=2, names_from_files=True, mixed=True)
        out = tmp_path_factory.mktemp(f"gradebook{seed}")
        _, files = write_gradebook(results, out, EXERCISES)
        by_seed[seed] = {Path(r.file).stem: r for r in results}
        texts += [f.read_text(encoding="utf-8") for f in files]
    return by_seed, texts


@pytest.fixture(scope="module")
def checked():
    found = {}
    for stem, k, chosen in LAYOUT:
        ns = _kernel_namespace(f"{stem}_{k}", chosen)
        for part, *_ in chosen:
            found[(f"{stem}_{k}", part.id)] = run_check(part.id, ns.get(part.function), tier=1)
    return found


@pytest.mark.parametrize(("stem", "k"), [(s, k) for s, k, _ in LAYOUT])
def test_check_and_grader_give_the_points_the_rule_says(graded, checked, stem, k):
    by_seed, _ = graded
    chosen = next(c for s, kk, c in LAYOUT if (s, kk) == (stem, k))
    for seed, results in by_seed.items():
        r = results[f"{stem}_{k}"]
        assert r.exercise == stem, r.errors
        scores = {p.id: p for p in r.parts}
        for part, label, _src, expected in chosen:
            mine = checked[(f"{stem}_{k}", part.id)]
            got = scores[part.id]
            want = mine.score if expected == AGREE else expected
            assert (mine.score, got.score) == (want, want), (seed, part.id, label, mine.message, got.feedback)


def test_every_part_has_five_typical_mistakes():
    for part in (p for parts in EXERCISES.values() for p in parts):
        if part.id in ANSWERS:  # a part without answers is named by test_every_part_is_in_the_shared_answer_set
            assert len(_answers(part)[1:]) >= 5, part.id


def _solution_lines() -> set[str]:
    lines = set()
    for stem in EXERCISES:
        for src in _solution_cells(stem).values():
            body = src.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            lines |= {line.strip() for line in body.splitlines() if len(line.strip()) > 12}
    return lines


def test_no_feedback_contains_solution_code(graded, checked):
    by_seed, files = graded
    texts = [m.message for m in checked.values()] + files
    texts += [p.feedback for results in by_seed.values() for r in results.values() for p in r.parts]
    lines = _solution_lines()
    assert len(lines) > 40
    leaks = {(line, text[:80]) for text in texts for line in lines if line in text}
    assert not leaks, sorted(leaks)[:5]


def test_every_part_is_in_the_shared_answer_set():
    parts = [p.id for parts in EXERCISES.values() for p in parts]
    missing = [pid for pid in parts if pid not in ANSWERS]
    assert not missing, f"no shared answers for part(s) {', '.join(missing)}: add them to tests/exercise_answers.py"
    assert not set(ANSWERS) - set(parts), "answers for parts that do not exist"
    for pid, answers in ANSWERS.items():
        assert answers[0][0] == "stub" and len(answers) >= 2, pid
        assert get_part(pid).points > 0


REASONING_SWEPT = {"2.4", "3.3", "5.4", "6.4", "6.5"}  # parts whose sweep / numerical substitute is in the answer set


def test_sweeps_and_numerical_substitutes_score_less_than_half(graded):
    """A reasoning part's points need the reasoning: the sweep answer scores < half in the grader, every seed."""
    by_seed, _ = graded
    seen = set()
    for stem, k, chosen in LAYOUT:
        for part, label, _src, _expected in chosen:
            if label.startswith("sweep:"):
                seen.add(part.id)
                for results in by_seed.values():
                    got = {p.id: p.score for p in results[f"{stem}_{k}"].parts}[part.id]
                    assert got < part.points / 2, (part.id, label, got)
    assert seen == REASONING_SWEPT
