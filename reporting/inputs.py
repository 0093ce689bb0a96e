"""What one report is made from, each file read once: the current runs with their repeated processes
and their machine's fingerprint, then the baseline runs they are judged against (reporting/cli.py's
first two steps; which files: reporting/storage.py; reading them: reporting/load.py)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from reporting import BadInput, probes
from reporting.load import Run, check_distinct, load_each, load_others, load_run
from reporting.machine import same_machine
from reporting.storage import PROCESS_GLOB, baseline_paths, default_baseline, machine_id, newest_run, processes_of, resolve_run


@dataclass(frozen=True)
class Current:
    """The runs being judged (one machine, the same code) and what was measured beside them."""
    paths: list[Path]
    runs: list[Run]
    fingerprint: dict  # their machine's one fingerprint (reporting.machine)
    processes: list[Run]  # the repeated fresh processes the JAX/PyTorch ratios are judged across
    notes: list[str]


@dataclass(frozen=True)
class Baseline:
    """The runs the current ones are judged against (none: `note` says why)."""
    runs: list[Run]
    note: str
    machine: str | None = None  # the machine id its calibration is looked for under


def current(args: argparse.Namespace) -> Current:
    """The RUN.json arguments (none: the newest run in .benchmarks/), checked distinct and from one
    machine, and the repeated processes (--processes, else <run>.processes/ beside the newest run),
    each checked; a broken process is named and left out."""
    notes = []
    paths = [resolve_run(a) for a in args.runs]
    if not paths:
        paths = [newest_run(Path(".benchmarks"))]
        notes.append(f"No RUN.json given: picked the newest run in .benchmarks/, {paths[0]}")
    folder = args.processes or processes_of(paths[-1])
    runs = [load_run(p) for p in paths]
    check_distinct(paths, runs)
    processes, problems = load_each(sorted(folder.glob(PROCESS_GLOB)) if folder.is_dir() else [])
    fingerprint = same_machine(runs, "current")
    if args.processes is not None and not folder.is_dir():
        raise BadInput(folder, "no such folder of repeated processes")
    if args.processes is not None and not processes:
        raise BadInput(folder, f"holds no readable repeated process ({PROCESS_GLOB})")
    if folder.is_dir():
        notes += [f"repeated process left out: {problem}" for problem in problems]
        notes.append(f"JAX/PyTorch ratios judged across the {len(processes)} repeated processes in {folder}")
    return Current(paths, runs, fingerprint, processes, notes)


def baseline(args: argparse.Namespace, cur: Current, folder: Path) -> Baseline:
    """--baseline PATH... (files, or storage folders: their runs for this machine), else every run
    for this machine in `folder` (baselines/); never a current run; of a folder, the newest machine's
    runs (reporting.probes.newest_machine); none with --no-baseline or no benchmark in common."""
    names = {name for run in cur.runs for name in run.benches}
    if args.no_baseline:
        if args.baseline:
            raise BadInput("--no-baseline", "cannot be given with --baseline")
        return Baseline([], "No baseline asked for (--no-baseline): the run is reported alone.")
    machine = machine_id(cur.paths[-1], cur.runs[-1].machine_info)
    if args.baseline:
        base_paths, note = [p for arg in args.baseline for p in baseline_paths(arg, machine, names)], ""
    else:
        base_paths, note = default_baseline(cur.paths[-1], folder, cur.runs[-1].machine_info, names)
    base, own = load_others(cur.paths, cur.runs, base_paths)
    if own and args.baseline and not base:
        raise BadInput(own[0], "is the run being judged: a run cannot be its own baseline")
    if own:
        note = "; ".join(filter(None, [note, f"baseline: left out {', '.join(own)}, the run being judged itself "
                                             "(a run never counts in its own baseline)"]))
    if base and (not args.baseline or any(Path(arg).is_dir() for arg in args.baseline)):
        base, older = probes.newest_machine(base)
        if older:
            note = "; ".join(filter(None, [note, (
                f"baseline: the newest {len(base)} run(s) of this selection and of the machine that measures like "
                f"them; {len(older)} older run(s) of a machine that measured otherwise left out "
                f"({', '.join(run.path.name for run in older)})")]))
    if base and not names & {name for run in base for name in run.benches}:
        if args.baseline:
            raise BadInput(base_paths[0], "baseline has no benchmark in common with "
                           + ", ".join(str(p) for p in cur.paths))
        return Baseline([], f"No baseline: the default {base_paths[0].parent} has no benchmark in common with this run.")
    return Baseline(base, note, machine)
