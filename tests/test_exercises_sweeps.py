"""Reasoning parts 3.4, 4.2, 4.3 and 5.5 cannot be passed without the reasoning.

For each part, the answers of a student who skips the reasoning: a numerical substitute (a bisection, a
search for the weights, random features fitted by least squares, gradient descent), a table of the public
cases with a fallback, a rule fitted to the kinds of case the notebook lists, and a loop over ``check()``
left in the notebook. Every one is graded by the real ``coursekit grade`` (bubblewrap sandbox, per-call
time limits) under three batch seeds and must score less than half of the part's points, while the
reference solution scores full. A loop over ``check()`` scores the same in the grader as in ``check()``.
The other reasoning parts (2.4, 3.3, 5.4, 6.4, 6.5) are covered in tests/test_exercises_agreement.py.

Cost: three grader batches of 16 notebooks (four answers run into the 2 s limit once per seed), about
25 s on two cores.
"""

from __future__ import annotations

import linecache
import math
from decimal import Decimal, localcontext
from pathlib import Path

import nbformat
import numpy as np
import pytest
from exercise_answers import SETUP, stub, submission  # tests/ is on sys.path

from coursekit.exercises import PUBLIC_SEED
from coursekit.exercises.feedback import run_check
from coursekit.exercises.spec import EXERCISES, get_part
from coursekit.grading.grader import grade

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "exercises" / "source"
SEEDS = (11, 2026, 90210)
PARTS = ("3.4", "4.2", "4.3", "5.5")


def fn(signature: str, body: str) -> str:
    return f"def {signature}:\n" + "".join(f"    {line}\n" for line in body.strip("\n").split("\n"))


def _solution_cells(stem: str) -> dict[str, str]:
    nb = nbformat.read(SOURCES / f"{stem}.ipynb", as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    return {p.id: by_id[p.grade_id] for p in EXERCISES[stem]}


def _solution(part_id: str):
    part = get_part(part_id)
    ns: dict = {"np": np}
    exec(_solution_cells(part.exercise)[part_id], ns)  # noqa: S102 - the course's own solution
    return ns[part.function]


def _public_cases(part_id: str):
    return get_part(part_id).cases(np.random.default_rng(PUBLIC_SEED))


# ---------------------------------------------------------------------------------------------
# The answers without the reasoning
# ---------------------------------------------------------------------------------------------

BISECTION = fn("saturation_point(name, eps)", """
# bisection on the derivative itself, for every threshold at once, written without cancellation
def derivative(z):
    if name == 'sigmoid':
        e = np.exp(-z)
        return e / (1 + e) ** 2
    e = np.exp(-2 * z)
    return 4 * e / (1 + e) ** 2
eps = np.asarray(eps, dtype=float)
lo, hi = np.zeros_like(eps), np.full_like(eps, 60.0)
for _ in range(200):
    mid = (lo + hi) / 2
    above = derivative(mid) > eps
    lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
z = (lo + hi) / 2
return float(z) if z.ndim == 0 else z""")

LOG_BISECTION = fn("saturation_point(name, eps)", """
# bisection on the log of the derivative: finite and accurate far out, as the tiny thresholds need
def log_derivative(z):
    if name == 'sigmoid':
        return -z - 2 * np.log1p(np.exp(-z))
    return np.log(4) - 2 * z - 2 * np.log1p(np.exp(-2 * z))
target = np.log(np.asarray(eps, dtype=float))
lo, hi = np.zeros_like(target), np.full_like(target, 60.0)
for _ in range(200):
    mid = (lo + hi) / 2
    above = log_derivative(mid) > target
    lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
z = (lo + hi) / 2
return float(z) if z.ndim == 0 else z""")

DECIMAL_BISECTION = """
from decimal import Decimal, localcontext


def _one(name, eps):
    # bisection in 50-digit decimal arithmetic: accurate everywhere, a few milliseconds per threshold
    with localcontext() as ctx:
        ctx.prec = 50
        target = Decimal(float(eps))

        def derivative(z):
            e = (-z).exp() if name == 'sigmoid' else (-2 * z).exp()
            return e / (1 + e) ** 2 if name == 'sigmoid' else 4 * e / (1 + e) ** 2

        lo, hi = Decimal(0), Decimal(60)
        for _ in range(110):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if derivative(mid) > target else (lo, mid)
        return float((lo + hi) / 2)


def saturation_point(name, eps):
    if np.ndim(eps) == 0:
        return _one(name, eps)
    return np.array([_one(name, e) for e in np.ravel(eps)]).reshape(np.shape(eps))
"""

LOOP_3_4 = """
def bisection(iterations):
    def saturation_point(name, eps):
        eps = np.asarray(eps, dtype=float)
        lo, hi = np.zeros_like(eps), np.full_like(eps, 60.0)
        for _ in range(iterations):
            mid = (lo + hi) / 2
            e = np.exp(-mid) if name == 'sigmoid' else np.exp(-2 * mid)
            d = e / (1 + e) ** 2 if name == 'sigmoid' else 4 * e / (1 + e) ** 2
            lo, hi = np.where(d > eps, mid, lo), np.where(d > eps, hi, mid)
        return (lo + hi) / 2
    return saturation_point


for iterations in (20, 40, 60, 100):
    saturation_point = bisection(iterations)
    if check("3.4", saturation_point, quiet=True).passed:
        break
"""

SEARCH_4_2 = fn("low_rank_stack(sizes, rank)", """
# numerical search: random layers, then gradient steps on the last layer that shrink the product's
# trailing singular values until the product has the rank asked for
rng = np.random.default_rng(0)
mats = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
first = mats[0]
for W in mats[1:-1]:
    first = W @ first
last = mats[-1]
lr = 1.0 / np.linalg.norm(first, 2) ** 2
for _ in range(20000):
    U, s, Vt = np.linalg.svd(last @ first, full_matrices=False)
    if s[rank] < 1e-12 * s[0]:
        break
    last = last - lr * (U[:, rank:] * s[rank:]) @ Vt[rank:] @ first.T
return mats[:-1] + [last]""")

LOOP_4_2 = """
for shift in range(8):  # which hidden directions the last layer reads, tried with check()
    def low_rank_stack(sizes, rank, shift=shift):
        mats = [np.eye(o, i) for i, o in zip(sizes[:-1], sizes[1:])]
        mats[-1] = np.roll(mats[-1], shift, axis=1)
        return mats
    if check("4.2", low_rank_stack, quiet=True).passed:
        break
"""

FEATURES_4_3 = fn("xor_relu(low, high)", """
# random hidden units, output layer fitted to XOR on the four inputs by least squares
X = np.array([[low, low], [low, high], [high, low], [high, high]], dtype=float)
rng = np.random.default_rng(0)
W1 = rng.normal(size=(16, 2))
b1 = rng.normal(size=16) * (1 + abs(low) + abs(high))
H = np.hstack([np.maximum(X @ W1.T + b1, 0), np.ones((4, 1))])
c = np.linalg.lstsq(H, np.array([0.0, 1.0, 1.0, 0.0]), rcond=None)[0]
return W1, b1, c[None, :16], c[16:]""")

DESCENT_4_3 = fn("xor_relu(low, high)", """
# gradient descent on the squared error of a 2-8-1 ReLU network, restarted until it fits
X = np.array([[low, low], [low, high], [high, low], [high, high]], dtype=float)
t = np.array([0.0, 1.0, 1.0, 0.0])
for seed in range(20):
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(8, 2)), rng.normal(size=8) * 0.1
    W2, b2 = rng.normal(size=(1, 8)) / np.sqrt(8), np.zeros(1)
    lr = 0.1 / (1 + np.abs(X).max()) ** 2
    for _ in range(5000):
        z = X @ W1.T + b1
        h = np.maximum(z, 0)
        err = h @ W2[0] + b2[0] - t
        if np.abs(err).max() < 1e-7:
            return W1, b1, W2, b2
        gz = np.outer(err, W2[0]) * (z > 0) / 2
        W2[0] -= lr * err @ h / 2
        b2[0] -= lr * err.sum() / 2
        W1 -= lr * gz.T @ X
        b1 -= lr * gz.sum(axis=0)
return W1, b1, W2, b2""")

LOOP_4_3 = """
for scale in (0.5, 1.0, 2.0, 10.0, 100.0):  # one scale for the weights, tried with check()
    def xor_relu(low, high, scale=scale):
        return (scale * np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2), np.array([[1.0, 1.0]]), np.zeros(1))
    if check("4.3", xor_relu, quiet=True).passed:
        break
"""

SECOND_LAYER_5_5 = fn("distinct_units(W1, b1, W2, b2, X, y, lr, steps)",
                      "return len(np.unique(np.asarray(W2).T, axis=0))  # units told apart by their outgoing weights")

ONE_OR_WIDTH_5_5 = fn("distinct_units(W1, b1, W2, b2, X, y, lr, steps)", """
# the rule the listed kinds suggest: a constant start keeps one unit, anything else keeps them all
constant = np.ptp(W1, axis=0).max() == 0 and np.ptp(W2, axis=1).max() == 0
return 1 if constant else W1.shape[0]""")

TIE_BREAK_5_5 = fn("distinct_units(W1, b1, W2, b2, X, y, lr, steps)", """
# incoming weights and biases decide; only when they are all alike do the outgoing weights tell units apart
incoming = len(np.unique(np.hstack([W1, np.asarray(b1)[:, None]]), axis=0))
return incoming if incoming > 1 else len(np.unique(np.asarray(W2).T, axis=0))""")

LOOP_5_5 = """
for tol in (1e-12, 1e-8, 1e-4, 1e-2):  # a tolerance for "the same row", tried with check()
    def distinct_units(W1, b1, W2, b2, X, y, lr, steps, tol=tol):
        kept = []
        for row in W1:
            if not any(np.max(np.abs(row - r)) <= tol for r in kept):
                kept.append(row)
        return len(kept)
    if check("5.5", distinct_units, quiet=True).passed:
        break
"""


def _table_4_2() -> str:
    """The public cases' answers (the solution's), stored as their nonzero entries; the identity stack otherwise."""
    solve = _solution("4.2")
    table = {}
    for case in _public_cases("4.2"):
        sizes, rank = case.args
        table[(tuple(sizes), rank)] = [(W.shape, np.nonzero(W)[0].tolist(), np.nonzero(W)[1].tolist())
                                       for W in solve(list(sizes), rank)]
    return fn("low_rank_stack(sizes, rank)", f"""
table = {table!r}  # the public cases, memorised
if (tuple(sizes), rank) not in table:
    return [np.eye(o, i) for i, o in zip(sizes[:-1], sizes[1:])]
mats = []
for shape, rows, cols in table[(tuple(sizes), rank)]:
    W = np.zeros(shape)
    W[rows, cols] = 1.0
    mats.append(W)
return mats""")


def _table_4_3() -> str:
    """The public cases' weights (the solution's), to 17 digits; weights for 0 and 1 otherwise."""
    solve = _solution("4.3")
    table = {case.args: [np.asarray(a, dtype=float).tolist() for a in solve(*case.args)]
             for case in _public_cases("4.3")}
    return fn("xor_relu(low, high)", f"""
table = {table!r}  # the public cases, memorised
if (low, high) in table:
    return tuple(np.array(a) for a in table[(low, high)])
return (np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2), np.array([[1.0, 1.0]]), np.zeros(1))""")


def _table_5_5() -> str:
    """The public cases' counts (the solution's), keyed by the shapes and the learning rate; the width otherwise."""
    solve = _solution("5.5")
    table = {(c.args[0].shape, c.args[4].shape, c.args[6]): solve(*c.args) for c in _public_cases("5.5")}
    return fn("distinct_units(W1, b1, W2, b2, X, y, lr, steps)", f"""
table = {table!r}  # the public cases, memorised
return table.get((np.shape(W1), np.shape(X), lr), np.shape(W1)[0])""")


def _answers() -> dict[str, list[tuple[str, str]]]:
    """part id -> [(label, cell source)]; a label starting with 'loop' is a check() loop, 'table' a lookup."""
    return {
        "3.4": [("bisection on the derivative", BISECTION), ("bisection on the log of the derivative", LOG_BISECTION),
                ("bisection in 50-digit decimal arithmetic", DECIMAL_BISECTION),
                ("loop over check(): bisection with more and more steps", LOOP_3_4)],
        "4.2": [("search: gradient steps on the product's singular values", SEARCH_4_2),
                ("table of the public cases, identity layers otherwise", _table_4_2()),
                ("loop over check(): which directions the last layer reads", LOOP_4_2)],
        "4.3": [("random hidden units, output layer by least squares", FEATURES_4_3),
                ("gradient descent on the four inputs", DESCENT_4_3),
                ("table of the public cases, weights for 0 and 1 otherwise", _table_4_3()),
                ("loop over check(): one scale for the weights", LOOP_4_3)],
        "5.5": [("count the second layer's distinct columns", SECOND_LAYER_5_5),
                ("a rule fitted to the kinds: 1 for a constant start, else the width", ONE_OR_WIDTH_5_5),
                ("table of the public cases, the width otherwise", _table_5_5()),
                ("first-layer rows, second-layer columns as a tie-break", TIE_BREAK_5_5),
                ("loop over check(): a tolerance for equal rows of W1", LOOP_5_5)],
    }


ANSWERS = _answers()


def _layout() -> list[tuple[str, str, dict[str, tuple[str, str]]]]:
    """(notebook name, exercise, {part id: (label, source)}): the reference first, then answer k of every part."""
    books = []
    for stem in ("03_activations", "04_linear_collapse", "05_initialization"):
        mine = [p for p in EXERCISES[stem] if p.id in PARTS]
        solutions = _solution_cells(stem)
        books.append((f"{stem}_reference", stem, {p.id: ("reference solution", solutions[p.id]) for p in mine}))
        for k in range(max(len(ANSWERS[p.id]) for p in mine)):
            books.append((f"{stem}_{k}", stem, {p.id: ANSWERS[p.id][k] for p in mine if k < len(ANSWERS[p.id])}))
    return books


LAYOUT = _layout()


def _cells(stem: str, chosen: dict[str, tuple[str, str]]) -> list[tuple[object, str]]:
    """Every part of the exercise, in order: the chosen answer, or the stub."""
    out = []
    for part in EXERCISES[stem]:
        src = chosen[part.id][1] if part.id in chosen else stub(part.function, part.id, "*args, **kwargs")
        out.append((part, src))
    return out


def _notebook(stem: str, chosen) -> nbformat.NotebookNode:
    return submission(stem, _cells(stem, chosen))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweeps")
    for name, stem, chosen in LAYOUT:
        nbformat.write(_notebook(stem, chosen), folder / f"{name}.ipynb")
    by_seed = {}
    for seed in SEEDS:  # one batch per seed, every notebook in it
        results = grade([folder], timeout=60, seed=seed, workers=2, names_from_files=True, mixed=True)
        by_seed[seed] = {Path(r.file).stem: {p.id: p for p in r.parts} for r in results}
    return by_seed


def test_every_part_here_has_a_numerical_substitute_a_table_and_a_check_loop():
    for pid in PARTS:
        labels = [label for label, _ in ANSWERS[pid]]
        assert sum(label.startswith("loop over check()") for label in labels) == 1, pid
        assert any(label.startswith("table") for label in labels) or pid == "3.4", pid  # 3.4's answer is a real number
        assert len(labels) >= 3, pid


@pytest.mark.parametrize(("name", "pid"), [(n, p) for n, _, chosen in LAYOUT for p in chosen])
def test_the_grader_gives_the_reasoning_full_points_and_the_rest_less_than_half(graded, name, pid):
    part = get_part(pid)
    label = next(chosen for n, _, chosen in LAYOUT if n == name)[pid][0]
    for seed, results in graded.items():
        got = results[name][pid]
        if label == "reference solution":
            assert got.score == part.points, (seed, pid, got.feedback)
        else:
            assert got.score < part.points / 2, (seed, pid, label, got.score, got.feedback)


def _kernel_namespace(name: str, sources: list[str]) -> dict:
    """Run the cells as a kernel would: each cell its own file in linecache, one namespace."""
    ns: dict = {"__name__": "__main__"}
    for i, src in enumerate([SETUP, *sources]):
        filename = f"<sweeps {name} cell {i}>"
        linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
        exec(compile(src, filename, "exec"), ns)  # noqa: S102 - the test's own answers
    return ns


@pytest.mark.parametrize("pid", PARTS)
def test_a_check_loop_left_in_the_notebook_scores_the_same_in_check_and_in_the_grader(graded, pid):
    part = get_part(pid)
    label, src = next((lab, s) for lab, s in ANSWERS[pid] if lab.startswith("loop over check()"))
    name = next(n for n, _, chosen in LAYOUT if chosen.get(pid, ("",))[0] == label)
    ns = _kernel_namespace(name, [src])
    mine = run_check(pid, ns[part.function], tier=1)
    for seed, results in graded.items():
        assert results[name][pid].score == mine.score, (seed, pid, mine.message, results[name][pid].feedback)


@pytest.mark.parametrize("pid", ["4.2", "4.3", "5.5"])
def test_the_tables_are_right_on_the_public_cases_and_check_says_the_grader_differs(pid):
    """The lookup answers are real tables: check() gives them the public cases' full points, but does not
    let them pass silently. 4.2 and 4.3 are judged by properties, so check() runs new cases of the same
    families and says the answer fails on them; 5.5 is judged against reference answers, which only the
    public cases carry, so check() says that the grader uses other inputs. The grader gives them less than
    half (test_the_grader_gives_the_reasoning_full_points_and_the_rest_less_than_half)."""
    from coursekit.exercises.feedback import OTHER_INPUTS_NOTE

    label, src = next((lab, s) for lab, s in ANSWERS[pid] if lab.startswith("table"))
    ns = _kernel_namespace(f"table {pid}", [src])
    for seed in SEEDS:
        result = run_check(pid, ns[get_part(pid).function], tier=1, fresh_seed=seed)
        assert result.score == get_part(pid).points, (label, result.message)
        if pid == "5.5":
            assert result.fresh_failures is None and OTHER_INPUTS_NOTE in result.message, result.message
        else:
            assert not result.passed and result.fresh_failures, (seed, label, result.message)
            assert "fails on new inputs of the same kinds" in result.message, result.message


def _exact_saturation(name: str, eps: float) -> float:
    """z > 0 where the derivative is eps, in 60-digit decimal arithmetic from the definitions."""
    with localcontext() as ctx:
        ctx.prec = 60
        e = Decimal(eps)
        if name == "sigmoid":  # s (1 - s) = eps, s > 1/2, z = ln(s / (1 - s))
            s = (1 + (1 - 4 * e).sqrt()) / 2
            return float((s / (1 - s)).ln())
        t = (1 - e).sqrt()  # 1 - t^2 = eps, z = artanh(t)
        return float(((1 + t) / (1 - t)).ln() / 2)


def test_the_saturation_cases_separate_the_inversion_from_a_bisection():
    """On 10 draws of every 3.4 case: the judge's reference is exact to 1e-8 (checked against 60-digit decimal
    arithmetic on 100 thresholds of each array), a float bisection is off by 1e-5 or more just below the peak
    (ten times the judge's 1e-6) and exact far out."""
    from coursekit.exercises.parts import ex03

    bisection = _kernel_namespace("bisection", [BISECTION])["saturation_point"]
    for seed in range(10):
        for case in get_part("3.4").cases(np.random.default_rng(seed)):
            name, eps = case.args
            ours, theirs = ex03._saturation_reference(name, eps), bisection(name, eps)
            if case.defining:
                assert np.shape(eps) == (ex03.PEAK_THRESHOLDS,)
                for k in range(0, ex03.PEAK_THRESHOLDS, ex03.PEAK_THRESHOLDS // 100):
                    assert math.isclose(ours[k], _exact_saturation(name, eps[k]), rel_tol=1e-8), (seed, case.label)
                assert np.min(np.abs(theirs / ours - 1)) > 1e-5, (seed, case.label)
            else:
                exact = _exact_saturation(name, eps)
                assert math.isclose(ours, exact, rel_tol=1e-8) and math.isclose(theirs, exact, rel_tol=1e-9)
