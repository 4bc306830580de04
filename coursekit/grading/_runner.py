"""What runs inside the sandbox: one submission's cells, then its functions on the cases.

Executed as a script (``python -I -S -B _runner.py RESULT_FD``) inside a
bubblewrap sandbox, so it imports nothing but the standard library and
numpy (torch too, in the sandbox of parts that may use it): coursekit is
not there. It reads its job from stdin (the grader's frames), runs the
cells and the calls, and writes plain-data frames on ``RESULT_FD``.

Nothing this process sends is trusted: the student's code runs in it and
can rewrite any of it. The grader judges every answer in its own process,
accepts one answer per case id it chose, and treats anything malformed as
this submission's error. The time limits below are for good feedback
("took longer than 2 s"); the hard limits are the rlimits set here before
any student code runs and the grader's wall-clock kill of the sandbox.

Every limit comes with the job (``job["limits"]``, from
``coursekit.grading.limits``, which this process cannot import): this file
holds no limit of its own.

The wire (both directions): frames ``4-byte big-endian length | JSON
header | blobs``; the JSON starts with its ``kind`` (``start``, ``cell``,
``part``, ``missing``, ``case``, ``end``), which the grader reads, with the
length, before it parses anything; ``header["blobs"]`` lists the byte sizes
of the raw array buffers that follow. A ``part`` frame precedes each part's
answers, so the grader knows which part a crash interrupted. Values are
JSON with tags::

    {"t": "nd", "dtype": "<f8", "shape": [2, 3], "i": 0}   blob 0: raw little-endian bytes
    {"t": "tuple", "v": [...]}   {"t": "list", "v": [...]}   {"t": "dict", "v": [[key, value], ...]}
    {"t": "float", "v": "nan"}   {"t": "str", "v": "..."}   {"t": "rng", "state": {...}}  (PCG64)
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
import struct
import sys
import time
import types

KINDS = ("start", "cell", "part", "missing", "case", "end")  # the frames the runner sends
DTYPES = frozenset({"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"})
# The job's limits (coursekit.grading.limits.for_runner()), set from each job before anything else runs.
LIMITS: dict = {}


class NotPlain(TypeError):
    """A return value that is not plain data (numbers, arrays, tuples / lists of them)."""


# ----------------------------------------------------------------------------
# Encoding (used here for results, and by the grader for the case inputs)
# ----------------------------------------------------------------------------


def encode_value(value, blobs: list, limits: dict | None = None, depth: int = 0):
    """JSON-able form of ``value``; array data goes into ``blobs`` as raw bytes.

    ``limits``: the job's (``wire_depth``, ``max_int``); by default this process's :data:`LIMITS`.

    Exact type checks, not isinstance: a subclass's ``__eq__``, ``__float__``
    or ``__array__`` never decides what the grader sees.

    This only *transports* a value: the grader converts what arrives with
    ``coursekit.exercises.judging.to_plain``, the conversion ``check()`` applies
    in the notebook. So nothing ``to_plain`` tells apart is merged here, and what
    the wire cannot carry is reduced exactly as ``to_plain`` reduces it: numpy
    scalars travel as 0-d arrays, long double as float64, a ``Fraction`` as a float.
    """
    import fractions

    import numpy as np

    limits = LIMITS if limits is None else limits
    if depth > limits["wire_depth"]:
        raise NotPlain("returned a structure nested too deeply")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        v = int.__index__(value)
        if not -limits["max_int"] <= v < 2 * limits["max_int"]:
            raise NotPlain("returned an integer too large to grade (more than 64 bits)")
        return v
    if isinstance(value, float):
        x = float.__float__(value)
        return x if math.isfinite(x) else {"t": "float", "v": repr(x)}
    if isinstance(value, str):
        return {"t": "str", "v": str.__str__(value)}
    if type(value) is fractions.Fraction:
        x = float(value)
        return x if math.isfinite(x) else {"t": "float", "v": repr(x)}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_complex():
            raise NotPlain(f"returned a complex tensor of dtype {value.dtype}; expected real numbers")
        value = value.detach().cpu().numpy()
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        arr = np.ndarray.__array__(value)  # the base class's data, none of a subclass's code
        if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
            arr = arr.astype(np.float64)  # long double: as to_plain reduces it
        dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if dtype.str not in DTYPES:
            raise NotPlain(f"returned an array of dtype {arr.dtype}; expected real numbers")
        data = np.ascontiguousarray(arr, dtype=dtype).tobytes()
        blobs.append(data)
        return {"t": "nd", "dtype": dtype.str, "shape": [int(n) for n in arr.shape], "i": len(blobs) - 1}
    if isinstance(value, (list, tuple)):
        items = [encode_value(v, blobs, limits, depth + 1) for v in list.__iter__(list(value))]
        return {"t": "tuple" if isinstance(value, tuple) else "list", "v": items}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[str(k), encode_value(v, blobs, limits, depth + 1)] for k, v in dict.items(value)]}
    if isinstance(value, np.random.Generator) and type(value.bit_generator) is np.random.PCG64:
        return {"t": "rng", "state": value.bit_generator.state}
    raise NotPlain(
        f"returned an object of type {type(value).__name__}; "
        "expected a numpy array, a number or a tuple of them"
    )


def frame(header: dict, blobs=(), limits: dict | None = None) -> bytes:
    """``header`` (its ``kind`` first, as the grader reads it before parsing) and ``blobs``, framed.

    ``limits``: the job's (``answer_json_bytes``, ``frame_json_bytes``); by default :data:`LIMITS`.
    """
    limits = LIMITS if limits is None else limits
    header = {"kind": header["kind"], **header, "blobs": [len(b) for b in blobs]}
    data = json.dumps(header, allow_nan=False).encode()
    most = limits["answer_json_bytes"] if header["kind"] == "case" else limits["frame_json_bytes"]
    if len(data) > most:
        raise NotPlain(f"returned a result too large to send (over {most / 2**20:g} MB as JSON); "
                       "return a numpy array")
    return struct.pack(">I", len(data)) + data + b"".join(blobs)


def _decode_input(node, blobs):
    """The grader's case inputs (trusted, from our own encoder) back into Python values."""
    import numpy as np

    if node is None or type(node) in (bool, int, float):
        return node
    tag = node["t"]
    if tag == "nd":
        arr = np.frombuffer(blobs[node["i"]], dtype=np.dtype(node["dtype"]))
        return arr.reshape(node["shape"]).copy()  # writable, like the grader's own
    if tag in ("tuple", "list"):
        items = [_decode_input(v, blobs) for v in node["v"]]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict":
        return {k: _decode_input(v, blobs) for k, v in node["v"]}
    if tag == "float":
        return float(node["v"])
    if tag == "str":
        return node["v"]
    if tag == "rng":
        bits = np.random.PCG64()
        bits.state = node["state"]
        return np.random.Generator(bits)
    raise ValueError(f"unknown tag {tag!r}")


# ----------------------------------------------------------------------------
# Running the submission
# ----------------------------------------------------------------------------


class _TimeLimit(BaseException):  # BaseException: `except Exception` in student code cannot swallow it
    pass


_armed = False  # the alarm only interrupts while student code runs, never our own reporting
_RECURSION = sys.getrecursionlimit()  # restored before every call: a cell's setrecursionlimit(10**6) stays there
_setrecursionlimit = sys.setrecursionlimit  # the student's cells may replace sys.setrecursionlimit


def _on_alarm(signum, frame):
    if _armed:
        raise _TimeLimit


def _arm(seconds: float) -> None:
    global _armed
    _armed = seconds > 0
    # re-fires, in case the student's code catches the first one with a bare except
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0), LIMITS["alarm_repeat_seconds"] if seconds > 0 else 0)


def _short(exc: BaseException) -> str:
    """'ValueError: message' with the first line of the message, shortened to the job's ``error_chars``."""
    name = type(exc).__name__
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    try:
        text = str(exc).strip().splitlines()
    except BaseException:  # a student exception whose __str__ raises
        text = []
    msg = text[0] if text else ""
    most = LIMITS["error_chars"]
    if len(msg) > most:
        msg = msg[:most - 3] + "..."
    return f"{name}: {msg}" if msg else name


_MAGIC_LINE = re.compile(r"^([ \t]*)([%!].*|[\w.]+[ \t]*\?\??[ \t]*|\?\??[\w.]+[ \t]*)$")
_MAGIC_ASSIGN = re.compile(r"^([ \t]*[\w., ]+=[ \t]*)[%!].*$")


def python_source(text: str) -> str | None:
    """The cell as plain Python (IPython's magics dropped), or None for a cell magic we skip.

    ``%%time`` / ``%%timeit`` / ``%%capture`` run their body; other cell
    magics (``%%bash`` ...) are skipped; ``%line`` magics, ``!shell`` lines
    and ``obj?`` help become ``pass``; ``x = !cmd`` becomes ``x = None``.
    """
    if text.startswith("%%"):
        first, _, body = text.partition("\n")
        if first.split()[0] not in ("%%time", "%%timeit", "%%capture"):
            return None
        text = body
    lines = []
    for line in text.split("\n"):
        m = _MAGIC_LINE.match(line)
        if m:
            line = m.group(1) + "pass"
        else:
            m = _MAGIC_ASSIGN.match(line)
            if m:
                line = m.group(1) + "None"
        lines.append(line)
    return "\n".join(lines)


def _shim() -> None:
    """``from coursekit.exercises import check`` keeps working; nothing else of coursekit exists."""

    class CheckResult:
        """What check() returns when it gives no verdict: the grader judges elsewhere, after the run.

        The same as ``coursekit.exercises.check`` returns in the notebook when it is called inside
        a loop, a condition or a function, so code that searches with check() ends the same here.
        """

        def __init__(self, part):
            self.part, self.passed, self.score, self.max_score, self.message = str(part), False, 0, 0, ""

        def __repr__(self):
            return f"CheckResult(part={self.part!r}, passed=False, score=0, max_score=0)"

    def check(part_id="", func=None, *args, **kwargs):
        return CheckResult(part_id)

    def missing(name):
        raise AttributeError(f"coursekit.{name} is not available when grading (only a no-op check())")

    root = types.ModuleType("coursekit")
    root.__path__ = []  # a package with no folder: `import coursekit.softmax` finds nothing
    root.__getattr__ = missing
    ex = types.ModuleType("coursekit.exercises")
    ex.__path__ = []
    ex.check = check
    root.exercises = ex
    sys.modules["coursekit"] = root
    sys.modules["coursekit.exercises"] = ex


_BASE_VM = 0  # VmSize read before /proc was hidden (the nested and fresh sandboxes have no /proc)


def _vm_size() -> int:
    if _BASE_VM:
        return _BASE_VM
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def apply_limits(timeout: float, memory: int, nproc: int) -> None:
    """CPU seconds, address space (what is mapped now + ``memory``), file size, open files, processes.

    Set from inside, so they hold whoever runs the grader (the seccomp filter
    of the sandbox stops new processes even where RLIMIT_NPROC does not apply).
    """

    def limit(what, value):
        try:
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):
            pass  # a limit the system does not allow: the sandbox's own limits still apply

    used = resource.getrusage(resource.RUSAGE_SELF)  # the imports so far count too
    cpu = int(math.ceil(timeout + used.ru_utime + used.ru_stime + LIMITS["cpu_extra_seconds"]))
    limit(resource.RLIMIT_CPU, cpu)
    if memory > 0:
        limit(resource.RLIMIT_AS, _vm_size() + memory)
    limit(resource.RLIMIT_FSIZE, LIMITS["file_bytes"])
    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_NOFILE, LIMITS["open_files"])
    limit(resource.RLIMIT_NPROC, nproc)  # per user in the sandbox's user namespace (threads count)


class _Out:
    def __init__(self, fd: int):
        self.fd = fd
        self.broken = False

    def send(self, header: dict, blobs=()) -> None:
        if self.broken:
            return
        try:
            data = memoryview(frame(header, blobs))
        except NotPlain as exc:  # too large for one frame: say so instead, keep the stream valid
            data = memoryview(frame({k: v for k, v in header.items() if k != "value"} | {"error": str(exc)}))
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:  # the student closed or replaced our pipe: nothing more can be reported
            self.broken = True


def _read_job(fd: int) -> tuple[dict, list]:
    def exact(n):
        chunks = []
        while n:
            data = os.read(fd, min(n, 1 << 20))
            if not data:
                raise EOFError("the job ended early")
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)

    (n,) = struct.unpack(">I", exact(4))
    header = json.loads(exact(n))
    return header, [exact(k) for k in header["blobs"]]


def run(job: dict, blobs: list, out: _Out) -> None:
    """Run the cells, then every part's cases; report on ``out``."""
    import builtins

    deadline = time.monotonic() + job["timeout"]
    signal.signal(signal.SIGALRM, _on_alarm)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    budget = max(job["timeout"] * LIMITS["calls_share"], LIMITS["calls_min_seconds"])  # kept for the function calls
    cell_limit = LIMITS["cell_seconds"]
    margin = LIMITS["margin_seconds"]
    out.send({"kind": "start"})

    for index, source in job["cells"]:
        left = deadline - time.monotonic() - budget
        if left <= margin:
            out.send({"kind": "cell", "index": index, "error": "not run: the submission ran out of time"})
            continue
        try:
            source = python_source(source)
            if source is None:
                continue
            code = compile(source, f"<cell {index}>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            out.send({"kind": "cell", "index": index, "error": _short(exc)})
            continue
        try:
            _arm(min(cell_limit, left))
            try:
                exec(code, namespace)  # noqa: S102 - the whole point of this process
            finally:
                _arm(0)
        except _TimeLimit:
            out.send({"kind": "cell", "index": index,
                      "error": f"took longer than {min(cell_limit, left):.3g} s and was stopped"})
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
        out.send({"kind": "part", "part": pid})  # a crash from here on costs this part only
        for case in part["cases"]:
            k = case["id"]
            if stop:
                out.send({"kind": "case", "part": pid, "case": k, "error": stop})
                continue
            limit = min(part["time_limit"], deadline - time.monotonic() - margin)
            if limit <= 0:
                stop = "not run: the submission ran out of time"
                out.send({"kind": "case", "part": pid, "case": k, "error": stop})
                continue
            try:
                args = _decode_input(case["args"], blobs)
                kwargs = _decode_input(case["kwargs"], blobs)
                _setrecursionlimit(_RECURSION)
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
            res_blobs: list = []
            try:
                value = encode_value(result, res_blobs)
            except NotPlain as exc:
                out.send({"kind": "case", "part": pid, "case": k, "error": str(exc)})
                continue
            except BaseException as exc:  # e.g. a tensor subclass whose .numpy() raises
                out.send({"kind": "case", "part": pid, "case": k,
                          "error": "the result could not be converted to plain data (" + _short(exc) + ")"})
                continue
            out.send({"kind": "case", "part": pid, "case": k, "value": value}, res_blobs)
            del result, value, res_blobs
    out.send({"kind": "end"})


def serve_job(job_fd: int, out_fd: int) -> None:
    """Read the job from ``job_fd``, run it, report on ``out_fd``; never returns."""
    code = 0
    try:
        # the job on fd 0, the results on fd 3, in both kinds of sandbox
        j, o = os.dup(job_fd), os.dup(out_fd)
        os.close(job_fd)
        os.close(out_fd)
        os.dup2(j, 0)
        if o != 3:
            os.dup2(o, 3)
        for fd in {j, o} - {0, 3}:
            os.close(fd)
        job_fd, out_fd = 0, 3
        os.set_inheritable(out_fd, False)
        job, blobs = _read_job(job_fd)
        LIMITS.clear()
        LIMITS.update(job["limits"])
        devnull = os.open(os.devnull, os.O_RDWR)
        debug = job.get("debug", False)
        for fd in (0, 1) if debug else (0, 1, 2):  # printing cannot pose as a result
            os.dup2(devnull, fd)
        os.close(devnull)
        sys.path[:] = [p for p in sys.path if p and not p.startswith("/site")] + list(job["site"])
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _shim()
        import numpy  # noqa: F401 - loaded before the limits, as every exercise needs it

        if job.get("torch"):
            import torch

            torch.set_num_threads(1)
        apply_limits(job["timeout"], job["memory"], job["nproc"])
        if job.get("no_threads"):  # from here on no thread either (RLIMIT_NPROC does not bind root)
            _set_filter(bytes.fromhex(job["no_threads"]))
        run(job, blobs, _Out(out_fd))
    except BaseException:
        code = 70
    os._exit(code)  # now: threads the submission started do not hold the sandbox open


# ----------------------------------------------------------------------------
# The zygote: one long-lived sandbox per worker, a nested sandbox per submission
# ----------------------------------------------------------------------------
#
# Importing numpy costs 0.1-0.4 s; a fork of a process that has it costs a few
# ms. The zygote runs in a bwrap sandbox like the one above, but with
# CAP_SYS_ADMIN in that sandbox's user namespace (never on the host) and no
# seccomp filter, and it never runs student code nor reads a job: for each
# run it receives two fresh pipe ends from the grader (SCM_RIGHTS) and forks.
# The child makes its own mount, PID and IPC namespaces, a fresh tmpfs on
# /tmp and a fresh /proc (so it sees neither the zygote nor an earlier
# submission, and nothing it writes outlives it), then drops every
# capability, sets no_new_privs and the same seccomp filter, and only then
# reads its job from its own pipe. The zygote's memory holds no student's
# data to inherit; it is not dumpable, so /proc/<pid>/mem is closed to all.

_CLONE_NEWNS, _CLONE_NEWPID, _CLONE_NEWIPC = 0x00020000, 0x20000000, 0x08000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 1, 2, 4, 8, 0x4000, 1 << 18


def _libc():
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _hide_proc(libc) -> None:
    """An empty read-only tmpfs over /proc: no process list, and no /proc/self/mountinfo, which would show
    the host paths of the bind mounts (the checkout, the venv, the grader's temp folder)."""
    _check(libc.mount(b"none", b"/proc", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC | _MS_RDONLY,
                      b"size=4k,mode=555"), "mount tmpfs on /proc")


def fresh(out_fd: int, bpf: bytes, profile: str) -> None:
    """In a fresh bwrap sandbox (CAP_SYS_ADMIN in its own user namespace only): hide /proc, drop every
    capability, set the seccomp filter, then serve the job on stdin as in a nested sandbox."""
    global _BASE_VM
    try:
        sys.path.append("/site")
        import numpy  # noqa: F401 - imported (and measured) before /proc goes

        if profile == "torch":
            import torch

            torch.set_num_threads(1)
        _BASE_VM = _vm_size()
        ctypes, libc = _libc()
        _check(libc.unshare(_CLONE_NEWNS), "unshare")  # a mount namespace of this user namespace's own
        _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
        _hide_proc(libc)
        _drop_privileges(bpf)
    except BaseException:
        os._exit(71)
    serve_job(0, out_fd)


def _set_filter(bpf: bytes) -> None:
    """Stack the seccomp filter ``bpf`` on this process (no_new_privs is set already: bwrap's or ours)."""
    ctypes, libc = _libc()

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    _check(libc.prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = Prog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _check(libc.prctl(22, 2, ctypes.byref(prog), 0, 0), "PR_SET_SECCOMP")


def _drop_privileges(bpf: bytes) -> None:
    """No capabilities, no ambient ones, no new privileges, the seccomp filter."""
    ctypes, libc = _libc()

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    _check(libc.prctl(47, 4, 0, 0, 0), "PR_CAP_AMBIENT_CLEAR_ALL")
    _check(libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()), "capset")
    _check(libc.prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    if bpf:
        buf = ctypes.create_string_buffer(bpf, len(bpf))
        prog = Prog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
        _check(libc.prctl(22, 2, ctypes.byref(prog), 0, 0), "PR_SET_SECCOMP")


def _child(job_fd: int, out_fd: int, bpf: bytes, tmpfs_bytes: int) -> None:
    """In the zygote's fork: a nested sandbox for one submission. Never returns.

    Exit status 71: the nested sandbox could not be made (before any of the
    job was read), so the grader runs the job in a fresh bwrap sandbox instead.
    """
    global _BASE_VM
    code = 71
    try:
        _BASE_VM = _vm_size()  # what this fork maps now: its runner, forked below, maps the same
        keep = {job_fd, out_fd}
        for fd in range(3, 1024):  # the zygote's control socket, and anything else, stay out
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        ctypes, libc = _libc()
        _check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWIPC), "unshare")
        _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
        _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV,
                          f"size={tmpfs_bytes},mode=1777".encode()), "mount tmpfs")
        pid = os.fork()
        if pid == 0:  # PID 1 of the new namespace: its init, as bwrap's is; everything dies with it
            try:
                _check(libc.prctl(1, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
                _hide_proc(libc)
                runner = os.fork()
                if runner == 0:  # PID 2: the submission, in a session of its own, with no privileges
                    try:
                        os.setsid()
                        os.chdir("/tmp")
                        _drop_privileges(bpf)
                    except BaseException:
                        os._exit(71)
                    serve_job(job_fd, out_fd)
                os.close(job_fd)
                os.close(out_fd)
                os._exit(_wait(runner))
            except BaseException:
                os._exit(71)
        os.close(job_fd)
        os.close(out_fd)
        code = _wait(pid)
    except BaseException:
        code = 71
    os._exit(code)


def _wait(pid: int) -> int:
    """Exit status of ``pid``, as bwrap reports its child's: the code, or 128 + the signal."""
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def zygote(ctrl_fd: int, bpf: bytes, tmpfs_bytes: int, profile: str) -> None:
    import select
    import socket

    ctypes, libc = _libc()
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no /proc/<pid>/mem, fd, environ for anyone
    sock = socket.socket(fileno=ctrl_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.path.append("/site")  # the allow-listed distributions, as in every job of a bwrap sandbox
    import numpy  # noqa: F401 - what every child inherits instead of importing it

    if profile == "torch":
        import torch

        torch.set_num_threads(1)
    sock.send(json.dumps({"kind": "ready"}).encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 4096, 2)
        except OSError:
            return
        if not msg or len(fds) != 2:
            return  # the grader closed the socket (done, or gone)
        req = json.loads(msg)
        job_fd, out_fd = fds
        pid = os.fork()
        if pid == 0:
            sock.close()
            _child(job_fd, out_fd, bpf, tmpfs_bytes)
        os.close(job_fd)
        os.close(out_fd)
        pidfd = os.pidfd_open(pid)
        deadline = time.monotonic() + float(req["seconds"])
        poll = float(req["poll"])  # the shortest wait of this loop
        killed = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 and not killed:
                os.kill(pid, signal.SIGKILL)  # the child's init gets SIGKILL too (PDEATHSIG)
                killed = True
            ready, _, _ = select.select([pidfd, sock], [], [], max(left, poll))
            if pidfd in ready:
                break
            if sock in ready and not killed:
                if not sock.recv(64):
                    os.kill(pid, signal.SIGKILL)
                    return
                os.kill(pid, signal.SIGKILL)
                killed = True
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        sock.send(json.dumps({"kind": "done", "exit": code, "killed": killed}).encode())


def main() -> None:
    if sys.argv[1] == "--fresh":
        fresh(int(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4])
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]), bytes.fromhex(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    serve_job(0, int(sys.argv[1]))


if __name__ == "__main__":
    main()
