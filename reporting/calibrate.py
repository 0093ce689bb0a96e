"""A/A calibration: how far apart runs of the same code land on this machine, per benchmark.

    python -m reporting.calibrate RUN.json RUN.json ... [--threshold PCT] [--margin PCT] [--out-dir DIR]

The runs (`make calibrate`: CAL_RUNS runs of the quick set, one after another) must come from one
machine; they are taken in the order they ran (their pytest-benchmark datetime). Per steady
benchmark and per number of runs a side k (1, and 2 .. CAL_RUNS / 2):

* k = 1 (report.py RUN --baseline RUN): the spread, the largest ratio of two runs' fastest rounds
  - 1 over all ordered pairs;
* k >= 2 (make compare, make regress's confirmation): the largest ratio of the two sides' fastest
  rounds - 1, and of their median runs' fastest rounds - 1, over every window of 2k consecutive
  runs split every way into two sides of k (reporting.stats.window_spread_pct), as make compare
  alternates base and head;

the threshold to gate it with (spread + margin, floored at --threshold), the share of ordered A/A
pairs the single-run threshold still calls a slow-down, and the smallest slow-down the gate is
sure to see. Written to <out-dir>/<machine-id>/calibration-<fingerprint hash>.json with the
fingerprint inside; report.py and reporting.ab use it when the current run's fingerprint matches.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reporting import EXIT_BAD_INPUT, EXIT_OK, ROOT, BadInput
from reporting.args import Parser, percentage
from reporting.load import Run, check_distinct, load_run
from reporting.machine import calibration_path, fingerprint_hash, same_machine
from reporting.stats import detectable_pct, false_alarm_rate, spread_pct, window_spread_pct
from reporting.storage import machine_id

MAX_RUNS_A_SIDE = 5  # k calibrated: 1 .. min(this, runs // 2); more runs a side use the threshold for 5
MARGIN = 3.0  # percentage points above the observed A/A spread: a few runs underestimate its range
STATISTIC = "min"  # Bench.min_s: each run's fastest round


def calibrate(runs: list[Run], floor: float, margin: float) -> dict[str, dict]:
    values: dict[str, list[float]] = {}
    for run in sorted(runs, key=lambda r: r.datetime):
        for name, b in run.benches.items():
            if b.get("phase") == "steady":
                values.setdefault(name, []).append(b.min_s)
    rows = {}
    for name, v in sorted(values.items()):
        if len(v) < 2:
            continue
        spread = spread_pct(v)
        assert spread is not None  # two runs or more
        threshold = max(floor, spread + margin)
        by_runs = {}
        for k in range(2, min(MAX_RUNS_A_SIDE, len(v) // 2) + 1):
            w, m = window_spread_pct(v, k), window_spread_pct(v, k, "median")
            assert w is not None and m is not None  # k <= len(v) // 2: there are 2k runs
            tw, tm = max(floor, w + margin), max(floor, m + margin)
            by_runs[str(k)] = {"spread_pct": w, "threshold_pct": tw, "median_spread_pct": m, "median_threshold_pct": tm,
                               "detectable_pct": max(detectable_pct(w, tw), detectable_pct(m, tm))}
        rows[name] = {"runs": len(v), "spread_pct": spread, "threshold_pct": threshold,
                      "false_alarm_rate": false_alarm_rate(v, threshold),
                      "detectable_pct": detectable_pct(spread, threshold), "runs_a_side": by_runs}
    return rows


def table(rows: dict[str, dict]) -> str:
    ks = sorted({int(k) for x in rows.values() for k in x["runs_a_side"]})
    extra = "".join(f" {f'{k} a side':>17}" for k in ks)
    lines = [f"{'benchmark':70} {'runs':>4} {'spread':>8} {'threshold':>9} {'false alarms':>12} {'detects':>8}{extra}",
             f"{'':70} {'':4} {'(1 run a side)':>40}" + "".join(f" {'fast+med / detects':>17}" for _ in ks)]
    for name, x in rows.items():
        cols = "".join(f" {_pair(x['runs_a_side'].get(str(k))):>17}" for k in ks)
        lines.append(f"{name[-70:]:70} {x['runs']:4d} {x['spread_pct']:7.1f}% {x['threshold_pct']:8.1f}% "
                     f"{x['false_alarm_rate']:12.1%} {x['detectable_pct']:7.1f}%{cols}")
    return "\n".join(lines)


def _pair(cell: dict | None) -> str:
    """'fastest+median run thresholds / detectable slow-down' for k runs a side."""
    if not cell:
        return "-"
    return f"{cell['threshold_pct']:.0f}+{cell['median_threshold_pct']:.0f}% / {cell['detectable_pct']:.0f}%"


def _read_calibration(path: Path) -> tuple[dict, dict[str, dict[int, tuple[float, float]]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf8"))
        thresholds = {name: {1: (float(x["threshold_pct"]),) * 2,
                             **{int(k): (float(c["threshold_pct"]), float(c["median_threshold_pct"]))
                                for k, c in x.get("runs_a_side", {}).items()}}
                      for name, x in doc["benchmarks"].items()}
        stored_fp = doc["fingerprint"]
        if not isinstance(stored_fp, dict):
            raise TypeError("fingerprint is not an object")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(path, f"not a calibration file ({type(exc).__name__}: {exc})") from None
    return stored_fp, thresholds


def matches(stored_fp: dict, fp: dict) -> bool:
    """Every field the calibration recorded agrees (a field a newer suite adds is unknown there)."""
    return all(fp.get(k) == v for k, v in stored_fp.items())


def find_calibration(explicit: Path | None, folder: Path, machine: str | None,
                     fp: dict) -> tuple[str | None, dict[str, dict[int, tuple[float, float]]], str]:
    """(path used, {benchmark: {runs a side: (fastest, median run) threshold %}}, note) of the
    calibration matching fingerprint `fp`: --calibration FILE, else the one in
    baselines/<machine-id>/ whose recorded fingerprint fields all agree with `fp`."""
    if explicit is not None:
        if not explicit.is_file():
            raise BadInput(explicit, "no such calibration file")
        stored_fp, thresholds = _read_calibration(explicit)
        if not matches(stored_fp, fp):
            return None, {}, f"{explicit} is for another machine fingerprint ({fingerprint_hash(stored_fp)}); not used"
        return str(explicit), thresholds, ""
    candidates = sorted((folder / machine).glob("calibration-*.json")) if machine else []
    exact = [calibration_path(folder, machine, fp)] if machine is not None else []
    for path in exact + candidates:
        if path.is_file():
            stored_fp, thresholds = _read_calibration(path)
            if matches(stored_fp, fp):
                return str(path), thresholds, ""
    return None, {}, "none for this machine fingerprint (`make calibrate` makes one); --threshold used"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog="python -m reporting.calibrate", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN.json", help="A/A runs of the same code on this machine")
    p.add_argument("--threshold", type=percentage, default=10.0, metavar="PCT", help="floor (default 10)")
    p.add_argument("--margin", type=float, default=MARGIN, metavar="PCT", help=f"above the spread (default {MARGIN:g})")
    p.add_argument("--out-dir", type=Path, default=ROOT / "baselines", metavar="DIR")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> Path:
    paths = [Path(p) for p in args.runs]
    runs = [load_run(p) for p in paths]
    check_distinct(paths, runs)
    if len(runs) < 2:
        raise BadInput(paths[0], "one run has no A/A spread: give at least two")
    fp = same_machine(runs, "calibration")
    rows = calibrate(runs, args.threshold, args.margin)
    print(table(rows))
    path = calibration_path(args.out_dir, machine_id(paths[0], runs[0].machine_info) or "unknown-machine", fp)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"fingerprint": fp, "statistic": STATISTIC, "floor_pct": args.threshold, "margin_pct": args.margin,
           "runs": [str(p) for p in paths], "benchmarks": rows}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf8")
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        path = run(args)
    except (BadInput, OSError) as exc:
        print(f"calibrate: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"\nWrote {path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
