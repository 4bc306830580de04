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
    for name, module_name in COMMANDS.items():
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
    args = parser.parse_args(argv)
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
