"""Modules imported on first use: a kernel that never calls torch does not load it.

``import torch`` alone costs about 1.5 s and 260 MiB resident in each kernel. Modules whose
torch use sits inside functions bind ``torch = lazy_import("torch")`` instead, and torch is
imported the first time one of its attributes is read. :func:`one_torch_thread` runs tiny
torch computations on one thread.
"""

from __future__ import annotations

import contextlib
import importlib
import types
from collections.abc import Iterator


class LazyModule(types.ModuleType):
    """Stands for module ``name``; imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def _load(self) -> types.ModuleType:
        module = self.__dict__["_lazy_target"]
        if module is None:
            module = importlib.import_module(self.__name__)
            self.__dict__["_lazy_target"] = module
        return module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "loaded" if self.__dict__["_lazy_target"] is not None else "not loaded yet"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_import(name: str) -> types.ModuleType:
    """``name`` as a module object that imports the real module on first attribute access."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a module name (a non-empty str); got {name!r}")
    return LazyModule(name)


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(1)``; the user's setting is restored after.

    Tensors of 10⁵ elements are too small to gain from threads: on a busy 2-core machine a
    two-thread sigmoid took 12 ms, a one-thread one 0.14 ms.
    """
    torch = importlib.import_module("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
