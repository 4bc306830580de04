"""Every command the README shows in a code block is run by a test, in exactly that spelling.

``COMMANDS`` maps each README command to the test that runs it. "Runs it" is checked
in the test's source: the test must build that command line as one list literal,
``[CONSOLE, "lab", "--no-browser", "--port", "8899"]`` for
``.venv/bin/coursekit lab --no-browser --port 8899`` (``CONSOLE`` is the installed
``coursekit`` script of the environment under test), ``["make", "lab"]`` for ``make lab``.
A README command missing from the table fails, and so does a table entry whose command
the README no longer shows (or whose test no longer spells it).

Two kinds of exception, each visible in the README itself:
- a command ending in ``# not run by the tests`` (the conda commands: no conda on CI);
- ``PLACEHOLDERS``, arguments that stand for the reader's own files (``submissions/``):
  in the test any expression that is not a string constant may stand there, and the
  test may add options of its own among the README's, which stay in their order (an
  output folder in a temporary directory, a shorter timeout).
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# README command -> "tests/file.py::test_function" that runs it
COMMANDS = {
    "make lab": "tests/test_cli.py::test_make_lab_sets_up_and_serves_the_working_folder",
    # the test suite itself: .ci/run ends with exactly this line (CI runs it)
    "make test": "tests/test_environment.py::test_ci_runs_exactly_the_readme_test_command",
    "make site": "tests/test_site.py::site",
    ".venv/bin/coursekit lab --no-browser --port 8899":
        "tests/test_cli.py::test_lab_readme_command_serves_the_working_folder_on_localhost",
    ".venv/bin/coursekit lab --fresh exercises/05_initialization.ipynb":
        "tests/test_cli.py::test_lab_keeps_the_students_work_copies_new_notebooks_and_gives_a_fresh_copy",
    ".venv/bin/coursekit check":
        "tests/test_cli.py::test_check_passes_a_stored_lesson_and_names_the_cell_whose_output_was_edited",
    ".venv/bin/coursekit check notebooks/01_neurons.ipynb":
        "tests/test_cli.py::test_check_shows_its_progress_cell_by_cell_on_a_terminal",
    ".venv/bin/coursekit doctor": "tests/test_cli.py::test_doctor_reports_versions_and_finds_nothing_to_fix_here",
    ".venv/bin/coursekit grade submissions/": "tests/test_grading.py::test_cli_writes_gradebook_feedback_and_json",
    ".venv/bin/coursekit grade submissions/ --json > grades.json":
        "tests/test_grading.py::test_cli_writes_gradebook_feedback_and_json",
}
PLACEHOLDERS = {"submissions/"}
UNTESTED_MARK = "# not run by the tests"
# How a test may spell the program of a README command.
PROGRAMS = {
    ".venv/bin/coursekit": [["CONSOLE"], ["sys.executable", "-m", "coursekit.cli"]],
    "make": [["make"]],
}


def readme_commands(text: str) -> list[tuple[str, bool]]:
    """(command, untested) for each command line in the README's bash code blocks."""
    out = []
    for block in re.findall(r"^ *```(?:bash|sh|shell|console)\n(.*?)^ *```", text, flags=re.M | re.S):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            untested = UNTESTED_MARK in line
            command = " ".join(shlex.split(line, comments=True))
            out.append((command, untested))
    return out


def _tokens(command: str) -> list[str]:
    tokens = shlex.split(command)
    if ">" in tokens:  # shell redirection: the test reads the output itself
        tokens = tokens[: tokens.index(">")]
    return tokens


def _element(node: ast.expr) -> str | None:
    """A list element as text: a string constant, or a (dotted) name; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        return ast.unparse(node)
    return None


def _spells(function: ast.AST, command: str) -> bool:
    """Does ``function`` build ``command`` as one list literal (see the module docstring)?"""
    program, *args = _tokens(command)
    for node in ast.walk(function):
        if not isinstance(node, (ast.List, ast.Tuple)):
            continue
        elements = [_element(e) for e in node.elts]
        for spelling in PROGRAMS.get(program, [[program]]):
            n = len(spelling)
            if elements[:n] != spelling or len(elements) < n + len(args):
                continue
            given = elements[n:]
            if not any(a in PLACEHOLDERS for a in args):
                if given == args:
                    return True
                continue
            # loose: the README's arguments in order, a placeholder matched by a non-constant
            rest = iter(enumerate(node.elts[n:]))
            if all(any((a in PLACEHOLDERS and not isinstance(e, ast.Constant)) or given[i] == a
                       for i, e in rest) for a in args):
                return True
    return False


def _function(node_id: str) -> ast.AST:
    path, name = node_id.split("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise AssertionError(f"{node_id}: no such test or fixture")


def test_every_readme_command_is_in_the_table():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 8, commands
    unmapped = [c for c, untested in commands if not untested and c not in COMMANDS]
    assert not unmapped, ("README commands no test runs (add a test, and the command to COMMANDS in "
                          f"tests/test_readme_commands.py): {unmapped}")
    stale = sorted(set(COMMANDS) - {c for c, _ in commands})
    assert not stale, f"COMMANDS lists commands the README no longer shows: {stale}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_mapped_test_runs_the_command_in_that_spelling(command):
    node_id = COMMANDS[command]
    if command == "make test":
        ci = (ROOT / ".ci" / "run").read_text().splitlines()
        assert [ln for ln in ci if ln.strip() and not ln.startswith("#")][-1].strip() == command
        return
    assert _spells(_function(node_id), command), f"{node_id} does not run {command!r} in that spelling"


def test_the_checker_rejects_another_spelling():
    tree = ast.parse('def t():\n    run([CONSOLE, "lab", "--no-browser", "--port=8899"])\n')
    assert not _spells(tree, ".venv/bin/coursekit lab --no-browser --port 8899")
    assert _spells(tree, ".venv/bin/coursekit lab --no-browser --port=8899")
    assert not _spells(tree, ".venv/bin/coursekit lab --no-browser")  # nothing extra, nothing missing
    grade = ast.parse('def t():\n    run([CONSOLE, "grade", str(d), "--out", str(o), "--json"])\n')
    assert _spells(grade, ".venv/bin/coursekit grade submissions/ --json > grades.json")
    assert not _spells(grade, ".venv/bin/coursekit grade submissions/ --csv")
    assert readme_commands("```bash\nmake lab   # a comment\nmamba x  # not run by the tests\n```\n") == [
        ("make lab", False), ("mamba x", True)]
