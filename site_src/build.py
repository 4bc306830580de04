"""Build the course website: ``python site_src/build.py [OUT]`` (``make site`` writes ``site/``).

1. Lays out a source folder in ``build/site-src/``: this folder's ``conf.py``,
   ``index.md`` (plus a table of contents in course order: each chapter, then its
   exercise) and ``_static/``; the stored, executed chapters ``notebooks/NN_*.ipynb``
   and the student exercises ``exercises/NN_*.ipynb`` (never the solutions).
2. Replaces each live explorer's widget output by what it showed when the notebook
   was executed (the picture and the statistics kept in the notebook's widget
   state), with a line saying it is live in JupyterLab; a widget without a stored
   picture shows its text fallback, or that line alone.
3. Copies MathJax 3 (from the ``mathjax`` package that django-static-mathjax installs)
   into the site, so the pages need no network.
4. Runs Sphinx (MyST-NB, execution off); a warning fails the build.
"""

from __future__ import annotations

import argparse
import json
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
    chapters = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    exercises = {p.name[:2]: p for p in sorted((root / "exercises").glob("[0-9][0-9]_*.ipynb"))}
    pages = []
    for chapter in chapters:
        pages.append(chapter.relative_to(root))
        if chapter.name[:2] in exercises:
            pages.append(exercises.pop(chapter.name[:2]).relative_to(root))
    return pages + [p.relative_to(root) for p in exercises.values()]


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


def prepare_notebook(src: Path, dest: Path) -> int:
    """Copy ``src`` to ``dest`` with explorers replaced; return how many widget outputs were replaced."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    models = _models(nb)
    replaced = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                outputs += explorer_outputs(out, models)
                replaced += 1
            else:
                outputs.append(out)
        cell["outputs"] = outputs
    nb.get("metadata", {}).pop("widgets", None)  # nothing left for widget JavaScript to draw
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return replaced


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
    entries = "\n".join(p.with_suffix("").as_posix() for p in pages)
    return f"\n```{{toctree}}\n:caption: Chapters and exercises\n:maxdepth: 1\n\n{entries}\n```\n"


def stage(staging: Path, root: Path = ROOT) -> list[Path]:
    """Lay out the Sphinx source folder; return the pages in course order."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(HERE, staging, ignore=shutil.ignore_patterns("build.py", "__pycache__"))
    pages = course_pages(root)
    with open(staging / "index.md", "a", encoding="utf-8") as index:
        index.write(toc(pages))
    for rel in pages:
        prepare_notebook(root / rel, staging / rel)
    copy_mathjax(staging / "_static" / "mathjax")
    return pages


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
