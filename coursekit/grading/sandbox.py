"""One bubblewrap sandbox per submission run: what it mounts, what it may do, how it ends.

``bwrap --unshare-all --unshare-user`` gives the submission new user, PID,
IPC, network, mount, UTS and cgroup namespaces: no network, none of the
grader's files, no other process. Its ``/proc`` is an empty read-only tmpfs
(mounted by the runner before it drops its capabilities): no process list,
and no ``/proc/self/mountinfo``, which names the host path of every bind
mount (the checkout, the venv, the grader's temp folder). Inside:

- ``/usr`` (system libraries) read-only, with every Python package folder
  in it (``/usr/lib/python3*``, ``/usr/local/lib/python3*`` ...) covered by
  an empty read-only folder;
- the interpreter, its standard library (the ``sys.path`` of
  ``python -I -S``) and libpython read-only, found at run time, with any
  ``site-packages`` / ``dist-packages`` in them covered too;
- ``/site``: read-only binds of the top-level folders of an *allow-list*
  of distributions from the grader's site-packages (numpy; for parts that
  may use it, torch and what it requires). An allow-list rather than
  binding site-packages and covering torch, scipy and coursekit: whatever
  else is installed there (a second copy of a library, a newly added one,
  an editable install's finder, a planted ``.pth``) stays out without
  anyone having to think of it. The interpreter runs with ``-I -S``, so no
  ``.pth`` file and no environment variable is read;
- ``/tmp``: a private tmpfs of ``limits.TMPFS_BYTES``, the only writable
  place, the working folder and HOME; everything else is remounted
  read-only;
- the runner script, and the submission's code cells on stdin: not the
  notebook file, nothing of other students, exercises/source or the
  gradebook.

A seccomp filter refuses new processes (fork, vfork, clone without
CLONE_THREAD, clone3), new namespaces, ptrace, mounts, keyrings, SysV shared
memory / message queues / semaphores and memfds (memory RLIMIT_AS does not
count) and a few other kernel interfaces a notebook never needs; a second
filter, stacked just before the first student cell, refuses threads too.
RLIMIT_NPROC does not hold for a grader running as root; the filters do. (A
pids cgroup per sandbox would allow a few threads, but needs a writable
cgroup tree, which containers rarely give.) ``--die-with-parent`` and the
PID namespace end everything the submission started when it ends, or when
the grader kills it at the deadline, or when the grader itself dies.

Speed: importing numpy costs 0.1-0.4 s per sandbox. So each worker keeps a
pre-loaded sandbox (the same mounts, plus CAP_SYS_ADMIN inside its own user
namespace only) whose process has numpy imported and forks a *nested*
sandbox per run: new mount, PID and IPC namespaces, a fresh tmpfs on /tmp
and a fresh /proc, every capability dropped, no_new_privs, the same seccomp
filter, the same rlimits (see ``_runner.zygote``). It never runs student
code nor sees a job's bytes. Where nesting does not work, every run gets a
fresh bwrap sandbox instead (``Sandbox(zygotes=False)`` forces that), whose
runner hides /proc, drops its capabilities and sets the filter itself.

The grader's temp folder holds a lock while the grader lives; a new grader
removes the folders of dead ones (:func:`remove_leftovers`).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from coursekit.grading import limits

RUNNER = Path(__file__).with_name("_runner.py")
SANDBOX_UID = 1000  # the submission's uid inside its user namespace
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
PYTHON_DIRS = ("/usr/lib/python*", "/usr/lib64/python*", "/usr/local/lib/python*", "/usr/local/lib64/python*",
               "/usr/share/python*", "/usr/local/share/python*", "/usr/lib/pypy*", "/usr/share/pyshared")
INSTALL_HINT = ("coursekit grade runs every submission in a bubblewrap sandbox, but `bwrap` was not found: "
                "install it with `sudo apt-get install bubblewrap` (Debian/Ubuntu; `dnf install bubblewrap` "
                "on Fedora), or pass --unsafe-no-sandbox to grade without isolation (recorded in the gradebook)")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here."""


@dataclass
class RunResult:
    stream: bytes = b""
    exit: int | None = None
    signal: int | None = None
    timed_out: bool = False
    truncated: bool = False
    seconds: float = 0.0
    stderr: bytes = b""


# ----------------------------------------------------------------------------
# What to mount
# ----------------------------------------------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_entries(site: Path, roots: list[str]) -> list[str]:
    """Top-level names in ``site`` that belong to ``roots`` and the distributions they require.

    Read from each distribution's RECORD. Optional requirements (``extra ==``)
    are left out; a requirement that is not installed is skipped.
    """
    dists = {}
    for d in metadata.distributions(path=[str(site)]):
        name = d.metadata["Name"]
        if name:
            dists.setdefault(_norm(name), d)
    entries: dict[str, None] = {}
    todo, seen = [_norm(r) for r in roots], set()
    while todo:  # bounded: each distribution is expanded once
        name = todo.pop()
        if name in seen or name not in dists or name == "coursekit":
            continue
        seen.add(name)
        dist = dists[name]
        for f in dist.files or ():
            top = f.parts[0]
            if top not in ("..", "__pycache__") and not top.endswith(".pth") and (site / top).exists():
                entries[top] = None
        for req in dist.requires or ():
            if "extra ==" in req.replace('"', "'").replace("extra=='", "extra =='"):
                continue
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
            if m:
                todo.append(_norm(m.group(1)))
    return sorted(entries)


def _libpython() -> list[str]:
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED") or not libdir:
        return []
    return sorted(p for p in glob.glob(os.path.join(libdir, "libpython*.so*")) if os.path.isfile(p))


@dataclass
class Environment:
    """The host paths a sandbox needs, found at run time (never hard-coded)."""

    python: str  # the real interpreter (not the venv's symlink)
    stdlib: list[str]  # its sys.path under -I -S: the standard library and lib-dynload
    libs: list[str]  # libpython*.so, when the interpreter links it
    site: Path  # the site-packages the allowed distributions come from
    profiles: dict[str, list[str]] = field(default_factory=dict)  # profile -> entries of site

    @classmethod
    def detect(cls, site_packages: str | Path | None = None) -> Environment:
        python = os.path.realpath(sys.executable)
        out = subprocess.run([python, "-I", "-S", "-c", "import sys, json; print(json.dumps(sys.path))"],
                             capture_output=True, text=True, timeout=limits.DETECT_SECONDS, check=True).stdout
        stdlib = [os.path.realpath(p) for p in json.loads(out) if p and os.path.isdir(p)]
        site = Path(site_packages) if site_packages else Path(sysconfig.get_paths()["purelib"])
        # the from-scratch list is the one check() reads too (coursekit.exercises.judging)
        from coursekit.exercises.judging import FROM_SCRATCH_ALLOWED

        profiles = {"numpy": distribution_entries(site, list(FROM_SCRATCH_ALLOWED)),
                    "torch": distribution_entries(site, [*FROM_SCRATCH_ALLOWED, "torch"])}
        if "numpy" not in profiles["numpy"]:
            raise SandboxUnavailable(f"numpy is not installed in {site}")
        return cls(python, stdlib, _libpython(), site, profiles)


# ----------------------------------------------------------------------------
# The seccomp filter (classic BPF, as bwrap --seccomp expects)
# ----------------------------------------------------------------------------

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_DENY = {  # syscall -> errno, per architecture
    "x86_64": {57: 11, 58: 11, 435: 38, 272: 1, 308: 1, 101: 1, 310: 1, 311: 1, 250: 1, 248: 1, 249: 1,
               321: 1, 298: 1, 323: 1, 425: 1, 426: 1, 427: 1, 165: 1, 166: 1, 155: 1, 161: 1, 246: 1,
               320: 1, 175: 1, 313: 1, 176: 1, 303: 1, 304: 1, 428: 1, 429: 1, 430: 1, 431: 1, 432: 1,
               433: 1, 442: 1, 135: 1,
               # SysV shared memory, message queues, semaphores and memfds: memory outside RLIMIT_AS
               29: 1, 30: 1, 31: 1, 64: 1, 68: 1, 319: 1, 447: 1},
    "aarch64": {435: 38, 97: 1, 268: 1, 117: 1, 270: 1, 271: 1, 219: 1, 217: 1, 218: 1, 280: 1, 241: 1,
                282: 1, 425: 1, 426: 1, 427: 1, 40: 1, 39: 1, 41: 1, 51: 1, 104: 1, 294: 1, 105: 1, 273: 1,
                106: 1, 264: 1, 265: 1, 428: 1, 429: 1, 430: 1, 431: 1, 432: 1, 433: 1, 442: 1, 92: 1,
                194: 1, 195: 1, 196: 1, 186: 1, 190: 1, 279: 1, 447: 1},
}
_CLONE = {"x86_64": 56, "aarch64": 220}
CLONE_THREAD = 0x00010000


def seccomp_filter(machine: str | None = None, *, threads: bool = True) -> bytes | None:
    """The BPF program, or None on an architecture this module has no syscall table for.

    Denied: fork/vfork/clone3 (EAGAIN / ENOSYS, so glibc falls back to clone),
    clone without CLONE_THREAD (EAGAIN: threads are fine, processes are not),
    unshare, setns, ptrace, process_vm_*, keyrings, bpf, perf_event_open,
    userfaultfd, io_uring, mount & co., chroot, kexec, modules, handles,
    personality, SysV shared memory / message queues / semaphores and
    memfd_create (memory that RLIMIT_AS does not count) (EPERM). Another
    architecture's calling convention is killed.

    ``threads=False``: every clone is refused, threads too. The runner stacks
    this second filter on itself after its imports, just before the first
    student cell: RLIMIT_NPROC does not bind root, and a count of threads
    cannot be kept in seccomp, so student code starts none at all.
    """
    machine = machine or platform.machine()
    if machine not in _AUDIT_ARCH:
        return None
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, _AUDIT_ARCH[machine]), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    if machine == "x86_64":  # the x32 ABI numbers syscalls from 0x40000000
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, kill)]
    for nr, errno in sorted(_DENY[machine].items()):
        prog += [(jeq, 0, 1, nr), (ret, 0, 0, 0x00050000 | errno)]
    if threads:
        prog += [(jeq, 0, 3, _CLONE[machine]), (ld, 0, 0, 16), (jset, 1, 0, CLONE_THREAD),
                 (ret, 0, 0, 0x00050000 | 11), (ret, 0, 0, allow)]
    else:
        prog += [(jeq, 0, 1, _CLONE[machine]), (ret, 0, 0, 0x00050000 | 11), (ret, 0, 0, allow)]
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)


# ----------------------------------------------------------------------------
# The sandbox
# ----------------------------------------------------------------------------


def find_bwrap() -> str | None:
    """The bwrap binary (``COURSEKIT_BWRAP`` names another one; empty or missing there = no bwrap)."""
    if "COURSEKIT_BWRAP" in os.environ:
        path = os.environ["COURSEKIT_BWRAP"]
        return path if path and os.access(path, os.X_OK) else None
    path = shutil.which("bwrap")
    if path is None and os.access("/usr/bin/bwrap", os.X_OK):
        path = "/usr/bin/bwrap"
    return path


PREFIX = "coursekit-grading-"


def _remove(folder: str) -> None:
    for root, dirs, _ in os.walk(folder):
        for d in dirs:
            path = os.path.join(root, d)
            if not os.path.islink(path):  # site-*/ holds symlinks into the real environment
                os.chmod(path, 0o700)
    shutil.rmtree(folder, ignore_errors=True)


def _own_folder() -> tuple[str, int]:
    """A new private temp folder, and a lock on it held while this grader lives (see remove_leftovers)."""
    new = tempfile.mkdtemp(prefix="coursekit-new-")
    fd = os.open(os.path.join(new, "lock"), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    final = os.path.join(os.path.dirname(new), PREFIX + os.path.basename(new)[len("coursekit-new-"):])
    os.rename(new, final)  # only now a candidate for remove_leftovers, and already locked
    return final, fd


def remove_leftovers(tmp: str | None = None) -> list[str]:
    """Remove the temp folders of graders that died without cleaning up (SIGKILL, power loss).

    A live grader holds a lock on its folder's ``lock`` file; a folder of
    this user whose lock can be taken belongs to no running grader.
    """
    removed = []
    tmp = tmp or tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(tmp) if n.startswith(PREFIX)]
    except OSError:
        return removed
    for name in names:
        path = os.path.join(tmp, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                continue
            fd = os.open(os.path.join(path, "lock"), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a grader that is running
        finally:
            os.close(fd)
        _remove(path)
        removed.append(path)
    return removed


class Sandbox:
    """Runs jobs in fresh sandboxes; ``unsafe=True`` runs them as plain limited processes instead."""

    def __init__(self, env: Environment | None = None, *, unsafe: bool = False, debug: bool | None = None,
                 zygotes: bool = True):
        self.unsafe = unsafe
        self.debug = bool(os.environ.get("COURSEKIT_GRADE_DEBUG")) if debug is None else debug
        self.bwrap = None if unsafe else find_bwrap()
        if not unsafe and self.bwrap is None:
            raise SandboxUnavailable(INSTALL_HINT)
        self.filter = None if unsafe else seccomp_filter()
        self.no_threads = None if unsafe else seccomp_filter(threads=False)
        if not unsafe and self.filter is None:
            raise SandboxUnavailable(f"the grading sandbox has no seccomp syscall table for {platform.machine()} "
                                     "(x86_64 and aarch64 have one); pass --unsafe-no-sandbox to grade without "
                                     "isolation")
        self.env = env or Environment.detect()
        remove_leftovers()
        self.tmp, self._lock_fd = _own_folder()
        self.empty = os.path.join(self.tmp, "empty")
        os.mkdir(self.empty, 0o555)
        self._unsafe_site: dict[str, str] = {}
        # pre-loaded sandboxes, per profile; None: this machine cannot nest them, use fresh ones
        self.zygotes: dict[str, list[_Zygote]] | None = None if unsafe or zygotes is False else {}
        self._lock = threading.Lock()

    def close(self) -> None:
        for zs in (self.zygotes or {}).values():
            for z in zs:
                z.close()
            zs.clear()
        if self.tmp:
            _remove(self.tmp)
            self.tmp = None
            os.close(self._lock_fd)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the command ---------------------------------------------------------
    def site_paths(self, profile: str) -> list[str]:
        """The folders the runner appends to sys.path."""
        if not self.unsafe:
            return ["/site"]
        if profile not in self._unsafe_site:  # a folder of symlinks to the allowed entries
            site = os.path.join(self.tmp, f"site-{profile}")
            os.mkdir(site)
            for entry in self.env.profiles[profile]:
                os.symlink(self.env.site / entry, os.path.join(site, entry))
            self._unsafe_site[profile] = site
        return [self._unsafe_site[profile]]

    def command(self, profile: str, result_fd: int, zygote: bool = False) -> list[str]:
        """The bwrap command line; ``zygote``: the long-lived variant (see ``_runner.zygote``)."""
        env = self.env
        runner = str(RUNNER.resolve())
        if self.unsafe:
            return [env.python, "-I", "-S", "-B", runner, str(result_fd)]
        args = [self.bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
        # in the sandbox's own user namespace only: the zygote makes one nested sandbox per run, a fresh
        # runner hides /proc; both drop every capability before any student code runs
        args += ["--cap-add", "CAP_SYS_ADMIN"]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ROOT_LINKS:
            host = "/" + name
            if os.path.islink(host):
                args += ["--symlink", os.readlink(host), host]
            elif os.path.isdir(host):
                args += ["--ro-bind", host, host]
        if os.path.isfile("/etc/ld.so.cache"):
            args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        covers = set()
        for pattern in PYTHON_DIRS:
            covers.update(p for p in glob.glob(pattern) if os.path.isdir(p) and not os.path.islink(p))
        for path in sorted(covers):
            args += ["--ro-bind", self.empty, path]
        for path in env.stdlib:
            args += ["--ro-bind", path, path]
        for path in env.stdlib:  # a package folder inside the standard library's folders
            for sub in ("site-packages", "dist-packages"):
                if os.path.isdir(os.path.join(path, sub)):
                    args += ["--ro-bind", self.empty, os.path.join(path, sub)]
        for path in [env.python, *env.libs]:
            args += ["--ro-bind", path, path]
        for entry in env.profiles[profile]:
            args += ["--ro-bind", str(env.site / entry), f"/site/{entry}"]
        args += ["--ro-bind", runner, "/grader/runner.py", "--proc", "/proc"]
        for dev in ("null", "zero", "full", "random", "urandom"):
            args += ["--dev-bind", f"/dev/{dev}", f"/dev/{dev}"]
        args += ["--size", str(limits.TMPFS_BYTES), "--tmpfs", "/tmp", "--remount-ro", "/", "--chdir", "/tmp"]
        args += ["--clearenv"]
        for var, value in self._environ("/tmp").items():
            args += ["--setenv", var, value]
        if zygote:
            bpf = (self.filter or b"").hex() or "00"
            return [*args, env.python, "-I", "-S", "-B", "/grader/runner.py", "--zygote", str(result_fd),
                    bpf if self.filter else "", str(limits.TMPFS_BYTES), profile]
        return [*args, env.python, "-I", "-S", "-B", "/grader/runner.py", "--fresh", str(result_fd),
                (self.filter or b"").hex(), profile]

    @staticmethod
    def _environ(home: str) -> dict[str, str]:
        env = {"HOME": home, "TMPDIR": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg"}
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # two sandboxes share two cores
        return env

    # -- running -------------------------------------------------------------
    def start(self, profile: str, n: int) -> None:
        """Start ``n`` pre-loaded sandboxes of ``profile`` now (from the grader's main thread)."""
        if self.zygotes is None:
            return
        with self._lock:
            have = len(self.zygotes.setdefault(profile, []))
        new = []
        for _ in range(max(0, n - have)):
            try:
                new.append(_Zygote(self, profile))
            except SandboxUnavailable:
                break
        for z in new:
            if z.ready():
                with self._lock:
                    self.zygotes[profile].append(z)
            else:
                z.close()
                self.zygotes = None  # nested sandboxes do not work here: one fresh sandbox per run
                break

    def run(self, job: bytes, profile: str, timeout: float) -> RunResult:
        """Run ``job`` in a sandbox (a pre-loaded one's nested sandbox when it can) and collect its results."""
        z = None
        if self.zygotes is not None:
            with self._lock:
                idle = self.zygotes.setdefault(profile, [])
                z = idle.pop() if idle else None
            if z is None:
                try:
                    z = _Zygote(self, profile)
                    if not z.ready():
                        z.close()
                        z = None
                        self.zygotes = None  # nested sandboxes do not work here: one fresh sandbox per run
                except SandboxUnavailable:
                    z = None
        if z is not None:
            try:
                res = z.run(job, profile, timeout)
            except _ZygoteBroken as exc:
                z.close()
                if exc.args == ("nesting",):  # e.g. AppArmor denies capabilities in user namespaces
                    with self._lock:
                        for zs in (self.zygotes or {}).values():
                            for other in zs:
                                other.close()
                        self.zygotes = None
            else:
                with self._lock:
                    if self.zygotes is not None:
                        self.zygotes.setdefault(profile, []).append(z)
                        z = None
                if z is not None:
                    z.close()
                return res
        return self.run_fresh(job, profile, timeout)

    def run_fresh(self, job: bytes, profile: str, timeout: float) -> RunResult:
        """Start a fresh sandbox, feed it ``job``, collect its results until it ends or the deadline."""
        start = time.monotonic()
        deadline = start + timeout + limits.STARTUP_SECONDS[profile] + limits.GRACE_SECONDS
        r, w = os.pipe()
        workdir = None
        try:
            cmd = self.command(profile, w)
            env, cwd = None, None
            if self.unsafe:
                workdir = cwd = tempfile.mkdtemp(prefix="run-", dir=self.tmp)
                env = self._environ(workdir)
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=None if self.debug else subprocess.PIPE,
                pass_fds=(w,),
                start_new_session=True, cwd=cwd, env=env,
            )
        except BaseException:
            os.close(r)
            os.close(w)
            raise
        os.close(w)
        try:
            return self._collect(proc, r, job, start, deadline)
        finally:
            os.close(r)
            if proc.poll() is None:
                self._kill(proc)
            for f in (proc.stdin, proc.stderr):
                if f is not None:
                    f.close()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # bwrap; its PID namespace dies with it
        except OSError:
            pass
        proc.wait()

    def _collect(self, proc, r: int, job: bytes, start: float, deadline: float) -> RunResult:
        res = RunResult()
        chunks: list[bytes] = []
        size = 0
        err: list[bytes] = []
        pending = memoryview(job)
        stdin = proc.stdin.fileno()
        os.set_blocking(stdin, False)
        readers = {r: "out"}
        if proc.stderr is not None:
            readers[proc.stderr.fileno()] = "err"
        while readers:
            left = deadline - time.monotonic()
            if left <= 0:
                res.timed_out = True
                break
            wlist = [stdin] if pending else []
            ready_r, ready_w, _ = select.select(list(readers), wlist, [], min(left, limits.POLL_SECONDS))
            if ready_w:
                try:
                    pending = pending[os.write(stdin, pending[: 1 << 16]):]
                except BlockingIOError:
                    pass
                except OSError:  # the sandbox ended before reading its job
                    pending = memoryview(b"")
                if not pending:
                    proc.stdin.close()
            for fd in ready_r:
                data = os.read(fd, 1 << 16)
                if not data:
                    del readers[fd]
                elif readers[fd] == "out":
                    size += len(data)
                    if size > limits.STREAM_BYTES:
                        res.truncated = True
                        readers.clear()
                        break
                    chunks.append(data)
                elif sum(map(len, err)) < limits.STDERR_BYTES:
                    err.append(data)
            if not readers or (proc.poll() is not None and r not in readers):
                break
        if res.timed_out or res.truncated:
            self._kill(proc)
        else:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), limits.REAP_SECONDS))
            except subprocess.TimeoutExpired:
                res.timed_out = True
                self._kill(proc)
        code = proc.returncode
        if code is not None and code < 0:
            res.signal = -code
        elif code is not None and code > 128 and not self.unsafe:
            res.signal = code - 128  # bwrap reports a child killed by a signal as 128 + signal
        else:
            res.exit = code
        res.stream = b"".join(chunks)
        res.stderr = b"".join(err)
        res.seconds = round(time.monotonic() - start, 4)
        return res

    def self_test(self) -> None:
        """Start one sandbox that imports numpy; SandboxUnavailable with bwrap's words if it cannot."""
        from coursekit.grading.wire import encode_job, read_frames

        seconds = limits.SELF_TEST_SECONDS
        job = encode_job(self.job([], [], timeout=seconds, memory=0, profile="numpy"), {})
        res = self.run(job, "numpy", seconds)
        frames, _ = read_frames(res.stream)
        if not any(h.get("kind") == "end" for h, _ in frames):
            why = res.stderr.decode("utf-8", "replace").strip()[-500:] or f"exit status {res.exit}"
            raise SandboxUnavailable(
                f"the grading sandbox does not start here ({why}); bubblewrap needs unprivileged user "
                "namespaces (sysctl kernel.unprivileged_userns_clone=1, or in a container "
                "--security-opt seccomp=unconfined / a user-namespace-enabled runtime)"
            )

    def job(self, cells, parts, *, timeout: float, memory: int, profile: str) -> dict:
        """The job header the runner expects (cases are added by :func:`wire.encode_job`).

        ``limits``: every limit the runner applies, from :mod:`coursekit.grading.limits` (it has none of its own).
        """
        return {"cells": cells, "parts": parts, "timeout": float(timeout), "memory": int(memory),
                "nproc": limits.PROCESSES[profile], "limits": limits.for_runner(), "site": self.site_paths(profile),
                "torch": profile == "torch", "debug": self.debug,
                "no_threads": self.no_threads.hex() if self.no_threads else ""}


class _ZygoteBroken(Exception):
    """The pre-loaded sandbox stopped answering (it is replaced; the run is redone in a fresh one)."""


class _Zygote:
    """A pre-loaded sandbox (``_runner.zygote``) and the control socket to it."""

    def __init__(self, sandbox: Sandbox, profile: str) -> None:
        self.sandbox, self.profile = sandbox, profile
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                sandbox.command(profile, child.fileno(), zygote=True),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=None if sandbox.debug else subprocess.DEVNULL,
                pass_fds=(child.fileno(),), start_new_session=True,
            )
        except OSError as exc:
            self.sock.close()
            raise SandboxUnavailable(f"cannot start bwrap: {exc}") from None
        finally:
            child.close()
        self.started = time.monotonic()

    def ready(self) -> bool:
        msg = self._recv(self.started + limits.STARTUP_SECONDS[self.profile] + limits.ZYGOTE_READY_EXTRA_SECONDS)
        return msg == {"kind": "ready"}

    def _recv(self, deadline: float) -> dict | None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            return None
        try:
            data = self.sock.recv(4096)
            msg = json.loads(data) if data else None
        except (OSError, ValueError):
            return None
        return msg if isinstance(msg, dict) else None

    def close(self) -> None:
        self.sock.close()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()

    def run(self, job: bytes, profile: str, timeout: float) -> RunResult:
        start = time.monotonic()
        kill = timeout + limits.GRACE_SECONDS + limits.ZYGOTE_KILL_EXTRA_SECONDS  # the zygote kills the run then
        # past this the zygote itself is hung
        hard = start + timeout + limits.STARTUP_SECONDS[profile] + limits.GRACE_SECONDS + limits.ZYGOTE_HUNG_EXTRA_SECONDS
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            try:
                socket.send_fds(self.sock, [json.dumps({"seconds": kill, "poll": limits.DRAIN_SECONDS}).encode()],
                                [job_r, res_w])
            except OSError:
                raise _ZygoteBroken from None
        finally:
            os.close(job_r)
            os.close(res_w)
        res = RunResult()
        chunks: list[bytes] = []
        size = 0
        pending = memoryview(job)
        os.set_blocking(job_w, False)
        done = None
        out_open = True
        try:
            while out_open or done is None:
                left = hard - time.monotonic()
                if left <= 0:
                    raise _ZygoteBroken
                rlist = [self.sock] + ([res_r] if out_open else [])
                wlist = [job_w] if pending else []
                ready_r, ready_w, _ = select.select(rlist, wlist, [], min(left, limits.POLL_SECONDS))
                if ready_w:
                    try:
                        pending = pending[os.write(job_w, pending[: 1 << 16]):]
                    except BlockingIOError:
                        pass
                    except OSError:
                        pending = memoryview(b"")
                    if not pending:
                        os.close(job_w)
                        job_w = -1
                if res_r in ready_r:
                    data = os.read(res_r, 1 << 16)
                    if not data:
                        out_open = False
                    else:
                        size += len(data)
                        if size > limits.STREAM_BYTES:
                            res.truncated = True
                            out_open = False
                            self.sock.send(b"kill")
                        else:
                            chunks.append(data)
                if self.sock in ready_r:
                    done = self._recv(time.monotonic() + limits.ZYGOTE_REPORT_SECONDS)
                    if done is None or done.get("kind") != "done":
                        raise _ZygoteBroken
                    if out_open:  # ended: what is left in the pipe, without waiting for EOF
                        while select.select([res_r], [], [], limits.DRAIN_SECONDS)[0]:
                            data = os.read(res_r, 1 << 16)
                            if not data or size + len(data) > limits.STREAM_BYTES:
                                break
                            size += len(data)
                            chunks.append(data)
                        out_open = False
        finally:
            os.close(res_r)
            if job_w >= 0:
                os.close(job_w)
        code = done.get("exit")
        if code == 71 and not chunks:  # the nested sandbox could not be made; nothing of the job ran
            raise _ZygoteBroken("nesting")
        res.timed_out = done.get("killed") is True and not res.truncated
        if type(code) is int and code < 0:
            res.signal = -code
        elif type(code) is int and code > 128:
            res.signal = code - 128
        else:
            res.exit = code if type(code) is int else None
        res.stream = b"".join(chunks)
        res.seconds = round(time.monotonic() - start, 4)
        return res
