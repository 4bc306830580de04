"""The grading worker ("zygote"): imports numpy and torch once, forks one sandbox per submission.

Started by the grader as ``python -m coursekit.grading._zygote REQ_FD RESP_FD``
in a session of its own. It never runs student code itself: for each job it
forks a child that calls ``setsid`` (its own session and process group, so
``os.killpg(0, ...)`` reaches only itself), closes the worker's pipes, sends
stdout/stderr to /dev/null, sets resource limits, works in a fresh temporary
folder, and reports on a pipe of its own. The worker enforces the wall-clock
limit (SIGKILL to the child's process group), collects the child's bytes
(capped) and hands them to the grader unparsed.

Protocol: requests are length-prefixed pickles from the grader (trusted
direction); replies are ``wire`` frames (JSON only) so the grader never
unpickles anything that came from here.

Debugging the grader itself: ``COURSEKIT_GRADE_DEBUG=1`` lets the workers'
and children's stderr through (tracebacks of the sandbox code).
"""

from __future__ import annotations

import os
import pickle
import select
import shutil
import signal
import struct
import sys
import tempfile
import time

MAX_STREAM = 64 * 2**20  # bytes of results one submission may send
GRACE = 1.0  # seconds past the soft deadline before the child is killed

PRELOAD = ("numpy", "coursekit", "coursekit.exercises")  # what every exercise notebook imports
# Heavy libraries are imported here (once per worker) only when a submission imports them:
# a worker holding torch forks in ~17 ms instead of ~3 ms, as the page tables are larger.
ON_DEMAND = frozenset({"numpy", "torch", "matplotlib", "scipy", "coursekit"})


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        data = os.read(fd, n)
        if not data:
            return None
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def _send(fd: int, header: dict, blobs: list[bytes] = ()) -> None:
    from coursekit.grading.wire import frame

    data = memoryview(frame(header, blobs))
    while data:
        data = data[os.write(fd, data) :]


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _not_dumpable() -> None:
    """Make /proc/<this pid>/fd and /mem unreachable for other processes of the same user."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


def _subreaper() -> bool:
    """Become the parent of orphans below us (Linux), so :func:`_kill_leftovers` finds them."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except Exception:
        return False


def _remove(path: str) -> None:
    def retry(func, p, exc_info):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)


def _run_child(job: dict, out_fd: int, close: tuple[int, ...], workdir: str) -> None:
    """In the forked child: isolate, limit, run. Never returns."""
    code = 0
    try:
        os.setsid()
        for fd in close:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1) if os.environ.get("COURSEKIT_GRADE_DEBUG") else (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        os.chdir(workdir)
        for var in ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR"):
            os.environ[var] = workdir
        tempfile.tempdir = workdir
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from coursekit.grading import _child as child

        deadline = time.monotonic() + job["timeout"]
        child.apply_limits(job["timeout"], job["memory"], _vm_size())
        child.run(job, out_fd, deadline)
    except BaseException:
        if os.environ.get("COURSEKIT_GRADE_DEBUG"):
            import traceback

            traceback.print_exc()
        code = 70
    finally:
        os._exit(code)


_reaped: dict[int, int] = {}  # pid -> wait status, where os.waitid is missing (macOS)


def _exited(pid: int) -> bool:
    """Has the child exited (without reaping it, so its process group id stays reserved)?"""
    if pid in _reaped:
        return True
    try:
        if hasattr(os, "waitid"):
            return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    if done:
        _reaped[pid] = status
    return bool(done)


def _collect(r: int, pid: int, deadline: float) -> tuple[bytes, bool, bool]:
    """Read the child's stream until EOF, the child's exit, the cap or the deadline.

    Returns (data, timed_out, truncated). The child's exit ends the reading
    even without EOF: a process it left behind may still hold the pipe.
    """
    chunks: list[bytes] = []
    size = 0
    timed_out = truncated = False
    child_gone = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([r], [], [], min(left, 0.05))
        if not ready:
            if child_gone:
                break  # exited, and everything it wrote has been read
            child_gone = _exited(pid)
            continue
        data = os.read(r, 1 << 16)
        if not data:
            break
        size += len(data)
        if size > MAX_STREAM:
            truncated = True
            break
        chunks.append(data)
    return b"".join(chunks), timed_out, truncated


def _kill_leftovers() -> None:
    """SIGKILL every process still below this worker, then reap them.

    The worker is a child subreaper, so whatever a submission started (even
    after ``setsid`` and a double fork) ends up as its child once its parent
    is gone; nothing survives into the next submission's run.
    """
    me = os.getpid()
    if not os.path.isdir("/proc"):
        return  # not Linux: the process group kill is all there is
    for _ in range(100):  # bounded: each round kills a generation
        kids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 1 and int(fields[1]) == me:
                kids.append(int(entry))
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.005)


def _reap(pid: int, deadline: float) -> tuple[int | None, int | None, bool]:
    """Wait for the child until ``deadline``, then kill its whole process group. (code, signal, killed)."""
    killed = False
    while not _exited(pid):
        if time.monotonic() >= deadline:
            killed = True
            break
        time.sleep(0.002)
    # The child is a zombie or overdue: its process group id is still reserved, so this
    # reaches the child and anything it started (that did not leave the group), nothing else.
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    status = _reaped.pop(pid) if pid in _reaped else os.waitpid(pid, 0)[1]
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status), killed
    return os.WEXITSTATUS(status), None, killed


def preload(names) -> None:
    """Import library modules here, before forking, so that children find them loaded.

    Only modules of the libraries in ON_DEMAND: the worker never imports
    anything a submission could have written.
    """
    for name in names:
        if not isinstance(name, str) or name in sys.modules or name.split(".")[0] not in ON_DEMAND:
            continue
        if not all(part.isidentifier() for part in name.split(".")):
            continue
        try:
            __import__(name)
        except Exception:  # a missing module is the submission's ImportError to meet, not ours
            pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)  # two workers share two cores


def serve(req_fd: int, resp_fd: int) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    preload(PRELOAD)
    from coursekit.grading import _child  # noqa: F401 - imported once, used by every fork

    _not_dumpable()
    _subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _send(resp_fd, {"kind": "ready", "pid": os.getpid()})
    while True:
        head = _read_exact(req_fd, 4)
        if head is None:
            return  # the grader closed the pipe (done, or gone)
        body = _read_exact(req_fd, struct.unpack(">I", head)[0])
        if body is None:
            return
        job = pickle.loads(body)  # from the grader, which never runs student code
        preload(job.get("preload", ()))
        workdir = tempfile.mkdtemp(prefix="coursekit-grade-")
        r, w = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                _run_child(job, w, (req_fd, resp_fd), workdir)
            finally:
                os._exit(70)  # never fall back into the worker's loop
        os.close(w)
        _send(resp_fd, {"kind": "started", "job": job["id"], "pid": pid})
        deadline = start + job["timeout"] + GRACE
        data, timed_out, truncated = _collect(r, pid, deadline)
        code, sig, killed = _reap(pid, deadline if not (timed_out or truncated) else 0)
        _kill_leftovers()
        # what the child wrote just before it was stopped still counts
        if not truncated:
            while select.select([r], [], [], 0.2)[0]:
                more = os.read(r, 1 << 16)
                if not more or len(data) + len(more) > MAX_STREAM:
                    break
                data += more
        os.close(r)
        _remove(workdir)
        _send(resp_fd, {
            "kind": "done", "job": job["id"], "exit": code, "signal": sig,
            "timed_out": timed_out or killed, "truncated": truncated,
            "seconds": round(time.monotonic() - start, 4),
        }, [data])
        del job, data


def main() -> None:
    serve(int(sys.argv[1]), int(sys.argv[2]))


if __name__ == "__main__":
    main()
