"""The exercises' registry: every part of every notebook, and the names the grader imports.

The parts live in ``coursekit/exercises/parts/exNN.py`` (one module per
notebook); how they are judged and scored lives in
``coursekit/exercises/judging.py``. This module ties them together:
``EXERCISES`` maps each notebook stem to its parts, each part knowing its
exercise from the module that defines it.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import numpy as np

from coursekit.exercises.judging import (
    FORBIDDEN_LIBRARIES,
    PUBLIC_SEED,
    Case,
    Part,
    compare_array,
    compare_number,
    judge_result,
    score_part,
    scoring_rule,
    summarize_part,
    to_plain,
)
from coursekit.exercises.parts import MODULES

__all__ = ["EXERCISES", "FORBIDDEN_LIBRARIES", "PUBLIC_SEED", "Case", "Part", "all_parts", "compare_array",
           "compare_number", "get_part", "judge_result", "score_part", "scoring_rule", "summarize_part",
           "to_plain"]


# In the student edition (``coursekit release --student-edition``) the case generators are not
# there: each part's public cases, with their reference answers where the judge needs one, are
# stored as data in this file, which the instructor's repository does not have.
PUBLIC_CASES = Path(__file__).resolve().parent.parent / "data" / "public_cases.pkl"


def _stored() -> dict[str, list[Case]] | None:
    if not PUBLIC_CASES.is_file():
        return None
    with PUBLIC_CASES.open("rb") as f:
        return pickle.load(f)  # noqa: S301 - the edition's own data file, written by coursekit release


def _replay(cases: list[Case]):
    def public_cases(rng: np.random.Generator) -> list[Case]:
        """The stored public cases (the student edition has no generator); ``rng`` is not used."""
        return copy.deepcopy(cases)

    return public_cases


_STORED = _stored()


def _register(module) -> list[Part]:
    parts = [dataclasses.replace(p, exercise=module.EXERCISE) for p in module.PARTS]
    if _STORED is not None:
        parts = [dataclasses.replace(p, cases=_replay(_STORED[p.id])) for p in parts]
    chapter = str(int(module.EXERCISE[:2]))
    for k, p in enumerate(parts, start=1):
        if p.id != f"{chapter}.{k}":
            raise ValueError(f"{module.__name__}: part {k} has id {p.id!r}; expected {chapter}.{k}")
    return parts


EXERCISES: dict[str, list[Part]] = {m.EXERCISE: _register(m) for m in MODULES}


def all_parts() -> list[Part]:
    """Every part of every exercise, in course order."""
    return [p for parts in EXERCISES.values() for p in parts]


def get_part(part_id: str) -> Part:
    """The part with id ``part_id`` ("6.1"); ValueError listing the valid ids otherwise."""
    for part in all_parts():
        if part.id == part_id:
            return part
    valid = ", ".join(p.id for p in all_parts())
    raise ValueError(f"unknown exercise part {part_id!r}; valid parts: {valid}")
