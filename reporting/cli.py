"""report.py's command line: arguments -> load -> compare -> tables -> render -> an exit code.

Exit 0: nothing gated is slower (also: not gated at all, with the reason on a `Not gated:` line).
1: a gated benchmark is slower, and nothing else went wrong. 2: bad input or usage, one line `report.py: error: ...`.
3: anything unexpected, one line (the traceback only with --debug).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from reporting import EXIT_BAD_INPUT, EXIT_INTERNAL, ROOT, BadInput, html, plots, probes
from reporting.args import Parser, percentage
from reporting.calibrate import find_calibration
from reporting.compare import Comparison, by_name, comparison_rows, gate_blockers
from reporting.csvout import render_csv
from reporting.escape import for_terminal, for_terminal_lines
from reporting.history import partial_note, summaries, timeline
from reporting.load import Run, check_distinct, load_run
from reporting.machine import busy_reason, machine_differences, same_machine
from reporting.model import Report
from reporting.output import MARKER, publish
from reporting.render import render_markdown, render_summary
from reporting.repeat import PROCESS_GLOB, processes_of
from reporting.sections import SECTIONS
from reporting.sections.base import Context
from reporting.storage import RUN_GLOB, baseline_paths, default_baseline, machine_id, newest_run, resolve_run
from reporting.tables import matmul_peaks
from reporting.verdict import verdict_of

PROG = "report.py"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog=PROG, description="Stored pytest-benchmark JSON -> tables, plots, CSV, verdicts, exit code.")
    p.add_argument("runs", nargs="*", metavar="RUN.json",
                   help="pytest-benchmark JSON files (or storage folders: their newest run) from one machine; "
                        "several are runs of the same code. Default: the newest run in .benchmarks/")
    p.add_argument("--baseline", metavar="PATH", action="append",
                   help="baseline JSON file, or storage folder (its runs for this machine); repeatable. "
                        "Default: every run for this machine in baselines/")
    p.add_argument("--no-baseline", action="store_true",
                   help="compare with no baseline (report the runs alone; the generated results page uses it)")
    p.add_argument("--out", default="report", metavar="DIR",
                   help="output folder, replaced as a whole; never an existing folder report.py did not write "
                        "(default report/)")
    p.add_argument("--threshold", default=10.0, type=percentage, metavar="PCT",
                   help="steady slow-down that counts as a regression, in %% (default 10; a calibrated "
                        "per-benchmark threshold for this machine is used where larger)")
    p.add_argument("--firstcall-threshold", default=25.0, type=percentage, metavar="PCT",
                   help="same for firstcall benchmarks, reported but not gated (default 25)")
    p.add_argument("--calibration", metavar="FILE", type=Path,
                   help="calibration file (default: baselines/<machine-id>/calibration-<fingerprint>.json)")
    p.add_argument("--processes", metavar="DIR", type=Path,
                   help="folder of repeated fresh processes (proc-*.json, python -m reporting.repeat) that every "
                        "JAX/PyTorch ratio is judged across. Default: <run>.processes/ beside the run, if any")
    p.add_argument("--history", action="store_true",
                   help="also plot every run stored next to the current one (history.png)")
    p.add_argument("--full", action="store_true", default=None,
                   help="print the whole report.md (default when stdout is not a terminal)")
    p.add_argument("--summary", action="store_false", dest="full",
                   help="print the short summary (default on a terminal)")
    p.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")
    return p.parse_args(argv)


def current_runs(args) -> tuple[list[Path], list[Run], list[str]]:
    notes = []
    paths = [resolve_run(a) for a in args.runs]
    if not paths:
        paths = [newest_run(Path(".benchmarks"))]
        notes.append(f"No RUN.json given: picked the newest run in .benchmarks/, {paths[0]}")
    runs = [load_run(p) for p in paths]
    check_distinct(paths, runs)
    return paths, runs, notes


def baseline_runs(args, paths: list[Path], runs: list[Run]) -> tuple[list[Run], str]:
    names = {name for run in runs for name in run.benches}
    if args.no_baseline:
        if args.baseline:
            raise BadInput("--no-baseline", "cannot be given with --baseline")
        return [], "No baseline asked for (--no-baseline): the run is reported alone."
    if args.baseline:
        machine = machine_id(paths[-1], runs[-1].machine_info)
        base_paths = [p for arg in args.baseline for p in baseline_paths(arg, machine, names)]
        note = ""
    else:
        base_paths, note = default_baseline(paths[-1], ROOT / "baselines", runs[-1].machine_info, names)
    base, own = _without_current(paths, runs, base_paths)
    if own:
        if args.baseline and not base:
            raise BadInput(own[0], "is the run being judged: a run cannot be its own baseline")
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
                           + ", ".join(str(p) for p in paths))
        return [], f"No baseline: the default {base_paths[0].parent} has no benchmark in common with this run."
    return base, note


def _without_current(paths: list[Path], runs: list[Run], base_paths: list[Path]) -> tuple[list[Run], list[str]]:
    """The baseline runs that are not a current run (by path or by content), and those left out."""
    own_paths = {os.path.realpath(p) for p in paths}
    own_digests = {run.digest for run in runs}
    base, own = [], []
    for p in base_paths:
        run = None if os.path.realpath(p) in own_paths else load_run(p)
        if run is None or run.digest in own_digests:
            own.append(str(p))
        else:
            base.append(run)
    return base, own


def repeated_processes(args, paths: list[Path]) -> tuple[list[Run], list[str]]:
    """The repeated processes the ratios are judged across (--processes, else <run>.processes/ beside
    the newest run), each checked; a broken one is named and left out."""
    folder = args.processes or processes_of(paths[-1])
    if args.processes is not None and not folder.is_dir():
        raise BadInput(folder, "no such folder of repeated processes")
    if not folder.is_dir():
        return [], []
    runs, notes = [], []
    for path in sorted(folder.glob(PROCESS_GLOB)):
        try:
            runs.append(load_run(path))
        except BadInput as exc:
            notes.append(f"repeated process left out: {exc}")
    if args.processes is not None and not runs:
        raise BadInput(folder, f"holds no readable repeated process ({PROCESS_GLOB})")
    return runs, notes + [f"JAX/PyTorch ratios judged across the {len(runs)} repeated processes in {folder}"]


def comparison(args, runs: list[Run], base: list[Run], cur_fp: dict, paths: list[Path], note: str) -> Comparison:
    """The current runs against the baseline runs (none: a comparison with no rows, and why)."""
    plain = Comparison(", ".join(str(run.path) for run in base) or None, note, args.threshold,
                       args.firstcall_threshold)
    if not base:
        return plain
    calibration, thresholds, cal_note = find_calibration(args.calibration, ROOT / "baselines",
                                                         machine_id(paths[-1], runs[-1].machine_info), cur_fp)
    base_fp = same_machine(base, "baseline")
    return Comparison(plain.baseline, note, args.threshold, args.firstcall_threshold,
                      rows=comparison_rows(by_name(runs), by_name(base), args.threshold, args.firstcall_threshold,
                                           thresholds),
                      blockers=gate_blockers(runs, base, cur_fp, base_fp),
                      machine_diff=machine_differences(runs[-1].machine_info, base[-1].machine_info),
                      calibration=calibration or cal_note, baseline_benches=by_name(base))


def stored_beside(args, paths: list[Path], runs: list[Run], base: list[Run]) -> tuple[str, list[tuple] | None, list[str]]:
    """The partial-run line, and with --history the timeline of stored and baseline runs (and a
    note when there is too little of it)."""
    stored = sorted(paths[-1].parent.glob(RUN_GLOB), key=lambda f: f.name)
    if not args.history and paths[-1] not in stored:
        return "", None, []
    broken: list[str] = []
    stored_runs = summaries(stored or paths, broken)
    partial = partial_note(paths[-1], set(runs[-1].benches), stored_runs) if paths[-1] in stored else ""
    notes = [f"stored beside it, left out: {problem}" for problem in broken]
    if not args.history:
        return partial, None, notes
    if len(stored_runs) < 2:
        notes.append(f"history: only {len(stored_runs)} run in {paths[-1].parent}; no history plot")
    return partial, timeline(stored_runs, summaries([b.path for b in base])), notes


def build(args: argparse.Namespace) -> Report:
    """Load the runs and what they are judged against, then every section's rows, then the verdict."""
    paths, runs, notes = current_runs(args)
    cur_fp = same_machine(runs, "current")
    base, baseline_note = baseline_runs(args, paths, runs)
    current = {name: bench for run in runs for name, bench in run.benches.items()}
    processes, process_notes = repeated_processes(args, paths)
    partial, history, history_notes = stored_beside(args, paths, runs, base)
    cmp = comparison(args, runs, base, cur_fp, paths, baseline_note)
    ctx = Context(current, matmul_peaks(current), processes, cmp, history, ROOT / "models")
    r = Report(runs=[str(p) for p in paths], current=current, notes=notes + process_notes + history_notes,
               rows={section.name: section.rows(ctx) for section in SECTIONS}, partial=partial,
               warnings=[f"not gated: {reason}" for run in runs + base if (reason := busy_reason(run))],
               previous=args.out.resolve() if (args.out / MARKER).is_file() else None)  # its unchanged PNGs are reused
    r.verdict = verdict_of(cmp.blockers, cmp.rows, cmp.baseline, cmp.note, r.runs)
    return r


def write_files(r: Report, folder: Path) -> tuple[str, bool]:
    """Every output into `folder`; returns report.md's text and whether index.html was written."""
    markdown = render_markdown(r)
    (folder / "report.md").write_text(markdown, encoding="utf8")
    (folder / "results.csv").write_text(render_csv(r), encoding="utf8")
    verdict = r.verdict
    assert verdict is not None  # build() sets it
    (folder / "slower.txt").write_text("".join(f"{for_terminal(name)}\n" for name in verdict.slower),
                                          encoding="utf8")  # pytest node ids, for a confirming re-run
    verdict.write(folder / "verdict.json")
    plots.render_plots(r, folder)
    return markdown, html.write_page(r, markdown, folder)


def run(args: argparse.Namespace) -> int:
    if not str(args.out).strip():
        raise BadInput("--out", "an empty folder name would be the current folder; name a folder of its own")
    args.out = Path(args.out)
    r = build(args)
    written: list[tuple[str, bool]] = []
    publish(args.out, lambda folder: written.append(write_files(r, folder)))
    markdown, page_written = written[0]
    full = not sys.stdout.isatty() if args.full is None else args.full
    print(for_terminal_lines(markdown if full else render_summary(r)), end="")
    page = (f"the page {args.out}/index.html" if page_written else
            "no index.html (plotly is not installed: pip install plotly for the page)")
    print(for_terminal_lines(f"\nWrote {args.out}/report.md, results.csv, verdict.json, the plots (*.png) "
                             f"and {page}"))
    assert r.verdict is not None  # build() sets it
    return r.verdict.exit_code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except BadInput as exc:
        print(for_terminal(f"{PROG}: error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - a bug or an exhausted machine: one line, exit 3
        if args.debug:
            traceback.print_exc()
        print(for_terminal(f"{PROG}: internal error: {type(exc).__name__}: {exc} "
                           "(run with --debug for the traceback)"), file=sys.stderr)
        return EXIT_INTERNAL
