"""What runs inside the sandbox: one submission's code, then its functions on the cases.

This module is executed in a process forked for one submission (see
``_zygote``). It is the only place student code runs. Nothing it produces is
trusted: it writes plain-data frames (``wire``) on a dedicated pipe, and the
grader judges them in its own process. stdout and stderr go to /dev/null, so
printing cannot pose as a result.
"""

from __future__ import annotations

import builtins
import math
import os
import resource
import signal
import time
from typing import Any

from coursekit.grading.wire import NotPlain, encode_value, frame

CELL_LIMIT = 10.0  # seconds one notebook cell may run before it is skipped


class _TimeLimit(BaseException):  # BaseException: `except Exception` in student code cannot swallow it
    pass


_armed = False  # the alarm only interrupts while student code runs, never our own reporting


def _on_alarm(signum, frame):
    if _armed:
        raise _TimeLimit


def _arm(seconds: float) -> None:
    global _armed
    _armed = seconds > 0
    # re-fires every 0.2 s, in case the student's code catches the first one with a bare except
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0), 0.2 if seconds > 0 else 0)


def _short(exc: BaseException) -> str:
    """'ValueError: message' with the first line of the message, at most 200 characters."""
    name = type(exc).__name__
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    try:
        text = str(exc).strip().splitlines()
    except BaseException:  # a student exception whose __str__ raises
        text = []
    msg = text[0] if text else ""
    if len(msg) > 200:
        msg = msg[:197] + "..."
    return f"{name}: {msg}" if msg else name


class _FakeIPython:
    """Enough of ``get_ipython()`` for magics in a submission: most do nothing."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def run_line_magic(self, name, line, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, body, *args, **kwargs):
        if name in ("time", "timeit", "capture"):  # these run their body as Python
            exec(compile(body, "<cell magic>", "exec"), self.namespace)  # noqa: S102
        return None

    def system(self, *args, **kwargs):
        return None

    def getoutput(self, *args, **kwargs):
        return []

    def __getattr__(self, name):
        return lambda *a, **k: None


def apply_limits(timeout: float, memory: int, baseline: int) -> None:
    """CPU seconds, address space (``baseline`` + ``memory`` bytes), files, no new processes."""

    def limit(what, soft, hard=None):
        try:
            resource.setrlimit(what, (soft, soft if hard is None else hard))
        except (ValueError, OSError):
            pass  # a limit the system does not allow lowering: the wall-clock kill still applies

    cpu = int(math.ceil(timeout)) + 1
    limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    if memory > 0:
        limit(resource.RLIMIT_AS, baseline + memory)
    limit(resource.RLIMIT_FSIZE, 64 * 2**20)
    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_NOFILE, 256)
    # no fork bombs, no escaping the process group (not enforced for root, see the README)
    limit(resource.RLIMIT_NPROC, 0)


class _Out:
    def __init__(self, fd: int):
        self.fd = fd
        self.broken = False

    def send(self, header: dict, blobs: list[bytes] = ()) -> None:
        if self.broken:
            return
        try:
            data = memoryview(frame(header, blobs))
        except NotPlain as exc:  # too large for one frame: say so instead, keep the stream valid
            data = memoryview(frame({k: v for k, v in header.items() if k != "value"} | {"error": str(exc)}))
        try:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]
        except OSError:  # the student closed or replaced our pipe: nothing more can be reported
            self.broken = True


def run(job: dict, out_fd: int, deadline: float) -> None:
    """Run the cells, then every part's cases; report on ``out_fd``. Returns normally when done."""
    out = _Out(out_fd)
    out.send({"kind": "start"})
    signal.signal(signal.SIGALRM, _on_alarm)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    namespace["get_ipython"] = lambda: _FakeIPython(namespace)
    budget = max(job["timeout"] * 0.25, 0.2)  # kept for the function calls

    for index, source in job["cells"]:
        left = deadline - time.monotonic() - budget
        if left <= 0.05:
            out.send({"kind": "cell", "index": index, "error": "not run: the submission ran out of time"})
            continue
        try:
            code = compile(source, f"<cell {index}>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            out.send({"kind": "cell", "index": index, "error": _short(exc)})
            continue
        try:
            _arm(min(CELL_LIMIT, left))
            try:
                exec(code, namespace)  # noqa: S102 - the whole point of this process
            finally:
                _arm(0)
        except _TimeLimit:
            out.send({"kind": "cell", "index": index,
                      "error": f"took longer than {min(CELL_LIMIT, left):.3g} s and was stopped"})
        except SystemExit:
            out.send({"kind": "cell", "index": index, "error": "called sys.exit() / exit(); skipped"})
        except BaseException as exc:  # a failing cell is skipped, as in a notebook
            out.send({"kind": "cell", "index": index, "error": _short(exc)})

    for part in job["parts"]:
        pid, name = part["id"], part["function"]
        func = namespace.get(name)
        if func is None or not callable(func):
            why = (f"no function `{name}` is defined after running the notebook's code cells"
                   if func is None else f"`{name}` is not a function (it is a {type(func).__name__})")
            out.send({"kind": "missing", "part": pid, "error": why})
            continue
        stop = None
        for k, (args, kwargs) in enumerate(part["cases"]):
            if stop:
                out.send({"kind": "case", "part": pid, "case": k, "error": stop, "skipped": True})
                continue
            left = deadline - time.monotonic() - 0.05
            limit = min(part["time_limit"], left)
            if limit <= 0:
                stop = "not run: the submission ran out of time"
                out.send({"kind": "case", "part": pid, "case": k, "error": stop, "skipped": True})
                continue
            try:
                _arm(limit)
                try:
                    result = func(*args, **kwargs)
                finally:
                    _arm(0)
            except _TimeLimit:
                out.send({"kind": "case", "part": pid, "case": k,
                          "error": f"took longer than {limit:.3g} s and was stopped"})
                stop = "not run: an earlier case of this part took too long"
                continue
            except NotImplementedError as exc:
                out.send({"kind": "case", "part": pid, "case": k,
                          "error": "not implemented yet (" + _short(exc) + ")"})
                continue
            except SystemExit:
                out.send({"kind": "case", "part": pid, "case": k, "error": "called sys.exit()"})
                continue
            except BaseException as exc:
                out.send({"kind": "case", "part": pid, "case": k, "error": "raised " + _short(exc)})
                continue
            blobs: list[bytes] = []
            try:
                value = encode_value(result, blobs)
            except NotPlain as exc:
                out.send({"kind": "case", "part": pid, "case": k, "error": str(exc)})
                continue
            except BaseException as exc:  # e.g. a tensor subclass whose .numpy() raises
                out.send({"kind": "case", "part": pid, "case": k,
                          "error": "the result could not be converted to plain data (" + _short(exc) + ")"})
                continue
            out.send({"kind": "case", "part": pid, "case": k, "value": value}, blobs)
    out.send({"kind": "end"})
