"""``coursekit lab``: open JupyterLab on the student's own working copies of the course.

The committed notebooks are the course; a student works in ``my-work/`` (git-ignored),
laid out like the course (``my-work/notebooks/``, ``my-work/exercises/``) so the links
between chapters and exercises still work. Every start copies in what is missing there
(everything on the first run, a chapter or exercise added upstream later) and never
overwrites a file that is already there. ``--fresh PATH`` replaces one working copy with
a new copy of the course's notebook, keeping the old one as ``NAME.old.ipynb``. When the
course's version of a notebook changed since it was copied (a ``git pull``), the start
says so and how to get the new version; ``my-work/.copied.json`` remembers what was copied.

Every other argument goes to JupyterLab unchanged and in order, so both
``--port 8899`` and ``--port=8899`` work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from coursekit.paths import course_root, work_dir

# What a student gets a copy of: the chapters and the student exercises (never the solutions).
COPIED = ("notebooks", "exercises")
SKIP_NAMES = {".ipynb_checkpoints", "__pycache__", "source"}  # exercises/source holds the solutions


def course_files(root: Path) -> list[Path]:
    """Files of the course a student gets a copy of, relative to ``root``, in course order."""
    files = []
    for top in COPIED:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not SKIP_NAMES.intersection(rel.parts):
                files.append(rel)
    return files


MANIFEST = ".copied.json"  # in the working folder: {path: sha256 of the course's file when copied}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(work: Path) -> dict[str, str]:
    try:
        data = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(work: Path, copied: dict[str, str]) -> None:
    if copied:
        (work / MANIFEST).write_text(json.dumps({**_manifest(work), **copied}, indent=1, sort_keys=True) + "\n",
                                     encoding="utf-8")


def fill_working_copies(root: Path, work: Path) -> list[Path]:
    """Copy every course file that ``work`` does not have yet; return what was copied (relative)."""
    copied = []
    for rel in course_files(root):
        target = work / rel
        if target.exists():
            continue  # the student's copy: never overwritten
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
        copied.append(rel)
    _remember(work, {rel.as_posix(): _digest(root / rel) for rel in copied})
    return copied


def changed_upstream(root: Path, work: Path) -> list[Path]:
    """Notebooks whose course version changed since the working copy was made from it."""
    known = _manifest(work)
    return [rel for rel in course_files(root)
            if rel.suffix == ".ipynb" and rel.as_posix() in known and (work / rel).exists()
            and known[rel.as_posix()] != _digest(root / rel)]


def resolve_fresh(root: Path, name: str) -> Path:
    """The course notebook ``name`` names, relative to ``root``.

    ``name`` is a path as it appears in the working folder (``exercises/05_initialization.ipynb``),
    with or without ``my-work/`` in front and with or without ``.ipynb``.
    """
    rel = Path(name)
    if rel.parts and rel.parts[0] == work_dir(root).name:
        rel = Path(*rel.parts[1:])
    if rel.suffix != ".ipynb":
        rel = rel.with_name(rel.name + ".ipynb")
    known = [p for p in course_files(root) if p.suffix == ".ipynb"]
    if rel in known:
        return rel
    matches = [p for p in known if p.name == rel.name] if len(rel.parts) == 1 else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"--fresh {name!r} is ambiguous: say which, e.g. "
                         + " or ".join(f"--fresh {m.as_posix()}" for m in matches))
    raise ValueError(f"--fresh {name!r}: no such notebook in the course; valid names look like "
                     f"{known[0].as_posix() if known else 'notebooks/01_neurons.ipynb'}")


def refresh(root: Path, work: Path, rel: Path) -> Path | None:
    """Put a new copy of the course's ``rel`` into ``work``; the old copy becomes ``NAME.old.ipynb``.

    Returns where the old copy went (None when there was none).
    """
    target = work / rel
    old = None
    if target.exists():
        old = target.with_name(target.stem + ".old" + target.suffix)
        os.replace(target, old)  # replaces an older .old copy
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / rel, target)
    _remember(work, {rel.as_posix(): _digest(root / rel)})
    return old


def _allows_root(extra: list[str]) -> bool:
    return any("allow_root" in a or "allow-root" in a for a in extra)


#: JupyterLab's defaults for the course: no "get notified about Jupyter news?" toast covering the
#: explorers on a fresh start, no update check (a student cannot act on either, and both go online).
QUIET_SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
SETTINGS_DIR = ".lab-settings"  # in the working folder: JupyterLab's app settings (overrides.json)


def quiet_settings_dir(work: Path) -> Path:
    """An app-settings folder whose ``overrides.json`` turns the news toast and update check off.

    JupyterLab reads default overrides from its app-settings folder; anything already in the
    environment's own folder (``share/jupyter/lab/settings``) is copied in first and its
    overrides kept, so only these two settings change. A student's own settings still win.
    """
    target = work / SETTINGS_DIR
    target.mkdir(parents=True, exist_ok=True)
    default = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    overrides: dict = {}
    if default.is_dir():
        for item in default.iterdir():
            if item.name == "overrides.json":
                try:
                    overrides = json.loads(item.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    overrides = {}
            elif item.is_file():
                shutil.copy2(item, target / item.name)
    for plugin, values in QUIET_SETTINGS.items():
        overrides[plugin] = {**overrides.get(plugin, {}), **values}
    (target / "overrides.json").write_text(json.dumps(overrides, indent=1) + "\n", encoding="utf-8")
    return target


def _given(extra: list[str], name: str) -> bool:
    return any(a.lstrip("-").split("=", 1)[0].endswith(name) for a in extra)


def lab_argv(extra: list[str], *, root: Path | None = None) -> list[str]:
    """The command that serves the working folder; ``extra`` goes to JupyterLab as given."""
    root = root or course_root()
    work = work_dir(root)
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={work}"]
    if not _given(extra, "check_for_updates_class"):
        argv.append("--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    if not _given(extra, "news_url"):
        argv.append("--LabApp.news_url=")
    if not _given(extra, "app_settings_dir"):
        argv.append(f"--LabApp.app_settings_dir={work / SETTINGS_DIR}")  # filled by quiet_settings_dir
    first = work / "notebooks" / "01_neurons.ipynb"
    chapters = sorted((work / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if first.exists() or chapters:
        argv.append((first if first.exists() else chapters[0]).relative_to(work).as_posix())
    if hasattr(os, "geteuid") and os.geteuid() == 0 and not _allows_root(extra):
        # JupyterLab refuses to start as root; containers and fresh VMs often are root
        argv.append("--ServerApp.allow_root=True")
    return argv + list(extra)


def prepare(root: Path, fresh: list[str]) -> Path:
    """Fill the working folder, apply ``--fresh``; print what happened. Returns the folder."""
    work = work_dir(root)
    targets = [resolve_fresh(root, name) for name in fresh]  # all names valid before any change
    new = fill_working_copies(root, work)
    shown = os.path.relpath(work, Path.cwd()) if work.is_relative_to(Path.cwd()) else str(work)
    if new:
        print(f"coursekit lab: copied {len(new)} notebook(s) and file(s) into {shown}/: "
              + ", ".join(p.as_posix() for p in new[:6]) + (" ..." if len(new) > 6 else ""))
    for rel in targets:
        if rel in new:
            continue  # just copied: already fresh
        old = refresh(root, work, rel)
        kept = f" (your previous copy is now {old.relative_to(work).as_posix()})" if old else ""
        print(f"coursekit lab: fresh copy of {rel.as_posix()}{kept}")
    for rel in changed_upstream(root, work):
        print(f"coursekit lab: the course's {rel.as_posix()} changed since your copy was made; your copy "
              f"is unchanged. For the new version: coursekit lab --fresh {rel.as_posix()}")
    print(f"coursekit lab: your work lives in {shown}/ (git-ignored); the course's own "
          "notebooks are not opened", flush=True)
    return work


def run(args: argparse.Namespace) -> int:
    root = course_root()
    work = prepare(root, args.fresh)
    argv = lab_argv(args.jupyter_args, root=root)
    quiet_settings_dir(work)
    print("coursekit lab:", " ".join(argv[1:]), flush=True)
    os.chdir(work)
    os.execv(argv[0], argv)  # replace this process: Ctrl-C goes straight to JupyterLab
    return 0  # pragma: no cover


def register(sub) -> None:
    # allow_abbrev=False: '--f' or '--fr' are JupyterLab's business, not a prefix of --fresh
    p = sub.add_parser("lab", allow_abbrev=False,
                       epilog="Every other argument goes to JupyterLab as given, e.g. "
                              "--no-browser --port 8899 (or --port=8899).")
    p.add_argument("--fresh", action="append", default=[], metavar="NOTEBOOK",
                   help="replace your working copy of NOTEBOOK (e.g. exercises/05_initialization.ipynb) "
                        "with a new copy of the course's; the old one is kept as NAME.old.ipynb")
    p.set_defaults(func=run, jupyter_args=[])
