"""The ``coursekit`` command: ``lab``, ``check``, ``doctor``, ``execute``, ``release``, ``grade``.

Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func``; this file only wires them.
Only the module of the command being run is imported, so ``coursekit lab``
starts fast and does not depend on the grader's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module that implements it, one line of help for the overview)
COMMANDS = {
    "lab": ("coursekit.lab", "open the course in JupyterLab (extra options go to jupyter lab)"),
    "check": ("coursekit.check", "run strict nbval over every lesson and exercise solution"),
    "doctor": ("coursekit.doctor", "print versions and what to fix in this environment"),
    "execute": ("coursekit.notebooks", "(authors) execute notebooks in place, in a fresh kernel"),
    "release": ("coursekit.exercises.release", "generate the student copies of the exercises"),
    "grade": ("coursekit.grading.cli", "grade submitted exercise notebooks into a gradebook"),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; the ``selected`` command's module adds its own options."""
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Neural-network foundations course: open it, check it, release and grade exercises.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        if name == selected:
            importlib.import_module(module_name).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
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
