"""Repository-wide pytest set-up (applies to unit tests and to nbval's notebook items)."""

import os
import shutil
import subprocess
import sys
import tempfile

_OWN_MPLCONFIGDIR: str | None = None


def pytest_configure(config):
    global _OWN_MPLCONFIGDIR
    # Matplotlib keeps one font cache per user (~/.cache/matplotlib) that records absolute
    # font paths; one written by another checkout's environment, since deleted or half
    # installed, makes every figure warn "findfont: Font family ... not found" on stderr,
    # an extra output that fails strict nbval. So the tests (and the notebook kernels they
    # start, which inherit the environment) use a cache of their own.
    if "MPLCONFIGDIR" not in os.environ:
        _OWN_MPLCONFIGDIR = tempfile.mkdtemp(prefix="coursekit-mpl-")
        os.environ["MPLCONFIGDIR"] = _OWN_MPLCONFIGDIR
    # Building that cache says so on stderr, which inside a kernel would fail strict nbval
    # too: build it once here, in a separate process, before any kernel starts.
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], capture_output=True, check=False)


def pytest_unconfigure(config):
    if _OWN_MPLCONFIGDIR is not None:
        shutil.rmtree(_OWN_MPLCONFIGDIR, ignore_errors=True)
