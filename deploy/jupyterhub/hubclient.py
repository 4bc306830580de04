"""Drive the course's JupyterHub like a class does: the test (tests/test_hub.py) and the load
benchmark (benchmarks/hub_load.py) share it.

- ``LocalHub`` starts a real JupyterHub (configurable-http-proxy, local-process spawner) from
  ``deploy/jupyterhub/jupyterhub_config.py`` on 127.0.0.1, overriding only what a throw-away
  hub must (ports, paths, a dummy authenticator, the simple local spawner running every
  server as this user with its own home under the temporary folder), and stops it with
  every process it started (found by a tag in their environment, so none escapes the check).
- ``Student`` talks to it as a student's browser would: the login form, the hub's REST API
  (server start), nbgitpuller's pull, the contents API and a kernel over its websocket,
  including ipywidgets messages to move an explorer's slider.

Plain ``requests`` and ``websocket-client`` (both come with Jupyter): no browser here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import psutil
import requests
import websocket

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "jupyterhub_config.py"
PASSWORD = "course-hub-test"
TAG_VAR = "COURSE_HUB_TAG"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proxy_available() -> bool:
    return shutil.which("configurable-http-proxy") is not None


TEST_CONFIG = """\
# Written by deploy/jupyterhub/hubclient.py: the course config, with what a throw-away hub
# on 127.0.0.1 must change.
load_subconfig({config!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.ConfigurableHTTPProxy.pid_file = {pid_file!r}
c.JupyterHub.pid_file = {hub_pid_file!r}
c.JupyterHub.db_url = "sqlite:///{db}"
c.JupyterHub.cookie_secret_file = {cookie!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.environment[{tag_var!r}] = {tag!r}
c.Spawner.environment["MPLCONFIGDIR"] = {mpl!r}
c.Spawner.args.append("--ServerApp.allow_root=True")  # tests run as root on CI
c.JupyterHub.services.append({{"name": "course-admin", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{"name": "course-admin", "scopes": ["admin:users", "admin:servers",
                                  "tokens", "list:users", "read:users"],
                                 "services": ["course-admin"]}})
c.JupyterHub.concurrent_spawn_limit = 100
"""


@dataclass
class LocalHub:
    workdir: Path
    repo_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)
    proc: subprocess.Popen | None = None
    seen: dict[int, float] = field(default_factory=dict)  # pid -> create_time of everything it started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> LocalHub:
        # Kernels meet their server on Unix sockets in each home (see the config): a socket
        # path (homes/<name>/.jupyter-ipc/kernel-<uuid>-ipc-N) must stay under 108 bytes.
        longest = len(str(self.workdir / "homes" / ("x" * 12) / ".jupyter-ipc")) + len("/kernel--ipc-5") + 36
        if longest > 107:
            raise ValueError(f"workdir {self.workdir} is too long for kernel sockets ({longest} > 107 bytes): "
                             "use a short folder such as tempfile.mkdtemp(dir='/tmp')")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        homes = self.workdir / "homes"
        homes.mkdir(exist_ok=True)
        cfg = self.workdir / "test_config.py"
        cfg.write_text(TEST_CONFIG.format(
            config=str(CONFIG), port=self.port, hub_port=free_port(), proxy_port=free_port(),
            pid_file=str(self.workdir / "proxy.pid"), hub_pid_file=str(self.workdir / "hub.pid"),
            db=self.workdir / "jupyterhub.sqlite", cookie=str(self.workdir / "cookie_secret"),
            password=PASSWORD, homes=str(homes), tag_var=TAG_VAR, tag=self.tag,
            mpl=str(self.workdir / "mpl"), token=self.token))
        env = {**os.environ, TAG_VAR: self.tag, "COURSE_REPO": self.repo_url,
               "HOME": str(self.workdir), "COURSE_ENV": sys.prefix, **self.extra_env}
        env["PATH"] = f"{Path(sys.prefix) / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        self.log = open(self.workdir / "jupyterhub.log", "wb")  # noqa: SIM115 (closed in stop)
        exe = Path(sys.prefix) / "bin" / "jupyterhub"
        self.proc = subprocess.Popen([str(exe), "-f", str(cfg)], cwd=self.workdir, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/hub/health", timeout=2).status_code == 200:
                    self.track()
                    return self
            time.sleep(0.3)
        raise TimeoutError(f"jupyterhub did not answer in {timeout} s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return (self.workdir / "jupyterhub.log").read_text(errors="replace")

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        r = requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kwargs)
        r.raise_for_status()
        return r

    def tagged(self) -> list[psutil.Process]:
        """Every live process this hub started: its descendants and anything carrying its tag."""
        found = {}
        for p in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error):
                if p.environ().get(TAG_VAR) == self.tag:
                    found[p.pid] = p
        if self.proc is not None:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(self.proc.pid)
                found[root.pid] = root
                for ch in root.children(recursive=True):
                    found[ch.pid] = ch
        return list(found.values())

    def track(self) -> None:
        for p in self.tagged():
            with contextlib.suppress(psutil.Error):
                self.seen[p.pid] = p.create_time()

    def left_over(self) -> list[str]:
        """Processes seen during the run (or tagged now) that are still alive."""
        alive = []
        for p in self.tagged():
            with contextlib.suppress(psutil.Error):
                alive.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        for pid, created in self.seen.items():
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                    line = f"{pid} {' '.join(p.cmdline())[:120]}"
                    if line not in alive:
                        alive.append(line)
        return alive

    def stop(self, timeout: float = 60) -> list[str]:
        """SIGTERM the hub (it stops the servers, the culler and the proxy), wait, and return
        what is still alive (killed after the check, so a failing test leaves nothing)."""
        if self.proc is None:
            return []
        self.track()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        deadline = time.monotonic() + 15
        left = self.left_over()
        while left and time.monotonic() < deadline:  # children may take a moment to exit
            time.sleep(0.5)
            left = self.left_over()
        for line in left:  # do not leave them behind, whatever the test says
            with contextlib.suppress(psutil.Error, ValueError):
                psutil.Process(int(line.split()[0])).kill()
        self.log.close()
        self.proc = None
        return left


class KernelError(RuntimeError):
    pass


def _decode_frame(frame) -> dict:
    """A kernel message from jupyter_server's websocket (legacy protocol): JSON text, or binary
    with a table of offsets (count, offsets…, JSON, buffers) when the message has buffers."""
    if isinstance(frame, str):
        return json.loads(frame)
    n = struct.unpack("!I", frame[:4])[0]
    offsets = list(struct.unpack("!" + "I" * n, frame[4:4 + 4 * n])) + [len(frame)]
    msg = json.loads(frame[offsets[0]:offsets[1]].decode())
    msg["buffers"] = [frame[offsets[i]:offsets[i + 1]] for i in range(1, n)]
    return msg


class Kernel:
    """One kernel of a student's server, spoken to over its websocket."""

    def __init__(self, base: str, headers: dict, path: str = "", timeout: float = 300) -> None:
        self.base, self.headers, self.timeout = base, headers, timeout
        r = requests.post(f"{base}/api/kernels", json={"name": "python3", "path": path},
                          headers=headers, timeout=120)
        r.raise_for_status()
        self.id = r.json()["id"]
        ws_url = base.replace("http://", "ws://") + f"/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(
            ws_url, header=[f"{k}: {v}" for k, v in headers.items()], timeout=timeout)
        self.session = uuid.uuid4().hex
        self.comms: dict[str, dict] = {}  # comm_id -> widget state as opened

    def send(self, msg_type: str, content: dict, channel: str = "shell") -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "session": self.session,
                       "username": "student", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": []}))
        return msg_id

    def wait(self, msg_id: str, reply_type: str | None) -> list[dict]:
        """Messages caused by ``msg_id`` until the kernel is idle again (and its reply came)."""
        got, idle, replied = [], False, reply_type is None
        deadline = time.monotonic() + self.timeout
        while not (idle and replied):
            if time.monotonic() > deadline:
                raise TimeoutError(f"kernel did not finish {msg_id} in {self.timeout} s")
            msg = _decode_frame(self.ws.recv())
            if msg.get("msg_type") == "comm_open":
                self.comms[msg["content"]["comm_id"]] = msg["content"]["data"].get("state", {})
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            got.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            if msg["msg_type"] == reply_type:
                replied = True
        return got

    def execute(self, code: str, *, allow_error: bool = False) -> list[dict]:
        msgs = self.wait(self.send("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True}), "execute_reply")
        errors = [m for m in msgs if m["msg_type"] == "error"]
        if errors and not allow_error:
            e = errors[0]["content"]
            raise KernelError(f"{e['ename']}: {e['evalue']}\nin:\n{code[:500]}")
        return msgs

    def text(self, code: str) -> str:
        """Run ``code`` and return its stdout."""
        return "".join(m["content"]["text"] for m in self.execute(code)
                       if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")

    def run_notebook(self, nb: dict) -> int:
        """Every code cell in order; a cell tagged raises-exception may raise. Returns the count."""
        n = 0
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            tags = cell.get("metadata", {}).get("tags", [])
            self.execute(source, allow_error="raises-exception" in tags)
            n += 1
        return n

    def find_widget(self, model: str | tuple[str, ...], description: str | None = None) -> str:
        models = (model,) if isinstance(model, str) else model
        for comm_id, state in self.comms.items():
            if state.get("_model_name") in models and (
                    description is None or description in str(state.get("description", ""))):
                return comm_id
        raise LookupError(f"no {models} widget {description!r} among {len(self.comms)} opened")

    def find_explorer(self, control: str = "scale") -> str:
        """The comm of the explorer opened last (an anywidget whose ``values`` hold ``control``)."""
        for comm_id, state in reversed(list(self.comms.items())):
            if state.get("_model_name") == "AnyModel" and control in (state.get("values") or {}):
                return comm_id
        raise LookupError(f"no explorer with a {control!r} control among {len(self.comms)} widgets opened")

    def move_explorer(self, comm_id: str, **positions) -> tuple[float, list[dict]]:
        """What the explorer's front end sends when controls move (``values``: control -> slider
        position or choice); returns (seconds until the kernel is idle again, its updates)."""
        values = {**(self.comms[comm_id].get("values") or {}), **positions}
        self.comms[comm_id]["values"] = values
        return self.set_widget(comm_id, values=values)

    def set_widget(self, comm_id: str, **state) -> tuple[float, list[dict]]:
        """What a browser sends when a control moves; returns (seconds until the kernel is idle
        again, the widget updates it sent back)."""
        t0 = time.perf_counter()
        msgs = self.wait(self.send("comm_msg", {"comm_id": comm_id, "data": {
            "method": "update", "state": state, "buffer_paths": []}}), None)
        dt = time.perf_counter() - t0
        return dt, [m for m in msgs if m["msg_type"] == "comm_msg"
                    and m["content"]["data"].get("method") == "update"]

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        with contextlib.suppress(requests.RequestException):
            requests.delete(f"{self.base}/api/kernels/{self.id}", headers=self.headers, timeout=60)


NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+(?:e[-+]?\d+)?")


def numbers_in(updates: list[dict]) -> list[float]:
    """The numbers an explorer printed in the text (HTML, labels) of its widget updates."""
    out = []
    for m in updates:
        for value in m["content"]["data"].get("state", {}).values():
            if isinstance(value, str):
                out.extend(float(x) for x in NUMBER.findall(re.sub(r"<[^>]+>", " ", value)))
    return out


def frame_stds(updates: list[dict]) -> list[float]:
    """The per-layer std of the frame an explorer sent back (its ``frame`` state: numbers, no picture)."""
    for m in updates:
        frame = m["content"]["data"].get("state", {}).get("frame")
        if frame:
            return [layer["std"] for layer in frame["layers"]]
    return []


def stds_in(updates: list[dict]) -> list[float]:
    """The per-layer "std" figures in an explorer's statistics text, in order."""
    out = []
    for m in updates:
        for value in m["content"]["data"].get("state", {}).values():
            if isinstance(value, str):
                out.extend(float(x) for x in re.findall(r"(?<!unit )\bstd\W+(\d+\.\d+)", value))
    return out


@dataclass
class Student:
    hub: LocalHub
    name: str
    token: str = ""
    cookies: requests.Session = field(default_factory=requests.Session)

    @property
    def server(self) -> str:
        return f"{self.hub.url}/user/{quote(self.name)}"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def login(self) -> requests.Response:
        """The login form, as a browser posts it (with its _xsrf field)."""
        page = self.cookies.get(f"{self.hub.url}/hub/login", timeout=60)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        data = {"username": self.name, "password": PASSWORD}
        if xsrf:
            data["_xsrf"] = xsrf.group(1)
        r = self.cookies.post(f"{self.hub.url}/hub/login?next=", data=data, allow_redirects=False, timeout=60)
        if r.status_code != 302:
            raise RuntimeError(f"login of {self.name} answered {r.status_code}: {r.text[:300]}")
        return r

    def start_server(self, timeout: float = 300) -> float:
        """Start the server through the REST API and wait until it is ready; seconds taken."""
        t0 = time.perf_counter()
        with contextlib.suppress(requests.HTTPError):
            self.hub.api("POST", f"/users/{quote(self.name)}")  # 409 when it exists (after login)
        if not self.token:
            self.token = self.hub.api("POST", f"/users/{quote(self.name)}/tokens",
                                      json={"note": "course-hub client"}).json()["token"]
        self.hub.api("POST", f"/users/{quote(self.name)}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.hub.api("GET", f"/users/{quote(self.name)}").json()["servers"].get("", {})
            if server.get("ready"):
                self.hub.track()
                return time.perf_counter() - t0
            time.sleep(0.5)
        raise TimeoutError(f"the server of {self.name} was not ready in {timeout} s")

    def default_url(self) -> str:
        """Where the student lands: the spawner's default_url (nbgitpuller's link)."""
        r = requests.get(f"{self.server}/", headers=self.headers, allow_redirects=False, timeout=60)
        return r.headers.get("Location", "")

    def git_pull(self, query: str, timeout: float = 300) -> list[dict]:
        """What nbgitpuller's page does in the browser: read its event stream to the end."""
        events = []
        with requests.get(f"{self.server}/git-pull/api?{query}", headers=self.headers,
                          stream=True, timeout=timeout) as r:
            r.raise_for_status()
            for line in r.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("phase") in ("finished", "error"):
                        break
        if not events or events[-1].get("phase") != "finished":
            raise RuntimeError(f"nbgitpuller did not finish for {self.name}: {events[-3:]}")
        return events

    def contents(self, path: str) -> dict:
        r = requests.get(f"{self.server}/api/contents/{quote(path)}", headers=self.headers, timeout=60)
        r.raise_for_status()
        return r.json()

    def kernel(self, path: str = "", timeout: float = 300) -> Kernel:
        return Kernel(self.server, self.headers, path=path, timeout=timeout)

    def stop_server(self) -> None:
        with contextlib.suppress(requests.HTTPError):
            self.hub.api("DELETE", f"/users/{quote(self.name)}/server")


def pull_query(repo_url: str, targetpath: str = "course", branch: str | None = None) -> str:
    q = {"repo": repo_url, "targetpath": targetpath}
    if branch:
        q["branch"] = branch
    return urlencode(q)


def server_processes(hub: LocalHub, name: str) -> list[psutil.Process]:
    """The student's single-user server and its kernels (found by their HOME)."""
    home = str(hub.workdir / "homes" / name)
    procs = []
    for p in hub.tagged():
        with contextlib.suppress(psutil.Error):
            if p.environ().get("HOME") == home:
                procs.append(p)
    return procs
