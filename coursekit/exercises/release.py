"""``coursekit release``: generate the student copies of the exercises from their solution sources.

``exercises/source/NN_name.ipynb`` (nbgrader format, solutions inside
``### BEGIN SOLUTION`` / ``### END SOLUTION``) becomes ``exercises/NN_name.ipynb``:

- each solution region becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError("Exercise 6.1: stable softmax")``, indented like the region;
- ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` regions are removed;
- outputs are cleared and execution counts set to null; locked cells stay locked
  (and become read-only in JupyterLab);
- the result is deterministic: releasing twice gives byte-identical files, so a
  test can fail when a committed copy is stale (``coursekit release --check``).
"""

from __future__ import annotations

import argparse
import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit.exercises.spec import EXERCISES, Part
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


def student_copy(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """The student copy of a solution notebook (a new notebook; ``nb`` is not changed)."""
    exercise = nb.metadata.get("coursekit", {}).get("exercise")
    if exercise not in EXERCISES:
        raise ValueError(f"{name}: notebook metadata coursekit.exercise is {exercise!r}; "
                         f"expected one of {', '.join(EXERCISES)}")
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
    target: Path
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
        data = render(student_copy(read_notebook(src), name=src.name))
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


def run(args: argparse.Namespace) -> int:
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
    p.set_defaults(func=run)
