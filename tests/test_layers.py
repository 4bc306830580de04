"""The package's layers, read from README's "Layout" table: imports point down only.

README.md's "Layout" section is the one description of the layout: a table of levels, the
modules at each level and the levels each row may import. This test parses that table and
reads every module's source (AST, nothing of it run): an import of a level the row does not
allow fails, whether at import time or lazily inside a function, spelled ``import a.b as c``,
``from . import x``, ``from coursekit import x``, ``importlib.import_module("…")``,
``__import__("…")`` or ``lazy_import("…")``. A module the table does not place fails, a name in
the table that is no module fails, and so does an import circle. Then, in fresh interpreters:
nothing below the widgets loads a widget, every module imports first in line, and the light
modules do not load torch.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import coursekit

PACKAGE_DIR = Path(coursekit.__file__).resolve().parent
README = PACKAGE_DIR.parent / "README.md"
#: Third-party widget frameworks: nothing below the widgets' level may import them.
UI_LIBRARIES = ("ipywidgets", "anywidget")


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Layout:
    levels: dict[str, int]  # table name ("coursekit", "coursekit.widgets", ...) -> level
    allowed: dict[int, frozenset[int]]  # level -> levels it may import

    def level_of(self, module: str) -> int | None:
        """The level of ``module``: its own row, or the row of the subpackage that holds it.

        The package's own row (``coursekit``) places its ``__init__`` only, not everything in it.
        """
        best = None
        for name in self.levels:
            if module == name or (name != "coursekit" and module.startswith(name + ".")):
                if best is None or len(name) > len(best):
                    best = name
        return None if best is None else self.levels[best]


def _levels(text: str) -> frozenset[int]:
    """'0–4, 7' -> {0, 1, 2, 3, 4, 7} (an en dash or a hyphen)."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)\s*[–-]\s*(\d+)", part)
        if m:
            out |= set(range(int(m[1]), int(m[2]) + 1))
        elif part.isdigit():
            out.add(int(part))
        else:
            raise ValueError(f"README's Layout table: 'may import' cell {text!r} is not like '0–4, 7'")
    return frozenset(out)


def parse_layout(readme: str) -> Layout:
    """The level table of README's "## Layout" section (header: level | modules | … | may import)."""
    m = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    if not m:
        raise ValueError("README.md has no '## Layout' section")
    rows = [line for line in m[1].splitlines() if line.startswith("|")]
    header = next((r for r in rows if re.match(r"\|\s*level\s*\|", r)), None)
    if header is None:
        raise ValueError("README's Layout section has no table whose first column is 'level'")
    columns = [c.strip() for c in header.strip("|").split("|")]
    if "modules" not in columns or "may import" not in columns:
        raise ValueError(f"README's Layout table needs 'modules' and 'may import' columns, has {columns}")
    levels: dict[str, int] = {}
    allowed: dict[int, frozenset[int]] = {}
    for row in rows[rows.index(header) + 1:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if set(cells[0]) <= set("-: "):
            continue  # the |---| line
        level = int(cells[0])
        allowed[level] = _levels(cells[columns.index("may import")])
        for name in re.findall(r"`([\w.]+)`", cells[columns.index("modules")]):
            full = name if name.startswith("coursekit") else f"coursekit.{name}"
            if full in levels:
                raise ValueError(f"README's Layout table places {full} twice")
            levels[full] = level
    return Layout(levels, allowed)


LAYOUT = parse_layout(README.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the modules and their imports


def module_files(package_dir: Path = PACKAGE_DIR) -> dict[str, tuple[Path, bool]]:
    """{module name: (file, is a package)} of every .py file of the package (read, not imported)."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        if "__pycache__" in rel.parts:
            continue
        is_package = rel.name == "__init__"
        out[".".join(rel.parts[:-1] if is_package else rel.parts)] = (path, is_package)
    return out


MODULES = module_files()
IMPORTERS = ("import_module", "__import__", "lazy_import")


@dataclass(frozen=True)
class Import:
    name: str  # what the statement names, made absolute (a module, or module.attribute)
    line: int
    function: str | None  # the enclosing function: a lazy import
    dynamic: bool = False  # named by an f-string: only its constant start is known


def _absolute(name: str, level: int, module: str, is_package: bool) -> str:
    """``from ..x import y`` inside ``module`` -> the absolute name of ``..x``."""
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{name}" if name else base


def _string_prefix(node: ast.AST) -> str | None:
    """A constant string, or the constant start of an f-string (``f"coursekit.{x}"`` -> ``coursekit.``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def imports(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import in ``source`` (the module ``module``), top level and inside functions."""
    found: list[Import] = []

    class Visitor(ast.NodeVisitor):
        function: str | None = None

        def _in_function(self, node):
            outer, self.function = self.function, node.name if self.function is None else f"{self.function}.{node.name}"
            self.generic_visit(node)
            self.function = outer

        visit_FunctionDef = visit_AsyncFunctionDef = _in_function

        def visit_Import(self, node):
            found.extend(Import(alias.name, node.lineno, self.function) for alias in node.names)

        def visit_ImportFrom(self, node):
            base = _absolute(node.module or "", node.level, module, is_package) if node.level else node.module or ""
            found.extend(Import(f"{base}.{alias.name}", node.lineno, self.function) for alias in node.names)

        def visit_Call(self, node):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in IMPORTERS and node.args and (name := _string_prefix(node.args[0])) is not None:
                if name.startswith("."):  # import_module(".x", package="coursekit")
                    package = next((_string_prefix(k.value) for k in node.keywords if k.arg == "package"),
                                   _string_prefix(node.args[1]) if len(node.args) > 1 else None)
                    dots = len(name) - len(name.lstrip("."))
                    name = _absolute(name[dots:], dots, package or module, package is not None or is_package)
                found.append(Import(name.rstrip("."), node.lineno, self.function,
                                    dynamic=isinstance(node.args[0], ast.JoinedStr)))
            self.generic_visit(node)

    Visitor().visit(ast.parse(source))
    return found


def target(name: str, modules=MODULES) -> str | None:
    """The coursekit module an import of ``name`` loads: the longest module that ``name`` starts with.

    ``coursekit.widgets.png.encode_png`` -> ``coursekit.widgets.png``; ``coursekit.set_seed`` ->
    ``coursekit``; a name outside the package -> None.
    """
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def package_imports(modules=MODULES) -> dict[str, list[tuple[str, Import]]]:
    """{module: [(the coursekit module it imports, the import)]}, itself excluded."""
    out = {}
    for module, (path, is_package) in modules.items():
        found = imports(path.read_text(encoding="utf-8"), module, is_package)
        out[module] = [(t, imp) for imp in found if (t := target(imp.name, modules)) not in (None, module)]
    return out


GRAPH = package_imports()


def upward_imports(module: str, layout: Layout = LAYOUT, graph=GRAPH) -> list[str]:
    """What ``module`` imports from a level its row does not allow, one line each."""
    level = layout.level_of(module)
    bad = []
    seen = set()
    for imported, imp in graph[module]:
        if (imported, imp.line) in seen:  # from x import a, b: one line, one finding
            continue
        seen.add((imported, imp.line))
        other = layout.level_of(imported)
        if imp.dynamic and imported == "coursekit":
            bad.append(f"{module} line {imp.line} imports a coursekit module named at run time ({imp.name}.…): "
                       "the table cannot place it; name the subpackage in the string's constant start")
            continue
        if other is not None and other not in layout.allowed[level]:
            where = f"lazily, in {imp.function}()" if imp.function else "at import"
            bad.append(f"{module} line {imp.line} ({where}) imports {imported} (level {other}); "
                       f"{module} is level {level}, which may import levels {sorted(layout.allowed[level])}")
    return bad


def cycles(graph=GRAPH) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module (Tarjan), each sorted."""
    edges = {m: sorted({t for t, _ in imps}) for m, imps in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def circle_path(group: list[str], graph=GRAPH) -> str:
    """One circle through ``group`` (a strongly connected group), each step with its import's line."""
    inside = set(group)
    start = group[0]
    paths = {start: ""}
    todo = [start]
    while todo:  # breadth first, inside the group: the shortest way back to start
        v = todo.pop(0)
        for w, imp in graph[v]:
            step = f"{paths[v]}{v} (line {imp.line}) -> "
            if w == start:
                return step + start
            if w in inside and w not in paths:
                paths[w] = step
                todo.append(w)
    return " <-> ".join(group)  # not reached for a real strongly connected group


# --------------------------------------------------------------------------- today's known violations

# A known violation being fixed elsewhere goes here with its reason; strict, so a fixed module
# then fails as XPASS, which says to remove the mark. None today.
KNOWN_UPWARD: dict[str, str] = {}
KNOWN_MISSING: dict[str, str] = {}


def _marked(names, known):
    return [pytest.param(n, marks=pytest.mark.xfail(reason=known[n], strict=True)) if n in known else n
            for n in names]


# --------------------------------------------------------------------------- the scan itself


def test_the_table_parses_into_ten_levels_each_allowed_itself():
    assert sorted(LAYOUT.allowed) == list(range(10)), LAYOUT.allowed
    for level, allowed in LAYOUT.allowed.items():
        assert level in allowed and max(allowed) == level, (level, sorted(allowed))  # never above itself
    assert LAYOUT.level_of("coursekit.widgets.histogram") == LAYOUT.levels["coursekit.widgets"]
    assert LAYOUT.level_of("coursekit.exercises.parts.ex01") == LAYOUT.levels["coursekit.exercises"]
    assert LAYOUT.level_of("coursekit.nothing_like_this") is None  # the package's row is its __init__ only


def test_the_table_parser_reads_a_row_that_allows_less_and_rejects_nonsense():
    text = ("## Layout\n\n| level | modules | what | may import |\n|---|---|---|---|\n"
            "| 0 | `coursekit`, `_a` | base | 0 |\n| 1 | `b`, `c` | `make(x)` is text | 0–1 |\n"
            "| 2 | `d` | top | 0, 2 |\n\n## Next\n| level | modules | may import |\n| 9 | `z` | 9 |\n")
    layout = parse_layout(text)
    assert layout.levels == {"coursekit": 0, "coursekit._a": 0, "coursekit.b": 1, "coursekit.c": 1, "coursekit.d": 2}
    assert layout.allowed == {0: {0}, 1: {0, 1}, 2: {0, 2}}
    with pytest.raises(ValueError, match="no '## Layout' section"):
        parse_layout("# README\n")
    with pytest.raises(ValueError, match="'may import' cell"):
        parse_layout(text.replace("| 0, 2 |", "| below |"))
    with pytest.raises(ValueError, match="places coursekit.b twice"):
        parse_layout(text.replace("`d`", "`b`"))


def test_the_scan_finds_every_spelling_of_an_import_and_its_line():
    source = ("import numpy as np\n"
              "from coursekit import _checks, plotting as p\n"
              "from . import widgets\n"
              "from .widgets.png import encode_png\n"
              "def f():\n    import coursekit.experiments as e\n"
              "class K:\n    def g(self):\n        import importlib\n"
              "        importlib.import_module('coursekit.training')\n"
              "        __import__('coursekit.grading.grader')\n"
              "        importlib.import_module('.cli', package='coursekit')\n"
              "torch = lazy_import(f'coursekit.exercises.{1}')\n")
    found = imports(source, "coursekit.activations")
    got = {(target(i.name), i.line, i.function) for i in found if target(i.name)}
    assert got == {("coursekit._checks", 2, None), ("coursekit.plotting", 2, None), ("coursekit.widgets", 3, None),
                   ("coursekit.widgets.png", 4, None), ("coursekit.experiments", 6, "f"),
                   ("coursekit.training", 10, "g"), ("coursekit.grading.grader", 11, "g"),
                   ("coursekit.cli", 12, "g"), ("coursekit.exercises", 13, None)}
    # inside a package's __init__, '.' is the package itself
    assert [i.name for i in imports("from . import numbers", "coursekit.widgets", is_package=True)] == \
        ["coursekit.widgets.numbers"]
    assert target("numpy.linalg") is None and target("coursekit.set_seed") == "coursekit"


def test_an_upward_import_is_named_with_its_module_line_and_levels():
    layout = parse_layout("## Layout\n| level | modules | may import |\n|---|---|---|\n"
                          "| 0 | `coursekit` | 0 |\n| 1 | `activations` | 0–1 |\n| 5 | `plotting` | 0–5 |\n")
    modules = {"coursekit": None, "coursekit.activations": None, "coursekit.plotting": None}
    found = imports("import numpy\ndef plot_it():\n    from coursekit.plotting import PALETTE\n",
                    "coursekit.activations")
    graph = {"coursekit.activations": [(target(i.name, modules), i) for i in found if target(i.name, modules)],
             "coursekit.plotting": [], "coursekit": []}
    (bad,) = upward_imports("coursekit.activations", layout, graph)
    assert bad == ("coursekit.activations line 3 (lazily, in plot_it()) imports coursekit.plotting (level 5); "
                   "coursekit.activations is level 1, which may import levels [0, 1]")
    assert upward_imports("coursekit.plotting", layout, graph) == []
    # an import named at run time whose constant start is only the package: the table cannot place it
    found = imports("torch = lazy_import(f'coursekit.{name}')", "coursekit.plotting")
    graph["coursekit.plotting"] = [(target(i.name, modules), i) for i in found]
    (bad,) = upward_imports("coursekit.plotting", layout, graph)
    assert "named at run time" in bad and "line 1" in bad


def test_the_cycle_finder_finds_a_circle_and_only_circles():
    def g(edges):
        return {m: [(t, Import(t, 1, None)) for t in ts] for m, ts in edges.items()}

    graph = g({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert cycles(graph) == [["a", "b", "c"]]
    assert circle_path(["a", "b", "c"], graph) == "a (line 1) -> b (line 1) -> c (line 1) -> a"
    assert cycles(g({"a": ["b"], "b": [], "c": ["a", "b"]})) == []


# --------------------------------------------------------------------------- the package against the table


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_has_a_level_in_readme(module):
    if LAYOUT.level_of(module) is None:
        pytest.fail(f"{module} has no level: add it to the table in README.md's 'Layout' section (its own "
                    f"row or a subpackage's), with what it holds", pytrace=False)


@pytest.mark.parametrize("name", _marked(sorted(LAYOUT.levels), KNOWN_MISSING))
def test_every_name_in_the_table_is_a_module(name):
    if name not in MODULES:
        pytest.fail(f"README's Layout table names {name}, but there is no such module in coursekit/", pytrace=False)


@pytest.mark.parametrize("module", _marked(sorted(MODULES), KNOWN_UPWARD))
def test_imports_point_down_only(module):
    bad = upward_imports(module)
    if bad:
        pytest.fail("\n".join(bad), pytrace=False)


def test_there_is_no_import_circle():
    found = cycles()
    if found:
        pytest.fail("import circles (lazy imports included), each a group of modules that import each other:\n"
                    + "\n".join(circle_path(c) for c in found), pytrace=False)


def _below_widgets() -> list[str]:
    widgets = LAYOUT.levels["coursekit.widgets"]
    return [m for m in sorted(MODULES) if LAYOUT.level_of(m) is not None and LAYOUT.level_of(m) < widgets]


def test_nothing_below_the_widgets_imports_a_widget_library():
    """Below the widgets' level, no module names ipywidgets or anywidget, lazily or not."""
    bad = [f"{m} line {i.line}: {i.name}" for m in _below_widgets()
           for i in imports(MODULES[m][0].read_text(encoding="utf-8"), m, MODULES[m][1])
           if i.name.split(".")[0] in UI_LIBRARIES]
    assert not bad, "the math and the figures sit below the widgets:\n" + "\n".join(bad)


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_modules_below_the_widgets_load_no_widget_at_import():
    """In a fresh interpreter (a real subprocess): import each of them, then look at sys.modules."""
    below = _below_widgets()
    assert "coursekit.activations" in below and "coursekit.plotting" in below
    out = _fresh(
        "import sys\n"
        f"for name in {below!r}:\n"
        "    __import__(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {UI_LIBRARIES!r} or m == 'coursekit.widgets' "
        "or m.startswith('coursekit.widgets.'))\n"
        "print(','.join(bad))\n")
    assert out == "", f"importing the modules below the widgets loaded {out}"


def test_every_module_imports_first_in_line():
    """In one fresh interpreter, each module is imported with no other coursekit module loaded before it
    (they are all dropped from sys.modules in between), so an import circle that bites on one entry
    point shows; third-party modules (numpy, torch) stay loaded, which keeps it cheap."""
    modules = sorted(MODULES)
    assert "coursekit.widgets.png" in modules and "coursekit.exercises.parts.ex01" in modules
    out = _fresh(
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'coursekit' or m.startswith('coursekit.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n")
    assert out == "", out


def test_widgets_package_keeps_its_public_names():
    widgets = importlib.import_module("coursekit.widgets")
    for name in widgets.__all__:
        assert hasattr(widgets, name), name
    from coursekit.widgets import (
        HistogramExplorer,
        plot_layer_histograms,
        slope_explorer,
        temperature_explorer,
    )

    assert HistogramExplorer.__module__ == "coursekit.widgets.histogram"
    assert plot_layer_histograms.__module__ == "coursekit.widgets.histogram"
    assert slope_explorer.__module__ == "coursekit.widgets.slope"
    assert temperature_explorer.__module__ == "coursekit.widgets.temperature"


def _explorers():
    import numpy as np

    from coursekit import widgets

    z = np.array([[-1.0, 2.0, -3.0], [-2.0, -1.0, -0.5]])
    return {
        "histogram": (widgets.HistogramExplorer(depth=2, width=10, n_samples=50), "scale", 0.5),
        "slope": (widgets.slope_explorer(z), "slope", 0.3),
        "temperature": (widgets.temperature_explorer(), "temperature", 2.0),
    }


def test_every_explorer_has_the_same_small_interface():
    """``controls`` (name -> Control, whose .value moves it), ``widget`` (the anywidget, sent numbers) and a pure frame function."""
    from coursekit import widgets

    for name, (explorer, control, value) in _explorers().items():
        assert explorer.controls and all(isinstance(c, widgets.Control) for c in explorer.controls.values()), name
        assert isinstance(explorer.widget, widgets.ExplorerWidget), name
        state = explorer.widget.get_state()
        assert not any(isinstance(v, (bytes, memoryview)) for v in state.values()), name  # numbers, never a picture
        shown = explorer.current
        frame = explorer.frame() if name == "histogram" else explorer.frame(value)
        assert frame is not None and explorer.current == shown, name
        explorer.controls[control].value = value  # a move recomputes synchronously
        assert explorer.current != shown and explorer.controls[control].value == value, name


#: What must stay torch-free at import (torch: about 1.5 s and 260 MiB resident per kernel; see
#: coursekit/_lazy.py): the base and the math (levels 0 and 1, as the table says), and the
#: experiments and figures chapter 01's kernel imports.
LIGHT = sorted({m for m in MODULES if LAYOUT.level_of(m) in (0, 1)} | {"coursekit.plotting", "coursekit.experiments"})


def test_importing_the_light_modules_does_not_import_torch():
    """In a fresh interpreter: import coursekit and the modules above, use chapter 01's
    numpy functions (their argument checks included), and torch is still not loaded."""
    assert {"coursekit", "coursekit.neurons", "coursekit.softmax"} <= set(LIGHT)
    out = _fresh(
        "import sys\n"
        f"for name in {LIGHT!r}:\n"
        "    __import__(name)\n"
        "from coursekit import neurons, _checks\n"
        "neurons.step([-1.0, 0.0, 2.0]); _checks.describe([1, 2])\n"
        "try:\n"
        "    neurons.step('x')\n"
        "except TypeError:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    assert out == "[]", f"torch was imported: {out[:300]}"


def test_a_lazy_torch_loads_on_first_use_and_gives_torch_results():
    """The lazy binding is the real module once used: autograd derivatives through it match
    the analytic ones, and describe() recognises a tensor after torch is imported."""
    out = _fresh(
        "import sys\n"
        "import numpy as np\n"
        "from coursekit import activations as a, _checks\n"
        "assert 'torch' not in sys.modules\n"
        "x = np.linspace(-4, 4, 81)\n"
        "g = a.autograd_grad('sigmoid', x)\n"
        "import torch\n"
        "assert a.torch.Tensor is torch.Tensor and a.F.relu is torch.nn.functional.relu\n"
        "print(float(np.max(np.abs(g - a.sigmoid_grad(x)))), _checks.describe(torch.zeros(2, 3)))\n"
    )
    err, desc = out.split(" ", 1)
    assert float(err) < 1e-12
    assert desc == "a tensor of shape (2, 3) and dtype torch.float32"


def test_lazy_import_rejects_a_non_name():
    from coursekit._lazy import lazy_import

    with pytest.raises(TypeError, match="name"):
        lazy_import("")
    missing = lazy_import("coursekit_no_such_module")
    with pytest.raises(ModuleNotFoundError):
        missing.anything  # noqa: B018
