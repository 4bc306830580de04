"""``coursekit report``: what a gradebook says about the class, and exports a learning-management system takes.

Read from ``OUT/gradebook.csv`` (as ``coursekit grade`` keeps it across runs):

- per exercise and part: the mean, the share with full marks, the
  distribution of points, and for the most failed parts the most common
  first failing case (from the rows' ``first_failures``);
- pairs of students whose code is identical or nearly so (see
  :mod:`coursekit.grading.similarity`), for a human to look at;
- ``--canvas FILE``: Canvas's gradebook CSV (Student, ID, SIS User ID, SIS
  Login ID, Section, one column per exercise, a "Points Possible" row);
- ``--moodle FILE``: a CSV for Moodle's "Import grades: CSV file"
  (Username, one column per exercise, its feedback).

The student is the gradebook's ``student`` (the submission folder's name),
given to Canvas as the SIS login and to Moodle as the username.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from coursekit.exercises.spec import EXERCISES
from coursekit.grading import similarity
from coursekit.grading.gradebook import open_folder, read_rows, read_text, write_file


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def load(out: Path | str) -> list[dict[str, str]]:
    fd = open_folder(out, what="gradebook folder") if Path(out).exists() else None
    if fd is None:
        raise FileNotFoundError(f"no gradebook folder {out} (run coursekit grade first)")
    try:
        text = read_text(fd, "gradebook.csv")
    finally:
        os.close(fd)
    if text is None:
        raise FileNotFoundError(f"no gradebook.csv in {out} (run coursekit grade first)")
    return read_rows(text)


def _first_failures(text: str) -> dict[str, str]:
    out = {}
    for item in text.split("; "):
        pid, sep, rest = item.partition(": ")
        if sep and rest.startswith("case "):
            out[pid] = rest
    return out


def part_stats(rows: Sequence[dict[str, str]], exercises: Mapping[str, list]) -> list[dict]:
    """One dict per (exercise, part) present: n, mean, full (share), distribution, most common first failure."""
    stats = []
    for name, parts in exercises.items():
        mine = [r for r in rows if r.get("exercise") == name]
        if not mine:
            continue
        for p in parts:
            points = [v for v in (_float(r.get(p.id, "")) for r in mine) if v is not None]
            if not points:
                continue
            firsts: Counter = Counter()  # by case number; the most common words for it
            words: dict[str, Counter] = {}
            for r in mine:
                fail = _first_failures(r.get("first_failures", "")).get(p.id)
                if fail and _float(r.get(p.id, "")) != p.points:
                    case, _, text = fail.partition(": ")
                    firsts[case] += 1
                    words.setdefault(case, Counter())[text] += 1
            stats.append({
                "exercise": name, "part": p.id, "title": p.title, "points": p.points, "n": len(points),
                "mean": sum(points) / len(points), "full": sum(v == p.points for v in points) / len(points),
                "distribution": sorted(Counter(points).items()),
                "first_failure": [(f"{case}: {words[case].most_common(1)[0][0]}", n)
                                  for case, n in firsts.most_common(1)],
            })
    return stats


def flags(rows: Sequence[dict[str, str]]) -> list[similarity.Flag]:
    return similarity.similar_pairs([(r.get("student", ""), r.get("exercise", ""),
                                      similarity.decode(r.get("code", ""))) for r in rows])


def report_text(rows: Sequence[dict[str, str]], exercises: Mapping[str, list] = EXERCISES, *, worst: int = 3) -> str:
    lines = ["# Grading report", ""]
    stats = part_stats(rows, exercises)
    for name in exercises:
        mine = [r for r in rows if r.get("exercise") == name]
        if not mine:
            continue
        totals = [v for v in (_float(r.get("total", "")) for r in mine) if v is not None]
        top = sum(p.points for p in exercises[name])
        errors = sum(bool(r.get("errors")) for r in mine)
        late = sum(bool(r.get("late")) for r in mine)
        lines += [f"## {name}: {len(mine)} students, mean {sum(totals) / max(len(totals), 1):.2f} / {top}"
                  f" ({errors} rows with errors, {late} late)", "",
                  "| part | mean | full marks | points: students |", "|---|---|---|---|"]
        for s in (s for s in stats if s["exercise"] == name):
            dist = ", ".join(f"{v:g}: {c}" for v, c in s["distribution"])
            lines.append(f"| {s['part']} {s['title']} | {s['mean']:.2f} / {s['points']} | {100 * s['full']:.0f} % "
                         f"| {dist} |")
        lines.append("")
        failed = sorted((s for s in stats if s["exercise"] == name and s["full"] < 1),
                        key=lambda s: (s["mean"] / s["points"], s["part"]))[:worst]
        if failed:
            lines += ["Most failed parts, and their most common first failing case:", ""]
            for s in failed:
                common = (f"first failing case most often {s['first_failure'][0][0]} "
                          f"({s['first_failure'][0][1]} of them)"
                          if s["first_failure"] else "no case failed (missing or crashed)")
                lines.append(f"- {s['part']} {s['title']}: {100 * (1 - s['full']):.0f} % without full marks; {common}")
            lines.append("")
    found = flags(rows)
    lines += ["## Similar code (for a human to look at; not a verdict)", ""]
    lines += [f"- {f.exercise}: {f.a} and {f.b}: {f.why}" for f in found] or ["- none flagged"]
    lines.append("")
    return "\n".join(lines)


def _grid(rows: Sequence[dict[str, str]], exercises: Mapping[str, list]) -> tuple[list[str], dict[str, dict]]:
    names = [n for n in exercises if any(r.get("exercise") == n for r in rows)]
    by: dict[str, dict[str, dict[str, str]]] = {}
    for r in rows:
        by.setdefault(r.get("student", ""), {})[r.get("exercise", "")] = r
    return names, by


def canvas_csv(rows: Sequence[dict[str, str]], exercises: Mapping[str, list] = EXERCISES) -> str:
    """Canvas's gradebook import format: one row per student, one column per exercise."""
    names, by = _grid(rows, exercises)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names])
    w.writerow(["    Points Possible", "", "", "", "", *(sum(p.points for p in exercises[n]) for n in names)])
    for student in sorted(by):
        w.writerow([student, "", "", student, "", *(by[student][n]["total"] if n in by[student] else ""
                                                     for n in names)])
    return buf.getvalue()


def moodle_csv(rows: Sequence[dict[str, str]], exercises: Mapping[str, list] = EXERCISES) -> str:
    """For Moodle's CSV grade import: Username, then each exercise's points and its feedback."""
    names, by = _grid(rows, exercises)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Username", *(c for n in names for c in (n, f"{n} feedback"))])
    for student in sorted(by):
        cells = []
        for n in names:
            r = by[student].get(n)
            cells += ["", ""] if r is None else [
                r["total"], f"{r['total']} / {r['max']} points" + (f"; {r['late']}" if r.get("late") else "")]
        w.writerow([student, *cells])
    return buf.getvalue()


def _export(path: str, text: str) -> None:
    target = Path(path)
    fd = open_folder(target.parent if str(target.parent) else Path("."), what="export folder")
    try:
        write_file(fd, target.name, text.encode("utf-8"))
    finally:
        os.close(fd)


def make_report(out: Path | str, *, canvas: str | None = None, moodle: str | None = None) -> str:
    """Write ``out/report.md`` (and the exports asked for); return the report's text."""
    rows = load(out)
    text = report_text(rows)
    fd = open_folder(out)
    try:
        write_file(fd, "report.md", text.encode("utf-8"))
    finally:
        os.close(fd)
    if canvas:
        _export(canvas, canvas_csv(rows))
    if moodle:
        _export(moodle, moodle_csv(rows))
    return text


def run(args: argparse.Namespace) -> int:
    text = make_report(args.out, canvas=args.canvas, moodle=args.moodle)
    print(text)
    print(f"wrote {Path(args.out) / 'report.md'}" + "".join(f" and {p}" for p in (args.canvas, args.moodle) if p))
    return 0


def register(sub) -> None:
    p = sub.add_parser("report")
    p.add_argument("--out", default="gradebook", help="the gradebook folder (default ./gradebook)")
    p.add_argument("--canvas", metavar="FILE", help="also write a Canvas gradebook import CSV")
    p.add_argument("--moodle", metavar="FILE", help="also write a Moodle grade import CSV")
    p.set_defaults(func=run)
