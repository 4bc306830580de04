# JupyterHub for the course on one machine (JupyterHub 6.1, configurable-http-proxy).
#
#   pip install -c constraints.txt -e ".[hub]"       # into the course environment (.venv/)
#   bash scripts/ensure_hub_tools.sh                  # configurable-http-proxy from npm
#   COURSE_REPO=https://…/student-edition.git \
#       .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
#
# What it sets (each overridable by an environment variable, read when the hub starts):
#
# - the course environment is the single-user environment: every student's server is
#   COURSE_ENV/bin/jupyterhub-singleuser (default: the environment running the hub), so the
#   kernels get the pinned numpy / torch / coursekit of that environment;
# - one thread per kernel (OMP/MKL/OpenBLAS/torch): with many students on few cores, threads
#   only fight over cores; one thread made chapter 05 cost 12-14 CPU-seconds instead of 16-20;
# - idle culling at two levels: each server shuts down kernels idle for COURSE_KERNEL_IDLE
#   seconds (1200), and the jupyterhub-idle-culler service stops servers idle for
#   COURSE_IDLE_TIMEOUT seconds (3600); students' files stay, only memory is freed;
# - a per-student memory limit COURSE_MEM_LIMIT (1.5G; a chapter kernel holds 0.3-0.5 GiB,
#   the server 0.15 GiB). With the local-process spawner below it is ADVISORY: JupyterHub
#   passes it to the server as MEM_LIMIT and nothing stops a kernel from going past it.
#   It is enforced by systemdspawner (cgroup MemoryMax), DockerSpawner and KubeSpawner
#   (container limits): see the block at the end of this file and deploy/z2jh/values.yaml;
# - each student's own copy of the course: a student's first page is nbgitpuller's
#   git-pull link, which clones COURSE_REPO (the student edition, or this repository) into
#   ~/COURSE_DIR on first login and later merges new commits without overwriting the
#   student's edits. Default COURSE_REPO: this repository, as a file:// URL (one machine).
#
# Who may log in: the default PAMAuthenticator lets in the machine's Unix users, and
# LocalProcessSpawner runs each server as that user in their home directory (root starts
# the hub). Put the class in COURSE_USERS / COURSE_ADMINS (comma-separated), or use an
# OAuth authenticator (oauthenticator) for a university login.
import os
import pwd
import sys
from pathlib import Path
from urllib.parse import urlencode

c = get_config()  # noqa: F821  (JupyterHub defines get_config in a config file)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


COURSE_ENV = Path(_env("COURSE_ENV", sys.prefix))
COURSE_REPO = _env("COURSE_REPO", REPO_ROOT.as_uri())
COURSE_BRANCH = _env("COURSE_BRANCH", "")  # empty: nbgitpuller takes the repository's default branch
COURSE_DIR = _env("COURSE_DIR", "course")  # the folder of each student's copy, in their home
FIRST_PAGE = _env("COURSE_FIRST_PAGE", "notebooks/01_neurons.ipynb")

# --- the hub --------------------------------------------------------------------------
c.JupyterHub.bind_url = _env("COURSE_HUB_URL", "http://:8000")  # behind TLS in a real class
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.active_server_limit = int(_env("COURSE_ACTIVE_SERVERS", "0"))  # 0: no limit
# Spawns and logins of a whole class at 9:00 queue instead of failing (server starts took
# 30-70 s on 2 cores with 5-30 students at once).
c.JupyterHub.concurrent_spawn_limit = int(_env("COURSE_CONCURRENT_SPAWNS", "20"))
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120

users = [u for u in _env("COURSE_USERS", "").split(",") if u]
admins = [u for u in _env("COURSE_ADMINS", "").split(",") if u]
if users:
    c.Authenticator.allowed_users = set(users)
if admins:
    c.Authenticator.admin_users = set(admins)

# --- the single-user environment --------------------------------------------------------
c.Spawner.cmd = [str(COURSE_ENV / "bin" / "jupyterhub-singleuser")]
ONE_THREAD = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
}
c.Spawner.environment = {
    **ONE_THREAD,
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PATH": f"{COURSE_ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}


def _ipc_dir(spawner) -> str:
    """Where a student's kernels and server meet: Unix sockets in the student's home.

    Kernels talk to their server over IPC, not TCP: with TCP every server picks free ports
    for its kernels on its own, and with 15 students starting kernels at once one kernel
    failed with "Invalid Signature" here (most likely two servers had picked the same port)
    and outlived its server; over IPC the same run had no failure. A Unix socket path must
    stay under 108 bytes, hence a short folder.
    """
    home = getattr(spawner, "home_dir", "") or pwd.getpwnam(spawner.user.name).pw_dir
    return os.path.join(home, ".jupyter-ipc")


c.Spawner.environment["JUPYTER_RUNTIME_DIR"] = _ipc_dir
KERNEL_IDLE = _env("COURSE_KERNEL_IDLE", "1200")
c.Spawner.args = [
    "--KernelManager.transport=ipc",
    # the server shuts down a kernel idle this long, even with its tab open: a chapter's
    # kernel is the bulk of a student's memory, and re-running a chapter takes seconds
    f"--MappingKernelManager.cull_idle_timeout={KERNEL_IDLE}",
    "--MappingKernelManager.cull_interval=120",
    "--MappingKernelManager.cull_connected=True",
]
c.Spawner.mem_limit = _env("COURSE_MEM_LIMIT", "1.5G")  # advisory here: see the top of the file
c.Spawner.cpu_limit = float(_env("COURSE_CPU_LIMIT", "1"))  # advisory here as well

# --- each student's own copy (nbgitpuller) ---------------------------------------------
pull = {"repo": COURSE_REPO, "targetpath": COURSE_DIR, "urlpath": f"lab/tree/{COURSE_DIR}/{FIRST_PAGE}"}
if COURSE_BRANCH:
    pull["branch"] = COURSE_BRANCH
#: The link a class can also send round: <hub>/hub/user-redirect/git-pull?<query>
GIT_PULL_QUERY = urlencode(pull)
c.Spawner.default_url = "/git-pull?" + GIT_PULL_QUERY

# --- idle culler (a hub-managed service from PyPI) --------------------------------------
IDLE_TIMEOUT = _env("COURSE_IDLE_TIMEOUT", "3600")
c.JupyterHub.load_roles = [
    {
        "name": "jupyterhub-idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={IDLE_TIMEOUT}", "--cull-every=300", "--concurrency=5"],
    }
]

# --- enforced limits beyond the local spawner -------------------------------------------
# On a machine with systemd, `pip install jupyterhub-systemdspawner` and set
# COURSE_SPAWNER=systemd: each server then runs in its own cgroup with MemoryMax =
# mem_limit and CPUQuota = cpu_limit (a kernel past the limit is killed, not the machine),
# as a dynamic user if the class has no Unix accounts. Not run here (no systemd in the
# machine this was tested on).
if _env("COURSE_SPAWNER", "local") == "systemd":
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.dynamic_users = _env("COURSE_DYNAMIC_USERS", "no") == "yes"
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.unit_extra_properties = {"RuntimeMaxSec": str(8 * 3600)}
