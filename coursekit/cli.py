"""The ``coursekit`` command: ``lab``, ``check``, ``doctor``, ``execute``, ``release``, ``grade``, ``report``.

Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func``; this file only wires them.
Only the module of the command being run is imported, so ``coursekit lab``
starts fast and does not depend on the grader's imports.

Each command's help text lives here, in ``COMMANDS``, and only here: the same line
is shown in ``coursekit --help`` and as the description of ``coursekit NAME --help``
(whatever help a module's ``register`` passes is replaced by it).

Three things in the course are called "check"; their names in the help and README:
the *course check* (``coursekit check``: strict nbval over every notebook, for
instructors), *instant feedback* (``check("6.1", softmax)`` in an exercise notebook,
for students), and the *stale-copy check* (``coursekit release --check``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module that implements it, its one line of help)
COMMANDS = {
    "lab": ("coursekit.lab", "open your working copies of the course (my-work/) in JupyterLab"),
    "check": ("coursekit.check", "(instructors) the course check: strict nbval over every chapter and solution"),
    "doctor": ("coursekit.doctor", "print versions and what to fix in this environment"),
    "execute": ("coursekit.notebooks", "(authors) execute notebooks in place, in a fresh kernel"),
    "release": ("coursekit.exercises.release", "(instructors) generate the student copies of the exercises"),
    "grade": ("coursekit.grading.cli", "(instructors) grade submitted exercise notebooks into a gradebook"),
    "report": ("coursekit.grading.report",
               "(instructors) per-part statistics, similar-code flags, Canvas / Moodle exports of a gradebook"),
}


class _OneHelp:
    """Stands in for argparse's subparsers action: every parser gets its help from ``COMMANDS``."""

    def __init__(self, sub):
        self._sub = sub

    def add_parser(self, name: str, **kwargs):
        kwargs["help"] = kwargs["description"] = COMMANDS[name][1]
        return self._sub.add_parser(name, **kwargs)


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
            importlib.import_module(module_name).register(_OneHelp(sub))
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """The parsed command line; for ``lab``, ``jupyter_args`` holds what goes to JupyterLab, in order."""
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(selected if selected in COMMANDS else None)
    # 'coursekit lab --port 8899 ...' hands every option it does not know to JupyterLab, in order
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "lab":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        if "--" in unknown:
            unknown.remove("--")
        args.jupyter_args = list(args.jupyter_args) + unknown
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else list(argv))
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
