"""Real JupyterLab in headless Chromium: used by tests/test_browser.py and benchmarks/.

Start a JupyterLab server from this Python environment on a temporary copy of
the course (outputs stripped, so every output seen in the browser comes from a
live kernel), open notebooks in Debian's Chromium through Playwright, run all
cells, and read the result from JupyterLab's own notebook model
(``window.jupyterapp``, exposed by ``LabApp.expose_app_in_browser``).

Every wait here is bounded; the server is stopped by its process id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"

INSTALL_HINT = (
    "Chromium not found ($COURSEKIT_CHROMIUM, else /usr/bin/chromium or chromium on PATH). "
    "Install Debian's build with 'sudo apt-get install chromium' (or run 'bash scripts/ensure_chromium.sh' "
    "as root); Playwright's own browser download is not used."
)

# Flags measured to work for headless Chromium in containers (as root, no GPU, no network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None. ``$COURSEKIT_CHROMIUM``, when set, is the only candidate."""
    if os.environ.get("COURSEKIT_CHROMIUM"):
        candidates = [os.environ["COURSEKIT_CHROMIUM"]]
    else:
        candidates = ["/usr/bin/chromium"] + [shutil.which(n) for n in ("chromium", "chromium-browser")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict[str, str]:
    """Environment that keeps Jupyter, IPython, matplotlib and Chromium out of the real home.

    Only the *user* Jupyter folders move; the environment's own
    ``sys.prefix/share/jupyter`` (where the widgets lab extension lives) and
    ``sys.prefix/etc/jupyter`` stay on Jupyter's search paths.
    """
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_DATA_DIR": home / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "IPYTHONDIR": home / "ipython",
        "MPLCONFIGDIR": home / "matplotlib",
        "XDG_CONFIG_HOME": home / "xdg-config",
        "XDG_CACHE_HOME": home / "xdg-cache",
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update({k: str(v) for k, v in dirs.items()})
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("MPLBACKEND", None)  # let the notebooks' %matplotlib inline decide
    # One BLAS/OpenMP thread per kernel: the course's models are tiny, and with
    # Chromium and the server sharing 2 cores, torch's default of one spinning
    # thread per core made a 2000-step training cell 15x slower (measured).
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def strip_outputs(path: Path) -> None:
    """Remove stored outputs, execution counts and widget state from a notebook, in place."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, path)


def copy_course(dest: Path, src: Path | None = None, exercises: Path | None = None) -> Path:
    """Copy ``notebooks/`` (data files included) to ``dest/notebooks`` and strip its notebooks' outputs;
    copy the student exercises ``exercises/NN_*.ipynb`` (never the solutions) to ``dest/exercises``.

    ``src`` / ``exercises`` replace the repository's folders (to try the test on a broken copy).
    """
    src = src or ROOT / "notebooks"
    target = dest / "notebooks"
    shutil.copytree(src, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for nb in target.glob("*.ipynb"):
        strip_outputs(nb)
    (dest / "exercises").mkdir(exist_ok=True)
    for nb in sorted((exercises or ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")):
        shutil.copyfile(nb, dest / "exercises" / nb.name)
    return target


def write_lab_settings(settings_dir: Path, config_dir: Path, disabled: Iterable[str] = ()) -> None:
    """User settings: no news or update toasts, every cell attached to the DOM."""

    def put(plugin: str, data: dict) -> None:
        pkg, name = plugin.rsplit(":", 1)
        p = settings_dir / pkg / f"{name}.jupyterlab-settings"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(data))

    put("@jupyterlab/apputils-extension:notification", {"fetchNews": "false", "checkForUpdates": False})
    # 'contentVisibility' (the default) and 'full' may detach off-screen cells;
    # the test looks at every cell's rendered output.
    put("@jupyterlab/notebook-extension:tracker", {"windowingMode": "none"})
    disabled = list(disabled)
    if disabled:
        labconfig = config_dir / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {name: True for name in disabled}})
        )


@dataclass
class LabServer:
    """A JupyterLab server serving ``root`` on 127.0.0.1; stop it with :meth:`stop`."""

    root: Path
    workdir: Path
    disabled_extensions: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. PYTHONPATH for a kernel on other code
    port: int = 0
    token: str = ""
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LabServer:
        self.port = free_port()
        self.token = os.urandom(16).hex()
        home = self.workdir / "home"
        env = {**isolated_env(home), **self.extra_env}
        settings = self.workdir / "lab-user-settings"
        write_lab_settings(settings, Path(env["JUPYTER_CONFIG_DIR"]), self.disabled_extensions)
        argv = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.workdir / 'lab-workspaces'}",
        ]
        # Matplotlib builds its font cache in the fresh MPLCONFIGDIR on first
        # import (seconds, and a notice on stderr): do it now, beside the server start.
        warm = subprocess.Popen(
            [sys.executable, "-c", "import matplotlib.pyplot"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.log_path = self.workdir / "jupyterlab.log"
        with open(self.log_path, "wb") as log:  # the child keeps its own copy of the handle
            self.proc = subprocess.Popen(
                argv, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                warm.kill()
                raise RuntimeError(f"JupyterLab exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                try:
                    warm.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    warm.kill()
                    warm.wait()
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        warm.kill()
        self.stop()
        raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 5.0):
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        try:
            for k in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{k['id']}", timeout=10)
        except (OSError, urllib.error.URLError, ValueError):
            pass  # the server is going away anyway; stop() follows up by process id

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """Shut kernels down (REST API), SIGTERM the server, wait bounded, then SIGKILL what is left."""
        proc = self.proc
        if proc is None:
            return
        # Kernels run in sessions of their own: remember their ids to check on them.
        kernels = _child_pids(proc.pid)
        if proc.poll() is None:
            self.shutdown_kernels()
            proc.terminate()  # SIGTERM: the server shuts its kernels down cleanly
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        for pid in kernels:
            try:
                # Only a kernel that survived its server (and not a reused pid).
                if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
        self.proc = None


def _child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc; empty elsewhere)."""
    out: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(x) for x in children.read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def launch_browser(playwright, home: Path):
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError(INSTALL_HINT)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg-config"),
           "XDG_CACHE_HOME": str(home / "xdg-cache")}
    return playwright.chromium.launch(
        executable_path=chromium, args=CHROMIUM_ARGS, headless=True, env=env, timeout=60_000
    )


# --- Driving a notebook -----------------------------------------------------------------

# Finds the notebook panel showing ``path`` among the main area's widgets.
_FIND_PANEL_JS = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
  }
  return null;
}
"""

# Runs in the page. Returns a summary of the current notebook read from its model.
_SUMMARY_JS = """
(path) => {
  const panel = (__FIND_PANEL__)(path);
  if (!panel) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = [];
    const n = cell.model.outputs.length;
    for (let i = 0; i < n; i++) {
      const o = cell.model.outputs.get(i).toJSON();
      outputs.push({
        type: o.output_type,
        ename: o.ename || null,
        evalue: o.evalue || null,
        mimes: o.data ? Object.keys(o.data) : [],
        name: o.name || null,
      });
    }
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    // Widget views rendered in this cell's own output area (not nested ones).
    const area = cell.outputArea ? cell.outputArea.node : null;
    // the outermost widget element of each output (an anywidget view's own root has no jupyter-widgets class)
    const sel = '.jupyter-widgets, .coursekit-explorer';
    const rendered = area ? Array.from(area.querySelectorAll('.jp-OutputArea-output :is(' + sel + ')'))
      .filter(el => el.closest('.jp-OutputArea') === area
              && !(el.parentElement && el.parentElement.closest(sel)
                   && el.parentElement.closest(sel).closest('.jp-OutputArea') === area)).length : 0;
    cells.push({
      index: index,
      count: cell.model.executionCount,
      pending: prompt ? prompt.textContent.includes('*') : false,
      tags: cell.model.getMetadata('tags') || [],
      source: cell.model.sharedModel.getSource().slice(0, 400),
      outputs: outputs,
      renderedWidgets: rendered,
    });
  });
  const text = panel.content.node.innerText;
  return {
    kernelStatus: kernel ? kernel.status : 'none',
    cells: cells,
    renderedWidgets: panel.content.node.querySelectorAll('.jupyter-widgets').length,
    loadingWidgets: (text.match(/Loading widget/g) || []).length,
    widgetErrors: (text.match(/Error displaying widget[^\\n]*/g) || []),
    explorers: panel.content.node.querySelectorAll('.coursekit-explorer').length,
  };
}
""".replace("__FIND_PANEL__", _FIND_PANEL_JS.strip())

# Synchronous on purpose: wait_for_function takes a returned Promise as truthy.
_READY_JS = """
(path) => {
  const app = window.jupyterapp;
  if (!app || !app.commands.hasCommand('notebook:run-all-cells')) return false;
  const panel = (__FIND_PANEL__)(path);
  if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}
""".replace("__FIND_PANEL__", _FIND_PANEL_JS.strip())


def cell_label(cell: dict) -> str:
    """'cell 58 (explorer = HistogramExplorer(...)': 1-based position counting markdown cells, first code line."""
    lines = [ln for ln in cell["source"].splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return f"cell {cell['index'] + 1} ({lines[0].strip()[:60] if lines else ''!r})"


@dataclass
class NotebookReport:
    """What the browser showed after running all cells of one notebook."""

    name: str
    summary: dict
    seconds: float

    @property
    def code_cells(self) -> list[dict]:
        return self.summary["cells"]

    def problems(self) -> list[str]:
        """Human-readable list of everything wrong; empty when the notebook ran cleanly."""
        out = []
        s = self.summary
        for c in self.code_cells:
            where = cell_label(c)
            allowed = "raises-exception" in c["tags"]
            for o in c["outputs"]:
                if o["type"] == "error" and not allowed:
                    out.append(f"{where}: {o['ename']}: {o['evalue']}")
            if c["count"] is None:
                out.append(f"{where}: never ran (execution stopped before it)")
        for c in self.code_cells:
            expected = sum(WIDGET_MIME in o["mimes"] for o in c["outputs"])
            if expected > c["renderedWidgets"]:
                out.append(
                    f"{cell_label(c)}: {expected} widget output(s) but {c['renderedWidgets']} rendered "
                    "as widgets (is the @jupyter-widgets/jupyterlab-manager extension loaded?)"
                )
        if s["loadingWidgets"]:
            out.append(f"{s['loadingWidgets']} widget(s) still show 'Loading widget...'")
        for e in s["widgetErrors"]:
            out.append(f"widget error shown: {e}")
        return out


def open_lab(page, server: LabServer, timeout: float = 90.0) -> None:
    """Load JupyterLab once in ``page`` (an empty workspace of its own) and wait until it has started."""
    # A fresh workspace name: no tabs restored from an earlier run, and no
    # '?reset' (which reloads the page after it has looked ready).
    workspace = f"ck-{os.urandom(4).hex()}"
    page.goto(f"{server.url}/lab/workspaces/{workspace}?token={server.token}", timeout=timeout * 1000)
    page.wait_for_function(
        """() => !!window.jupyterapp && window.jupyterapp.commands.hasCommand('docmanager:open')
                 && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')""",
        timeout=timeout * 1000,
        polling=200,
    )
    # The file browser only takes room in screenshots.
    page.evaluate(
        "async () => { await window.jupyterapp.restored; "
        "if (window.jupyterapp.shell.collapseLeft) window.jupyterapp.shell.collapseLeft(); }"
    )


def open_notebook(page, rel_path: str, timeout: float = 90.0) -> None:
    """Open ``rel_path`` (relative to the server root) in the loaded JupyterLab; wait for an idle kernel."""
    page.evaluate(
        """async (path) => {
          await window.jupyterapp.commands.execute('docmanager:open', {path: path, factory: 'Notebook'});
        }""",
        rel_path,
    )
    page.wait_for_function(_READY_JS, arg=rel_path, timeout=timeout * 1000, polling=200)


def close_notebook(page, rel_path: str, timeout: float = 30.0) -> None:
    """Shut the notebook's kernel down and close its tab without saving (bounded)."""
    page.evaluate(
        """async ([path, ms]) => {
          const panel = (__FIND_PANEL__)(path);
          if (!panel) return;
          const timeout = new Promise(r => setTimeout(r, ms));
          await Promise.race([panel.sessionContext.shutdown().catch(() => null), timeout]);
          panel.context.model.dirty = false;  // no 'save changes?' dialog
          panel.dispose();
        }""".replace("__FIND_PANEL__", _FIND_PANEL_JS.strip()),
        [rel_path, int(timeout * 1000)],
    )


def notebook_summary(page, rel_path: str) -> dict | None:
    """The notebook's cells (execution counts, tags, outputs) and widget rendering, read in the page."""
    return page.evaluate(_SUMMARY_JS, rel_path)


def run_all(page, rel_path: str, timeout: float = 180.0) -> NotebookReport:
    """Run every cell of the open notebook ``rel_path`` and wait (bounded) until nothing is pending."""
    start = time.perf_counter()
    page.evaluate(
        """(path) => {
          const panel = (__FIND_PANEL__)(path);
          const kernel = panel.sessionContext.session.kernel;
          // What has run so far: changes while any cell is still executing.
          const signature = () => JSON.stringify(panel.content.widgets.map(
            c => [c.model.executionCount || null, c.model.outputs ? c.model.outputs.length : 0]));
          const sleep = ms => new Promise(r => setTimeout(r, ms));
          window.__ckRun = {done: false, error: null};
          (async () => {
            // Resolves when every cell has run, or early when a cell raised; the
            // kernel may still be working through requests queued before that.
            await window.jupyterapp.commands.execute('notebook:run-all-cells', {semanticWidget: panel.id})
              .catch(e => null);
            // The kernel answers requests in order, so an empty silent request
            // completes only after every cell sent before it. Repeat until nothing changes.
            let before = signature();
            for (let i = 0; i < 100; i++) {
              await kernel.requestExecute({code: '', silent: true, store_history: false}).done;
              await sleep(250);
              const now = signature();
              if (now === before) break;
              before = now;
            }
          })().then(() => { window.__ckRun = {done: true, error: null}; },
                    e => { window.__ckRun = {done: true, error: String(e)}; });
        }""".replace("__FIND_PANEL__", _FIND_PANEL_JS.strip()),
        rel_path,
    )
    # Then no widget may still be loading (views render after the kernel's reply).
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    done_js = """(path) => {
      if (!window.__ckRun || !window.__ckRun.done) return false;
      const s = (__SUMMARY__)(path);
      return s && s.kernelStatus === 'idle' && s.loadingWidgets === 0;
    }""".replace("__SUMMARY__", _SUMMARY_JS.strip())
    try:
        page.wait_for_function(done_js, arg=rel_path, timeout=timeout * 1000, polling=100)
    except PlaywrightTimeout:
        raise TimeoutError(f"{rel_path}: {_where_stuck(page, rel_path)} after {timeout:.0f} s") from None
    run_error = page.evaluate("() => window.__ckRun.error")
    if run_error:
        raise RuntimeError(f"{rel_path}: running the cells failed in the page: {run_error}")
    return NotebookReport(rel_path, notebook_summary(page, rel_path), time.perf_counter() - start)


def _where_stuck(page, rel_path: str) -> str:
    s = notebook_summary(page, rel_path)
    if not s:
        return "the notebook is no longer open"
    running = [c for c in s["cells"] if c["pending"]]
    what = f"kernel {s['kernelStatus']}, {s['loadingWidgets']} widget(s) still loading"
    if running:
        c = running[0]
        first = c["source"].splitlines()[0] if c["source"] else ""
        what += f"; still running cell {c['index']} ({first!r})"
    return what


# MathJax errors in a notebook panel, once JupyterLab's typesetting has settled: MathJax 3's
# error node (its data-mjx-error attribute holds the message, its text the TeX), MathJax 2's
# class, and the messages themselves in the rendered text.
_MATH_JS = """
(path) => {
  const panel = (__FIND_PANEL__)(path);
  if (!panel) return null;
  const node = panel.content.node;
  const cells = panel.content.widgets;
  const where = (el) => {
    for (let i = 0; i < cells.length; i++) {
      if (cells[i].node.contains(el)) {
        const src = cells[i].model.sharedModel.getSource();
        return {index: i, type: cells[i].model.type, first: (src.split('\\n').find(l => l.trim()) || '').slice(0, 60)};
      }
    }
    return {index: -1, type: '', first: ''};
  };
  const errors = [];
  node.querySelectorAll('mjx-merror, .MathJax_Error').forEach(el => {
    errors.push({...where(el), message: el.getAttribute('data-mjx-error') || 'Math input error',
                 tex: (el.textContent || '').slice(0, 120)});
  });
  node.querySelectorAll('.jp-MarkdownOutput, .jp-RenderedMarkdown').forEach(el => {
    for (const m of ['Math input error', 'allowed only in math mode']) {
      if ((el.innerText || '').includes(m) && !errors.some(e => where(el).index === e.index))
        errors.push({...where(el), message: m, tex: ''});
    }
  });
  return {containers: node.querySelectorAll('mjx-container').length, errors: errors};
}
""".replace("__FIND_PANEL__", _FIND_PANEL_JS.strip())


def math_errors(page, rel_path: str, settle: float = 1.5, timeout: float = 30.0) -> list[str]:
    """MathJax errors in the open notebook ``rel_path``, each naming its cell (1-based, as cell_label).

    Waits (bounded by ``timeout``) until the number of typeset formulas has not changed for
    ``settle`` seconds: JupyterLab typesets each rendered Markdown cell asynchronously.
    """
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    result = page.evaluate(_MATH_JS, rel_path)
    while time.monotonic() < deadline:
        result = page.evaluate(_MATH_JS, rel_path)
        if result is None:
            return [f"{rel_path}: the notebook is no longer open"]
        if result["containers"] != last:
            last, stable_since = result["containers"], time.monotonic()
        elif time.monotonic() - stable_since >= settle:
            break
        time.sleep(0.25)
    return [
        f"cell {e['index'] + 1} ({e['type']} {e['first']!r}): MathJax error {e['message']!r}"
        + (f" in {e['tex']!r}" if e["tex"] else "")
        for e in (result or {}).get("errors", [])
    ]


# --- The explorers (coursekit/widgets/explorer.js) ---------------------------------------------

_EXPLORER_STATE_JS = """
(e) => {
  const ex = document.querySelectorAll('.coursekit-explorer')[e];
  if (!ex) return null;
  const canvas = ex.querySelector('canvas.coursekit-plot');
  const controls = {};
  ex.querySelectorAll('.ck-control[data-control]').forEach(c => {
    const input = c.querySelector('input, select');
    if (input) controls[c.dataset.control] = {type: input.tagName === 'SELECT' ? 'select' : 'range',
      value: input.value, max: input.max || null, options: input.tagName === 'SELECT' ?
        Array.from(input.options).filter(o => !o.disabled).map(o => o.value) : null,
      valuetext: input.getAttribute('aria-valuetext'),
      label: (c.querySelector('label') || {}).textContent || null,
      labelled: !!(input.labels && input.labels.length)};
  });
  const readouts = [];
  ex.querySelectorAll('.ck-readout').forEach(r => {
    const layer = r.closest('[data-layer]');
    readouts.push({layer: layer ? Number(layer.dataset.layer) : 0, name: r.dataset.name,
                   value: r.dataset.value === undefined ? null : r.dataset.value,
                   text: r.querySelector('.ck-readout-value').textContent});
  });
  let pixels = null;
  if (canvas && canvas.width) {  // a cheap digest of the drawn pixels
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0;
    for (let i = 0; i < data.length; i += 7) h = (h * 31 + data[i]) | 0;
    pixels = h;
  }
  return {kind: ex.dataset.kind, key: canvas ? canvas.dataset.key : null, alt: canvas ? canvas.getAttribute('aria-label') : null,
          pixels: pixels, controls: controls, readouts: readouts,
          status: (ex.querySelector('.ck-status') || {}).textContent || ''};
}
"""


def explorer_state(page, explorer: int) -> dict | None:
    """Kind, controls (their positions), canvas key and pixel digest, readouts (name, exact value, text)."""
    return page.evaluate(_EXPLORER_STATE_JS, explorer)


def dom_values(state: dict) -> dict:
    """The setting shown, spelled as the widget's ``values`` (indices for ranges, options for selects)."""
    out = {}
    for name, c in state["controls"].items():
        out[name] = int(c["value"]) if c["type"] == "range" else c["value"]
    return out


def move_control(page, explorer: int, name: str, timeout: float = 20.0, *, option: str | None = None) -> dict:
    """Move control ``name`` one step (a range: ArrowRight, or ArrowLeft at its end; a select: the next option,
    or ``option``; the presets: the first button for another value); wait (bounded) until the canvas shows
    the new setting."""
    before = explorer_state(page, explorer)
    box = page.locator(".coursekit-explorer").nth(explorer)
    c = before["controls"].get(name)
    if name == "presets":
        buttons = box.locator(".ck-buttons button")
        current = before["controls"]["scale"]["value"]
        for i in range(buttons.count()):
            if buttons.nth(i).get_attribute("data-index") != current:
                buttons.nth(i).scroll_into_view_if_needed(timeout=timeout * 1000)
                buttons.nth(i).click(timeout=timeout * 1000)
                break
    elif c["type"] == "range":
        handle = box.locator(f'.ck-control[data-control="{name}"] input')
        handle.scroll_into_view_if_needed(timeout=timeout * 1000)
        handle.focus(timeout=timeout * 1000)
        handle.press("ArrowLeft" if c["value"] == c["max"] else "ArrowRight", timeout=timeout * 1000)
    else:
        options = c["options"]
        nxt = option if option is not None else options[(options.index(c["value"]) + 1) % len(options)]
        box.locator(f'.ck-control[data-control="{name}"] select').select_option(nxt, timeout=timeout * 1000)
    page.wait_for_function(
        """([e, before]) => {
          const s = (__STATE__)(e);
          if (!s) return false;
          const keys = Object.keys(s.controls).sort();
          const key = JSON.stringify(keys.map(k => [k, s.controls[k].type === 'range' ? Number(s.controls[k].value) :
            (/^[0-9]+$/.test(s.controls[k].value) ? Number(s.controls[k].value) : s.controls[k].value)]));
          return s.key === key && s.key !== before.key && s.pixels !== before.pixels;
        }""".replace("__STATE__", _EXPLORER_STATE_JS.strip()),
        arg=[explorer, before], timeout=timeout * 1000, polling=50,
    )
    return {"before": before, "after": explorer_state(page, explorer)}


def python_explorers(chapter: str) -> list:
    """The explorers each chapter builds, built again in this process from the chapter's own arguments."""
    import torch

    from coursekit import training, widgets

    if chapter == "03":
        model, X, _ = training.damaged_layer("relu", seed=0, bias_shift=-2.0)
        z = model[0](torch.from_numpy(X)).detach().numpy()
        return [widgets.slope_explorer(z, negative_slope=0.01)]
    if chapter == "05":
        return [widgets.HistogramExplorer(depth=5, width=100, activation="sigmoid", init="normal", scale=1.0)]
    if chapter == "06":
        return [widgets.temperature_explorer(widgets.DEFAULT_LOGITS, temperature=1.0,
                                             labels=["cat", "dog", "fox", "owl", "eel"])]
    return []


def expected_readouts(explorer, state: dict) -> dict[tuple[int, str], float | None]:
    """(layer, readout name) -> the number Python computes for the setting the page shows."""
    values = dom_values(state)
    for name, spec in ((c["name"], c) for c in explorer.widget.spec["controls"] if c["type"] == "select"):
        values[name] = next(o[0] for o in spec["options"] if str(o[0]) == str(values[name]))
    explorer.widget.values = values  # the frame of that setting, computed by the kernel's code
    frame = explorer.current
    if state["kind"] == "histogram":
        return {(i, k): v for i, layer in enumerate(frame["layers"], start=1) for k, v in layer.items()
                if k not in ("counts", "lo", "hi")}
    out = {(0, k): v for k, v in frame.items() if not isinstance(v, list)}
    for i, p in enumerate(frame.get("probs", [])):
        out[(0, f"p{i}")] = p
    return out


def compare_readouts(explorer, state: dict, where: str) -> list[str]:
    expected = expected_readouts(explorer, state)
    problems = []
    shown = {(r["layer"], r["name"]): r for r in state["readouts"]}
    for key, r in shown.items():
        if key not in expected:
            problems.append(f"{where}: readout {key} has no Python counterpart")
            continue
        want = expected[key]
        got = None if r["value"] == "NaN" else float(r["value"])
        if got != want:
            problems.append(f"{where}: readout {key} shows {r['value']} ({r['text']!r}); Python computes {want}")
    if state["kind"] == "histogram" and len({k[0] for k in shown}) != len(explorer.current["layers"]):
        problems.append(f"{where}: {len({k[0] for k in shown})} layers shown, Python computes {len(explorer.current['layers'])}")
    if not state["alt"] or len(state["alt"]) < 40:
        problems.append(f"{where}: the canvas has no text alternative ({state['alt']!r})")
    for name, c in state["controls"].items():
        if not c["labelled"]:
            problems.append(f"{where}: control {name} has no label")
        if c["type"] == "range" and not c["valuetext"]:
            problems.append(f"{where}: slider {name} announces no value in the unit shown")
    return problems


# Controls cut off or overflowing: a label, value or button whose text does not fit, or a control
# sticking out of its explorer.
_TRUNCATION_JS = """
() => {
  const out = [];
  document.querySelectorAll('.coursekit-explorer').forEach((ex, e) => {
    const box = ex.getBoundingClientRect();
    ex.querySelectorAll('label, .ck-value, button, select, input, .ck-buttons > span').forEach(n => {
      const r = n.getBoundingClientRect();
      const what = `explorer ${e}: ${n.tagName.toLowerCase()} ${JSON.stringify((n.textContent || n.value || '').slice(0, 30))}`;
      if (r.width === 0) { out.push(what + ' has no width'); return; }
      if (n.scrollWidth > n.clientWidth + 1 && n.tagName !== 'SELECT' && n.tagName !== 'INPUT') out.push(what + ' is cut off');
      if (r.right > box.right + 1 || r.left < box.left - 1) out.push(what + ' sticks out of the explorer');
      if (n.tagName === 'INPUT' && n.type === 'range' && r.width < 80) out.push(what + ` is only ${Math.round(r.width)} px wide`);
      if (n.tagName === 'SELECT') {
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = getComputedStyle(n).font;
        const text = n.options[n.selectedIndex] ? n.options[n.selectedIndex].text : '';
        if (ctx.measureText(text).width > r.width - 8) out.push(what + ` shows ${JSON.stringify(text)} cut off`);
      }
    });
  });
  return out;
}
"""


def truncated_controls(page) -> list[str]:
    return page.evaluate(_TRUNCATION_JS)


# --- axe-core (npm; scripts/ensure_axe.sh installs it into build/axe/) ---------------------------

AXE = Path(os.environ.get("COURSEKIT_AXE", ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"))
AXE_HINT = "axe-core not found: run 'bash scripts/ensure_axe.sh' (npm install axe-core into build/axe/)"


def axe_scan(page, include: str | None = None) -> list[dict]:
    """Serious and critical axe-core violations in ``page`` (within the CSS selector ``include``, if given).

    Each: id, impact, help, and up to three offending nodes' selectors.
    """
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (include) => {
          const context = include ? {include: Array.from(document.querySelectorAll(include))} : document;
          const r = await axe.run(context, {resultTypes: ['violations']});
          return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""",
        include,
    )
    return result
