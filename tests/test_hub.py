"""The course's JupyterHub set-up (deploy/jupyterhub/jupyterhub_config.py), run for real.

A throw-away hub on 127.0.0.1 (configurable-http-proxy, local-process spawner, a dummy
authenticator), two students who log in, each get their own copy of the course from a local
git clone through nbgitpuller (offline), run chapter 01 in a kernel of their own server and
move the chapter 05 explorer's slider through the kernel protocol, as JupyterLab would. Then
the hub is stopped and nothing it started may be left running.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(DEPLOY / "jupyterhub"))
import hubclient  # noqa: E402

HUB_TOOLS = [m for m in ("jupyterhub", "nbgitpuller", "jupyterhub_idle_culler") if importlib.util.find_spec(m) is None]


def load_config(env: dict[str, str], monkeypatch) -> Config:
    """deploy/jupyterhub/jupyterhub_config.py as JupyterHub loads it (it calls get_config())."""
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    c = Config()
    exec(compile((DEPLOY / "jupyterhub" / "jupyterhub_config.py").read_text(), "jupyterhub_config.py", "exec"),
         {"get_config": lambda: c, "__file__": str(DEPLOY / "jupyterhub" / "jupyterhub_config.py")})
    return c


def test_config_sets_threads_culler_memory_and_each_students_copy(monkeypatch):
    c = load_config({"COURSE_REPO": "https://git.example.org/course.git", "COURSE_ENV": "/opt/course-env"},
                    monkeypatch)
    assert c.Spawner.cmd == ["/opt/course-env/bin/jupyterhub-singleuser"]
    env = c.Spawner.environment
    assert all(env[k] == "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    culler = next(s for s in c.JupyterHub.services if s["name"] == "idle-culler")
    assert culler["command"][1:3] == ["-m", "jupyterhub_idle_culler"] and "--timeout=3600" in culler["command"]
    role = next(r for r in c.JupyterHub.load_roles if "idle-culler" in r["services"])
    assert {"read:servers", "delete:servers", "list:users"} <= set(role["scopes"])
    assert c.Spawner.mem_limit == "1.5G"
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") for a in c.Spawner.args)
    url = urlsplit(c.Spawner.default_url)
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/git-pull" and q == {
        "repo": "https://git.example.org/course.git", "targetpath": "course",
        "urlpath": "lab/tree/course/notebooks/01_neurons.ipynb"}
    # One machine, no COURSE_REPO: this repository itself, by a file:// URL.
    c = load_config({"COURSE_REPO": "", "COURSE_MEM_LIMIT": "2G"}, monkeypatch)
    assert parse_qs(urlsplit(c.Spawner.default_url).query)["repo"] == [ROOT.as_uri()]
    assert c.Spawner.mem_limit == "2G"


def test_kubernetes_values_make_the_same_choices(monkeypatch):
    """deploy/z2jh/values.yaml parses and agrees with the one-machine config (the schema check
    against the chart is deploy/z2jh/check_values.py: it needs the chart, not available here)."""
    values = yaml.safe_load((DEPLOY / "z2jh" / "values.yaml").read_text())
    c = load_config({"COURSE_REPO": "https://git.example.org/nn-foundations/student-edition"}, monkeypatch)
    su = values["singleuser"]
    assert su["memory"]["limit"] == c.Spawner.mem_limit and su["cpu"]["limit"] == c.Spawner.cpu_limit
    assert {k: su["extraEnv"][k] for k in c.Spawner.environment if k in su["extraEnv"]} == {
        k: v for k, v in c.Spawner.environment.items() if k != "PATH" and isinstance(v, str)}
    assert su["defaultUrl"] == c.Spawner.default_url
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] == 3600
    culling = su["extraFiles"]["kernel-culling"]["data"]["MappingKernelManager"]
    assert f"--MappingKernelManager.cull_idle_timeout={culling['cull_idle_timeout']}" in c.Spawner.args


@pytest.fixture(scope="module")
def hub_tools():
    if HUB_TOOLS:
        pytest.skip(f"{', '.join(HUB_TOOLS)} not installed: pip install -e '.[hub]'")
    if not hubclient.proxy_available():
        pytest.skip("configurable-http-proxy not found: bash scripts/ensure_hub_tools.sh")


EXPLORER = """\
from coursekit.widgets import HistogramExplorer
from IPython.display import display
explorer = HistogramExplorer(depth=5, width=100, activation="sigmoid", init="normal", scale=1.0)
display(explorer)
"""


@pytest.fixture(scope="module")
def course_clone(tmp_path_factory) -> str:
    """A bare clone of this repository: what nbgitpuller pulls from, by a file:// URL."""
    dest = tmp_path_factory.mktemp("upstream") / "course.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(dest)], check=True, timeout=120)
    return dest.as_uri()


@pytest.mark.slow
def test_two_students_pull_run_chapter_01_and_move_an_explorer(hub_tools, course_clone):
    short = Path(tempfile.mkdtemp(prefix="hub", dir="/tmp"))  # kernel sockets need a short path
    hub = hubclient.LocalHub(short, course_clone)
    try:
        _students_session(hub, course_clone)
    finally:
        left = hub.stop()
        shutil.rmtree(short, ignore_errors=True)
    assert left == [], f"processes left after the hub stopped: {left}"


def _students_session(hub, course_clone):
    """Two students, each with a kernel of their own, through the hub just started."""
    hub.start()
    students = [hubclient.Student(hub, name) for name in ("ada", "grace")]
    for s in students:
        assert s.login().headers["Location"]  # the login form let the student in
        s.start_server()
        # The first page a student gets is nbgitpuller's link to the course repository.
        landing = s.default_url()
        assert "/git-pull?" in landing and "course.git" in landing, landing
        s.git_pull(hubclient.pull_query(course_clone))
        # Each has their own copy, in their own home.
        copy = hub.workdir / "homes" / s.name / "course"
        assert (copy / "notebooks" / "01_neurons.ipynb").is_file()
        assert (copy / ".git").is_dir()
    # Editing one copy leaves the other alone.
    (hub.workdir / "homes" / "ada" / "course" / "notebooks" / "mine.txt").write_text("ada's")
    assert not (hub.workdir / "homes" / "grace" / "course" / "notebooks" / "mine.txt").exists()

    for s in students:
        nb = s.contents("course/notebooks/01_neurons.ipynb")["content"]
        k = s.kernel("course/notebooks")
        try:
            assert k.run_notebook(nb) > 10
            # The kernel talks to its server over Unix sockets in the student's own home.
            assert len(list((hub.workdir / "homes" / s.name / ".jupyter-ipc").glob(f"kernel-{k.id}-ipc-*"))) == 5
            # One thread per kernel, as the config says.
            assert k.text("import torch, os; print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])"
                          ).split() == ["1", "1"]
            assert k.text("import os; print(os.getcwd())").strip() == str(
                hub.workdir / "homes" / s.name / "course" / "notebooks")

            k.execute(EXPLORER)
            explorer = k.find_explorer("scale")
            # the slider positions of the two scales, as the kernel's control computes them
            at = dict(zip((0.01, 1.0), map(int, k.text(
                "print(*(explorer.controls['scale'].position(s) for s in (0.01, 1.0)))").split())))
            seen = []
            for scale in (0.01, 1.0, 0.01):
                _, updates = k.move_explorer(explorer, scale=at[scale])
                assert updates, "the explorer sent nothing back"
                seen.append(hubclient.frame_stds(updates))
            # Moving the slider changed the statistics, and moving it back restored them.
            assert seen[0] and seen[0] != seen[1]
            assert seen[0] == seen[2]
            # And they say what chapter 05 teaches: sigmoid layers at weight scale 1
            # saturate (outputs spread towards 0 and 1), at 0.01 they collapse onto 0.5.
            stds = dict(zip((0.01, 1.0), seen))
            assert len(stds[0.01]) == len(stds[1.0]) >= 5, stds
            assert max(stds[0.01]) < 0.05 < 0.2 < stds[1.0][-1], stds
        finally:
            k.shutdown()
    # The kernels are shut down: their sockets are gone.
    assert list((hub.workdir / "homes" / "ada" / ".jupyter-ipc").glob("kernel-*-ipc-*")) == []
    # The hub runs the idle culler and the proxy; the server got the (advisory) memory limit.
    running = [" ".join(p.cmdline()) for p in hub.tagged()]
    assert any("jupyterhub_idle_culler" in line for line in running), running
    assert any("configurable-http-proxy" in line for line in running), running
    server = [p for p in hubclient.server_processes(hub, "ada") if "singleuser" in " ".join(p.cmdline())]
    assert server and server[0].environ()["MEM_LIMIT"] == str(int(1.5 * 1024**3))
