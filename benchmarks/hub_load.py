"""How many students this machine's JupyterHub carries: N simulated students at once.

Each student (a thread) goes through a real JupyterHub started from
deploy/jupyterhub/jupyterhub_config.py on 127.0.0.1 (see deploy/jupyterhub/hubclient.py):
the hub's REST API starts their server, nbgitpuller pulls their copy of the course from a
local git clone, a kernel runs every cell of a chapter over the kernel websocket, then the
chapter 05 explorer's weight-scale slider is moved UPDATES times with the ipywidgets
messages JupyterLab sends. Printed per run: server start, chapter run time, explorer update
median / p90 (send to kernel idle again), memory per student (resident; proportional, i.e.
shared library pages divided among the processes that map them; unique) and in total,
failures; then the capacity of the machine at a latency target.

    .venv/bin/python benchmarks/hub_load.py --students 5 15 --chapter 05
    .venv/bin/python benchmarks/hub_load.py --kernels      # what each chapter's kernel holds

``--kernels`` needs no hub: for each chapter it starts a kernel (OMP_NUM_THREADS=1, as the
hub's) and prints what it holds resident (RSS) and alone (USS: pages no other process shares)
after the setup cell (the first code cell), after every cell, and after closing every figure
and collecting garbage; then what ``import torch`` and the package alone cost.

Needs the hub extra (pip install -e ".[hub]") and configurable-http-proxy
(scripts/ensure_hub_tools.sh). A burst: every student starts at the same moment, the worst
case of a class opening the chapter together.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))
import hubclient  # noqa: E402

GIB = 1024**3
MIB = 1024**2
EXPLORER = """\
from coursekit.widgets import HistogramExplorer
from IPython.display import display
explorer = HistogramExplorer(depth=5, width=100, activation="sigmoid", init="normal", scale=1.0)
display(explorer)
"""


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def student_run(hub, name, query, chapter, updates, results, barrier):
    r = {"name": name}
    results[name] = r
    s = hubclient.Student(hub, name)
    try:
        barrier.wait(timeout=120)
        r["start"] = s.start_server(timeout=600)
        s.git_pull(query, timeout=600)
        nb_path = next((hub.workdir / "homes" / name / "course" / "notebooks").glob(f"{chapter}_*.ipynb"))
        nb = s.contents(f"course/notebooks/{nb_path.name}")["content"]
        k = s.kernel("course/notebooks", timeout=900)
        t0 = time.perf_counter()
        k.run_notebook(nb)
        r["chapter"] = time.perf_counter() - t0
        k.execute(EXPLORER)  # an explorer of its own, named `explorer`, opened last
        explorer = k.find_explorer("scale")
        lat = []
        start = int(k.text("print(explorer.controls['scale'].position(0.01))"))
        for step in range(updates):  # one key press each, onto a setting not shown before
            dt, sent = k.move_explorer(explorer, scale=start + step)
            if not sent:
                raise RuntimeError("the explorer sent no update")
            lat.append(dt)
        r["updates"] = lat
        r["kernel_cpu"] = sum(p.cpu_times().user + p.cpu_times().system
                              for p in hubclient.server_processes(hub, name) if "ipykernel" in " ".join(p.cmdline()))
        r["kernel"] = k
        r["ok"] = True
    except Exception as e:  # a failure is a figure of the run, not the end of it
        r["error"] = f"{type(e).__name__}: {e}"
        traceback.print_exc()


def memory(hub, names):
    """Resident / proportional / unique bytes of each student's server + kernels."""
    per = {}
    for name in names:
        rss = pss = uss = 0
        kern = {"rss": 0, "uss": 0}
        for p in hubclient.server_processes(hub, name):
            try:
                m = p.memory_full_info()
            except psutil.Error:
                continue
            rss, pss, uss = rss + m.rss, pss + m.pss, uss + m.uss
            if "ipykernel" in " ".join(p.cmdline()):
                kern = {"rss": kern["rss"] + m.rss, "uss": kern["uss"] + m.uss}
        per[name] = {"rss": rss, "pss": pss, "uss": uss, "kernel_rss": kern["rss"], "kernel_uss": kern["uss"]}
    return per


def one_run(n, chapter, updates, course_url, workdir):
    hub = hubclient.LocalHub(workdir / f"h{n}", course_url).start()
    results = {}
    try:
        names = [f"s{i:03d}" for i in range(n)]
        barrier = threading.Barrier(n)
        query = hubclient.pull_query(course_url)
        mem_before = psutil.virtual_memory().used
        threads = [threading.Thread(target=student_run, args=(hub, name, query, chapter, updates, results, barrier))
                   for name in names]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=3600)
        wall = time.perf_counter() - t0
        hub.track()
        mem = memory(hub, names)
        mem_after = psutil.virtual_memory().used
        hub_procs = [p for p in hub.tagged() if not any(p.pid == q.pid for name in names
                                                         for q in hubclient.server_processes(hub, name))]
        hub_rss = sum(p.memory_info().rss for p in hub_procs if p.is_running())
        for r in results.values():
            if "kernel" in r:
                r.pop("kernel").shutdown()
    finally:
        left = hub.stop()
        if left or any(not r.get("ok") for r in results.values()):
            keep = Path(tempfile.gettempdir()) / f"hub_load_{n}_students.log"
            keep.write_text(hub.log_text())
            print(f"the hub's log (servers and kernels included) is in {keep}")
    if left:
        print(f"WARNING: left after the hub stopped: {left}")
    return results, mem, wall, hub_rss, mem_after - mem_before


def _kernel_memory(kc, pid, code: str | None = None):
    if code is not None:
        reply = kc.execute_interactive(code, timeout=900, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    m = psutil.Process(pid).memory_full_info()
    return m.rss / MIB, m.uss / MIB


def kernels_table(chapters):
    """Per chapter: a fresh kernel's memory after the setup cell, the whole chapter, cleanup."""
    import nbformat
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    rows = []
    for path in chapters:
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(path.parent), env=env)
        try:
            pid = km.provisioner.pid
            nb = nbformat.read(path, as_version=4)
            cells = [c for c in nb.cells if c.cell_type == "code"]
            bare = _kernel_memory(kc, pid, "pass")
            setup = _kernel_memory(kc, pid, cells[0].source)
            t0 = time.perf_counter()
            for cell in cells[1:]:
                reply = kc.execute_interactive(cell.source, timeout=900, output_hook=lambda msg: None)
                if reply["content"]["status"] != "ok" and "raises-exception" not in cell.metadata.get("tags", []):
                    raise RuntimeError(f"{path.name}: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
            run = time.perf_counter() - t0
            full = _kernel_memory(kc, pid)
            clean = _kernel_memory(kc, pid, "import gc, matplotlib.pyplot as plt\nplt.close('all')\ngc.collect()")
            # glibc keeps freed heap pages; malloc_trim hands them back to the system
            trim = _kernel_memory(kc, pid, "import ctypes\nctypes.CDLL('libc.so.6').malloc_trim(0)")
            rows.append((path.stem, bare, setup, full, clean, trim, run, "torch" in _imports(kc)))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    # What each part weighs in a kernel of its own.
    parts = {}
    for label, code in (("numpy + matplotlib + coursekit (chapter 01's modules)",
                         "import numpy, matplotlib.pyplot\nimport coursekit.neurons, coursekit.plotting"),
                        ("  + import torch", "import torch")):
        parts[label] = code
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        pid = km.provisioner.pid
        last = _kernel_memory(kc, pid, "pass")
        steps = [("a bare ipykernel", last)]
        for label, code in parts.items():
            now = _kernel_memory(kc, pid, code)
            steps.append((label, now))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', '(unset)')}")
    print("| chapter | bare kernel RSS | after setup cell RSS / USS | after every cell RSS / USS "
          "| figures closed + gc RSS / USS | + malloc_trim RSS / USS | run | torch loaded |")
    print("|---|---|---|---|---|---|---|---|")
    for stem, bare, setup, full, clean, trim, run, torch in rows:
        print(f"| {stem} | {bare[0]:.0f} MiB | {setup[0]:.0f} / {setup[1]:.0f} MiB | {full[0]:.0f} / {full[1]:.0f} MiB "
              f"| {clean[0]:.0f} / {clean[1]:.0f} MiB | {trim[0]:.0f} / {trim[1]:.0f} MiB | {run:.1f} s "
              f"| {'yes' if torch else 'no'} |")
    print()
    print("| one kernel, step by step | RSS | USS |")
    print("|---|---|---|")
    for label, (rss, uss) in steps:
        print(f"| {label} | {rss:.0f} MiB | {uss:.0f} MiB |")


def _imports(kc) -> str:
    out = []
    kc.execute_interactive("import sys\nprint(' '.join(sorted(m for m in sys.modules if '.' not in m)))",
                           timeout=60, output_hook=lambda msg: out.append(msg["content"].get("text", "")))
    return " ".join(out).split()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, nargs="+", default=[5, 15])
    ap.add_argument("--chapter", default=None,
                    help="the chapter every student runs (default 05); with --kernels, only this chapter")
    ap.add_argument("--updates", type=int, default=12, help="explorer updates per student (default 12)")
    ap.add_argument("--target-ms", type=float, default=250.0,
                    help="latency target for the p90 of an explorer update (default 250 ms)")
    ap.add_argument("--kernels", action="store_true",
                    help="no hub: print what each chapter's kernel holds (after its setup cell, after every cell)")
    args = ap.parse_args(argv)
    if args.kernels:
        kernels_table(sorted((ROOT / "notebooks").glob(f"{args.chapter or '0'}*.ipynb")))
        return 0
    args.chapter = args.chapter or "05"
    if args.updates < 2:
        ap.error("--updates must be at least 2")
    if any(n < 1 for n in args.students):
        ap.error("--students must be positive")
    if not hubclient.proxy_available():
        sys.exit("configurable-http-proxy not found: bash scripts/ensure_hub_tools.sh")
    cores = psutil.cpu_count()
    total = psutil.virtual_memory().total
    load = os.getloadavg()
    print(f"machine: {cores} cores, {total / GIB:.1f} GiB; load average before {load[0]:.2f} "
          "(other work on the machine shows up in these figures)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="hl", dir="/tmp") as tmp:  # short: kernel sockets live under it
        tmp = Path(tmp)
        course = tmp / "course.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(course)], check=True, timeout=300)
        for n in args.students:
            results, mem, wall, hub_rss, used = one_run(n, args.chapter, args.updates, course.as_uri(), tmp)
            ok = [r for r in results.values() if r.get("ok")]
            lat = [x for r in ok for x in r["updates"]]
            row = {
                "n": n, "fail": n - len(ok), "wall": wall,
                "start": statistics.median(r["start"] for r in ok) if ok else float("nan"),
                "start_max": max((r["start"] for r in ok), default=float("nan")),
                "chapter": statistics.median(r["chapter"] for r in ok) if ok else float("nan"),
                "chapter_max": max((r["chapter"] for r in ok), default=float("nan")),
                "upd_med": statistics.median(lat) * 1000 if lat else float("nan"),
                "upd_p90": p90(lat) * 1000 if lat else float("nan"),
                "cpu": statistics.median(r["kernel_cpu"] for r in ok) if ok else float("nan"),
                "rss": statistics.median(m["rss"] for m in mem.values()) / MIB,
                "pss": statistics.median(m["pss"] for m in mem.values()) / MIB,
                "uss": statistics.median(m["uss"] for m in mem.values()) / MIB,
                "krss": statistics.median(m["kernel_rss"] for m in mem.values()) / MIB,
                "kuss": statistics.median(m["kernel_uss"] for m in mem.values()) / MIB,
                "total_pss": sum(m["pss"] for m in mem.values()) / GIB,
                "hub_rss": hub_rss / MIB, "used": used / GIB,
            }
            rows.append(row)
            for r in results.values():
                if not r.get("ok"):
                    print(f"  {r['name']} failed: {r.get('error', 'did not finish')}")
            print(f"{n} students: done in {wall:.0f} s, {row['fail']} failures")
    print()
    print(f"chapter {args.chapter}, {args.updates} explorer updates per student, all students at once, "
          f"{cores} cores")
    print("| students | server start median (max) | chapter run median (max) | kernel CPU | "
          "update median / p90 | per student RSS / PSS / USS | kernel RSS / USS | all students PSS | failures |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']} | {r['start']:.1f} s ({r['start_max']:.1f}) | {r['chapter']:.0f} s ({r['chapter_max']:.0f}) "
              f"| {r['cpu']:.1f} s | {r['upd_med']:.0f} / {r['upd_p90']:.0f} ms "
              f"| {r['rss']:.0f} / {r['pss']:.0f} / {r['uss']:.0f} MiB | {r['krss']:.0f} / {r['kuss']:.0f} MiB "
              f"| {r['total_pss']:.2f} GiB | {r['fail']} |")
    hub_rss = max(r["hub_rss"] for r in rows)
    print(f"hub + proxy + culler: {hub_rss:.0f} MiB resident")
    good = [r for r in rows if r["fail"] == 0 and r["upd_p90"] <= args.target_ms]
    per_student = max(r["pss"] for r in rows) * MIB
    print()
    if good:
        best = max(good, key=lambda r: r["n"])
        print(f"capacity by CPU: {best['n']} students at once met the target (explorer p90 <= "
              f"{args.target_ms:.0f} ms): at least {best['n'] / cores:.1f} students per core "
              f"while all run a chapter together (a burst; a class reading and moving sliders needs less)")
    else:
        print(f"capacity by CPU: no run met the target (explorer p90 <= {args.target_ms:.0f} ms)")
    print(f"capacity by memory: {GIB / per_student:.1f} students per GiB (proportional set size of a "
          f"student's server + kernel: {per_student / MIB:.0f} MiB; shared library pages counted once "
          f"across students); {int((total - 2 * GIB) / per_student)} students in this machine's "
          f"{total / GIB:.0f} GiB less 2 GiB for the system")
    return 0


if __name__ == "__main__":
    sys.exit(main())
