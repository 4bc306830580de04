"""Every time, memory and size limit of the grader, in one table: changing one is a one-line edit here.

The grading modules read these at the moment they use them (``limits.CELL_SECONDS``, never a copy
taken at import), so a test, or an instructor's script, can change one for a run. The runner
(``_runner.py``) runs inside the sandbox, where coursekit is not importable: it receives the limits it
needs in each job (:func:`for_runner`), and has no limit of its own. ``tests/test_grading_static.py``
fails on a numeric limit written anywhere else in ``coursekit/grading``.

Not here: the time one call of a student's function may take, and the largest integer an answer may
be. ``check()`` in the notebook and the grader share them, so they belong to the contract in
:mod:`coursekit.exercises.judging`; they are re-exported below so that this table lists every limit.
"""

from __future__ import annotations

# the shared contract's, re-exported: seconds for one call of a student's function; the largest integer answer
from coursekit.exercises.judging import CALL_SECONDS as CALL_SECONDS
from coursekit.exercises.judging import MAX_INT as MAX_INT

MB = 2**20  # a unit, not a limit

# --- time (seconds) ----------------------------------------------------------------------------
SUBMISSION_SECONDS = 60.0  # wall clock for one run of a submission (coursekit grade --timeout)
CELL_SECONDS = 10.0  # one notebook cell, before it is stopped and skipped
CALLS_SHARE = 0.25  # of a run's time, kept for the function calls after the cells ...
CALLS_MIN_SECONDS = 0.2  # ... and at least this much
MARGIN_SECONDS = 0.05  # a cell or call with less time than this before the deadline is not started
ALARM_REPEAT_SECONDS = 0.2  # the time-limit alarm fires again this often (student code may catch it)
CPU_EXTRA_SECONDS = 1  # RLIMIT_CPU: the run's time + the CPU its imports used + this
STARTUP_SECONDS = {"numpy": 3.0, "torch": 30.0}  # for a sandbox to start and import its profile
GRACE_SECONDS = 1.0  # past a run's time limit (and its startup) before the grader kills the sandbox
ZYGOTE_KILL_EXTRA_SECONDS = 1.0  # a pre-loaded sandbox kills its run this long after the grace
ZYGOTE_READY_EXTRA_SECONDS = 30.0  # past its startup, for a pre-loaded sandbox to say it is ready
ZYGOTE_HUNG_EXTRA_SECONDS = 5.0  # past a fresh sandbox's deadline, a pre-loaded sandbox that has not reported is hung
ZYGOTE_REPORT_SECONDS = 1.0  # for a pre-loaded sandbox's report once it said that a run ended
SELF_TEST_SECONDS = 5.0  # the job that checks that a sandbox starts
DETECT_SECONDS = 60.0  # asking the interpreter for its standard-library folders
POLL_SECONDS = 0.5  # longest wait between two looks at a running sandbox
DRAIN_SECONDS = 0.05  # waits for the last bytes of an ended run, and the shortest wait of a loop
REAP_SECONDS = 0.1  # shortest wait for an ended sandbox's exit status

# --- memory and processes -----------------------------------------------------------------------
MEMORY_MB = 1024  # address space per run, beyond what the runner mapped (coursekit grade --memory)
TMPFS_BYTES = 64 * MB  # the sandbox's /tmp, its only writable place
FILE_BYTES = 16 * MB  # largest file a submission may write (RLIMIT_FSIZE)
OPEN_FILES = 64  # RLIMIT_NOFILE
PROCESSES = {"numpy": 4, "torch": 64}  # RLIMIT_NPROC per profile (threads count; torch starts some)

# --- sizes ---------------------------------------------------------------------------------------
STREAM_BYTES = 64 * MB  # of results one run may send
STDERR_BYTES = 64 * 1024  # of a sandbox's stderr kept (for a sandbox that fails to start)
ANSWER_JSON_BYTES = 1 * MB  # JSON of one answer's frame (arrays travel beside it as raw bytes)
FRAME_JSON_BYTES = 8 * 1024  # JSON of any other frame (start, part, cell, missing, end)
WIRE_DEPTH = 8  # nesting of lists / tuples in one value on the wire (answers: judging's own, smaller)
ARRAY_NDIM = 32  # dimensions of one array on the wire
JSON_INT_DIGITS = 20  # characters of one JSON integer on the wire (2 * MAX_INT, the largest answer, has 20)
ERROR_CHARS = 200  # of an exception's first line, as the runner reports it
MESSAGE_CHARS = 500  # of one message from a sandbox, as the grader keeps it
CELL_ERRORS = 20  # failing cells named per submission (then "... and N more")
NOTEBOOK_BYTES = 20 * MB  # a submitted notebook (exercise notebooks are ~10 KB; with figures a few MB)
GRADEBOOK_BYTES = 64 * MB  # gradebook.csv and the other files the grader reads back


def for_runner() -> dict:
    """The limits the runner applies inside the sandbox, as it receives them in every job."""
    return {
        "cell_seconds": CELL_SECONDS, "calls_share": CALLS_SHARE, "calls_min_seconds": CALLS_MIN_SECONDS,
        "margin_seconds": MARGIN_SECONDS, "alarm_repeat_seconds": ALARM_REPEAT_SECONDS,
        "cpu_extra_seconds": CPU_EXTRA_SECONDS, "file_bytes": FILE_BYTES, "open_files": OPEN_FILES,
        "answer_json_bytes": ANSWER_JSON_BYTES, "frame_json_bytes": FRAME_JSON_BYTES, "wire_depth": WIRE_DEPTH,
        "max_int": MAX_INT, "error_chars": ERROR_CHARS,
    }
