"""``coursekit doctor``: is this environment ready for the course? Says what to fix.

Besides versions, the widgets extension and the kernel, it checks that everything the course
imports at run time comes with coursekit's runtime dependencies, the only ones ``make lab`` and
``make check`` install: every import of every code cell of the chapters and exercise notebooks
(solutions too) and of every coursekit module, lazy imports inside functions included, must be
the standard library, coursekit, or a module of a distribution in the closure of coursekit's
``Requires-Dist`` (its dependencies, theirs, and so on; the ``test`` and ``site`` extras do not
count). ``tests/test_runtime_imports.py`` checks the same on every test run.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import platform
import re
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

PACKAGES = ["numpy", "torch", "matplotlib", "ipywidgets", "jupyterlab", "nbval"]
FIX = "run 'make lab' (or 'pip install -c constraints.txt -e .[test]') in the course folder"


def package_version(name: str) -> str | None:
    try:
        module = importlib.import_module(name)
    except Exception:
        return None
    return str(getattr(module, "__version__", "unknown"))


def widgets_extension() -> Path | None:
    """The JupyterLab widgets front-end extension installed in this environment, if any."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("labextensions"):
        candidate = Path(base) / "@jupyter-widgets" / "jupyterlab-manager" / "package.json"
        if candidate.is_file():
            return candidate.parent
    return None


def kernel_for_this_env() -> str | None:
    """Name of a kernelspec whose Python is this environment's interpreter, if any."""
    from jupyter_client.kernelspec import KernelSpecManager

    here = Path(sys.executable).resolve()
    prefix = Path(sys.prefix).resolve()
    for name, info in KernelSpecManager().get_all_specs().items():
        argv = info.get("spec", {}).get("argv", [])
        if not argv:
            continue
        exe = argv[0]
        if exe in ("python", "python3", sys.executable):
            # ipykernel's own spec runs "python": this env's when it sits inside sys.prefix
            if Path(info.get("resource_dir", "")).resolve().is_relative_to(prefix) or exe == sys.executable:
                return name
        elif Path(exe).resolve() == here:
            return name
    return None


# --------------------------------------------------------------------------- runtime imports

# magics that import a module the code does not name: %matplotlib inline needs matplotlib-inline
MAGIC_MODULES = {("matplotlib", "inline"): "matplotlib_inline", ("matplotlib", "widget"): "ipympl",
                 ("matplotlib", "ipympl"): "ipympl"}


def source_imports(source: str) -> set[str]:
    """Top-level names of the modules ``source`` imports anywhere (inside functions too).

    IPython syntax (``%magic``, ``!cmd``) is turned into Python first, as the kernel does.
    Relative imports (``from . import x``) are the importing package's own and are left out.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "run_line_magic" and len(node.args) == 2
              and all(isinstance(a, ast.Constant) for a in node.args)):
            magic, line = (a.value for a in node.args)
            module = MAGIC_MODULES.get((magic, str(line).split()[0] if str(line).split() else ""))
            if module:
                names.add(module)
    return names


def course_notebooks(root: Path) -> list[Path]:
    """The notebooks a student or instructor runs: chapters, exercises, exercise solutions."""
    return sorted([*root.glob("notebooks/*.ipynb"), *root.glob("exercises/*.ipynb"),
                   *root.glob("exercises/source/*.ipynb")])


def notebook_imports(path: Path) -> set[str]:
    """Top-level modules imported by the code cells of one notebook.

    A cell that is not valid Python (a deliberate SyntaxError demonstration) imports nothing;
    a file that is not a readable notebook is the course check's business, not this one's.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return set()
    names: set[str] = set()
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            try:
                names |= source_imports("".join(source) if isinstance(source, list) else source)
            except SyntaxError:
                continue
    return names


def import_sites(notebooks: Iterable[Path], package_dir: Path, root: Path | None = None) -> dict[str, list[str]]:
    """{top-level module: [files that import it]} over ``notebooks`` and every module of the package.

    Every coursekit module counts, not only those a chapter imports: ``make lab`` and
    ``make check`` install the runtime dependencies alone, and every ``coursekit`` command runs there.
    """
    def label(path: Path) -> str:
        for base in (root, package_dir.parent):
            if base is not None and path.resolve().is_relative_to(base.resolve()):
                return str(path.resolve().relative_to(base.resolve()))
        return str(path)

    sites: dict[str, list[str]] = {}
    files = [(nb, notebook_imports(nb)) for nb in notebooks]
    files += [(py, source_imports(py.read_text(encoding="utf-8"))) for py in sorted(package_dir.rglob("*.py"))]
    for path, names in files:
        for name in names:
            sites.setdefault(name, []).append(label(path))
    return sites


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(requirements: Iterable[str] | None = None) -> tuple[set[str], set[str]]:
    """(installed, not installed): canonical names of the distributions in the runtime closure.

    Starts from ``requirements`` (default: the installed coursekit's ``Requires-Dist``) and walks
    each distribution's ``Requires-Dist``. A requirement guarded by an extra is followed only when
    that extra was asked for (``foo[bar]``): coursekit's own ``test`` and ``site`` extras never are.
    Other markers (platform, Python version) are evaluated for this machine.
    """
    from packaging.requirements import Requirement

    if requirements is None:
        requirements = metadata.requires("coursekit") or []
    installed: set[str] = set()
    absent: set[str] = set()
    todo = [(Requirement(r), frozenset()) for r in requirements]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        req, extras = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
            continue
        key = (_canonical(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            absent.add(key[0])
            continue
        installed.add(key[0])
        todo += [(Requirement(r), key[1]) for r in dist.requires or []]
    return installed, absent


def runtime_import_problems(sites: dict[str, list[str]], requirements: Iterable[str] | None = None,
                            own: str = "coursekit") -> list[str]:
    """What the course imports that a runtime-only environment (``make lab``) would not have."""
    installed, absent = runtime_closure(requirements)
    problems = [f"the runtime dependency {name} is not installed: {FIX}" for name in sorted(absent)]
    providers = metadata.packages_distributions()
    for module in sorted(sites):
        if module in sys.stdlib_module_names or module == own:
            continue
        where = ", ".join(sorted(set(sites[module])))
        dists = {_canonical(d) for d in providers.get(module, [])} - {_canonical(own)}
        if not dists:
            problems.append(f"{module} is imported by {where} but is not installed, and no runtime "
                            f"dependency of coursekit provides it: add its package to [project] "
                            f"dependencies in pyproject.toml (and to constraints.txt, environment.yml)")
        elif not dists & (installed | absent):
            problems.append(f"{module} (package {', '.join(sorted(dists))}) is imported by {where} but is "
                            f"not a runtime dependency of coursekit, so 'make lab' does not install it: "
                            f"add it to [project] dependencies in pyproject.toml (and to environment.yml)")
    return problems


def runtime_import_check(root: Path | None = None) -> tuple[str, list[str]]:
    """(row value, problems) for the notebooks of the course at ``root`` and the coursekit package."""
    from coursekit.paths import PACKAGE_DIR, course_root

    try:
        root = root or course_root()
        notebooks = course_notebooks(root)
    except FileNotFoundError:  # coursekit installed without the course: the package alone
        root, notebooks = None, []
    try:
        metadata.distribution("coursekit")
    except metadata.PackageNotFoundError:
        return "UNKNOWN", [f"coursekit is not installed as a package, so its dependencies are unknown: {FIX}"]
    sites = import_sites(notebooks, PACKAGE_DIR, root)
    problems = runtime_import_problems(sites)
    verdict = f"MISSING: {len(problems)} (below)" if problems else "all from runtime dependencies"
    return f"{verdict} ({len(notebooks)} notebooks and the coursekit package)", problems


def diagnose() -> tuple[list[tuple[str, str]], list[str]]:
    """Return (rows of (item, value), problems with what to do)."""
    rows = [("python", f"{platform.python_version()} ({sys.executable})")]
    problems: list[str] = []
    for name in PACKAGES:
        version = package_version(name)
        rows.append((name, version or "MISSING"))
        if version is None:
            problems.append(f"{name} is not installed: {FIX}")
    ext = widgets_extension()
    rows.append(("widgets extension", str(ext) if ext else "MISSING"))
    if ext is None:
        problems.append("the JupyterLab widgets extension is missing, sliders will not show: "
                        "pip install -c constraints.txt jupyterlab_widgets")
    kernel = kernel_for_this_env()
    rows.append(("kernel for this environment", kernel or "MISSING"))
    if kernel is None:
        problems.append(f"no Jupyter kernel runs this Python: {sys.executable} -m ipykernel install "
                        "--sys-prefix --name python3")
    value, import_problems = runtime_import_check()
    rows.append(("runtime imports", value))
    problems += import_problems
    return rows, problems


def run(args: argparse.Namespace) -> int:
    rows, problems = diagnose()
    if args.json:
        print(json.dumps({"versions": dict(rows), "problems": problems}, indent=2))
        return 1 if problems else 0
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if problems:
        print("\nTo fix:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("\nAll good: 'make lab' opens the course.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("doctor")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
