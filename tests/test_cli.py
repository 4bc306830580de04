"""The coursekit command line: doctor, check, lab — run as a user would, in subprocesses."""

import json
import os
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

COURSEKIT = [sys.executable, "-m", "coursekit.cli"]


def run(args, **kwargs):
    return subprocess.run(COURSEKIT + args, capture_output=True, text=True, timeout=600, **kwargs)


def test_help_lists_the_commands():
    out = run(["--help"]).stdout
    for command in ("lab", "check", "doctor", "execute"):
        assert command in out


def test_doctor_reports_versions_and_finds_nothing_to_fix_here():
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
    # One run over three notebooks (it is nbval in a fresh kernel each, so keep it to one run):
    # an untouched copy of chapter 01, a copy whose stored output was edited, a corrupt file.
    good = tmp_path / "good" / "01_neurons.ipynb"
    edited = tmp_path / "edited" / "01_neurons.ipynb"
    for target in (good, edited):
        target.parent.mkdir()
        shutil.copy(root / "notebooks" / "01_neurons.ipynb", target)
    nb = nbformat.read(edited, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    target = code_cells[1]  # the 'z by hand' cell prints one line
    assert target.outputs[0].text.startswith("z by hand")
    target.outputs[0].text = target.outputs[0].text.replace("-0.30", "-0.31", 1)
    nbformat.write(nb, edited)
    broken = tmp_path / "not_a_notebook.ipynb"
    broken.write_text("{ this is not json")

    proc = run(["check", str(good), str(broken), str(edited)])
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.startswith(str(tmp_path))}
    assert rows[str(good)].endswith(" ok"), proc.stdout
    assert rows[str(edited)].endswith("FAILED") and " 1  " in rows[str(edited)], proc.stdout
    assert rows[str(broken)].endswith("ERROR"), proc.stdout
    assert "01_neurons.ipynb: Cell 1 failed" in proc.stdout
    assert "-0.31" in proc.stdout  # the stored (edited) text is shown against the new one
    assert "not a notebook (invalid JSON" in proc.stdout  # reported, then it went on
    assert "1/3 notebooks passed" in proc.stdout
    assert proc.returncode == 1


def test_check_names_a_missing_notebook():
    proc = run(["check", "no/such/notebook.ipynb"])
    assert proc.returncode == 2
    assert "no such notebook: " in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_serves_the_course_on_localhost(tmp_path, root):
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "IPYTHONDIR": str(tmp_path / "ipython")}
    proc = subprocess.Popen(
        COURSEKIT + ["lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                     "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
                     f"--IdentityProvider.token={token}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                    status = json.load(r)
                    break
            except OSError:
                time.sleep(0.3)
        assert status is not None, "JupyterLab did not answer within 60 s"
        url = f"http://127.0.0.1:{port}/api/contents/notebooks/01_neurons.ipynb?content=0&token={token}"
        with urllib.request.urlopen(url, timeout=5) as r:
            assert json.load(r)["name"] == "01_neurons.ipynb"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=10)
    assert "01_neurons.ipynb" in out  # coursekit lab opens chapter 01


def test_lab_command_opens_chapter_01(root):
    from coursekit.lab import lab_argv

    argv = lab_argv(["--no-browser"])
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={root}" in argv
    assert Path(argv[4]) == Path("notebooks/01_neurons.ipynb")
    assert argv[-1] == "--no-browser"
    assert ("--ServerApp.allow_root=True" in argv) == (os.geteuid() == 0)  # JupyterLab refuses root otherwise


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
