"""``coursekit grade`` over a term: the holes of issue 24 and the instructor's workflow, as real batches.

One class of exercise 06_softmax, graded with the real command line (real
bubblewrap sandboxes) into one gradebook; then one student regraded, a
resubmission, overrides, a report and the Canvas / Moodle exports. Every
expected score is computed from the spec's points, never read from the grader.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_grading_isolation import EX, FULL, POINTS, SOLUTIONS, STUBS, notebook, solved, with_cells

from coursekit.exercises.spec import EXERCISES
from coursekit.grading.grader import grade
from coursekit.grading.sandbox import PREFIX, Sandbox, remove_leftovers

TIMEOUT = "4"
PEAK_MB = 600  # the grader's peak resident memory for this batch, as the README states

HOSTILE = {
    # 1. memory outside RLIMIT_AS: SysV shared memory and memfds are refused by the filter
    "shm": with_cells("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                      "ids = [libc.shmget(0, 2**27, 0o1600) for _ in range(24)]\n"
                      "raise RuntimeError(f'shm={sorted(set(ids))} errno={ctypes.get_errno()}')"),
    "memfd": with_cells("import os\nfds = [os.memfd_create(f'x{i}') for i in range(55)]"),
    # 3. junk frames: three of 16 MB each; refused by their size before a byte is parsed
    "junk_frames": with_cells("import os, struct\nh = b'{\"kind\": \"case\", ' + b'{}' * (2**23 - 8) + b'}'\n"
                              "for _ in range(3):\n    os.write(3, struct.pack('>I', len(h)) + h)\n"),
    # 4. threads, even as root: none can start once student code runs
    "threads": with_cells("import threading, time\nn = 0\ntry:\n    for _ in range(4000):\n"
                          "        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                          "        n += 1\nexcept RuntimeError:\n    pass\nraise RuntimeError(f'threads={n}')"),
    # 5. a list where a number belongs: the submission is void, with a clear row
    "forged_index": with_cells("import json, os, struct\n"
                               "h = json.dumps({'kind': 'cell', 'index': [1], 'error': 'x', 'blobs': []}).encode()\n"
                               "os.write(3, struct.pack('>I', len(h)) + h)\n"),
    # 5. runaway recursion with the limit raised, in one part: that part only
    "recursion": solved(p6_2="import sys\nsys.setrecursionlimit(10**6)\n"
                             "def log_softmax(z):\n    return log_softmax(z)\n"),
    "segfault": solved(p6_3="import ctypes\ndef cross_entropy(logits, targets):\n    ctypes.string_at(0)\n"),
    # 5. what the sandbox can learn about the host's paths
    "mountinfo": with_cells("import os\nseen = []\nfor p in ('/proc/self/mountinfo', '/proc/1/mountinfo', "
                            "'/proc/thread-self/mountinfo'):\n    try:\n        seen.append(open(p).read())\n"
                            "    except OSError as e:\n        seen.append(type(e).__name__)\n"
                            "raise RuntimeError(f'seen={seen} proc={os.listdir(\"/proc\")}')"),
}


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "coursekit.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


def _rows(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as f:
        return {(r["student"], r["exercise"]): r for r in csv.DictReader(f)}


def _write(folder: Path, nb, name: str = f"{EX}.ipynb", mtime: float | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    if mtime is not None:
        os.utime(folder / name, (mtime, mtime))
    return folder / name


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    root = tmp_path_factory.mktemp("term")
    subs = root / "subs"
    base = time.time() - 3600
    honest = {"alice": (solved(), FULL), "bob": (solved(p6_3="def cross_entropy(logits, targets):\n    return 0.5\n"),
                                                  FULL - POINTS["6.3"]),
              "carol": (notebook(STUBS), 0)}
    for name, (nb, _) in honest.items():
        _write(subs / name, nb, mtime=base)
    for name, nb in HOSTILE.items():
        _write(subs / name, nb, mtime=base)
    # 2. a student folder called gradebook, holding a symbolic link to a folder outside
    outside = root / "outside"
    outside.mkdir()
    _write(subs / "gradebook", solved(), mtime=base)
    (subs / "gradebook" / "feedback").symlink_to(outside, target_is_directory=True)
    # 6./9. a resubmission: the later file wins; late after the deadline
    _write(subs / "dave", notebook(STUBS), mtime=base)
    _write(subs / "dave", solved(), name=f"{EX} (1).ipynb", mtime=base + 600)
    (subs / "dave" / "scratch.ipynb").write_text("{not json")  # a broken file next to them: a note
    # 10. a finished 01 notebook named homework.ipynb, and a 05 notebook, in a 06 batch
    neurons = nbformat.read(Path(__file__).parents[1] / "exercises" / "source" / "01_neurons.ipynb", as_version=4)
    _write(subs / "erin", neurons, name="homework.ipynb", mtime=base)
    init = nbformat.read(Path(__file__).parents[1] / "exercises" / "source" / "05_initialization.ipynb",
                         as_version=4)
    _write(subs / "frank", init, name="05_initialization.ipynb", mtime=base)
    _write(subs / "alice", init, name="05_initialization.ipynb", mtime=base)  # alice's folder holds both
    # 11. a copy of alice's notebook with a comment changed and a variable renamed
    copy = solved()
    for c in copy.cells:
        c.source = c.source.replace("e = np.exp", "# my own work\n    ex = np.exp").replace("e / e.sum", "ex / ex.sum")
    _write(subs / "gus", copy, mtime=base)
    (subs / "empty").mkdir()

    # 2. the default output folder inside the submissions is refused, clearly
    refused = _cli("grade", ".", cwd=subs)
    tmp_before = set(glob.glob(f"/tmp/{PREFIX}*"))
    deadline = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(base + 300))
    out = root / "gradebook"
    # the command line, in a process that reports its own peak memory when done
    # VmHWM, not ru_maxrss: Linux carries the forking parent's high-water mark (pytest's, several
    # hundred MB late in the suite) across exec into ru_maxrss; VmHWM belongs to the new process alone
    wrapper = ("import sys\nfrom coursekit.cli import main\ncode = main(sys.argv[1:])\n"
               "hwm = next(int(ln.split()[1]) for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))\n"
               "print(hwm // 1024, file=sys.stderr)\n"
               "sys.exit(code)\n")
    first = subprocess.run([sys.executable, "-c", wrapper, "grade", str(subs), "--out", str(out), "--timeout",
                            TIMEOUT, "--deadline", deadline, "--json"], capture_output=True, text=True,
                           timeout=600, cwd=root)
    rows1 = _rows(out)
    return {"root": root, "subs": subs, "out": out, "refused": refused, "first": first, "rows": rows1,
            "honest": honest, "outside": outside, "tmp_before": tmp_before, "base": base,
            "peak_mb": int(first.stderr.strip().splitlines()[-1])}


def _row(term, student):
    return term["rows"][(student, EX)]


def test_output_inside_the_submissions_is_refused(term):
    p = term["refused"]
    assert p.returncode == 2 and "is inside the submissions folder" in p.stderr, p.stderr
    assert not (term["subs"] / "gradebook" / "gradebook.csv").exists()


def test_honest_classmates_keep_their_exact_scores(term):
    assert term["first"].returncode == 0, term["first"].stderr
    for name, (_, score) in term["honest"].items():
        row = _row(term, name)
        assert float(row["total"]) == score and row["max"] == str(FULL), row
        assert row["errors"] == "", row
    assert not list(term["outside"].iterdir())  # nothing written through the student's link
    assert float(_row(term, "gradebook")["total"]) == FULL  # a student called gradebook is graded


def test_memory_outside_the_address_space_limit_is_refused(term):
    row = _row(term, "shm")
    assert float(row["total"]) == FULL and "RuntimeError: shm=[-1] errno=1" in row["errors"], row["errors"]
    row = _row(term, "memfd")
    assert float(row["total"]) == FULL and "PermissionError: [Errno 1] Operation not permitted" in row["errors"]


def test_no_thread_starts_whoever_runs_the_grader(term):
    row = _row(term, "threads")
    assert float(row["total"]) == FULL and row["errors"].endswith("RuntimeError: threads=0"), row["errors"]


def test_junk_and_malformed_frames_void_only_their_submission(term):
    row = _row(term, "junk_frames")
    assert float(row["total"]) == 0
    assert row["errors"] == ("the submission wrote to the grader's result channel itself (the result stream is "
                             "corrupt (bad frame length)); nothing of it was graded")
    row = _row(term, "forged_index")
    assert float(row["total"]) == 0
    assert row["errors"] == ("the submission wrote to the grader's result channel itself (a report on a cell "
                             "that was not sent); nothing of it was graded")


def test_a_crash_in_one_part_costs_that_part_only(term):
    row = _row(term, "recursion")
    assert float(row["total"]) == FULL - POINTS["6.2"], row
    assert row["6.2"] == "0" and "6.2: case 1: raised RecursionError" in row["first_failures"]
    row = _row(term, "segfault")
    assert float(row["total"]) == FULL - POINTS["6.3"], row
    assert "killed by SIGSEGV" in row["errors"]


def test_the_sandbox_sees_no_host_path(term):
    row = _row(term, "mountinfo")
    assert float(row["total"]) == FULL
    assert row["errors"].endswith("RuntimeError: seen=['FileNotFoundError', 'FileNotFoundError', "
                                  "'FileNotFoundError'] proc=[]"), row["errors"]
    for host in (str(Path(__file__).parents[1]), sys.prefix, "/tmp/"):
        assert host not in row["errors"]


def test_nothing_outlives_the_batch(term):
    assert set(glob.glob(f"/tmp/{PREFIX}*")) - term["tmp_before"] == set()


def test_one_row_per_student_named_after_the_folder(term):
    students = {s for s, _ in term["rows"]}
    assert students == {*term["honest"], *HOSTILE, "gradebook", "dave", "erin", "frank", "gus", "empty"}
    assert term["rows"][("empty", "")]["errors"] == "no notebook (*.ipynb) in this student's folder"


def test_every_row_records_how_it_was_graded(term):
    data = json.loads(term["first"].stdout)
    seeds = {s["seed"] for s in data["submissions"]}
    assert len(seeds) == 1
    (seed,) = seeds
    for (student, _), row in term["rows"].items():
        assert row["seed"] == str(seed) and row["coursekit"] and row["graded"], row
        if student != "empty":
            assert row["isolation"] == "bubblewrap" and len(row["sha256"]) == 64 and row["submitted"], row
    path = term["subs"] / "alice" / f"{EX}.ipynb"
    assert _row(term, "alice")["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_resubmission_latest_wins_and_late_rows_are_marked(term):
    row = _row(term, "dave")
    assert float(row["total"]) == FULL and row["file"].endswith(f"{EX} (1).ipynb")
    assert "graded the latest by modification time" in row["notes"]
    assert "also in the folder: scratch.ipynb, not graded (not a notebook: the file is not valid JSON" in row["notes"]
    assert row["late"] == "0h 5m late"
    assert _row(term, "alice")["late"] == ""
    text = (term["out"] / row["feedback"]).read_text()
    assert "resubmission" not in text  # for the instructor, not in the student's feedback


def test_an_exercise_mismatch_is_always_a_row_error(term):
    erin, frank = _row(term, "erin"), _row(term, "frank")
    for row, other in ((erin, "01_neurons"), (frank, "05_initialization")):
        assert float(row["total"]) == 0 and f"this notebook is exercise {other}, but this batch is exercise {EX}" \
            in row["errors"], row
    with (term["out"] / "gradebook.csv").open() as f:
        header = next(csv.reader(f))
    assert not any(h.startswith(("1.", "5.")) for h in header), header
    alice = _row(term, "alice")  # a folder holding the batch's exercise and another: the other is a note
    assert float(alice["total"]) == FULL and alice["notes"] == (
        "also in the folder: 05_initialization.ipynb (exercise 05_initialization), not graded in this batch")


def test_the_same_inputs_for_every_submission_and_the_seed_reproduces_them(term, tmp_path):
    seed = _row(term, "bob")["seed"]
    first_fail = _row(term, "bob")["first_failures"]
    out = tmp_path / "again"
    p = _cli("grade", term["subs"] / "bob", "--out", out, "--timeout", TIMEOUT, "--seed", seed, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert _rows(out)[("bob", EX)]["first_failures"] == first_fail  # "the loss should be X": the same X


def test_regrading_one_student_leaves_every_other_row(term, tmp_path):
    out = tmp_path / "gb"
    shutil.copytree(term["out"], out)
    before = _rows(out)
    old_feedback = sorted(p.relative_to(out) for p in (out / "feedback").rglob("*.md"))
    bob = tmp_path / "later" / "bob"
    _write(bob, solved())  # bob fixes 6.3 and hands in again
    p = _cli("grade", bob, "--out", out, "--timeout", TIMEOUT, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    after = _rows(out)
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k != ("bob", EX)} == {k: v for k, v in before.items()
                                                                    if k != ("bob", EX)}
    assert float(after[("bob", EX)]["total"]) == FULL and after[("bob", EX)]["seed"] != before[("bob", EX)]["seed"]
    # this run's feedback in a folder of its own; the earlier files are untouched
    new = sorted(p.relative_to(out) for p in (out / "feedback").rglob("*.md"))
    assert set(old_feedback) < set(new) and len(new) == len(old_feedback) + 1
    assert after[("bob", EX)]["feedback"] not in {str(f) for f in old_feedback}
    # the student whose folder was empty hands in: the real row replaces the "no notebook" one
    _write(tmp_path / "later" / "empty", notebook(STUBS))
    p = _cli("grade", tmp_path / "later" / "empty", "--out", out, "--timeout", TIMEOUT, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = _rows(out)
    assert ("empty", "") not in rows and rows[("empty", EX)]["total"] == "0" and len(rows) == len(before)
    p = _cli("grade", bob, "--out", out, "--timeout", TIMEOUT, "--replace", cwd=tmp_path)
    assert p.returncode == 0 and set(_rows(out)) == {("bob", EX)}


def test_output_through_a_link_is_refused(term, tmp_path):
    (tmp_path / "link").symlink_to(term["outside"], target_is_directory=True)
    p = _cli("grade", term["subs"] / "alice", "--out", tmp_path / "link", "--timeout", TIMEOUT, cwd=tmp_path)
    assert p.returncode == 2 and "is a symbolic link or not a folder; refused" in p.stderr, p.stderr
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "feedback").symlink_to(term["outside"], target_is_directory=True)
    p = _cli("grade", term["subs"] / "alice", "--out", tmp_path / "real", "--timeout", TIMEOUT, cwd=tmp_path)
    assert p.returncode == 2 and "feedback is a symbolic link or not a folder; refused" in p.stderr, p.stderr
    assert not list(term["outside"].iterdir())


def test_report_overrides_and_lms_exports(term, tmp_path):
    out = tmp_path / "gb"
    shutil.copytree(term["out"], out)
    (tmp_path / "overrides.csv").write_text("student,part,points,reason\ncarol,6.1,1.5,talked it through\n")
    p = _cli("grade", term["subs"] / "carol", "--out", out, "--timeout", TIMEOUT, "--overrides",
             tmp_path / "overrides.csv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    carol = _rows(out)[("carol", EX)]
    assert carol["6.1"] == "1.5" and float(carol["total"]) == 1.5
    assert carol["overrides"] == "6.1: 0 -> 1.5 (talked it through)"
    p = _cli("report", "--out", out, "--canvas", tmp_path / "canvas.csv", "--moodle", tmp_path / "moodle.csv",
             cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    report = (out / "report.md").read_text()
    rows = _rows(out)
    graded = [r for (s, e), r in rows.items() if e == EX]
    for pid in POINTS:  # the per-part mean, from the rows
        mean = sum(float(r[pid]) for r in graded if r[pid] != "") / sum(r[pid] != "" for r in graded)
        assert f"| {pid} " in report and f"{mean:.2f} / {POINTS[pid]}" in report, (pid, mean)
    # bob's 6.3 is the most common first failure of 6.3
    assert "the loss should be" in report.split("Most failed parts")[1]
    # the copy with a comment and a name changed is flagged with alice; bob (one part differs) too
    flagged = report.split("## Similar code")[1]
    assert f"- {EX}: alice and gus: all answers identical" in flagged
    assert f"- {EX}: carol and " not in flagged  # the released stubs are no one's code
    with (tmp_path / "canvas.csv").open() as f:
        canvas = list(csv.reader(f))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and canvas[0][5] == EX
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][5] == str(FULL)
    by = {r[3]: r[5] for r in canvas[2:]}
    assert by["alice"] == str(FULL) and by["carol"] == "1.5" and by["erin"] == "0"
    with (tmp_path / "moodle.csv").open() as f:
        moodle = {r["Username"]: r for r in csv.DictReader(f)}
    assert moodle["bob"][EX] == str(FULL - POINTS["6.3"]) and moodle["dave"][f"{EX} feedback"].endswith("late")


def test_a_crashed_graders_folder_is_removed_on_the_next_start(tmp_path):
    code = ("import os, signal\nfrom coursekit.grading.sandbox import Sandbox\ns = Sandbox(zygotes=False)\n"
            "print(s.tmp, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    left = p.stdout.strip()
    assert left.startswith(f"/tmp/{PREFIX}") and os.path.isdir(left)
    with Sandbox(zygotes=False) as s:  # a live grader's folder is never taken
        assert s.tmp not in remove_leftovers()
        assert not os.path.exists(left)
        assert os.path.isdir(s.tmp)


def test_peak_memory_of_the_grader_stays_under_the_stated_bound(term):
    # the batch holds three 16 MB junk frames (junk_frames): refused by their size, never parsed
    assert term["peak_mb"] < PEAK_MB, term["peak_mb"]


def test_grading_library_defaults_match_the_command(tmp_path):
    for name in ("alice", "bob"):
        _write(tmp_path / name, solved())
    with Sandbox() as s:
        res = grade([tmp_path / "alice", tmp_path / "bob"], timeout=float(TIMEOUT), sandbox=s, seed=3)
    assert sorted((r.student, r.score) for r in res) == [("alice", FULL), ("bob", FULL)]
    assert len(SOLUTIONS) == len(EXERCISES[EX])
