"""report.py's command line: arguments -> load -> compare -> tables -> render -> an exit code.

Exit 0: nothing gated is slower (also: not gated at all, with the reason on a `Not gated:` line).
1: a gated benchmark is slower, and nothing else went wrong. 2: bad input or usage, one line `report.py: error: ...`.
3: anything unexpected, one line (the traceback only with --debug).
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from reporting import EXIT_BAD_INPUT, EXIT_INTERNAL, ROOT, BadInput, html, inputs, plots
from reporting.args import Parser, percentage
from reporting.calibrate import find_calibration
from reporting.compare import compare
from reporting.csvout import render_csv
from reporting.escape import for_terminal, for_terminal_lines
from reporting.history import beside
from reporting.model import Report
from reporting.output import MARKER, publish
from reporting.render import render_markdown, render_summary
from reporting.sections import SECTIONS
from reporting.sections.base import Context
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


def build(args: argparse.Namespace) -> Report:
    """Load the runs and what they are judged against, then every section's rows, then the verdict."""
    cur = inputs.current(args)
    base = inputs.baseline(args, cur, ROOT / "baselines")
    partial, history, history_notes = beside(cur.runs[-1], base.runs, args.history)
    calibration: tuple[str | None, dict] = (None, {})
    if base.runs:
        path, thresholds, why_none = find_calibration(args.calibration, ROOT / "baselines", base.machine, cur.fingerprint)
        calibration = (path or why_none, thresholds)
    cmp = compare(cur.runs, base.runs, cur.fingerprint, base.note, (args.threshold, args.firstcall_threshold),
                  calibration)
    current = {name: bench for run in cur.runs for name, bench in run.benches.items()}
    ctx = Context(current, matmul_peaks(current), cur.processes, cmp, history, ROOT / "models")
    r = Report(runs=[str(p) for p in cur.paths], current=current, notes=cur.notes + history_notes,
               rows={section.name: section.rows(ctx) for section in SECTIONS}, partial=partial,
               warnings=[f"not gated: {reason}" for reason in cmp.busy],
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
