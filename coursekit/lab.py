"""``coursekit lab``: open JupyterLab on the course, at chapter 01."""

from __future__ import annotations

import argparse
import os
import sys

from coursekit.paths import course_root, lesson_notebooks


def lab_argv(extra: list[str]) -> list[str]:
    """The command that serves the course; ``extra`` goes to JupyterLab (``--port 8899``)."""
    root = course_root()
    lessons = lesson_notebooks(root)
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}"]
    if lessons:
        argv.append(str(lessons[0].relative_to(root)))
    if hasattr(os, "geteuid") and os.geteuid() == 0 and not any("allow_root" in a or "allow-root" in a for a in extra):
        # JupyterLab refuses to start as root; containers and fresh VMs often are root
        argv.append("--ServerApp.allow_root=True")
    return argv + list(extra)


def run(args: argparse.Namespace) -> int:
    argv = lab_argv(args.jupyter_args)
    print("coursekit lab:", " ".join(argv[1:]), flush=True)
    os.chdir(course_root())
    os.execv(argv[0], argv)  # replace this process: Ctrl-C goes straight to JupyterLab
    return 0  # pragma: no cover


def register(sub) -> None:
    p = sub.add_parser("lab", help="open the course in JupyterLab (extra arguments go to jupyter lab)")
    p.add_argument("jupyter_args", nargs="*", help="passed to jupyter lab, e.g. --no-browser --port 8899")
    p.set_defaults(func=run)
