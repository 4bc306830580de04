"""The ``coursekit`` command: ``lab``, ``check``, ``doctor``, ``execute``, ``release``, ``grade``.

Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func``; this file only wires them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> module that implements it (imported when the parser is built)
COMMANDS = {
    "lab": "coursekit.lab",
    "check": "coursekit.check",
    "doctor": "coursekit.doctor",
    "execute": "coursekit.notebooks",
    "release": "coursekit.exercises.release",
    "grade": "coursekit.grading.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Neural-network foundations course: open it, check it, release and grade exercises.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of the course is not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # 'coursekit lab --port 8899 ...' hands every option it does not know to JupyterLab
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "lab":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.jupyter_args = list(args.jupyter_args) + unknown
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError) as exc:
        print(f"coursekit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
