"""One module per exercise notebook, found here by name: ``exNN.py`` holds ``EXERCISE`` (the notebook
stem, "06_softmax") and its ``PARTS``. Adding an exercise is adding its module; nothing lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

_NAME = re.compile(r"ex(\d\d)")


def discover() -> tuple[ModuleType, ...]:
    """Every ``exNN`` module of this package, in exercise order (NN), each checked to name its own NN."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        m = _NAME.fullmatch(info.name)
        if m is None:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        stem = getattr(module, "EXERCISE", None)
        if not isinstance(stem, str) or not stem.startswith(m.group(1) + "_") or not hasattr(module, "PARTS"):
            raise ValueError(f"{module.__name__}: expected EXERCISE = '{m.group(1)}_<name>' (the notebook stem) "
                             f"and PARTS; got EXERCISE = {stem!r}")
        found.append((int(m.group(1)), module))
    return tuple(module for _, module in sorted(found, key=lambda pair: pair[0]))


MODULES = discover()
