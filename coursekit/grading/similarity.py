"""Fingerprints of submitted code, and the pairs of submissions that look copied.

A fingerprint is taken of each part's function (the last top-level ``def``
of its name in the code cells) and of the whole notebook's code, after
normalising it with :mod:`ast`: comments, docstrings, layout and the names
of variables, arguments and helper functions do not count (each name is
replaced by its order of first appearance). Two numbers per piece of code:

- ``exact``: a hash of the normalised syntax tree (identical code);
- ``sim``: a 64-bit SimHash of its 4-token shingles; the number of bits in
  which two differ is small when the code is nearly the same (a line added,
  a constant changed).

The grader never runs or imports the code for this: it only parses it. A
flag is a reason for a human to look, never a verdict: short functions
written by two honest students can be identical.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from coursekit.grading._runner import python_source

NEAR_BITS = 6  # SimHash distance (of 64 bits) up to which code counts as nearly the same
MIN_TOKENS = 40  # pieces of code shorter than this (a one-line function) are not compared
KEEP = {"np", "numpy", "math", "self"} | set(dir(builtins))  # names that mean the same in every notebook


class _Rename(ast.NodeTransformer):
    """Names of variables, arguments and functions by order of first appearance; docstrings dropped."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        if name in KEEP:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def _body(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._name(node.name)
        node.returns = None
        self._body(node)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self._name(node.name)
        self._body(node)
        self.generic_visit(node)
        return node


def _tokens(nodes: Sequence[ast.AST]) -> list[str]:
    tree = _Rename().visit(ast.Module(body=list(nodes), type_ignores=[]))
    return re.findall(r"\w+|[^\w\s]", ast.unparse(tree))  # canonical code: no comments, one layout


def _simhash(tokens: list[str]) -> int:
    """64-bit SimHash of the 4-token shingles: each bit is the majority vote of the shingles' hashes."""
    digests = b"".join(hashlib.blake2b(" ".join(tokens[i:i + 4]).encode(), digest_size=8).digest()
                       for i in range(max(1, len(tokens) - 3)))
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(-1, 64)  # bit 0: the most significant
    votes = 2 * bits.sum(axis=0, dtype=np.int64) > len(bits)
    return int.from_bytes(np.packbits(votes).tobytes(), "big")


def _stub(node: ast.FunctionDef) -> bool:
    """A released stub: a body that only raises NotImplementedError (after a docstring)."""
    body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
    return all(isinstance(b, (ast.Raise, ast.Pass)) for b in body)


def _fingerprint(nodes: Sequence[ast.AST]) -> str:
    tokens = _tokens(nodes)
    exact = hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:16]
    return f"{exact}.{_simhash(tokens):016x}.{len(tokens)}"


def fingerprints(cells: Iterable[tuple[int, str]], parts: Sequence) -> dict[str, str]:
    """``{part id: fingerprint, "*": all answers'}`` of the code cells (index, source); stubs left out."""
    statements: list[ast.stmt] = []
    for _, source in cells:
        try:
            text = python_source(source)
            if text is not None:
                statements += ast.parse(text).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    out: dict[str, str] = {}
    defs = {s.name: s for s in statements if isinstance(s, ast.FunctionDef)}  # the last of each name wins
    answers = []
    for part in parts:
        node = defs.get(part.function)
        if node is not None and not _stub(node):
            out[part.id] = _fingerprint([node])
            answers.append(node)
    if len(answers) >= 2:  # every answer together (the released template, the same for all, left out)
        out["*"] = _fingerprint(answers)
    return out


def encode(prints: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in prints.items())


def decode(text: str) -> dict[str, str]:
    out = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if re.fullmatch(r"[0-9a-f]{16}\.[0-9a-f]{16}\.\d+", value):
            out[key] = value
    return out


@dataclass
class Flag:
    exercise: str
    a: str
    b: str
    why: str


def _parse(fp: str) -> tuple[str, int, int]:
    exact, sim, n = fp.split(".")
    return exact, int(sim, 16), int(n)


def similar_pairs(rows: Sequence[tuple[str, str, dict[str, str]]]) -> list[Flag]:
    """Pairs of (student, exercise, fingerprints) of one exercise whose code is identical or nearly so.

    Flagged: all answers together identical (normalised) or nearly so, or
    at least two parts' functions identical or nearly so (functions shorter
    than :data:`MIN_TOKENS` tokens are not compared).
    """
    flags: list[Flag] = []
    by_ex: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for student, exercise, prints in rows:
        by_ex.setdefault(exercise, []).append((student, prints))
    for exercise, items in by_ex.items():
        for (sa, pa), (sb, pb) in itertools.combinations(sorted(items, key=lambda t: t[0]), 2):
            same, near = [], []
            for key in sorted(set(pa) & set(pb)):
                ea, ha, na = _parse(pa[key])
                eb, hb, nb = _parse(pb[key])
                if min(na, nb) < MIN_TOKENS:
                    continue
                if ea == eb:
                    same.append(key)
                elif bin(ha ^ hb).count("1") <= NEAR_BITS:
                    near.append(key)
            whole = "identical" if "*" in same else "nearly identical" if "*" in near else None
            parts_same = [k for k in same if k != "*"]
            parts_near = [k for k in near if k != "*"]
            if whole or len(parts_same) + len(parts_near) >= 2:
                bits = []
                if whole:
                    bits.append(f"all answers {whole}")
                if parts_same:
                    bits.append("identical " + ", ".join(parts_same))
                if parts_near:
                    bits.append("nearly identical " + ", ".join(parts_near))
                flags.append(Flag(exercise, sa, sb, "; ".join(bits) + " (comments, names and layout aside)"))
    return flags
