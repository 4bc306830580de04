"""Safe batch grading of submitted exercise notebooks (``coursekit grade``).

- ``notebook``   reading a submission, finding each part's answer, from-scratch checks (static)
- ``sandbox``    worker processes that fork one limited child per submission
- ``_zygote``, ``_child``  what runs in those processes (the only place student code runs)
- ``wire``       the plain-data result channel (JSON + .npy, never pickle from the child)
- ``grader``     building jobs and judging results in the grader's own process
- ``gradebook``  gradebook.csv, feedback files
"""

from coursekit.grading.grader import PartResult, SubmissionResult, grade

__all__ = ["grade", "SubmissionResult", "PartResult"]
