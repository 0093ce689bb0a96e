"""Stored runs as the history plot and the partial-run check need them, through a small index.

Parsing 200 stored runs (330 MB with raw rounds) takes seconds; their medians do not change. So
`<storage>/<machine-id>/.report-index.json` keeps, per run file (keyed by name, size and mtime),
its datetime, commit and each benchmark's median, fastest round and ids. report.py re-reads only
files that are new or changed, drops entries of deleted files, and rewrites the index atomically.
The index lives only beside pytest-benchmark's own storage (a folder inside `.benchmarks/`);
other folders (baselines/, copies) are read without one. A broken index is rebuilt, never trusted.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from reporting import BadInput
from reporting.load import DATA_RE, ID_FIELDS, Run, parse_bench, parse_json
from reporting.storage import RUN_GLOB

INDEX = ".report-index.json"
VERSION = 1
FIELDS = ("median", "min", "name") + ID_FIELDS  # one benchmark's entry, a list in this order


@dataclass
class Summary:
    """One stored run: its benchmarks' medians and ids, and when it ran."""
    path: Path
    datetime: str | None
    commit: str | None
    benches: dict[str, dict]  # fullname -> dict over FIELDS


def _file_key(path: Path) -> list:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def summarize(path: Path) -> dict | str:
    """A run file -> its index entry, or the one-line error (picklable, for a process pool)."""
    try:
        text = path.read_bytes().decode("utf8")
        try:
            doc = parse_json(DATA_RE.sub('"data": null', text))  # medians only: skip the raw rounds
        except ValueError:
            doc = parse_json(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"{path}: not a readable pytest-benchmark run ({type(exc).__name__})"
    raw = doc.get("benchmarks") if isinstance(doc, dict) else None
    if not isinstance(raw, list) or not raw:
        return f"{path}: not a pytest-benchmark run (no 'benchmarks' list)"
    try:
        benches = [parse_bench(x, i, path) for i, x in enumerate(raw)]
    except BadInput as exc:
        return str(exc)
    commit = doc.get("commit_info") if isinstance(doc.get("commit_info"), dict) else {}
    return {"key": _file_key(path), "datetime": doc.get("datetime"), "commit": commit.get("id"),
            "benches": {b.fullname: [b.median, b.min_s, b.name] + [b.get(k) for k in ID_FIELDS] for b in benches}}


def _summarize_all(paths: list[Path]) -> list[dict | str]:
    if len(paths) < 16 or (os.cpu_count() or 1) < 2:
        return [summarize(p) for p in paths]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(os.cpu_count() or 1, 4)) as pool:
        return list(pool.map(summarize, paths, chunksize=8))


def persistent(folder: Path) -> bool:
    return folder.parent.name == ".benchmarks"


def _read_index(folder: Path) -> dict:
    try:
        doc = json.loads((folder / INDEX).read_text(encoding="utf8"))
    except (OSError, ValueError):
        return {}
    return doc.get("runs", {}) if isinstance(doc, dict) and doc.get("version") == VERSION else {}


def _write_index(folder: Path, runs: dict) -> None:
    tmp = folder / f"{INDEX}.tmp-{os.getpid()}"
    try:
        tmp.write_text(json.dumps({"version": VERSION, "runs": runs}, separators=(",", ":")), encoding="utf8")
        os.replace(tmp, folder / INDEX)
    except OSError:  # a read-only storage: report without the index
        tmp.unlink(missing_ok=True)


def _entries(folder: Path, paths: list[Path]) -> tuple[dict, dict[str, str]]:
    """file name -> index entry for `paths` (all in `folder`), refreshing what changed; and file name
    -> the one-line problem of each run that cannot be read."""
    index = _read_index(folder) if persistent(folder) else {}
    todo = [p for p in paths if index.get(p.name, {}).get("key") != _file_key(p)]
    broken = {}
    for path, entry in zip(todo, _summarize_all(todo), strict=False):
        if isinstance(entry, str):
            broken[path.name] = entry
            index.pop(path.name, None)
        else:
            index[path.name] = entry
    names = {p.name for p in paths} - set(broken)
    if persistent(folder) and (todo or set(index) - names):
        _write_index(folder, {n: e for n, e in index.items() if n in names})
    return index, broken


def summaries(paths: list[Path], skipped: list[str] | None = None) -> list[Summary]:
    """The runs in `paths`, in that order (each folder's index used and kept up to date). A run that
    cannot be read is left out; its one-line problem goes to `skipped` (BadInput when not given)."""
    by_folder: dict[Path, list[Path]] = {}
    for p in paths:
        by_folder.setdefault(p.parent, []).append(p)
    entries, errors = {}, {}
    for folder, files in by_folder.items():
        index, broken = _entries(folder, files)
        errors.update({folder / name: problem for name, problem in broken.items()})
        entries.update({folder / f.name: index[f.name] for f in files if f.name not in broken})
    if errors and skipped is None:
        raise BadInput(*next(iter(errors.values())).split(": ", 1))
    if skipped is not None:
        skipped.extend(errors.values())
    return [Summary(p, entries[p]["datetime"], entries[p]["commit"],
                    {k: dict(zip(FIELDS, v, strict=False)) for k, v in entries[p]["benches"].items()})
            for p in paths if p in entries]


def partial_note(current: Path, names: set[str], stored: list[Summary]) -> str:
    """One line when the current run holds fewer benchmarks than the newest full run stored beside it
    (full = the most benchmarks of any stored run), else ""."""
    others = [s for s in stored if s.path.resolve() != current.resolve()]
    if not others:
        return ""
    most = max(len(s.benches) for s in others)
    full = [s for s in others if len(s.benches) == most][-1]
    if len(names) >= most:
        return ""
    return (f"Partial run: {len(names & set(full.benches))} of the {most} benchmarks of the last full run "
            f"({full.path.name}, {full.datetime or 'no date'}); its plots and tables show only these.")


def beside(current: Run, baseline: list[Run], with_history: bool) -> tuple[str, list[tuple] | None, list[str]]:
    """The partial-run line of the newest current run, and with --history the timeline of the runs
    stored beside it and the baseline runs (and a note when there is too little of it)."""
    stored = sorted(current.path.parent.glob(RUN_GLOB), key=lambda f: f.name)
    if not with_history and current.path not in stored:
        return "", None, []
    broken: list[str] = []
    stored_runs = summaries(stored or [current.path], broken)
    partial = partial_note(current.path, set(current.benches), stored_runs) if current.path in stored else ""
    notes = [f"stored beside it, left out: {problem}" for problem in broken]
    if not with_history:
        return partial, None, notes
    if len(stored_runs) < 2:
        notes.append(f"history: only {len(stored_runs)} run in {current.path.parent}; no history plot")
    return partial, timeline(stored_runs, summaries([b.path for b in baseline])), notes


@dataclass
class Point:
    x: int  # position on the timeline
    relative: float  # median / the benchmark's own median over the timeline
    median: float
    name: str
    framework: str
    mode: str
    baseline: bool


def timeline(stored: list[Summary], baselines: list[Summary]) -> list[tuple[Summary, bool]]:
    """Stored runs and baseline runs (marked True) oldest first, by datetime then file name."""
    seen = {s.path.resolve() for s in stored}
    runs = [(s, False) for s in stored] + [(b, True) for b in baselines if b.path.resolve() not in seen]
    marked = {b.path.resolve() for b in baselines}
    runs = [(s, flag or s.path.resolve() in marked) for s, flag in runs]
    return sorted(runs, key=lambda x: (x[0].datetime or "", x[0].path.name))


def tick_label(s: Summary) -> str:
    date = (s.datetime or "")[5:16].replace("T", " ")  # MM-DD HH:MM
    return f"{date}\n{(s.commit or '')[:7]}".strip()


def series(line: list[tuple[Summary, bool]]) -> dict[tuple, dict[str, list[Point]]]:
    """(workload, phase) -> fullname -> its points along the timeline."""
    out: dict[tuple, dict[str, list[Point]]] = {}
    for x, (s, is_base) in enumerate(line):
        for fullname, b in s.benches.items():
            points = out.setdefault((b["workload"], b["phase"]), {}).setdefault(fullname, [])
            points.append(Point(x, 0.0, b["median"], b["name"], b["framework"], b["mode"], is_base))
    for by_name in out.values():
        for points in by_name.values():
            mid = sorted(p.median for p in points)[len(points) // 2]
            for p in points:
                p.relative = p.median / mid
    return out
