"""Safe batch grading of submitted exercise notebooks (``coursekit grade``).

- ``limits``     every time, memory and size limit of the grader, in one table
- ``notebook``   finding and reading submissions (no links, no FIFOs), deciding their exercise
- ``sandbox``    one bubblewrap sandbox per run: mounts, seccomp filter, limits, the kill
- ``_runner``    what runs inside it (the only place student code runs)
- ``wire``       the plain-data channel (JSON + raw array bytes, validated; never pickle)
- ``grader``     building jobs and judging results in the grader's own process
- ``gradebook``  gradebook.csv kept across runs, feedback files per run (student text escaped), overrides
- ``similarity`` fingerprints of the answers' normalised code, pairs that look copied
- ``report``     ``coursekit report``: per-part statistics, similar code, Canvas / Moodle exports
"""

from coursekit.grading.grader import PartResult, SubmissionResult, grade
from coursekit.grading.sandbox import SandboxUnavailable

__all__ = ["grade", "SubmissionResult", "PartResult", "SandboxUnavailable"]
