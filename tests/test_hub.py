"""The course's JupyterHub set-up (deploy/jupyterhub/jupyterhub_config.py), run for real.

A throw-away hub on 127.0.0.1 (configurable-http-proxy, local-process spawner, a dummy
authenticator), two students who log in, each get their own copy of the course from a local
git clone through nbgitpuller (offline), run chapter 01 in a kernel of their own server and
move the chapter 05 explorer's slider through the kernel protocol, as JupyterLab would. Then
the hub is stopped and nothing it started may be left running.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow]

for mod in ("jupyterhub", "nbgitpuller", "jupyterhub_idle_culler"):
    if importlib.util.find_spec(mod) is None:
        pytest.skip(f"{mod} is not installed: pip install -e '.[hub]'", allow_module_level=True)

sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))
import hubclient  # noqa: E402

if not hubclient.proxy_available():
    pytest.skip("configurable-http-proxy not found: bash scripts/ensure_hub_tools.sh",
                allow_module_level=True)

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


def test_two_students_pull_run_chapter_01_and_move_an_explorer(tmp_path, course_clone):
    hub = hubclient.LocalHub(tmp_path / "hub", course_clone).start()
    try:
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
                # One thread per kernel, as the config says.
                assert k.text("import torch, os; print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])"
                              ).split() == ["1", "1"]
                assert k.text("import os; print(os.getcwd())").strip() == str(
                    hub.workdir / "homes" / s.name / "course" / "notebooks")

                k.execute(EXPLORER)
                slider = k.find_widget("FloatLogSliderModel", "scale")
                seen, texts = [], []
                for scale in (0.01, 1.0, 0.01):
                    _, updates = k.set_widget(slider, value=scale)
                    assert updates, "the explorer sent nothing back"
                    seen.append(hubclient.numbers_in(updates))
                    texts.append(updates)
                # Moving the slider changed the printed statistics, and moving it back restored them.
                assert seen[0] and seen[0] != seen[1]
                assert seen[0] == seen[2]
                # And they say what chapter 05 teaches: sigmoid layers at weight scale 1
                # saturate (outputs spread towards 0 and 1), at 0.01 they collapse onto 0.5.
                stds = {scale: hubclient.stds_in(u) for scale, u in zip((0.01, 1.0), texts)}
                assert len(stds[0.01]) == len(stds[1.0]) >= 5, stds
                assert max(stds[0.01]) < 0.05 < 0.2 < stds[1.0][-1], stds
            finally:
                k.shutdown()
    finally:
        left = hub.stop()
    assert left == [], f"processes left after the hub stopped: {left}"
