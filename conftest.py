"""Repository-wide pytest set-up (applies to unit tests and to nbval's notebook items)."""

import subprocess
import sys


def pytest_configure(config):
    # A fresh machine builds matplotlib's font cache on first import and says so
    # on stderr; inside a notebook kernel that would be an extra output and fail
    # strict nbval. Build it once here, in a separate process, before any kernel.
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], capture_output=True, check=False)
