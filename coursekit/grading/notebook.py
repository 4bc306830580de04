"""Reading a submission: its code cells, its exercise, where each part's answer is.

Everything here is static: the grader's own process reads the notebook as
JSON and parses code with :mod:`ast`, but never runs it. Points never come
from the notebook (its metadata can be edited); only from the spec.
"""

from __future__ import annotations

import ast
import json
import re
import symtable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Modules a from-scratch part must not use, and names that reach them dynamically.
FORBIDDEN_MODULES = frozenset(
    {"torch", "scipy", "coursekit", "sklearn", "jax", "tensorflow", "importlib", "gc", "builtins"}
)
DYNAMIC_NAMES = frozenset(
    {"__import__", "eval", "exec", "compile", "globals", "vars", "locals", "__builtins__"}
)
DYNAMIC_ATTRS = frozenset({"__subclasses__", "__globals__", "__builtins__", "__import__", "__code__"})


class SubmissionError(ValueError):
    """A file that cannot be graded at all (not a notebook, unreadable)."""


@dataclass
class Cell:
    index: int  # 1-based position among all cells, as a student counts them
    source: str  # Python source (IPython magics turned into calls)
    metadata: dict = field(default_factory=dict)
    _tree: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._tree = _UNPARSED

    @property
    def grade_id(self) -> str | None:
        nbg = self.metadata.get("nbgrader")
        gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
        return gid if isinstance(gid, str) else None


@dataclass
class Submission:
    path: Path
    cells: list[Cell]  # code cells, in order
    metadata: dict

    @property
    def exercise(self) -> str | None:
        ck = self.metadata.get("coursekit")
        ex = ck.get("exercise") if isinstance(ck, dict) else None
        return ex if isinstance(ex, str) else None


def _text(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    raise SubmissionError("a cell's source is neither text nor a list of lines")


_transformer = None


def python_source(text: str) -> str:
    """The cell as plain Python: ``%magic`` and ``!shell`` lines become ``get_ipython()`` calls."""
    global _transformer
    if not re.search(r"^\s*[%!]|=\s*[%!]", text, flags=re.M):
        return text
    try:
        if _transformer is None:
            from IPython.core.inputtransformer2 import TransformerManager

            _transformer = TransformerManager()
        return _transformer.transform_cell(text)
    except Exception:  # no IPython, or a cell it cannot transform: comment the magic lines out
        return re.sub(r"^(\s*)([%!].*)$", r"\1pass  # \2", text, flags=re.M)


def read_submission(path: Path) -> Submission:
    """Read a notebook leniently (any nbformat 4 JSON with cells); SubmissionError if it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > 50 * 2**20:
        raise SubmissionError(f"not a notebook: the file is {len(raw) / 2**20:.0f} MB")
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook: the file is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise SubmissionError(f"not a notebook: the file is not valid JSON ({exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("not a notebook: the JSON has no list of cells (nbformat 4)")
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    cells = []
    for i, c in enumerate(nb["cells"], start=1):
        if not isinstance(c, dict):
            raise SubmissionError(f"not a notebook: cell {i} is not a JSON object")
        if c.get("cell_type") != "code":
            continue
        meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
        try:
            text = _text(c.get("source", ""))
        except SubmissionError as exc:
            raise SubmissionError(f"not a notebook: cell {i}: {exc}") from None
        cells.append(Cell(i, python_source(text), meta))
    return Submission(path, cells, metadata)


_UNPARSED = object()


def parse(cell: Cell) -> ast.Module | None:
    """The cell's syntax tree (parsed once), or None if it does not compile."""
    if cell._tree is not _UNPARSED:
        return cell._tree
    try:
        cell._tree = ast.parse(cell.source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        cell._tree = None
    return cell._tree


def is_check_cell(cell: Cell) -> bool:
    """A cell that only calls ``check(...)`` (instant feedback) or is an nbgrader test cell.

    Such cells are not run when grading: they would only repeat the public checks.
    """
    nbg = cell.metadata.get("nbgrader")
    if isinstance(nbg, dict) and nbg.get("grade") is True and nbg.get("solution") is not True:
        return True
    tree = parse(cell)
    if tree is None or not tree.body:
        return False
    for stmt in tree.body:
        calls = [
            n for n in ast.walk(stmt)
            if isinstance(n, ast.Call)
            and (getattr(n.func, "id", None) == "check" or getattr(n.func, "attr", None) == "check")
        ]
        if not calls or not isinstance(stmt, (ast.Expr, ast.Assign, ast.Assert)):
            return False
    return True


# ----------------------------------------------------------------------------
# Bindings: which top-level statements give a name its value
# ----------------------------------------------------------------------------


@dataclass
class Binding:
    cell: Cell
    node: ast.AST  # the statement (or expression) whose code decides the name's value
    module: str | None = None  # for imports: the dotted module the name comes from


def _targets(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def bindings(cells: list[Cell]) -> tuple[dict[str, list[Binding]], list[Binding]]:
    """name -> the module-level statements binding it; and the star imports."""
    found: dict[str, list[Binding]] = {}
    stars: list[Binding] = []

    def add(name: str, b: Binding) -> None:
        found.setdefault(name, []).append(b)

    def visit(stmts: list[ast.stmt], cell: Cell) -> None:
        for node in stmts:
            if isinstance(node, ast.Import):
                for a in node.names:
                    add(a.asname or a.name.split(".")[0], Binding(cell, node, a.name))
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                for a in node.names:
                    if a.name == "*":
                        stars.append(Binding(cell, node, base))
                    else:
                        add(a.asname or a.name, Binding(cell, node, f"{base}.{a.name}"))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                add(node.name, Binding(cell, node))
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for name in _targets(node):
                    add(name, Binding(cell, node))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                for name in _targets(node.target):
                    add(name, Binding(cell, node.iter))
                visit(node.body + node.orelse, cell)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        for name in _targets(item.optional_vars):
                            add(name, Binding(cell, item.context_expr))
                visit(node.body, cell)
            elif isinstance(node, (ast.If, ast.While)):
                visit(node.body + node.orelse, cell)
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                visit(node.body + node.orelse + node.finalbody, cell)
                for h in node.handlers:
                    visit(h.body, cell)
            elif hasattr(ast, "Match") and isinstance(node, ast.Match):
                for case in node.cases:
                    visit(case.body, cell)
            # a walrus anywhere at module level binds too
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for n in ast.walk(node):
                    if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                        add(n.target.id, Binding(cell, n))

    for cell in cells:
        tree = parse(cell)
        if tree is None:
            continue
        visit(tree.body, cell)
        # a function that declares a name global can rebind it from anywhere
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for g in ast.walk(n):
                    if isinstance(g, ast.Global):
                        for name in g.names:
                            add(name, Binding(cell, n))
    return found, stars


def _top(module: str) -> str:
    return module.lstrip(".").split(".")[0]


def _problems_in(node: ast.AST, cell: Cell) -> tuple[list[str], set[str]]:
    """Forbidden uses inside ``node``, and the free names it refers to."""
    problems: list[str] = []
    for n in ast.walk(node):
        where = f"cell {cell.index}, line {getattr(n, 'lineno', '?')}"
        if isinstance(n, ast.Name):
            if n.id in FORBIDDEN_MODULES:
                problems.append(f"`{n.id}` ({where})")
            elif n.id in DYNAMIC_NAMES:
                problems.append(f"`{n.id}`, which can hide what is called ({where})")
        elif isinstance(n, ast.Attribute):
            if n.attr in DYNAMIC_ATTRS or (n.attr == "modules" and getattr(n.value, "id", "") == "sys"):
                problems.append(f"`.{n.attr}`, which can hide what is called ({where})")
        elif isinstance(n, ast.Import):
            for a in n.names:
                if _top(a.name) in FORBIDDEN_MODULES:
                    problems.append(f"`import {a.name}` ({where})")
        elif isinstance(n, ast.ImportFrom):
            if _top(n.module or "") in FORBIDDEN_MODULES:
                problems.append(f"`from {n.module} import ...` ({where})")
    return problems, _global_names(node)


def _global_names(node: ast.AST) -> set[str]:
    """The global names ``node``'s code reads (not its parameters or local variables)."""
    try:
        table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError):
        return set()
    names: set[str] = set()
    todo = [table]
    while todo:
        t = todo.pop()
        for sym in t.get_symbols():
            if sym.is_referenced() and (t.get_type() == "module" or sym.is_global()):
                names.add(sym.get_name())
        todo += t.get_children()
    return names


def from_scratch_problems(
    cells: list[Cell],
    function: str,
    judged: frozenset[str] = frozenset(),
    table: tuple | None = None,
    answer_cells: list[Cell] = (),
) -> list[str]:
    """Why the code behind ``function`` is not from scratch ([] when it is).

    Follows the names the function uses back to the statements that bind
    them anywhere in the notebook (helpers, aliases such as ``F = torch.nn.functional``),
    so a library call cannot hide in another cell. Names in ``judged`` (the
    functions of the exercise's other from-scratch parts) are not followed:
    they are checked, and lose their points, on their own. ``table``: the
    result of :func:`bindings` for these cells, when the caller has it.
    ``answer_cells`` (the part's own cells) may not even import a forbidden library.
    """
    table, stars = table or bindings(cells)
    if function not in table:
        return [
            f"no plain `def {function}(...)` was found in the notebook's code, so it could not be "
            "checked that it is written from scratch"
        ]
    problems: list[str] = []
    for cell in answer_cells:
        tree = parse(cell)
        if tree is not None:
            problems += _problems_in(tree, cell)[0]
    for b in stars:
        if _top(b.module or "") in FORBIDDEN_MODULES:
            problems.append(f"`from {b.module.lstrip('.')} import *` (cell {b.cell.index})")
    seen: set[str] = set(judged) - {function}
    todo = [function]
    while todo:  # bounded: each name is expanded once
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for b in table.get(name, []):
            if b.module is not None:
                if _top(b.module) in FORBIDDEN_MODULES:
                    where = f"cell {b.cell.index}, line {getattr(b.node, 'lineno', '?')}"
                    if isinstance(b.node, ast.ImportFrom):
                        problems.append(f"`from {b.node.module} import ...` ({where})")
                    else:
                        problems.append(f"`import {b.module}` ({where})")
                continue
            found, names = _problems_in(b.node, b.cell)
            problems += found
            todo += sorted(names - seen)
    return list(dict.fromkeys(problems))


def part_cells(cells: list[Cell], grade_id: str, function: str, table: tuple | None = None) -> list[Cell]:
    """The cells holding a part's answer: by nbgrader grade_id, else those defining the function."""
    by_id = [c for c in cells if c.grade_id == grade_id]
    if by_id:
        return by_id
    names, _ = table or bindings(cells)
    indices = {b.cell.index for b in names.get(function, [])}
    return [c for c in cells if c.index in indices]


def imported_modules(cells: list[Cell]) -> list[str]:
    """Every module the cells import (``import a.b``, ``from a.b import c``), in order, once."""
    found: dict[str, None] = {}
    for cell in cells:
        tree = parse(cell)
        for n in ast.walk(tree) if tree is not None else ():
            if isinstance(n, ast.Import):
                for a in n.names:
                    found[a.name] = None
            elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
                found[n.module] = None
    return list(found)
