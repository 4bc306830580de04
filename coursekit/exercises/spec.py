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
    hidden,
    judge_result,
    judges_by_reference,
    score_part,
    scoring_rule,
    summarize_part,
    to_plain,
)
from coursekit.exercises.parts import MODULES

__all__ = ["EXERCISES", "FORBIDDEN_LIBRARIES", "PUBLIC_SEED", "Case", "Part", "all_parts", "compare_array",
           "compare_number", "draws_fresh_cases", "fresh_cases", "get_part", "judge_result", "score_part", "scoring_rule", "summarize_part",
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


# part id -> the part's case generator, where this copy of coursekit has it (the instructor's repository;
# the student edition replays its stored public cases instead)
_GENERATORS: dict[str, object] = {}


def _register(module) -> list[Part]:
    parts = [dataclasses.replace(p, exercise=module.EXERCISE) for p in module.PARTS]
    _GENERATORS.update({p.id: p.cases for p in parts if not isinstance(p.cases, hidden)})
    if _STORED is not None:
        parts = [dataclasses.replace(p, cases=_replay(_STORED[p.id])) for p in parts]
    chapter = str(int(module.EXERCISE[:2]))
    for k, p in enumerate(parts, start=1):
        if p.id != f"{chapter}.{k}":
            raise ValueError(f"{module.__name__}: part {k} has id {p.id!r}; expected {chapter}.{k}")
    return parts


EXERCISES: dict[str, list[Part]] = {m.EXERCISE: _register(m) for m in MODULES}


_JUDGEABLE: dict[str, bool] = {}


def draws_fresh_cases(part: Part) -> bool:
    """Whether new cases of ``part``'s families can be drawn and judged here (see :func:`fresh_cases`)."""
    if part.id not in _JUDGEABLE:
        public = part.cases(np.random.default_rng(PUBLIC_SEED))
        _JUDGEABLE[part.id] = part.id in _GENERATORS and not judges_by_reference(part, public)
    return _JUDGEABLE[part.id]


def fresh_cases(part: Part, rng: np.random.Generator) -> list[Case] | None:
    """New cases of ``part``'s case families drawn from ``rng``, or None where they cannot be judged.

    None when this copy of coursekit has no generator for the part (the student edition), or when the
    part's judge compares with reference answers, which only the public cases carry as data
    (:func:`~coursekit.exercises.judging.judges_by_reference`). Otherwise the same generator that draws
    the public cases and the grader's, with another seed: what the judge says on them, the grader would.
    """
    if not draws_fresh_cases(part):
        return None
    return _GENERATORS[part.id](rng)


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
