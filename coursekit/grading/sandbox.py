"""The grader's side of the sandbox: worker processes ("zygotes") and their restarts.

A :class:`Worker` starts ``python -m coursekit.grading._zygote`` in a session
of its own, with numpy and torch imported once, and sends it jobs. Each job
comes back as a :class:`RunResult` holding the child's raw result bytes,
which the caller parses with :mod:`coursekit.grading.wire`. When a worker
dies or hangs (a submission killed or stopped it), the grader kills it, kills
the submission's process group, starts a new worker and reports the job as
failed: the batch goes on.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from coursekit.grading.wire import MAX_HEADER

STARTUP_TIMEOUT = 180.0  # seconds for a worker to import numpy + torch on a slow machine
MAX_REPLY = 80 * 2**20  # bytes: a submission's results (capped at 64 MB by the worker) + room
REPLY_GRACE = 4.0  # seconds past a job's own deadline before the worker counts as hung


@dataclass
class RunResult:
    stream: bytes = b""
    exit: int | None = None
    signal: int | None = None
    timed_out: bool = False
    truncated: bool = False
    seconds: float = 0.0
    worker_error: str | None = None  # the worker itself died or hung during this job


class WorkerError(RuntimeError):
    pass


class Worker:
    """One zygote process and the pipes to it."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.req: int | None = None
        self.resp: int | None = None
        self.ready = False
        self.restarts = 0
        self.tmp: str | None = None

    # -- life cycle --------------------------------------------------------
    def start(self) -> None:
        """Start the worker and wait until it has imported numpy and torch."""
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start the worker process without waiting (several can import in parallel)."""
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = dict(os.environ)
        # one thread per worker: two workers share two cores, and the sandbox may not create threads
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        env["MPLBACKEND"] = "Agg"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["PYTHONSAFEPATH"] = "1"  # Python 3.11+: no working folder on sys.path at all
        # the sandboxes' folders live in one folder per worker, removed with it even if it dies
        self.tmp = tempfile.mkdtemp(prefix="coursekit-grading-")
        env["TMPDIR"] = self.tmp
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "coursekit.grading._zygote", str(req_r), str(resp_w)],
                pass_fds=(req_r, resp_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("COURSEKIT_GRADE_DEBUG") else subprocess.DEVNULL,
                start_new_session=True,  # a submission's killpg cannot reach the grader
                cwd=package_root,  # not the grader's folder, which may hold submitted .py files
                env=env,
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.req, self.resp = req_w, resp_r
        self.ready = False

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            header, _ = self._receive(time.monotonic() + STARTUP_TIMEOUT)
        except WorkerError as exc:
            self.kill()
            raise WorkerError(f"the grading worker did not start ({exc})") from None
        if header.get("kind") != "ready":
            self.kill()
            raise WorkerError("the grading worker did not start")
        self.ready = True

    def stop(self) -> None:
        for fd in (self.req, self.resp):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.req = self.resp = None
        if self.proc is not None:
            # between jobs it holds nothing worth a clean exit (and torch's teardown is slow)
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self.ready = False

    def kill(self) -> None:
        self.stop()

    # -- messages ------------------------------------------------------------
    def _read(self, n: int, deadline: float) -> bytes:
        """Exactly ``n`` bytes from the worker (linear time, however large)."""
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerError("the grading worker stopped answering")
            ready, _, _ = select.select([self.resp], [], [], left)
            if not ready:
                continue
            data = os.read(self.resp, min(n, 1 << 20))
            if not data:
                raise WorkerError("the grading worker died")
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)

    def _receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        """The next frame from the worker; WorkerError on EOF, garbage or the deadline."""
        (n,) = struct.unpack(">I", self._read(4, deadline))
        if n > MAX_HEADER:
            raise WorkerError("the grading worker sent garbage (bad frame length)")
        head = self._read(n, deadline)
        sizes = None
        try:
            header = json.loads(head)
            sizes = header.get("blobs") if isinstance(header, dict) else None
        except (ValueError, RecursionError):
            pass
        if not isinstance(sizes, list) or not all(type(k) is int and 0 <= k <= MAX_REPLY for k in sizes) \
                or sum(sizes) > MAX_REPLY:
            raise WorkerError("the grading worker sent garbage (bad frame)")
        return header, [self._read(k, deadline) for k in sizes]

    def run(self, job: dict) -> RunResult:
        """Run one job; on a worker failure, clean up, restart the worker and say so."""
        for attempt in range(3):  # a worker killed while it starts (by another submission) gets a retry
            try:
                if self.proc is None:
                    self.spawn()
                self.wait_ready()
                break
            except WorkerError:
                if attempt == 2:
                    raise
        child_pid = None
        try:
            body = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
            os.write(self.req, struct.pack(">I", len(body)))
            view = memoryview(body)
            while view:
                view = view[os.write(self.req, view) :]
            # before "started" the worker may be importing a library the submission uses
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                header, blobs = self._receive(deadline)
                if header.get("job") != job["id"]:
                    raise WorkerError("the grading worker answered out of turn")
                if header.get("kind") == "started" and type(header.get("pid")) is int:
                    child_pid = header["pid"]
                    deadline = time.monotonic() + job["timeout"] + REPLY_GRACE
                elif header.get("kind") == "done" and len(blobs) == 1:
                    return RunResult(
                        stream=blobs[0],
                        exit=header.get("exit") if type(header.get("exit")) is int else None,
                        signal=header.get("signal") if type(header.get("signal")) is int else None,
                        timed_out=header.get("timed_out") is True,
                        truncated=header.get("truncated") is True,
                        seconds=float(header.get("seconds") or 0.0),
                    )
                else:
                    raise WorkerError("the grading worker sent an unexpected message")
        except (WorkerError, OSError) as exc:
            why = str(exc) if isinstance(exc, WorkerError) else f"the grading worker died ({exc})"
            if child_pid is not None and child_pid > 1:
                try:  # the submission's own process group, which the dead worker can no longer end
                    os.killpg(child_pid, signal.SIGKILL)
                except OSError:
                    pass
            self.kill()
            self.restarts += 1
            return RunResult(worker_error=why)
