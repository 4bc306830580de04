"""``coursekit release``: generate the student copies of the exercises from their solution sources,
and (``--student-edition DIR``) the edition students receive.

``exercises/source/NN_name.ipynb`` (nbgrader format, solutions inside
``### BEGIN SOLUTION`` / ``### END SOLUTION``) becomes ``exercises/NN_name.ipynb``:

- each solution region becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError("Exercise 6.1: stable softmax")``, indented like the region;
- ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` regions are removed;
- outputs are cleared and execution counts set to null; locked cells stay locked
  (and become read-only in JupyterLab);
- the result is deterministic: releasing twice gives byte-identical files, so a
  test can fail when a committed copy is stale (``coursekit release --check``).

What the part's spec says is written from the spec, never typed: each task cell's heading
(``## 6.1 · Stable softmax (2 points)``) and its last line, the scoring rule
(``*Scoring: …*``, :func:`~coursekit.exercises.judging.scoring_rule`), the points of each check
cell, and "5 parts, 10 points" in the first cell. ``coursekit release`` writes them into the
sources too (only those lines change), so a source never states other points than its grader.
"""

from __future__ import annotations

import argparse
import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit.exercises.judging import from_scratch_words
from coursekit.exercises.spec import EXERCISES, Part, scoring_rule
from coursekit.notebooks import read_notebook
from coursekit.paths import course_root

BEGIN_SOLUTION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*$")
END_SOLUTION = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
BEGIN_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*$")
END_HIDDEN = re.compile(r"^[ \t]*### END HIDDEN TESTS[ \t]*$")
# words kept capitalised at the start of a stub message ("Exercise 5.1: Xavier uniform initializer")
_PROPER = {"Xavier", "He", "Glorot", "Kaiming", "LeCun", "ReLU"}


def stub_message(part: Part) -> str:
    """'Exercise 6.1: stable softmax': the part's title with a lower-case first letter (names kept)."""
    title = part.title
    first = title.split()[0] if title else ""
    if first and first not in _PROPER and not any(ch.isupper() for ch in first[1:]):
        title = title[0].lower() + title[1:]
    return f"Exercise {part.id}: {title}"


def stub_lines(part: Part, indent: str) -> list[str]:
    return [f"{indent}# YOUR CODE HERE", f'{indent}raise NotImplementedError("{stub_message(part)}")']


def strip_regions(source: str, part: Part | None, *, where: str) -> str:
    """Replace solution regions with stubs and drop hidden-test regions; ValueError on broken markers."""
    out: list[str] = []
    state = None  # None, "solution" or "hidden"
    for number, line in enumerate(source.split("\n"), start=1):
        begin = BEGIN_SOLUTION.match(line)
        if state is None:
            if begin:
                if part is None:
                    raise ValueError(f"{where}: a solution region in a cell that is not a solution cell")
                out.extend(stub_lines(part, begin.group("indent")))
                state = "solution"
            elif BEGIN_HIDDEN.match(line):
                state = "hidden"
            elif END_SOLUTION.match(line) or END_HIDDEN.match(line):
                raise ValueError(f"{where}, line {number}: {line.strip()!r} without its BEGIN marker")
            else:
                out.append(line)
        elif state == "solution":
            if END_SOLUTION.match(line):
                state = None
            elif begin or BEGIN_HIDDEN.match(line):
                raise ValueError(f"{where}, line {number}: a region starts inside a solution region")
        else:  # hidden
            if END_HIDDEN.match(line):
                state = None
            elif begin or BEGIN_HIDDEN.match(line):
                raise ValueError(f"{where}, line {number}: a region starts inside a hidden-tests region")
    if state is not None:
        raise ValueError(f"{where}: a {state} region is not closed (### END "
                         f"{'SOLUTION' if state == 'solution' else 'HIDDEN TESTS'} missing)")
    return "\n".join(out).rstrip("\n")


HEADING = re.compile(r"^## \d+\.\d+ · .*$")
SCORING = re.compile(r"^\*Scoring: .*\*$")
COUNTS = re.compile(r"\b\d+ parts?, \d+ points?\b")


def _points(n: int) -> str:
    return f"{n} point{'' if n == 1 else 's'}"


@functools.lru_cache(maxsize=256)
def _rule(part: Part) -> str:
    """The part's scoring rule as the task cell states it (drawing the public cases of a part takes up to
    0.3 s; a part is immutable, so one draw per part and process)."""
    return f"*{scoring_rule(part)}*"


def heading(part: Part) -> str:
    """The task cell's first line: '## 6.1 · Stable softmax (2 points)'."""
    return f"## {part.id} · {part.title} ({_points(part.points)})"


def _exercise(nb: nbformat.NotebookNode, name: str) -> str:
    exercise = nb.metadata.get("coursekit", {}).get("exercise")
    if exercise not in EXERCISES:
        raise ValueError(f"{name}: notebook metadata coursekit.exercise is {exercise!r}; "
                         f"expected one of {', '.join(EXERCISES)}")
    return exercise


def with_spec_text(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """``nb`` (a new notebook) with what the spec says written from the spec.

    Each part's task cell (``<grade_id>_task``) gets its heading as first line and its scoring rule as
    last line (added as a paragraph of its own if the cell has none); each check cell
    (``<grade_id>_check``) the part's points; the first cell's "N parts, M points" the counts.
    """
    parts = EXERCISES[_exercise(nb, name)]
    out = copy.deepcopy(nb)
    cells = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in out.cells}
    for part in parts:
        task = cells.get(f"{part.grade_id}_task")
        if task is None or task.cell_type != "markdown":
            raise ValueError(f"{name}: no markdown cell {part.grade_id}_task (the task of part {part.id})")
        lines = task.source.rstrip("\n").split("\n")
        if not HEADING.match(lines[0]):
            raise ValueError(f"{name}, {part.grade_id}_task: the cell starts with {lines[0][:60]!r}, "
                             f"not a heading '## {part.id} · ...'")
        lines[0] = heading(part)
        rule = _rule(part)
        if SCORING.match(lines[-1]):
            lines[-1] = rule
        else:
            lines += ["", rule]
        task.source = "\n".join(lines)
        check = cells.get(f"{part.grade_id}_check")
        if check is not None and check.metadata["nbgrader"].get("grade"):
            check.metadata["nbgrader"]["points"] = part.points
    if out.cells and out.cells[0].cell_type == "markdown":
        total = sum(p.points for p in parts)
        out.cells[0].source = COUNTS.sub(f"{len(parts)} part{'' if len(parts) == 1 else 's'}, {_points(total)}",
                                         out.cells[0].source, count=1)
    return out


def student_copy(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """The student copy of a solution notebook (a new notebook; ``nb`` is not changed)."""
    exercise = _exercise(nb, name)
    nb = with_spec_text(nb, name=name)
    parts = {p.grade_id: p for p in EXERCISES[exercise]}
    seen: set[str] = set()
    cells = []
    for index, cell in enumerate(nb.cells):
        new = copy.deepcopy(cell)
        meta = new.get("metadata", {})
        grading = meta.get("nbgrader", {})
        grade_id = grading.get("grade_id")
        where = f"{name}, cell {index} ({grade_id or 'no grade_id'})"
        if new.cell_type == "code":
            new.outputs = []
            new.execution_count = None
            part = None
            if grading.get("solution"):
                part = parts.get(grade_id)
                if part is None:
                    raise ValueError(f"{where}: a solution cell whose grade_id is not a part of {exercise} "
                                     f"(known: {', '.join(parts)})")
                seen.add(grade_id)
                if "### BEGIN SOLUTION" not in new.source:  # nbgrader's rule: the whole cell is the answer
                    new.source = "\n".join(stub_lines(part, ""))
            new.source = strip_regions(new.source, part, where=where)
        # keep only what a student copy needs: nbgrader's marks and tags, no execution records
        kept = {k: meta[k] for k in ("nbgrader", "tags") if k in meta}
        if grading.get("locked"):
            kept["editable"] = False  # JupyterLab honours these; nbgrader's own lock is the metadata above
            kept["deletable"] = False
        new.metadata = kept
        cells.append(new)
    missing = [g for g in parts if g not in seen]
    if missing:
        raise ValueError(f"{name}: no solution cell for {', '.join(missing)}")
    out = nbformat.v4.new_notebook()
    out.nbformat, out.nbformat_minor = nb.nbformat, nb.nbformat_minor
    out.cells = cells
    meta = nb.metadata
    out.metadata = {"kernelspec": dict(meta.get("kernelspec", {"name": "python3",
                                                               "display_name": "Python 3 (ipykernel)",
                                                               "language": "python"})),
                    # only the name: the version would change the copy with every Python release
                    "language_info": {"name": meta.get("language_info", {}).get("name", "python")},
                    "coursekit": dict(meta["coursekit"])}
    nbformat.validate(out)
    return out


def render(nb: nbformat.NotebookNode) -> bytes:
    """The exact bytes a notebook is stored as (sorted keys, one-space indent, final newline)."""
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


@dataclass
class Released:
    source: Path
    target: Path  # the student copy, or the source itself when its spec text was rewritten
    status: str  # "written", "unchanged", "stale" / "missing" (check mode), "orphan" (no source)


def release(source_dir: Path, out_dir: Path, *, check: bool = False,
            exercises: list[str] | None = None) -> list[Released]:
    """Generate (or with ``check=True`` only compare) the student copies of every source notebook."""
    sources = sorted(source_dir.glob("[0-9][0-9]_*.ipynb"))
    if exercises:
        wanted = {e.removesuffix(".ipynb") for e in exercises}
        unknown = wanted - {s.stem for s in sources}
        if unknown:
            raise ValueError(f"no solution source for {', '.join(sorted(unknown))} in {source_dir}")
        sources = [s for s in sources if s.stem in wanted]
    if not sources:
        raise FileNotFoundError(f"no solution notebooks (NN_*.ipynb) in {source_dir}")
    results = []
    for src in sources:
        nb = read_notebook(src)
        synced = render(with_spec_text(nb, name=src.name))
        if synced != src.read_bytes():  # the source states other points or rules than its spec
            if not check:
                src.write_bytes(synced)
            results.append(Released(src, src, "stale" if check else "written"))
        data = render(student_copy(nb, name=src.name))
        target = out_dir / src.name
        current = target.read_bytes() if target.is_file() else None
        if current == data:
            status = "unchanged"
        elif check:
            status = "missing" if current is None else "stale"
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            status = "written"
        results.append(Released(src, target, status))
    if not exercises:  # a student copy whose source is gone would mislead students: report it
        names = {s.name for s in sources}
        for orphan in sorted(out_dir.glob("[0-9][0-9]_*.ipynb")):
            if orphan.name not in names:
                results.append(Released(source_dir / orphan.name, orphan, "orphan"))
    return results


# ----------------------------------------------------------------------------------------------
# The student edition: what students receive, without the solutions and the hidden checks
# ----------------------------------------------------------------------------------------------

EDITION_FILES = ("environment.yml", "pyproject.toml", "constraints.txt", "Makefile", ".gitignore", "LICENSE")
EDITION_SKIP = ("grading",)  # coursekit sub-packages only instructors use (the grader judges hidden cases)

STUDENT_README = """# Neural-network foundations: the course

Chapters in `notebooks/` ({chapters}), one exercise notebook per chapter in
`exercises/`{solutions}.

## Open the course

    make lab

sets up a Python environment in `.venv/` (Python 3.11; the first time about 2–7 minutes, PyTorch is
most of it) and opens JupyterLab on your working copies in `my-work/`. With conda instead:
`conda env create -f environment.yml`, then `coursekit lab`.

## Exercises

Fill in the cells marked `# YOUR CODE HERE` and run the check cell below each part:
`check("6.1", softmax)` prints which checks pass, the points, and a hint after a failure. The
check runs the notebook's public cases; your instructor grades the same kinds of cases with other
inputs, so write each function for any valid input. A part marked *from scratch* may use {allowed}
only.
"""


def _strip_hidden(source: str, names: tuple[str, ...], where: str) -> str:
    """``source`` without the top-level definitions in ``names`` (and the comments just above them).

    Each one becomes ``name = hidden("name")``, so the module still imports; calling it says that it
    belongs to the hidden checks.
    """
    import ast

    tree = ast.parse(source)
    lines = source.split("\n")
    found: dict[str, tuple[int, int]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        hit = [t for t in targets if t in names]
        if hit:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            found[hit[0]] = (start, node.end_lineno)
    missing = set(names) - set(found)
    if missing:
        raise ValueError(f"{where}: HIDDEN names {', '.join(sorted(missing))} are not defined at top level")
    out = []
    skip_until = -1
    starts = {start: (name, end) for name, (start, end) in found.items()}
    for i, line in enumerate(lines):
        if i < skip_until:
            continue
        if i in starts:
            name, end = starts[i]
            out.append(f'{name} = hidden("{name}")  # in the instructor\'s repository only')
            skip_until = end
            continue
        out.append(line)
    text = _without_computations("\n".join(out), where)
    # the parts' generators: the edition replays the stored public cases instead (coursekit.exercises.spec)
    text = re.sub(r"\bcases=(\w+)", lambda m: 'cases=hidden("cases")' if m.group(1) in names else m.group(0), text)
    # the list of hidden names itself, and the placeholders nothing refers to any more, go too
    text = re.sub(r"^# not in the student edition: .*\nHIDDEN = \((?:[^()]|\n)*?\)\n", "", text, flags=re.M)
    kept = []
    for line in text.split("\n"):
        m = re.match(r'^(\w+) = hidden\("\w+"\)', line)
        if m and len(re.findall(rf"\b{re.escape(m.group(1))}\b", text)) == 2:
            continue
        kept.append(line)
    text = "\n".join(kept)
    marker = "from coursekit.exercises.judging import "
    if marker not in text:
        raise ValueError(f"{where}: no import from coursekit.exercises.judging to add hidden() to")
    return text.replace(marker, "from coursekit.exercises.judging import hidden\n" + marker, 1)


def _without_computations(source: str, where: str) -> str:
    """Every ``reference(case, <how to compute it>)`` becomes ``reference(case, None)``.

    In the student edition the answer comes from the stored case; the code that computes it, and the
    names it uses, are not shipped.
    """
    import ast

    tree = ast.parse(source)
    lines = source.split("\n")
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "reference" and len(node.args) == 2:
            arg = node.args[1]
            if arg.lineno != arg.end_lineno:
                raise ValueError(f"{where}, line {arg.lineno}: keep reference()'s computation on one line")
            spans.append((arg.lineno - 1, arg.col_offset, arg.end_col_offset))
    for row, start, end in sorted(spans, reverse=True):
        lines[row] = lines[row][:start] + "None" + lines[row][end:]
    return "\n".join(lines)


def public_cases() -> dict[str, list]:
    """Every part's public cases (``PUBLIC_SEED``), each carrying its reference answer where the judge needs one."""
    import numpy as np

    from coursekit.exercises.judging import PUBLIC_SEED, with_stored_answer
    from coursekit.exercises.spec import all_parts

    out = {}
    for part in all_parts():
        cases = part.cases(np.random.default_rng(PUBLIC_SEED))
        out[part.id] = [with_stored_answer(part, c) for c in cases]
    return out


def student_edition(root: Path, out: Path, *, with_solutions: bool = False) -> list[Path]:
    """Write the student edition of the course at ``root`` into ``out`` (new or empty); return its files.

    The chapters, fresh student copies of the exercises, coursekit with the public checks only
    (case generators and reference answers replaced by the public cases stored as data, no grader),
    the environment files and a README for students. ``with_solutions`` adds the solution
    notebooks under ``exercises/solutions/`` (a self-study edition).
    """
    import pickle
    import shutil

    from coursekit.exercises.parts import MODULES

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty: the student edition is written into a new or empty folder")
    if out.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"{out} is inside the course at {root}: choose a folder outside it")
    out.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(root / "notebooks", out / "notebooks", ignore=ignore)
    release(root / "exercises" / "source", out / "exercises")
    if with_solutions:
        (out / "exercises" / "solutions").mkdir()
        for src in sorted((root / "exercises" / "source").glob("[0-9][0-9]_*.ipynb")):
            shutil.copy2(src, out / "exercises" / "solutions" / src.name)

    def skip(folder: str, names: list[str]) -> set[str]:
        skipped = set(ignore(folder, names))
        if Path(folder).resolve() == (root / "coursekit").resolve():
            skipped |= set(EDITION_SKIP) & set(names)
        return skipped

    shutil.copytree(root / "coursekit", out / "coursekit", ignore=skip)
    for module in MODULES:
        path = out / "coursekit" / "exercises" / "parts" / (module.__name__.rsplit(".", 1)[1] + ".py")
        path.write_text(_strip_hidden(path.read_text(encoding="utf-8"), tuple(module.HIDDEN), str(path)),
                        encoding="utf-8")
    with (out / "coursekit" / "data" / "public_cases.pkl").open("wb") as f:
        pickle.dump(public_cases(), f, protocol=4)
    for name in EDITION_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    solutions = (" (and the solutions in `exercises/solutions/`, for self-study: try each part first)"
                 if with_solutions else "")
    stems = [stem.replace("_", " ") for stem in EXERCISES]  # "01 neurons", "02 fully connected"
    chapters = f"{stems[0]} … {stems[-1]}" if len(stems) > 1 else stems[0]
    readme = STUDENT_README.format(chapters=chapters, solutions=solutions, allowed=from_scratch_words())
    (out / "README.md").write_text(readme, encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())


def run(args: argparse.Namespace) -> int:
    if args.student_edition:
        files = student_edition(course_root(), Path(args.student_edition), with_solutions=args.with_solutions)
        kind = "self-study edition (with solutions)" if args.with_solutions else "student edition"
        print(f"wrote the {kind}: {len(files)} files in {args.student_edition}")
        return 0
    if args.with_solutions:
        raise ValueError("--with-solutions goes with --student-edition DIR")
    root = None if (args.source and args.out) else course_root()
    source_dir = Path(args.source) if args.source else root / "exercises" / "source"
    out_dir = Path(args.out) if args.out else root / "exercises"
    results = release(source_dir, out_dir, check=args.check, exercises=args.exercises)
    for r in results:
        print(f"{r.status:>9}  {r.target}")
    orphans = [r for r in results if r.status == "orphan"]
    if orphans:
        print(f"{len(orphans)} student notebook(s) without a solution source: delete them or add the source")
    bad = [r for r in results if r.status in ("stale", "missing")]
    if bad:
        print(f"{len(bad)} student cop{'y is' if len(bad) == 1 else 'ies are'} out of date: "
              "run 'coursekit release' and commit the result")
    return 1 if bad or (orphans and args.check) else 0


def register(sub) -> None:
    p = sub.add_parser("release", help="(instructors) generate the student exercise notebooks from the solutions")
    p.add_argument("exercises", nargs="*", help="exercise names such as 06_softmax (default: all)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a student copy is missing or differs from a fresh release")
    p.add_argument("--source", help="folder of solution notebooks (default: exercises/source)")
    p.add_argument("--out", help="folder for the student copies (default: exercises)")
    p.add_argument("--student-edition", metavar="DIR",
                   help="write what students receive into DIR (new or empty): chapters, student copies, coursekit "
                        "with the public checks only, environment files, a README; no solution, no hidden check")
    p.add_argument("--with-solutions", action="store_true",
                   help="with --student-edition: add the solution notebooks (a self-study edition)")
    p.set_defaults(func=run)
