"""Graded exercises: the parts (``parts/``), how they are judged (``judging``), the registry (``spec``),
instant feedback (``check``) and student copies (``release``).

In an exercise notebook::

    from coursekit.exercises import check
    check("6.1", softmax)   # prints specific feedback and the points
"""

from coursekit.exercises.feedback import CheckResult, check
from coursekit.exercises.spec import EXERCISES, PUBLIC_SEED, Case, Part, get_part, to_plain

__all__ = ["check", "CheckResult", "EXERCISES", "PUBLIC_SEED", "Case", "Part", "get_part", "to_plain"]
