"""``coursekit doctor``: is this environment ready for the course? Says what to fix."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
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
