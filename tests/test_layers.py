"""The package's layers: the math modules never import a widget, and every module imports.

The live explorers (``coursekit.widgets``) sit above the numerics; a math module that
imported them, at import time or lazily inside a function, would bring back the import
circle activations -> widgets -> experiments -> activations.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import coursekit

MATH = ("neurons", "dense", "activations", "collapse", "init", "softmax", "experiments", "training", "plotting")
#: What the math modules may use from the package besides each other: plain helpers, no UI.
HELPERS = ("_checks", "seed")
UI = ("coursekit.widgets", "ipywidgets")

PACKAGE_DIR = Path(coursekit.__file__).parent


def _all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="coursekit."))


def _imported_names(tree: ast.AST, module: str) -> set[str]:
    """Every module named by an import statement anywhere in ``tree`` (functions included)."""
    names = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y
                base = ".".join([package.rsplit(".", node.level - 1)[0]] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # from coursekit import widgets
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
            names.add(node.args[0].value)
    return names


def _is_ui(name: str) -> bool:
    return any(name == ui or name.startswith(ui + ".") for ui in UI)


def test_the_scan_finds_lazy_and_aliased_imports():
    source = ("def f():\n    import ipywidgets as w\n"
              "def g():\n    from coursekit import widgets\n"
              "def h():\n    from coursekit.widgets.png import encode_png\n"
              "def k():\n    import importlib\n    importlib.import_module('coursekit.widgets')\n"
              "import numpy as np\nfrom coursekit import _checks\n")
    found = {n for n in _imported_names(ast.parse(source), "coursekit.x") if _is_ui(n)}
    assert found == {"ipywidgets", "coursekit.widgets", "coursekit.widgets.png", "coursekit.widgets.png.encode_png"}
    assert not _is_ui("coursekit.widgetsx") and not _is_ui("numpy")


@pytest.mark.parametrize("name", MATH + HELPERS)
def test_math_source_names_no_widget(name):
    path = PACKAGE_DIR / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    ui = sorted(n for n in _imported_names(tree, f"coursekit.{name}") if _is_ui(n))
    assert ui == [], f"coursekit.{name} imports {ui}: the math sits below the widgets"


def test_math_modules_load_no_widget_at_import():
    """In a fresh interpreter (a real subprocess): import every math module, then look at sys.modules."""
    code = (
        "import sys\n"
        f"for name in {MATH!r}:\n"
        "    __import__('coursekit.' + name)\n"
        "bad = sorted(m for m in sys.modules if m == 'ipywidgets' or m.startswith(('ipywidgets.', 'coursekit.widgets')))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing the math modules loaded {done.stdout.strip()}"


def test_every_module_imports():
    """Each module of the package imports, in a fresh interpreter, first in line (no circle bites)."""
    modules = _all_modules()
    assert "coursekit.widgets.png" in modules and "coursekit.widgets.slope" in modules  # the walk sees the package
    # widgets first: if it needed a math module that needed widgets back, this order would fail
    code = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in ['coursekit.widgets'] + {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


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


#: What chapter 01 takes from the package, and the other modules that must stay torch-free
#: at import (torch: about 1.5 s and 260 MiB resident per kernel; see coursekit/_lazy.py).
LIGHT = ("coursekit", "coursekit.seed", "coursekit.neurons", "coursekit.plotting", "coursekit.dense",
         "coursekit.activations", "coursekit.collapse", "coursekit.init", "coursekit.softmax",
         "coursekit.experiments")


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_light_modules_does_not_import_torch():
    """In a fresh interpreter: import coursekit and the modules above, use chapter 01's
    numpy functions (their argument checks included), and torch is still not loaded."""
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
