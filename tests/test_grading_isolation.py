"""The attacks of issue 13, each a real submission in a real batch next to honest classmates.

One batch of exercise 06_softmax in the layout instructors use
(``subs/<student>/06_softmax.ipynb``). Every test checks the attacker's own
score (what an honest grader must give) and, through ``honest``, that the
classmates graded in the same batch kept their exact scores. After the
batch: no process, file or memory growth is left behind.
"""

from __future__ import annotations

import csv
import glob
import os
import resource
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import exercise_answers  # tests/ is on sys.path
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from coursekit.exercises.spec import EXERCISES, Case, Part
from coursekit.grading.gradebook import write_gradebook
from coursekit.grading.grader import grade
from coursekit.grading.sandbox import Environment, Sandbox

EX = "06_softmax"
PARTS = {p.id: p for p in EXERCISES[EX]}
POINTS = {pid: p.points for pid, p in PARTS.items()}
FULL = sum(POINTS.values())
TIMEOUT = 3.0
MARKER = f"coursekit-test-marker-{os.getpid()}"
SITE = sysconfig.get_paths()["purelib"]
BASE_SITE = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"]

SETUP = "import numpy as np\n\nfrom coursekit.exercises import check"
# the shared answer set's (tests/exercise_answers.py): right answers that call no other part, and the stubs
SOLUTIONS = {pid: exercise_answers.answer(pid, exercise_answers.SELF_CONTAINED) for pid in PARTS}
STUBS = {pid: exercise_answers.answer(pid, "stub") for pid in PARTS}
TORCH_SOFTMAX = "torch.softmax(torch.from_numpy(z), -1).numpy()"


def notebook(answers: dict[str, str], *, before=(), after=(), exercise: str = EX) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["coursekit"] = {"exercise": exercise}
    nb.cells.append(new_markdown_cell("# Exercises 06"))
    setup = new_code_cell(SETUP)
    setup.metadata["nbgrader"] = {"grade": False, "grade_id": "ex6_setup", "locked": True, "solution": False}
    nb.cells += [setup, *map(new_code_cell, before)]
    for pid, src in answers.items():
        cell = new_code_cell(src)
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": PARTS[pid].grade_id, "solution": True}
        check = new_code_cell(f'check("{pid}", {PARTS[pid].function})')
        check.metadata["nbgrader"] = {"grade": True, "grade_id": PARTS[pid].grade_id + "_check",
                                      "points": PARTS[pid].points, "solution": False}
        nb.cells += [cell, check]
    nb.cells += list(map(new_code_cell, after))
    return nb


def solved(**replace) -> nbformat.NotebookNode:
    return notebook({pid: replace.get("p" + pid.replace(".", "_"), src) for pid, src in SOLUTIONS.items()})


def with_cells(*after, answers=None, before=()) -> nbformat.NotebookNode:
    return notebook(dict(answers or SOLUTIONS), before=before, after=after)


def cell_number(nb, needle: str) -> int:
    return next(i for i, c in enumerate(nb.cells, start=1) if needle in c.source)


# -- the attacks ---------------------------------------------------------------------------

# 1. the grader's pipes through /proc/<pid>/fd: here only the sandbox's own processes exist
TAKEOVER = (
    "import os, pickle\n"
    "payload = pickle.dumps(print)\n"
    "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
    "    for fd in os.listdir(f'/proc/{pid}/fd'):\n"
    "        try:\n"
    "            with open(f'/proc/{pid}/fd/{fd}', 'wb', buffering=0) as f:\n"
    "                f.write(len(payload).to_bytes(4, 'big') + payload)\n"
    "        except OSError:\n"
    "            pass\n"
)
PROCVIEW = (
    "import os\n"
    "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    "raise RuntimeError(f'pids={pids} ppid={os.getppid()}')\n"
)
# 2. forged results: the runner's frames are reachable, but torch is not, and a second answer voids all
FORGE = (
    "import sys, json, struct, os\n"
    "f = sys._getframe()\n"
    "while f is not None and 'job' not in f.f_locals:\n"
    "    f = f.f_back\n"
    "job = f.f_locals['job']\n"
    "try:\n"
    "    import torch\n"
    "except ImportError:\n"
    "    torch = None\n"
    "for part in job['parts']:\n"
    "    for case in part['cases']:\n"
    "        h = json.dumps({'kind': 'case', 'part': part['id'], 'case': case['id'], 'value': 0.0, 'blobs': []})\n"
    "        os.write(3, struct.pack('>I', len(h)) + h.encode())\n"
)
# 2b. forged error messages (no duplicate: it ends before the runner answers) that carry
# newlines and Markdown, to write its own headings and scores into its feedback file
FORGE_MARKDOWN = (
    "import sys, json, struct, os\n"
    "f = sys._getframe()\n"
    "while f is not None and 'job' not in f.f_locals:\n"
    "    f = f.f_back\n"
    "job = f.f_locals['job']\n"
    "fake = 'x\\n\\n## \\u2714 6.1 Stable softmax: 3 / 3\\n\\nall checks passed\\r\\n# Total: 10 / 10'\n"
    "for part in job['parts']:\n"
    "    for case in part['cases']:\n"
    "        h = json.dumps({'kind': 'case', 'part': part['id'], 'case': case['id'], 'error': fake, 'blobs': []})\n"
    "        os.write(3, struct.pack('>I', len(h)) + h.encode())\n"
    "os._exit(0)\n"
)
# 3. from scratch, bypassed the nine ways of the issue (and two more): 6.1 uses a library
SCRATCH = {
    "np_attr": (["import torch\nnp.torch = torch"], "def softmax(z):\n    torch = np.torch\n    return " + TORCH_SOFTMAX),
    "sys_modules": (["import torch  # a demo"], "import sys as _s\ndef softmax(z):\n    torch = _s.modules['torch']\n"
                    "    return " + TORCH_SOFTMAX),
    "os_sys": (["import torch  # a demo"], "import os\ndef softmax(z):\n    torch = os.sys.modules['torch']\n"
               "    return " + TORCH_SOFTMAX),
    "code_swap": (["def _t(z):\n    import torch\n    return " + TORCH_SOFTMAX, "softmax.__code__ = _t.__code__"],
                  None),
    "globals": (["globals()['softmax'] = lambda z: __import__('torch').softmax(__import__('torch')"
                 ".from_numpy(z), -1).numpy()"], None),
    "pickle": ([], "import pickle\ndef softmax(z):\n    torch = pickle.loads(b'cbuiltins\\n__import__\\n(Vtorch\\ntR.')\n"
               "    return " + TORCH_SOFTMAX),
    "coursekit_np": (["from coursekit.softmax import softmax as _ck\nnp._ck = _ck"],
                     "def softmax(z):\n    return np._ck(z)\n"),
    "exec_later": (["exec('def softmax(z):\\n    import torch\\n    return " + TORCH_SOFTMAX + "')"], None),
    "dunder_import": ([], "def softmax(z):\n    torch = __import__('tor' + 'ch')\n    return " + TORCH_SOFTMAX),
    "importlib": ([], "import importlib\ndef softmax(z):\n    torch = importlib.import_module('torch')\n"
                  "    return " + TORCH_SOFTMAX),
    "scipy_path": ([f"import sys\nsys.path += [{BASE_SITE!r}, {SITE!r}]"],
                   "def softmax(z):\n    from scipy.special import softmax as s\n    return s(z, axis=-1)\n"),
}


def scratch_notebook(cells, answer):
    answers = dict(SOLUTIONS)
    if answer is not None:
        answers["6.1"] = answer
    return notebook(answers, after=cells)


def write_everywhere(folder: Path) -> str:
    targets = ["/", "/usr", "/root", "/site/numpy", "/dev", "/dev/shm", "/grader", str(folder), SITE, "/proc/1"]
    return (
        "import os\n"
        "out = []\n"
        f"for i, d in enumerate({targets!r} + ['/tmp'] * 5):\n"
        "    try:\n"
        "        with open(os.path.join(d, f'big-{i}.bin'), 'wb') as f:\n"
        "            for _ in range(640):\n"  # 640 MB if nothing stopped it
        "                f.write(b'x' * 2**20)\n"
        "        out.append(f'{i}=ok')\n"
        "    except OSError as e:\n"
        "        out.append(f'{i}={e.errno}')\n"
        "raise RuntimeError(';'.join(out))\n"
    )


def plant_pth() -> str:
    return (
        "import os, sys\n"
        "done = []\n"
        f"for d in sys.path + [{SITE!r}, {BASE_SITE!r}]:\n"
        "    try:\n"
        "        open(os.path.join(d, 'zz_evil.pth'), 'w').write('import builtins; builtins.PLANTED = 1\\n')\n"
        "        done.append(d)\n"
        "    except OSError:\n"
        "        pass\n"
        "raise RuntimeError(f'planted={done}')\n"
    )


FORGED_BLOB = (  # one 16 MB array referenced 64 times in one answer
    "import json, os, struct, sys\n"
    "value = {'t': 'list', 'v': [{'t': 'nd', 'dtype': '<f8', 'shape': [2**21], 'i': 0}] * 64}\n"
    "h = json.dumps({'kind': 'case', 'part': '6.1', 'case': 0, 'value': value, 'blobs': [2**24]}).encode()\n"
    "os.write(3, struct.pack('>I', len(h)) + h)\n"
    "blob = bytes(2**24)\n"
    "view = memoryview(blob)\n"
    "while view:\n"
    "    view = view[os.write(3, view[:2**16]):]\n"
    "os._exit(0)\n"
)
ESCAPE = (
    "import os, subprocess, threading, time\n"
    "out = []\n"
    "for name, start in [('fork', os.fork), ('posix_spawn', lambda: os.posix_spawn('/usr/bin/sleep', "
    f"[{MARKER!r}, '30'], {{}})), ('popen', lambda: subprocess.Popen([{MARKER!r}, '30'], executable='/usr/bin/sleep'))]:\n"
    "    try:\n"
    "        pid = start()\n"
    "        if pid == 0:\n"
    "            os.setsid(); time.sleep(30); os._exit(0)\n"
    "        out.append(name + ':started')\n"
    "    except OSError as e:\n"
    "        out.append(name + ':' + type(e).__name__)\n"
    "try:\n"
    "    threading.Thread(target=time.sleep, args=(30,), daemon=False).start()\n"
    "except RuntimeError:\n"  # no thread either where RLIMIT_NPROC holds
    "    pass\n"
    "raise RuntimeError(';'.join(out))\n"
)
EXEC_SLEEP = f"import os\nos.execv('/usr/bin/sleep', [{MARKER!r}, '30'])\n"  # argv[0] marks it


# -- the batch -----------------------------------------------------------------------------


def honest_subs() -> dict[str, tuple[nbformat.NotebookNode, float]]:
    """Classmates and the exact score each must keep."""
    return {
        "honest_1": (solved(), FULL),
        "honest_2": (solved(), FULL),
        "honest_3": (solved(), FULL),
        "honest_partial": (solved(p6_3="def cross_entropy(logits, targets):\n    return 0.5\n"),
                           FULL - POINTS["6.3"]),
        "honest_stub": (notebook(STUBS), 0),
    }


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as s:
        yield s


def _children() -> list[int]:
    me, kids = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2:].split()[1]) == me:
                kids.append(int(entry))
    return kids


def _ppids() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            out[int(entry)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    return out


def _zygote_leftovers(sandbox) -> list[int]:
    """Processes below each pre-loaded sandbox's zygote (its finished runs must leave none)."""
    ppids = _ppids()
    leftovers = []
    for zs in (sandbox.zygotes or {}).values():
        for z in zs:
            below, todo = [], [z.proc.pid]
            while todo:  # bounded: a walk down the process tree
                pid = todo.pop()
                kids = [k for k, v in ppids.items() if v == pid]
                below += kids
                todo += kids
            argv = {p: Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0") for p in below}
            zygote = [p for p in below if b"--zygote" in argv[p] and not argv[p][0].endswith(b"bwrap")]
            if len(zygote) != 1:
                leftovers.append(f"not one zygote below bwrap {z.proc.pid}: {zygote}")
            leftovers += [p for p in below if ppids.get(p) in zygote]
    return leftovers


def _marked() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if MARKER.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def batch(tmp_path_factory, sandbox):
    root = tmp_path_factory.mktemp("isolation")
    subs = root / "subs"
    subs.mkdir()
    honest = honest_subs()
    nbs: dict[str, nbformat.NotebookNode] = {name: nb for name, (nb, _) in honest.items()}
    classmate = subs / "honest_1" / f"{EX}.ipynb"
    victim = subs / "honest_2" / f"{EX}.ipynb"
    nbs["takeover"] = with_cells(TAKEOVER, answers=STUBS)
    nbs["procview"] = with_cells(PROCVIEW)
    nbs["forge"] = with_cells(FORGE, answers=STUBS)
    nbs["forge_markdown"] = with_cells(FORGE_MARKDOWN)
    for name, (cells, answer) in SCRATCH.items():
        nbs["scratch_" + name] = scratch_notebook(cells, answer)
    nbs["read_classmate"] = with_cells(
        f"src = open({str(classmate)!r}).read()\nexec(src)", answers=STUBS)
    nbs["overwrite_classmate"] = with_cells(f"open({str(victim)!r}, 'w').write('not a notebook')")
    nbs["write_outside"] = with_cells(write_everywhere(root))
    nbs["plant_pth"] = with_cells(plant_pth())
    nbs["forged_blob"] = with_cells(FORGED_BLOB)
    nbs["escape"] = with_cells(ESCAPE)
    nbs["exec_sleep"] = with_cells(EXEC_SLEEP)
    nbs["html"] = solved(p6_1="def softmax(z):\n    raise ValueError('<script>alert(1)</script> "
                              "[click](javascript:alert(1)) <!-- x')\n")
    nbs["huge_int"] = solved(p6_1="def softmax(z):\n    return 10**5000\n")
    nbs["zero_d"] = solved(p6_1="def softmax(z):\n    return np.array(1.0)\n")
    big = [f"def helper_{i}(x):\n    y = x + {i}\n    return y * 2\n" for i in range(1500)]  # about 70 KB
    nbs["big_notebook"] = with_cells(*big)
    nbs["dup"] = solved()
    for name, nb in nbs.items():
        (subs / name).mkdir()
        nbformat.write(nb, subs / name / f"{EX}.ipynb")
    nbformat.write(solved(), subs / "dup" / f"{EX}_copy.ipynb")
    os.utime(subs / "dup" / f"{EX}.ipynb", (time.time() - 60, time.time() - 60))  # handed in first
    # instructor mistakes and hostile files
    neurons = new_notebook(metadata={"coursekit": {"exercise": "01_neurons"}})  # a finished 01_neurons
    for p in EXERCISES["01_neurons"]:
        neurons.cells.append(new_code_cell(f"def {p.function}(*args):\n    return None\n",
                                           metadata={"nbgrader": {"grade_id": p.grade_id, "solution": True}}))
    (subs / "wrong_exercise").mkdir()
    nbformat.write(neurons, subs / "wrong_exercise" / f"{EX}.ipynb")
    (subs / "link_solution").mkdir()
    (subs / "link_solution" / f"{EX}.ipynb").symlink_to(Path(__file__).parents[1] / "exercises" / "source" / f"{EX}.ipynb")
    (subs / "link_classmate").mkdir()
    (subs / "link_classmate" / f"{EX}.ipynb").symlink_to(classmate)
    (subs / "link_folder").symlink_to(subs / "honest_3", target_is_directory=True)
    (subs / "link_devzero").mkdir()
    (subs / "link_devzero" / f"{EX}.ipynb").symlink_to("/dev/zero")
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / f"{EX}.ipynb")
    (subs / "sparse").mkdir()
    with (subs / "sparse" / f"{EX}.ipynb").open("wb") as f:
        f.truncate(3 * 2**30)

    grade([subs / "honest_1"], timeout=TIMEOUT, sandbox=sandbox, seed=1)  # warm-up: torch loaded by the judges
    tmp_before = set(glob.glob("/tmp/coursekit-grading-*"))
    rss_before, peak_before = _rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.monotonic()
    results = grade([subs], timeout=TIMEOUT, sandbox=sandbox, seed=1234)
    seconds = time.monotonic() - start
    after = {"rss": _rss() - rss_before,
             "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before,
             "children": sorted(set(_children()) - {z.proc.pid for zs in sandbox.zygotes.values() for z in zs}),
             "zygote_children": _zygote_leftovers(sandbox), "marked": _marked(), "seconds": seconds,
             "tmp": set(glob.glob("/tmp/coursekit-grading-*")) - tmp_before}
    by = {}
    for r in results:
        assert r.student not in by, r.student  # one row per student and exercise
        by[r.student] = r
    return by, nbs, root, after


def scores(r) -> dict[str, float]:
    return {p.id: p.score for p in r.parts}


def feedback(r, pid: str) -> str:
    return next(p.feedback for p in r.parts if p.id == pid)


def test_honest_classmates_keep_their_exact_scores(batch):
    by = batch[0]
    for name, (_, score) in honest_subs().items():
        assert by[name].score == score, (name, by[name].errors, [p.feedback for p in by[name].parts])
        assert by[name].max_score == FULL
        assert by[name].errors == [] or name == "honest_stub", (name, by[name].errors)


def test_nothing_outlives_the_batch(batch):
    after = batch[3]
    assert after["children"] == [] and after["marked"] == []  # no process of a submission survives
    assert after["zygote_children"] == []  # nor inside the pre-loaded sandboxes, which stay for the next batch
    assert after["tmp"] == set()  # no folder of the grader's is left
    assert after["rss"] < 100 * 2**20, after  # memory it held during the batch is given back
    assert after["peak"] < 400 * 2**20, after  # and it never grew by the 16 MB x 64 of forged_blob


def test_worker_takeover_through_proc_reaches_only_its_own_pipe(batch):
    r = batch[0]["takeover"]
    assert r.score == 0 and r.errors == []  # the sandbox has no /proc: no process, no descriptor to open
    r = batch[0]["procview"]  # what it can see: nothing in /proc; its parent is its own PID namespace's init
    assert r.score == FULL
    (line,) = [e for e in r.errors if "RuntimeError: pids=" in e]
    assert line.endswith("RuntimeError: pids=[] ppid=1")


def test_forged_results_void_the_submission(batch):
    r = batch[0]["forge"]
    assert r.score == 0
    assert r.errors == ["the submission wrote to the grader's result channel itself (two answers for part 6.1, "
                        "case 1); nothing of it was graded"]


def test_forged_messages_cannot_write_lines_into_the_feedback(batch, tmp_path):
    r = batch[0]["forge_markdown"]
    assert r.score == 0  # every case answered by an error: the honest score of what came back
    assert "the submission's process ended before it finished (os._exit?)" in r.errors
    for p in r.parts:  # the grader's three lines; the forged newlines shown, not kept
        assert len(p.feedback.split("\n")) == 3 and "x\\x0a\\x0a## " in p.feedback, p.feedback
    _, paths = write_gradebook([r], tmp_path, EXERCISES)
    text = paths[0].read_text()
    headings = [line for line in text.split("\n") if line.startswith("#")]
    assert headings == ["# Feedback: 06\\_softmax (forge\\_markdown)",
                        *[f"## ✘ {pid} {p.title}: 0 / {p.points}" for pid, p in PARTS.items()],
                        "## Problems while grading"], headings
    assert "\r" not in text and f"Total: 0 / {FULL} points" in text


@pytest.mark.parametrize("name", sorted(SCRATCH))
def test_from_scratch_cannot_be_bypassed(batch, name):
    r = batch[0]["scratch_" + name]
    assert scores(r) == dict(POINTS, **{"6.1": 0}), (name, r.errors, feedback(r, "6.1"))
    assert feedback(r, "6.1").startswith(
        "Part 6.1 must be written from scratch (numpy only): nothing but numpy and Python's standard library "
        "can be imported when it is graded ("), feedback(r, "6.1")


def test_classmates_notebooks_are_out_of_reach(batch):
    by, nbs, root, _ = batch
    r = by["read_classmate"]
    assert r.score == 0
    n = cell_number(nbs["read_classmate"], "exec(src)")
    assert f"cell {n}: FileNotFoundError: [Errno 2] No such file or directory: " in "\n".join(r.errors)
    r = by["overwrite_classmate"]
    assert r.score == FULL
    assert any("FileNotFoundError" in e for e in r.errors)
    assert by["honest_2"].score == FULL  # graded from the file as it was handed in
    assert (root / "subs" / "honest_2" / f"{EX}.ipynb").read_text().startswith("{")


def test_writes_outside_the_sandbox_tmpfs_fail_and_it_is_bounded(batch):
    by, nbs, root, _ = batch
    r = by["write_outside"]
    assert r.score == FULL
    (line,) = [e for e in r.errors if "RuntimeError: " in e]
    outcomes = dict(item.split("=") for item in line.split("RuntimeError: ", 1)[1].split(";"))
    assert len(outcomes) == 15 and "ok" not in outcomes.values(), outcomes
    assert outcomes["10"] == "27"  # /tmp: EFBIG at the 16 MB file-size limit
    assert "28" in [outcomes[str(i)] for i in range(11, 15)]  # ENOSPC: the 64 MB tmpfs is full
    assert not list(root.glob("big-*")) and not list(Path(SITE).glob("big-*")) and not Path("/big-0.bin").exists()


def test_a_planted_pth_file_never_reaches_a_later_batch(batch, sandbox, tmp_path):
    r = batch[0]["plant_pth"]
    assert r.score == FULL
    assert any(e.endswith("RuntimeError: planted=[]") for e in r.errors), r.errors
    assert not Path(SITE, "zz_evil.pth").exists()
    # and where the environment IS writable and someone planted one: -I -S and the allow-list ignore it
    site = tmp_path / "site-packages"
    site.mkdir()
    for entry in Environment.detect().profiles["numpy"]:
        (site / entry).symlink_to(Path(SITE) / entry)
    (site / "zz_evil.pth").write_text("import builtins; builtins.PLANTED = 1\n")
    (site / "sitecustomize.py").write_text("import builtins; builtins.PLANTED = 1\n")
    probe = "import builtins\nraise RuntimeError(f'planted={hasattr(builtins, \"PLANTED\")}')"
    path = tmp_path / "s" / f"{EX}.ipynb"
    path.parent.mkdir()
    nbformat.write(with_cells(probe, answers=STUBS), path)
    before = set(_children())
    with Sandbox(Environment.detect(site)) as planted:
        (res,) = grade([path], timeout=TIMEOUT, sandbox=planted, seed=5)
    assert set(_children()) <= before  # closing a sandbox ends its pre-loaded ones
    assert res.score == 0
    assert any(e.endswith("RuntimeError: planted=False") for e in res.errors), res.errors


def test_denial_of_service_files_and_results(batch):
    by = batch[0]
    assert by["forged_blob"].score == 0
    assert by["forged_blob"].errors == [
        "the submission wrote to the grader's result channel itself (an unreadable answer (one array's data "
        "used twice)); nothing of it was graded"]
    assert by["fifo"].errors == ["it is a FIFO (named pipe), not a regular file; refused"]
    assert by["sparse"].errors == ["not a notebook: the file is 3072 MB (the limit is 20 MB)"]
    assert by["link_devzero"].errors == ["it is a symbolic link (to another file); only regular files are graded"]
    assert by["big_notebook"].score == FULL


def test_processes_cannot_escape(batch):
    r = batch[0]["escape"]
    assert r.score == FULL
    (line,) = [e for e in r.errors if "RuntimeError: " in e]
    assert line.endswith("RuntimeError: fork:BlockingIOError;posix_spawn:BlockingIOError;popen:BlockingIOError")
    r = batch[0]["exec_sleep"]  # replaced the runner by `sleep 30`: the cell's alarm, inherited, ends it
    assert r.score == 0
    assert r.errors == ["the submission's process was killed by SIGALRM before it finished"]
    # and neither left a process behind: test_nothing_outlives_the_batch


def test_instructor_mistakes_are_row_errors(batch):
    by = batch[0]
    assert by["wrong_exercise"].score == 0 and by["wrong_exercise"].errors == [
        f"the file is named '{EX}.ipynb' but the notebook is exercise 01_neurons: is it the right notebook?"]
    for name in ("link_solution", "link_classmate"):
        assert by[name].score == 0 and by[name].errors == [
            "it is a symbolic link (to another file); only regular files are graded"], name
    assert by["link_folder"].errors == ["this student folder is a symbolic link; only real folders are graded"]
    r = by["dup"]  # a resubmission: the latest by modification time is graded, and the row says so
    assert r.score == FULL and r.exercise == EX and r.errors == []
    assert r.file.endswith(f"{EX}_copy.ipynb")
    assert r.notes == [f"resubmission: 2 notebooks of {EX}; graded the latest by modification time "
                       f"({EX}_copy.ipynb), not {EX}.ipynb"]


def test_student_text_is_escaped_in_feedback_files(batch, tmp_path):
    by = batch[0]
    r = by["html"]
    assert scores(r) == dict(POINTS, **{"6.1": 0})
    _, paths = write_gradebook([r], tmp_path, EXERCISES)
    text = paths[0].read_text()
    assert "<script" not in text and "<!--" not in text and "[click](javascript:" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\[click\\](javascript:alert(1))" in text


def test_huge_ints_and_zero_d_arrays_fail_only_their_case(batch):
    r = batch[0]["huge_int"]
    assert scores(r) == dict(POINTS, **{"6.1": 0})
    assert "returned an integer too large to grade (more than 64 bits)" in feedback(r, "6.1")
    r = batch[0]["zero_d"]
    assert scores(r) == dict(POINTS, **{"6.1": 0})
    assert "should be a numpy array; got float" in feedback(r, "6.1"), feedback(r, "6.1")


# -- parts that may use torch: their own sandbox, with torch mounted ----------------------------


def _cases(rng):
    return [Case((rng.normal(size=4),), {}, "4 numbers")]


def _judge(case, got):
    import numpy as np

    return None if np.allclose(got, case.args[0] * 2) else "expected twice the input"


TORCH_EX = {"toy": [
    Part(id="9.1", title="Double with torch", function="double", points=2, from_scratch=False,
         cases=_cases, judge=_judge, hints=("x * 2",), exercise="toy"),
    Part(id="9.2", title="Double from scratch", function="double2", points=2, from_scratch=True,
         cases=_cases, judge=_judge, hints=("x * 2",), exercise="toy"),
]}


def test_parts_that_are_not_from_scratch_can_use_torch(tmp_path, sandbox):
    src = "import torch\ndef double(x):\n    return (torch.from_numpy(x) * 2).numpy()\ndouble2 = double\n"
    nb = new_notebook(cells=[new_code_cell(src)])
    nb.metadata["coursekit"] = {"exercise": "toy"}
    nbformat.write(nb, tmp_path / "toy.ipynb")
    (r,) = grade([tmp_path / "toy.ipynb"], exercises=TORCH_EX, timeout=20, sandbox=sandbox)
    assert scores(r) == {"9.1": 2, "9.2": 0}, (r.errors, [p.feedback for p in r.parts])
    assert feedback(r, "9.1") == "all 1 checks passed. 2/2 points."
    assert feedback(r, "9.2").startswith("Part 9.2 must be written from scratch (numpy only)")


# -- the command line: no bubblewrap, --unsafe-no-sandbox, names with escapes -------------------


def _cli(args, tmp_path, **env):
    return subprocess.run([sys.executable, "-m", "coursekit.cli", "grade", *args], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=dict(os.environ, **env))


def test_cli_refuses_without_bubblewrap_unless_told(tmp_path):
    subs = tmp_path / "subs"
    name = "eve\x1b[31m\nred"  # a folder name with an ANSI escape and a newline
    for student, nb in (("alice", solved()), (name, notebook(STUBS))):
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, subs / student / f"{EX}.ipynb")
    proc = _cli([str(subs), "--out", str(tmp_path / "out")], tmp_path, COURSEKIT_BWRAP="")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "`sudo apt-get install bubblewrap`" in proc.stderr and "--unsafe-no-sandbox" in proc.stderr
    assert not (tmp_path / "out").exists()
    proc = _cli([str(subs), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"], tmp_path, COURSEKIT_BWRAP="")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: graded WITHOUT the sandbox" in proc.stderr
    assert "\x1b" not in proc.stdout and "eve\\x1b[31m\\x0ared  06_softmax  0/10" in proc.stdout
    with (tmp_path / "out" / "gradebook.csv").open() as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["alice"]["total"] == str(FULL) and rows["alice"]["isolation"] == "NONE (--unsafe-no-sandbox)"
    assert rows["eve\\x1b[31m\\x0ared"]["total"] == "0"
    text = next((tmp_path / "out" / "feedback").glob("*/eve*.md")).read_text()
    assert "\x1b" not in text and "Graded without the sandbox (--unsafe-no-sandbox)." in text
    # with the sandbox: the gradebook says so, and nothing rewrites it once the grader is done
    proc = _cli([str(subs), "--out", str(tmp_path / "out2"), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    csv_text = (tmp_path / "out2" / "gradebook.csv").read_text()
    assert "bubblewrap" in csv_text
    time.sleep(1.0)
    assert (tmp_path / "out2" / "gradebook.csv").read_text() == csv_text


def test_fresh_sandboxes_give_the_same_results(tmp_path):
    # one bwrap sandbox per run, as where nested ones cannot be made (the pre-loaded path's fallback)
    nbs = {"honest": solved(), "procview": with_cells(PROCVIEW), "escape": with_cells(ESCAPE),
           "killgroup": with_cells("import os\nos.killpg(0, 9)"), "stub": notebook(STUBS)}
    for name, nb in nbs.items():
        (tmp_path / name).mkdir()
        nbformat.write(nb, tmp_path / name / f"{EX}.ipynb")
    with Sandbox(zygotes=False) as fresh:
        by = {r.student: r for r in grade([tmp_path], timeout=TIMEOUT, sandbox=fresh, seed=3)}
        assert fresh.zygotes is None
    assert by["honest"].score == FULL and by["honest"].errors == []
    assert by["stub"].score == 0
    assert any(e.endswith("RuntimeError: pids=[] ppid=1") for e in by["procview"].errors)
    assert any(e.endswith("RuntimeError: fork:BlockingIOError;posix_spawn:BlockingIOError;popen:BlockingIOError")
               for e in by["escape"].errors)
    assert by["killgroup"].score == 0
    assert by["killgroup"].errors == ["the submission's process was killed by SIGKILL before it finished"]


def test_closing_a_sandbox_leaves_the_environment_untouched():
    # Each sandbox's site-*/ folder holds symlinks into the real site-packages; cleaning up once
    # chmod-ed through them and left numpy 0700 in the course's environment, so that no other
    # user could import it.
    import numpy

    site = Path(numpy.__file__).resolve().parent.parent
    entries = [p for p in site.iterdir() if p.name.startswith("numpy")]
    before = {p: p.stat().st_mode for p in entries}
    with Sandbox(unsafe=True) as s:  # the mode that builds a folder of symlinks
        assert os.path.islink(os.path.join(s.site_paths("numpy")[0], "numpy"))
    assert {p: p.stat().st_mode for p in entries} == before
