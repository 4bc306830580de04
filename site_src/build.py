"""Build the course website: ``python site_src/build.py [OUT]`` (``make site`` writes ``site/``).

1. Lays out a source folder in ``build/site-src/``: this folder's ``conf.py``,
   ``index.md`` (plus a table of contents in course order: each chapter, then its
   exercise) and ``_static/``; the stored, executed chapters ``notebooks/NN_*.ipynb``
   and the student exercises ``exercises/NN_*.ipynb`` (never the solutions).
2. Makes each live explorer live on the page: its widget output becomes a placeholder that
   ``_static/explorer-site.js`` fills with the course's one renderer (``explorer.js``, copied
   from ``coursekit/widgets``), reading numbers from JSON files beside it. Those numbers come
   from the explorer's stored widget state (chapters 03 and 06: every frame is in it) or are
   computed here with the same Python code the kernel runs (chapter 05's histograms: its controls
   as this code builds them, one file per init × width × activation, computed in worker processes
   and cached in ``build/explorer-cache/``). Every explorer takes the palette and style sheet of
   this code. The index page lists the chapters it finds (``coursekit.paths``). A widget that is not a
   course explorer shows its stored picture or its text fallback, as before. Each page gets
   links to its notebook's download, and (with ``COURSEKIT_REPO_URL`` set or a GitHub
   ``origin``) to the repository and Binder.
3. Copies MathJax 3 (from the ``mathjax`` package that django-static-mathjax installs)
   into the site, so the pages need no network.
4. Runs Sphinx (MyST-NB, execution off); a warning fails the build.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
LIVE_NOTE = ("*Live explorer:* in JupyterLab (`make lab`) its controls redraw this picture as you "
             "move them. Here it shows what it drew when the chapter was executed.")
BUNDLE = "tex-chtml-full.js"  # every TeX package, as in JupyterLab (site_src/conf.py)
NO_PICTURE_NOTE = ("*Live explorer:* open this chapter in JupyterLab (`make lab`) and run it to "
                   "use this explorer; the website has no stored picture of it.")


def course_pages(root: Path = ROOT) -> list[Path]:
    """The notebooks on the site, relative to ``root``, in course order (chapter NN, then exercise NN)."""
    from coursekit import paths

    chapters = paths.lesson_notebooks(root)
    exercises = {p.name[:2]: p for p in paths.student_notebooks(root)}
    pages = []
    for chapter in chapters:
        pages.append(chapter.relative_to(root))
        if chapter.name[:2] in exercises:
            pages.append(exercises.pop(chapter.name[:2]).relative_to(root))
    return pages + [p.relative_to(root) for p in exercises.values()]


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook, without its #s (its title on the site): "01 · Neurons"."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for line in source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


#: Where index.md wants the generated list of chapters.
CHAPTERS_MARK = "<!-- chapters -->"


def chapter_list(pages: list[Path], root: Path = ROOT) -> str:
    """The index page's list: one line per chapter (its title from its first heading), with its exercise."""
    exercises = {p.name[:2]: p for p in pages if p.parent.name == "exercises"}
    lines = []
    for page in (p for p in pages if p.parent.name == "notebooks"):
        line = f"1. {{doc}}`{notebook_title(root / page)} <{page.with_suffix('').as_posix()}>`"
        if page.name[:2] in exercises:
            line += f" · {{doc}}`exercises {page.name[:2]} <{exercises[page.name[:2]].with_suffix('').as_posix()}>`"
        lines.append(line)
    return "\n".join(lines) + "\n"


# --- explorers: widget outputs -> their stored picture ------------------------------------

def _models(nb: dict) -> dict:
    return nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _subtree(models: dict, model_id: str) -> list[dict]:
    """The model and every model it refers to ("IPY_MODEL_<id>" values), depth first, each once."""
    seen, order, stack = set(), [], [model_id]
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in models:
            continue
        seen.add(mid)
        model = models[mid]
        order.append(model)
        refs = []
        for value in model.get("state", {}).values():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and v.startswith("IPY_MODEL_"):
                    refs.append(v[len("IPY_MODEL_"):])
        stack.extend(reversed(refs))
    return order


def _png(model: dict) -> str | None:
    """Base64 PNG of an ImageModel from its stored buffer, if any."""
    if model.get("model_name") != "ImageModel" or model.get("state", {}).get("format", "png") != "png":
        return None
    for buf in model.get("buffers", []):
        if buf.get("path") == ["value"] and buf.get("encoding", "base64") == "base64" and buf.get("data"):
            return buf["data"]
    return None


def _is_raw_repr(text: str) -> bool:
    """ipywidgets' default text/plain: 'VBox(children=(FloatSlider(...' says nothing to a reader."""
    head = text.lstrip()
    return head.startswith(("VBox(", "HBox(", "Box(", "GridBox(", "Output(", "Image(", "HTML(")) or not head


def explorer_outputs(output: dict, models: dict) -> list[dict]:
    """What replaces one widget output on the website."""
    data = output.get("data", {})
    model_id = data[WIDGET_VIEW].get("model_id", "")
    tree = _subtree(models, model_id)
    pictures = [p for p in map(_png, tree) if p]
    stats = [m["state"].get("value", "") for m in tree if m.get("model_name") == "HTMLModel"
             and "coursekit-stats" in m.get("state", {}).get("_dom_classes", [])]
    plain = data.get("text/plain", "")
    plain = "".join(plain) if isinstance(plain, list) else plain

    def display(mime: str, value: str) -> dict:
        return {"output_type": "display_data", "metadata": {}, "data": {mime: value}}

    if pictures:
        out = [display("text/markdown", LIVE_NOTE)]
        out += [display("image/png", p) for p in pictures]
        out += [display("text/html", s) for s in stats if s]
        return out
    if plain and not _is_raw_repr(plain):
        return [display("text/markdown", NO_PICTURE_NOTE), display("text/plain", plain)]
    return [display("text/markdown", NO_PICTURE_NOTE)]


def prepare_notebook(src: Path, dest: Path, explorers: Explorers | None = None) -> int:
    """Copy ``src`` to ``dest`` with explorers replaced; return how many widget outputs were replaced.

    With ``explorers``, a course explorer becomes live on the page (:meth:`Explorers.output`).
    """
    nb = json.loads(src.read_text(encoding="utf-8"))
    models = _models(nb)
    replaced = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                live = explorers.output(out, models, src.stem) if explorers is not None else None
                outputs += [live] if live else explorer_outputs(out, models)
                replaced += 1
            else:
                outputs.append(out)
        cell["outputs"] = outputs
    nb.get("metadata", {}).pop("widgets", None)  # nothing left for widget JavaScript to draw
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return replaced


# --- live explorers on the website ----------------------------------------------------------

SITE_NOTE = ("Live explorer: the controls move the picture with numbers computed ahead of time by the "
             "course's own Python code (the same as the notebook's kernel).")
#: Chapter 05's histogram explorer on the website: every init the explorer offers × every activation ×
#: every scale and depth, at the width the chapter's text uses. The other widths stay live in JupyterLab
#: only: all six widths would be 6× the numbers (about 54 MB, 14 MB gzipped) and about 4 minutes of CPU
#: on a cold build (400 units alone two thirds of it), too slow for CI on 2 cores; one width is about
#: 9 MB and a few seconds per core.
SITE_WIDTHS = (100,)
CACHE = ROOT / "build" / "explorer-cache"


def _explorer_model(models: dict, model_id: str) -> dict | None:
    for model in _subtree(models, model_id):
        state = model.get("state", {})
        if isinstance(state.get("spec"), dict) and state["spec"].get("kind") and "values" in state:
            return state
    return None


def _code_digest() -> str:
    """What the precomputed numbers depend on: the code that computes them and the pinned versions."""
    h = hashlib.sha256()
    for rel in ("coursekit/widgets/numbers.py", "coursekit/widgets/frames.py", "coursekit/widgets/histogram.py",
                "coursekit/experiments.py", "coursekit/init.py", "coursekit/activations.py", "constraints.txt"):
        path = ROOT / rel
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()[:16]


def _jobs() -> int:
    """Worker processes for the precomputed numbers: the machine's cores, at most 4 (``COURSEKIT_SITE_JOBS``)."""
    return max(1, int(os.environ.get("COURSEKIT_SITE_JOBS") or min(os.cpu_count() or 1, 4)))


def _histogram_explorer(spec: dict, values: dict):
    """Chapter 05's explorer as this code builds it, at the stored setting (the stored state may be older)."""
    from coursekit.widgets import HistogramExplorer

    params = spec.get("params", {})
    common = {k: params[k] for k in ("n_samples", "seed", "bins") if k in params}
    try:
        return HistogramExplorer(depth=values["depth"] + 1, width=values["width"], activation=values["activation"],
                                 init=values["init"], scale=HistogramExplorer.SCALES[values["scale"]], **common)
    except (KeyError, IndexError, ValueError):  # a setting this code no longer offers: its defaults
        return HistogramExplorer(**common)


class Explorers:
    """Writes each explorer's numbers under ``out`` (the site's ``_static/explorers``) and its placeholder."""

    def __init__(self, out: Path, cache: Path = CACHE) -> None:
        self.out, self.cache = out, cache
        self.out.mkdir(parents=True, exist_ok=True)
        self.digest = _code_digest()
        self.count = 0
        self.computed = self.cached = 0
        self.seconds = 0.0

    def output(self, output: dict, models: dict, page: str) -> dict | None:
        from coursekit.plotting import PALETTE
        from coursekit.widgets._common import css

        state = _explorer_model(models, output["data"][WIDGET_VIEW].get("model_id", ""))
        if state is None:
            return None
        self.count += 1
        name = f"{page}-{self.count}"
        spec, values, frame = dict(state["spec"]), state["values"], state.get("frame", {})
        if spec["kind"] == "histogram":  # its numbers come from this code: so do its controls and first frame
            explorer = _histogram_explorer(spec, values)
            spec, values, frame = dict(explorer.widget.spec), dict(explorer.widget.values), explorer.widget.frame
        # the page's look is this code's, whenever the chapter was executed: one palette, one style sheet
        spec.update(css=css(), colors=list(PALETTE))
        spec["note"] = ""  # the kernel's note ("re-run this cell") does not apply here: SITE_NOTE does
        data = {"spec": spec, "values": values, "frame": frame}
        if spec["kind"] == "histogram":
            data.update(self._histogram_groups(name, spec, values))
        (self.out / f"{name}.json").write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                                             encoding="utf-8")
        src = f"../_static/explorers/{name}.json"
        fallback = html.escape(STATIC_FALLBACK)
        return {"output_type": "display_data", "metadata": {}, "data": {
            "text/html": f"<div class=\"ck-site-explorer\" data-src=\"{src}\"><p>{fallback}</p></div>"
                         f"<p class=\"ck-site-note\">{html.escape(SITE_NOTE)}</p>"}}

    def _histogram_groups(self, name: str, spec: dict, values: dict) -> dict:
        """One JSON file per precomputed (init, width, activation): every scale's 10-layer frame.

        Computed by :func:`coursekit.widgets.histogram.site_groups` (the kernel's code) in worker
        processes, one (init, width) network each, and cached in ``build/explorer-cache/`` under a key of
        the code, the pinned versions and the group: an unchanged rebuild computes nothing.
        """
        import time
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        from coursekit.widgets.histogram import site_groups

        params = {k: spec["params"][k] for k in ("n_samples", "seed", "bins")}
        controls = {c["name"]: c for c in spec["controls"]}
        inits = [o[0] for o in controls["init"]["options"]]
        widths = list(SITE_WIDTHS) if values["width"] in SITE_WIDTHS else [values["width"], *SITE_WIDTHS]
        activations = [o[0] for o in controls["activation"]["options"]]

        def cached(init, width, activation) -> Path:
            key = hashlib.sha256(json.dumps([self.digest, params, init, width, activation]).encode()).hexdigest()[:20]
            return self.cache / f"{key}.json"

        todo = [(init, width, [a for a in activations if not cached(init, width, a).exists()])
                for init in inits for width in widths]
        todo = [t for t in todo if t[2]]
        if todo:
            start = time.perf_counter()
            self.cache.mkdir(parents=True, exist_ok=True)
            jobs = min(_jobs(), len(todo))
            if jobs > 1:  # fresh interpreters (spawn): a fork of a process that ran torch may hang
                with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
                    results = pool.map(site_groups, *zip(*[(params, i, w, a) for i, w, a in todo]))
                    for (init, width, _), texts in zip(todo, results, strict=True):
                        for activation, text in texts.items():
                            cached(init, width, activation).write_text(text, encoding="utf-8")
            else:
                for init, width, acts in todo:
                    for activation, text in site_groups(params, init, width, acts).items():
                        cached(init, width, activation).write_text(text, encoding="utf-8")
            self.computed += sum(len(t[2]) for t in todo)
            self.seconds += time.perf_counter() - start
        groups = {}
        for init in inits:
            for width in widths:
                for activation in activations:
                    file = f"{name}/{init}-{width}-{activation}.json"
                    (self.out / file).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(cached(init, width, activation), self.out / file)
                    groups[f"{init}|{width}|{activation}"] = file
        self.cached += len(groups) - sum(len(t[2]) for t in todo)
        # what the page cannot show says so: those options are disabled, with a note on the control
        c = controls["width"]
        c["options"] = [[v, t] if v in widths else [v, f"{t} (JupyterLab only)", True] for v, t, *_ in c["options"]]
        if len(widths) < len(c["options"]):
            c["note"] = "here: the width the chapter uses; every width is live in JupyterLab"
        return {"groups": groups, "n_samples": params["n_samples"]}


STATIC_FALLBACK = "Live explorer: it needs JavaScript; in JupyterLab (make lab) it runs in the notebook."


def page_links(rel: Path, repo: str | None) -> str:
    """A Markdown line under a page's title: the notebook's download, the repository, Binder."""
    links = [f"{{download}}`Download this notebook <../_downloads_src/{rel.as_posix()}>`"]
    if repo:
        repo = repo.rstrip("/")
        links.append(f"[Repository]({repo})")
        if repo.startswith("https://github.com/"):
            owner_repo = repo[len("https://github.com/"):]
            links.append(f"[Open in Binder](https://mybinder.org/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/{rel.as_posix()})")
    return " · ".join(links)


def repository_url() -> str | None:
    """``COURSEKIT_REPO_URL``, else the git ``origin`` when it is a GitHub https or ssh URL."""
    if os.environ.get("COURSEKIT_REPO_URL"):
        return os.environ["COURSEKIT_REPO_URL"]
    try:
        url = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if url.startswith("git@github.com:"):
        url = "https://github.com/" + url[len("git@github.com:"):]
    url = url.removesuffix(".git")
    return url if url.startswith("https://github.com/") else None


def add_links(dest: Path, rel: Path, repo: str | None) -> None:
    """Put the links line after the first Markdown cell's title."""
    nb = json.loads(dest.read_text(encoding="utf-8"))
    line = page_links(rel, repo)
    nb["cells"].insert(1 if nb["cells"] and nb["cells"][0].get("cell_type") == "markdown" else 0,
                       {"cell_type": "markdown", "metadata": {}, "source": line, "id": "coursekit-links"})
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --- MathJax ------------------------------------------------------------------------------

def mathjax_source() -> Path:
    try:
        import mathjax  # installed by django-static-mathjax (the 'site' extra)
    except ImportError:
        sys.exit("build.py: MathJax is missing: pip install -c constraints.txt -e '.[site]' (or: make site)")
    es5 = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (es5 / BUNDLE).is_file():
        sys.exit(f"build.py: {es5}/{BUNDLE} not found: reinstall django-static-mathjax")
    return es5


def copy_mathjax(dest: Path) -> None:
    """MathJax 3's TeX-to-HTML bundle and what it loads on demand (fonts, menu, speech)."""
    es5 = mathjax_source()

    def ignore(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == es5
        return [n for n in names if (top and n.endswith(".js") and n != BUNDLE)
                or n in ("svg", "svg.js", "node-main.js")]

    shutil.copytree(es5, dest, ignore=ignore)


# --- build --------------------------------------------------------------------------------

def toc(pages: list[Path]) -> str:
    """The site's navigation (sidebar, next/previous links) in course order; the page lists the chapters itself."""
    entries = "\n".join(p.with_suffix("").as_posix() for p in pages)
    return f"\n```{{toctree}}\n:caption: Chapters and exercises\n:maxdepth: 1\n:hidden:\n\n{entries}\n```\n"


def write_index(staging: Path, pages: list[Path], root: Path = ROOT) -> None:
    """index.md with its chapter list (:func:`chapter_list`) where it says :data:`CHAPTERS_MARK`, then the toctree."""
    index = staging / "index.md"
    text = index.read_text(encoding="utf-8")
    if CHAPTERS_MARK not in text:
        raise SystemExit(f"build.py: {index.name} has no {CHAPTERS_MARK} line for the chapter list")
    index.write_text(text.replace(CHAPTERS_MARK, chapter_list(pages, root)) + toc(pages), encoding="utf-8")


def stage(staging: Path, root: Path = ROOT) -> list[Path]:
    """Lay out the Sphinx source folder; return the pages in course order."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(HERE, staging, ignore=shutil.ignore_patterns("build.py", "__pycache__"))
    pages = course_pages(root)
    write_index(staging, pages, root)
    explorers = Explorers(staging / "_static" / "explorers")
    shutil.copyfile(ROOT / "coursekit" / "widgets" / "explorer.js", staging / "_static" / "explorer.js")
    repo = repository_url()
    for rel in pages:
        prepare_notebook(root / rel, staging / rel, explorers)
        add_links(staging / rel, rel, repo)
        (staging / "_downloads_src" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, staging / "_downloads_src" / rel)  # the notebook as stored, outputs and all
    print(f"build.py: {explorers.count} live explorers; chapter 05's numbers: {explorers.computed} groups computed "
          f"in {explorers.seconds:.1f} s ({_jobs()} processes), {explorers.cached} from build/explorer-cache", flush=True)
    copy_mathjax(staging / "_static" / "mathjax")
    return pages


#: Two accessibility faults of the generated pages (axe-core: critical and serious), mended in the HTML:
#: the sidebar captions are headings without a level, and code blocks that scroll sideways cannot
#: be reached with the keyboard.
HTML_FIXES = (('<p class="caption" role="heading">', '<p class="caption" role="heading" aria-level="2">'),
              ('<div class="highlight"><pre>', '<div class="highlight"><pre tabindex="0">'))


def accessible_html(folder: Path) -> int:
    """Apply :data:`HTML_FIXES` to every page under ``folder``; return how many pages changed."""
    changed = 0
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for old, new in HTML_FIXES:
            fixed = fixed.replace(old, new)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
            changed += 1
    return changed


def build(out: Path, *, root: Path = ROOT, work: Path | None = None) -> list[Path]:
    work = work or root / "build"
    staging = work / "site-src"
    pages = stage(staging, root)
    # Sphinx writes into build/site-html/html; MyST-NB keeps its extracted outputs beside that
    # (build/site-html/jupyter_execute), so only the finished site is copied to ``out``.
    html = work / "site-html" / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-E",
           "-d", str(work / "site-doctrees"), str(staging), str(html)]
    print(f"build.py: {len(pages)} pages -> {out}", flush=True)
    proc = subprocess.run(cmd)
    if proc.returncode:
        sys.exit(f"build.py: sphinx-build failed (status {proc.returncode}); its warnings are above")
    accessible_html(html)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html, out)
    print(f"build.py: done: {out}/index.html")
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the course website from the stored notebooks.")
    parser.add_argument("out", nargs="?", default=str(ROOT / "site"), help="output folder (default: site/)")
    args = parser.parse_args(argv)
    build(Path(args.out).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
