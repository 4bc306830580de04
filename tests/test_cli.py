"""The coursekit command line: doctor, check, lab — run as a user would, in subprocesses."""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from coursekit.paths import lesson_notebooks, student_notebooks

COURSEKIT = [sys.executable, "-m", "coursekit.cli"]
# The installed console script, as the README runs it (.venv/bin/coursekit).
CONSOLE = str(Path(sys.prefix) / "bin" / "coursekit")


def run(args, **kwargs):
    return subprocess.run(COURSEKIT + args, capture_output=True, text=True, timeout=600, **kwargs)


def test_help_lists_the_commands():
    out = run(["--help"]).stdout
    for command in ("lab", "check", "doctor", "execute"):
        assert command in out


def test_doctor_reports_versions_and_finds_nothing_to_fix_here():
    plain = subprocess.run([CONSOLE, "doctor"], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and "All good" in plain.stdout, plain.stdout + plain.stderr
    proc = run(["doctor", "--json"])
    report = json.loads(proc.stdout)
    for package in ("python", "numpy", "torch", "matplotlib", "ipywidgets", "jupyterlab", "nbval"):
        assert report["versions"][package] != "MISSING"
    assert report["problems"] == [], report["problems"]
    assert proc.returncode == 0


def test_doctor_says_what_to_fix_when_the_kernel_is_missing(tmp_path):
    # Hide every kernelspec: point Jupyter at empty folders only.
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path), "JUPYTER_DATA_DIR": str(tmp_path),
           "JUPYTER_PLATFORM_DIRS": "0"}
    code = ("import jupyter_client.kernelspec as k, coursekit.doctor as d;"
            "k.KernelSpecManager.get_all_specs = lambda self: {};"
            "import sys; sys.exit(d.run(type('A', (), {'json': False})()))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "kernel for this environment  MISSING" in proc.stdout
    assert "ipykernel install" in proc.stdout


def test_check_passes_a_stored_lesson_and_names_the_cell_whose_output_was_edited(tmp_path, root):
    # 'coursekit check' with no argument checks the whole course: here a small course
    # (COURSEKIT_ROOT) of three notebooks, in one run (nbval in a fresh kernel each):
    # an untouched copy of chapter 01, a copy whose stored output was edited (as an
    # exercise solution), and a corrupt file.
    course = tmp_path / "course"
    good = course / "notebooks" / "01_neurons.ipynb"
    broken = course / "notebooks" / "02_not_a_notebook.ipynb"
    edited = course / "exercises" / "source" / "01_neurons.ipynb"
    for target in (good, edited):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / "notebooks" / "01_neurons.ipynb", target)
    nb = nbformat.read(edited, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    target = code_cells[1]  # the 'z by hand' cell prints one line
    assert target.outputs[0].text.startswith("z by hand")
    target.outputs[0].text = target.outputs[0].text.replace("-0.30", "-0.31", 1)
    nbformat.write(nb, edited)
    broken.write_text("{ this is not json")

    proc = subprocess.run([CONSOLE, "check"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COURSEKIT_ROOT": str(course)})
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.startswith(("notebooks/", "exercises/"))}
    assert rows["notebooks/01_neurons.ipynb"].endswith(" ok"), proc.stdout
    assert rows["exercises/source/01_neurons.ipynb"].endswith("FAILED"), proc.stdout
    assert " 1  " in rows["exercises/source/01_neurons.ipynb"], proc.stdout
    assert rows["notebooks/02_not_a_notebook.ipynb"].endswith("ERROR"), proc.stdout
    assert "01_neurons.ipynb: Cell 1 failed" in proc.stdout
    assert "-0.31" in proc.stdout  # the stored (edited) text is shown against the new one
    assert "not a notebook (invalid JSON" in proc.stdout  # reported, then it went on
    assert "1/3 notebooks passed" in proc.stdout
    assert proc.returncode == 1
    assert "cell/s" not in proc.stderr and "\r" not in proc.stderr  # no progress bar into a pipe


def _run_on_a_terminal(argv, timeout=120, cwd=None) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal (80x24) as stdin/stdout/stderr; return (status, output)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True, cwd=cwd)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the terminal closed: the command is done
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        status = proc.wait(timeout=30)
        os.close(master)
    return status, b"".join(chunks).decode(errors="replace")


def test_check_shows_its_progress_cell_by_cell_on_a_terminal(tmp_path):
    # 'coursekit check notebooks/01_neurons.ipynb' as the README writes it, in a folder whose
    # notebooks/01_neurons.ipynb is a three-cell notebook (quick to check)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(f"print({i})", execution_count=i + 1,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{i}\n")])
                for i in range(3)]
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "01_neurons.ipynb")
    status, out = _run_on_a_terminal([CONSOLE, "check", "notebooks/01_neurons.ipynb"], cwd=tmp_path)
    assert status == 0, out
    frames = out.split("\r")
    assert any("1/3" in f and "cell" in f for f in frames), out  # drawn after each cell
    assert any("3/3" in f and "1/1 notebooks" in f for f in frames), out
    assert "1/1 notebooks passed" in out


def test_check_names_a_missing_notebook():
    proc = run(["check", "no/such/notebook.ipynb"])
    assert proc.returncode == 2
    assert "no such notebook: " in proc.stderr


def test_check_selects_a_chapter_by_its_number_from_the_notebooks_it_finds(root):
    from coursekit.check import select
    from coursekit.paths import lesson_notebooks, solution_notebooks

    lesson, solution = lesson_notebooks(root)[-1], solution_notebooks(root)[-1]
    number = lesson.name[:2]
    assert select([number]) == [lesson, solution]  # the chapter and its exercise solution
    assert select([lesson.stem]) == [lesson, solution]
    assert select([str(lesson), number]) == [lesson, solution]  # each once, in the order asked
    proc = run(["check", "99"])
    numbers = ", ".join(p.name[:2] for p in lesson_notebooks(root))
    assert proc.returncode == 2 and f"no chapter 99 in the course at {root} (its chapters: {numbers})" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _course_copy(tmp_path: Path, root: Path) -> Path:
    """A git checkout of the course's notebooks (chapters, student exercises) with the repo's .gitignore."""
    course = tmp_path / "course"
    for top in ("notebooks", "exercises"):
        shutil.copytree(root / top, course / top, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "source"))
    shutil.copy(root / ".gitignore", course / ".gitignore")
    git = ["git", "-C", str(course), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(course)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "course"], check=True)
    return course


def _git_status(course: Path) -> str:
    return subprocess.run(["git", "-C", str(course), "status", "--porcelain"], capture_output=True,
                          text=True, check=True).stdout


def _lab_env(tmp_path: Path, course: Path, port: int, token: str) -> dict:
    """COURSEKIT_ROOT points at the copy; Jupyter's config (in a temporary folder) sets what
    the command line does not: 127.0.0.1, the port, the token, no browser."""
    config = tmp_path / "jupyter-config"
    config.mkdir(exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False},
        "IdentityProvider": {"token": token},
    }))
    return {**os.environ, "HOME": str(tmp_path / "home"), "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipython"),
            "COURSEKIT_ROOT": str(course), "PYTHONDONTWRITEBYTECODE": "1"}


class Lab:
    """A JupyterLab started by a coursekit command line; its REST API; stopped by process group."""

    def __init__(self, argv, env, port, token, cwd=None):
        self.port, self.token = port, token
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env, cwd=cwd, start_new_session=True)
        self.output = ""

    def api(self, method, path, body=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def __enter__(self):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                self.api("GET", "/api/status")
                return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"JupyterLab did not answer on 127.0.0.1:{self.port} within 90 s:\n{self.output}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.output, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.output, _ = self.proc.communicate(timeout=10)

    def __exit__(self, *exc):
        self.stop()

    def save_with_a_note(self, path: str, note: str) -> None:
        """Edit the first cell and save, as JupyterLab's save does (contents API PUT)."""
        model = self.api("GET", f"/api/contents/{path}")
        model["content"]["cells"][0]["source"] += note
        self.api("PUT", f"/api/contents/{path}", {"type": "notebook", "format": "json", "content": model["content"]})


def test_lab_readme_command_serves_the_working_folder_on_localhost(tmp_path, root):
    # exactly as the README writes it: .venv/bin/coursekit lab --no-browser --port 8899
    if not _port_is_free(8899):
        pytest.skip("port 8899 is in use on this machine")
    course = _course_copy(tmp_path, root)
    token = secrets.token_hex(16)
    env = _lab_env(tmp_path, course, _free_port(), token)
    with Lab([CONSOLE, "lab", "--no-browser", "--port", "8899"], env, 8899, token) as lab:
        top = sorted(c["name"] for c in lab.api("GET", "/api/contents")["content"])
        assert top == ["exercises", "notebooks"]  # the working folder, not the course's own files
        assert lab.api("GET", "/api/contents/notebooks/01_neurons.ipynb?content=0")["name"] == "01_neurons.ipynb"
        sessions = lab.api("GET", "/api/status")
        assert "started" in sessions
    assert (course / "my-work" / "notebooks" / "01_neurons.ipynb").is_file()
    assert "my-work/" in lab.output and "notebooks/01_neurons.ipynb" in lab.output  # opens chapter 01
    assert _git_status(course) == ""


def test_lab_keeps_the_students_work_copies_new_notebooks_and_gives_a_fresh_copy(tmp_path, root):
    course = _course_copy(tmp_path, root)
    work = course / "my-work"
    committed = {p: p.read_bytes() for p in course.rglob("*.ipynb")}
    token, port = secrets.token_hex(16), _free_port()
    env = _lab_env(tmp_path, course, port, token)
    # first session, with the '--port=N' spelling (the config's port is another, unused one)
    with Lab([CONSOLE, "lab", "--no-browser", f"--port={port}"], env, port, token) as lab:
        lab.save_with_a_note("notebooks/01_neurons.ipynb", "\n\nMy note on chapter 01.")
        lab.save_with_a_note("exercises/05_initialization.ipynb", "\n\nMy answer to 5.1.")
    # every chapter and every student exercise the course has, found as coursekit.paths finds them
    copies = [p.relative_to(course) for p in lesson_notebooks(course) + student_notebooks(course)]
    assert f"copied {len(copies)} notebook(s)" in lab.output, lab.output
    assert all((work / rel).is_file() for rel in copies), copies
    assert {p: p.read_bytes() for p in committed} == committed  # the course's notebooks untouched
    assert _git_status(course) == ""  # my-work/ is git-ignored
    assert "My note on chapter 01." in (work / "notebooks" / "01_neurons.ipynb").read_text()

    # upstream adds a chapter and changes chapter 01; the student asks for a fresh exercise 05
    shutil.copy(course / "notebooks" / "02_fully_connected.ipynb", course / "notebooks" / "07_new_chapter.ipynb")
    (course / "notebooks" / "01_neurons.ipynb").write_text(
        (course / "notebooks" / "01_neurons.ipynb").read_text().replace("Neurons", "Neurons (v2)", 1))
    git = ["git", "-C", str(course), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "upstream: a new chapter, chapter 01 revised"], check=True)
    with Lab([CONSOLE, "lab", "--fresh", "exercises/05_initialization.ipynb"], env, port, token) as lab:
        names = [c["name"] for c in lab.api("GET", "/api/contents/notebooks")["content"]]
        assert "07_new_chapter.ipynb" in names
    assert re.search(r"copied 1 notebook\(s\) and file\(s\) into \S*my-work/: notebooks/07_new_chapter.ipynb\n",
                     lab.output), lab.output
    chapter = (work / "notebooks" / "01_neurons.ipynb").read_text()
    assert "My note on chapter 01." in chapter and "(v2)" not in chapter  # never overwritten
    fresh = work / "exercises" / "05_initialization.ipynb"
    assert fresh.read_bytes() == (course / "exercises" / "05_initialization.ipynb").read_bytes()
    assert "My answer to 5.1." in (work / "exercises" / "05_initialization.old.ipynb").read_text()
    assert "your previous copy is now exercises/05_initialization.old.ipynb" in lab.output
    assert ("the course's notebooks/01_neurons.ipynb changed since your copy was made; your copy is "
            "unchanged. For the new version: coursekit lab --fresh notebooks/01_neurons.ipynb") in lab.output
    assert lab.output.count("changed since your copy was made") == 1  # only the one that changed
    assert _git_status(course) == ""

    # the working copies run where they are: the chapter's code, and the exercise up to its stubs
    from nbclient import NotebookClient

    for rel, allowed in (("notebooks/01_neurons.ipynb", set()), ("exercises/01_neurons.ipynb", {"NotImplementedError"})):
        nb = nbformat.read(work / rel, as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str((work / rel).parent)}}).execute()
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        errors = {o.ename for o in outputs if o.output_type == "error"}
        assert errors <= allowed, (rel, errors)
        if allowed:  # the check cells ran, imported coursekit.exercises, and called the stubs
            # check() shows its result as a display block (HTML, with a text/plain fallback)
            text = "".join(o.get("text", "") if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
                           for o in outputs if o.output_type in ("stream", "display_data"))
            assert "not implemented" in text.lower(), text[:500]


def test_lab_fresh_names_a_notebook_that_is_not_in_the_course(tmp_path, root):
    course = _course_copy(tmp_path, root)
    env = {**os.environ, "COURSEKIT_ROOT": str(course)}
    proc = subprocess.run([CONSOLE, "lab", "--fresh", "05_initialization"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 2
    assert "ambiguous" in proc.stderr and "--fresh notebooks/05_initialization.ipynb" in proc.stderr
    proc = subprocess.run([CONSOLE, "lab", "--fresh", "exercises/99_nothing.ipynb"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 2 and "no such notebook in the course" in proc.stderr
    assert not (course / "my-work").exists()  # a bad name changes nothing


def test_make_lab_sets_up_and_serves_the_working_folder(tmp_path, root):
    # 'make lab' as the README shows it, with this environment as the venv (VENV) and a stamp
    # that says it is installed, on a copy of the course (COURSEKIT_ROOT)
    course = _course_copy(tmp_path, root)
    stamp = tmp_path / "installed"
    stamp.touch()
    token, port = secrets.token_hex(16), _free_port()
    env = {**_lab_env(tmp_path, course, port, token), "VENV": sys.prefix, "STAMP": str(stamp)}
    with Lab(["make", "lab"], env, port, token, cwd=root) as lab:
        assert sorted(c["name"] for c in lab.api("GET", "/api/contents")["content"]) == ["exercises", "notebooks"]
        # no news toast and no update check on a fresh start (issue #26)
        notes = lab.api("GET", "/lab/api/settings/@jupyterlab/apputils-extension:notification")
        defaults = {k: v.get("default") for k, v in notes["schema"]["properties"].items()}  # overrides.json
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    assert "coursekit lab" in lab.output and "my-work/" in lab.output
    assert _git_status(course) == ""


def test_lab_hands_jupyterlab_options_over_in_both_spellings_and_in_order(root):
    from coursekit.cli import parse
    from coursekit.lab import lab_argv

    for given in (["--no-browser", "--port", "8899"], ["--no-browser", "--port=8899"],
                  ["--port", "8899", "--ServerApp.ip=127.0.0.1", "--no-browser"]):
        args = parse(["lab", *given])
        assert args.jupyter_args == given and args.fresh == []
        assert lab_argv(args.jupyter_args)[-len(given):] == given
    args = parse(["lab", "--fresh", "exercises/06_softmax.ipynb", "--port", "9", "--fresh=notebooks/01_neurons"])
    assert args.fresh == ["exercises/06_softmax.ipynb", "notebooks/01_neurons"] and args.jupyter_args == ["--port", "9"]
    assert parse(["lab", "--fr", "x"]).jupyter_args == ["--fr", "x"]  # no abbreviations: JupyterLab's options


def test_lab_command_opens_chapter_01_of_the_working_folder(root):
    from coursekit.lab import lab_argv

    argv = lab_argv(["--no-browser"])
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={root / 'my-work'}" in argv
    assert argv[-1] == "--no-browser"
    assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in argv
    assert f"--LabApp.app_settings_dir={root / 'my-work' / '.lab-settings'}" in argv
    assert ("--ServerApp.allow_root=True" in argv) == (os.geteuid() == 0)  # JupyterLab refuses root otherwise


def test_every_command_has_one_help_text():
    from coursekit.cli import COMMANDS

    overview = run(["--help"]).stdout
    for name, (_, help_text) in COMMANDS.items():
        assert help_text in " ".join(overview.split()), name
        own = run([name, "--help"])
        assert own.returncode == 0, own.stderr
        assert help_text in " ".join(own.stdout.split()), (name, own.stdout[:300])


def test_execute_stores_each_cells_prints_as_one_output_and_keeps_a_failing_notebook(tmp_path):
    # prints split over several messages by flushes and pauses still land as one stream output,
    # so re-executing a chapter cannot change how its stored text is cut into pieces
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import sys, time\n"
        "for i in range(3):\n"
        "    print('line', i, flush=True)\n"
        "    time.sleep(0.2)\n"
        "print('err', file=sys.stderr, flush=True)\n"
        "print('done')")]
    path = tmp_path / "prints.ipynb"
    nbformat.write(nb, path)
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), broken)
    before = broken.read_bytes()
    proc = run(["execute", str(path), str(broken)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken.ipynb: a cell failed, notebook not written" in proc.stdout
    assert "ZeroDivisionError" in proc.stdout
    assert broken.read_bytes() == before
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [(o.output_type, o.name) for o in outputs] == [("stream", "stdout"), ("stream", "stderr"),
                                                           ("stream", "stdout")]
    assert outputs[0].text == "line 0\nline 1\nline 2\n" and outputs[2].text == "done\n"
