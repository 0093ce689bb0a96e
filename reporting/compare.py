"""Verdicts of current runs against baseline runs, and whether the comparison may gate at all.

The words are make compare's (reporting.sequential): slower, faster, same, undecided, plus new and
missing. A benchmark is slower when the current side's gate statistic (the fastest round of its runs)
is slower than the baseline side's by more than its threshold, and, with several runs on both
sides, the median runs agree, or, with one run on a side, the slow-down is significant on the raw
rounds (reporting.stats.significance). Its thresholds are --threshold, or the ones calibrated on
this machine for that many runs a side when those are larger (never tighter than the benchmark's
own A/A spread). Faster is the mirror image. Same must be earned: the 95% interval of the ratio of
the medians (reporting.stats.ratio_interval, over every current/baseline pair) and the gate
statistic's change both lie inside +/- the smallest change that matters (--threshold, firstcall:
its own threshold), and no calibration found this machine's runs further apart than that (a
change inside a wide noise floor is never same); anything else is undecided. resolvable_pct: half
that interval's width, as reporting.sequential.Decision, or the calibrated threshold where that is
larger than --threshold (runs apart by that much: one run resolves no less); None without either.
firstcall benchmarks, benchmarks measured while other processes took the CPU, and memory (larger /
smaller / similar) get verdicts but do not set the exit code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reporting import probes
from reporting.load import Bench, Run
from reporting.machine import BUSY_SHARE, check
from reporting.stats import ALPHA_ROUNDS, Evidence, evidence

MEMORY_PCT = 10.0  # a memory change flagged when above this share ...
MEMORY_MIN_BYTES = 1 << 20  # ... and above this many bytes
ROW_COLUMNS = ["baseline_median_s", "baseline_min_s", "current_min_s", "baseline_runs", "baseline_spread_pct",
               "threshold_pct", "change_pct", "median_run_threshold_pct", "median_run_change_pct", "p_value",
               "interval_low_pct", "interval_high_pct", "resolvable_pct", "test", "gated", "not_gated", "verdict",
               "baseline_peak_memory_bytes", "memory_change_pct", "memory_verdict"]  # results.csv's, in its order


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def judge(ev: Evidence, limit: float, median_limit: float, matters: float) -> dict:
    """change (of the sides' gate statistics, "min"), p, test, interval and verdict for one benchmark.
    With several runs on both sides the sides' median runs must differ beyond `median_limit` too
    (why: docs/regression-gate.md); with one run a side, the rounds' significance test must agree.
    same: the ratio's interval and the change inside +/- `matters`, and the gate's thresholds no wider
    than `matters` (no calibrated noise floor above it); else undecided."""
    change, median_change, interval = ev.change_pct, ev.median_run_change_pct, ev.interval_pct
    assert change is not None and ev.slowest_change_pct is not None  # both sides have runs
    significant = ev.p_value is None or ev.p_value < ALPHA_ROUNDS
    how = ev.test
    if median_change is not None:
        how += f"; median run {median_change:+.1f}% vs threshold {median_limit:g}%"
        slower = change > limit and median_change > median_limit
        faster = change < -limit and median_change < -median_limit
    else:  # faster: the slowest current run beats the fastest baseline run
        slower = change > limit and significant
        faster = ev.slowest_change_pct < -limit and significant
    floor = max(limit, median_limit if median_change is not None else 0.0)  # the gate's noise floor
    widened = floor > matters  # a calibration found runs further apart than the smallest change that matters
    same = (interval is not None and not widened and -matters < interval[0] and interval[1] < matters
            and abs(change) < matters)
    verdict = "slower" if slower else "faster" if faster else "same" if same else "undecided"
    half = (interval[1] - interval[0]) / 2 if interval else None
    resolvable = max(half or 0.0, floor) if widened else half
    return {"change_pct": change, "median_run_change_pct": median_change, "p_value": ev.p_value, "test": how,
            "interval_low_pct": interval[0] if interval else None, "interval_high_pct": interval[1] if interval else None,
            "resolvable_pct": resolvable, "verdict": verdict}


def calibrated_limits(by_runs: dict[int, tuple[float, float]], k: int) -> tuple[float, float]:
    """The calibrated (fastest, median run) thresholds for k runs a side: those of the largest
    calibrated count up to k (fewer runs a side are noisier: the safe side), else (0, 0)."""
    usable = [n for n in by_runs if n <= k]
    return by_runs[max(usable)] if usable else (0.0, 0.0)


def not_gated_because(curs: list[Bench], bases: list[Bench], firstcall: bool) -> str:
    if firstcall:
        return str((curs or bases)[0].get("phase"))
    busy = [b.other_cpu_share for b in curs + bases if b.other_cpu_share is not None and b.other_cpu_share > BUSY_SHARE]
    return f"busy (other processes {max(busy):.0%} of the CPU)" if busy else ""


def memory(curs: list[Bench], bases: list[Bench]) -> dict:
    """Peak memory change and its verdict: larger or smaller beyond MEMORY_PCT and MEMORY_MIN_BYTES,
    else similar (words of their own: a peak has no interval, so not the time verdicts' "same")."""
    cur = _median([peak for b in curs if (peak := b.peak_memory_bytes)])
    base = _median([peak for b in bases if (peak := b.peak_memory_bytes)])
    if cur is None or base is None:
        return {"current_peak_memory_bytes": cur, "baseline_peak_memory_bytes": base, "memory_change_pct": None,
                "memory_verdict": ""}
    pct, grew = 100 * (cur / base - 1), cur - base
    verdict = ("larger" if pct > MEMORY_PCT and grew > MEMORY_MIN_BYTES else
               "smaller" if pct < -MEMORY_PCT and -grew > MEMORY_MIN_BYTES else "similar")
    return {"current_peak_memory_bytes": cur, "baseline_peak_memory_bytes": base, "memory_change_pct": pct,
            "memory_verdict": verdict}


def compare_one(name: str, curs: list[Bench], bases: list[Bench], ev: Evidence, limits: tuple[float, float],
                firstcall: bool, matters: float) -> dict:
    any_b = (curs or bases)[0]
    reason = not_gated_because(curs, bases, firstcall)
    row = {"name": any_b.name, "fullname": name, "phase": any_b.get("phase"), "current_min_s": ev.current_s,
           "baseline_min_s": ev.baseline_s, "baseline_median_s": _median([b.median for b in bases]),
           "baseline_runs": len(bases), "current_runs": len(curs), "baseline_spread_pct": ev.spread_pct,
           "threshold_pct": limits[0], "median_run_threshold_pct": limits[1] if ev.runs_a_side >= 2 else None,
           "gated": not reason, "not_gated": reason,
           "change_pct": None, "median_run_change_pct": None, "p_value": None, "test": "",
           "interval_low_pct": None, "interval_high_pct": None, "resolvable_pct": None, **memory(curs, bases)}
    if not bases or not curs:
        return {**row, "verdict": "new" if curs else "missing"}
    return {**row, **judge(ev, *limits, matters)}


def comparison_rows(current: dict[str, list[Bench]], baseline: dict[str, list[Bench]], threshold: float,
                firstcall_threshold: float, calibrated: dict[str, dict[int, tuple[float, float]]] | None = None
                ) -> list[dict]:
    """One row per benchmark on either side, with the thresholds it is judged by. `calibrated`:
    benchmark -> {runs a side: (fastest, median run) threshold %} from this machine's calibration.
    `threshold` (firstcall: `firstcall_threshold`) is also the smallest change that matters: "same"
    needs the change's interval inside it, whatever a calibration widens the gate to."""
    rows = []
    for name in sorted(set(current) | set(baseline)):
        curs, bases = current.get(name, []), baseline.get(name, [])
        ev = evidence(curs, bases)
        firstcall = (curs or bases)[0].get("phase") != "steady"  # a first call, cold or warm: reported, never gated
        cal = calibrated_limits((calibrated or {}).get(name, {}), ev.runs_a_side)
        limits = (firstcall_threshold,) * 2 if firstcall else (max(threshold, cal[0]), max(threshold, cal[1]))
        rows.append(compare_one(name, curs, bases, ev, limits, firstcall,
                                firstcall_threshold if firstcall else threshold))
    return rows


def by_name(runs: list[Run]) -> dict[str, list[Bench]]:
    out: dict[str, list[Bench]] = {}
    for run in runs:
        for name, bench in run.benches.items():
            out.setdefault(name, []).append(bench)
    return out


def compare(current: list[Run], baseline: list[Run], cur_fp: dict, note: str, thresholds: tuple[float, float],
            calibration: tuple[str | None, dict[str, dict[int, tuple[float, float]]]] = (None, {})) -> Comparison:
    """The current runs against the baseline runs (none: a comparison with no rows, and why), with
    `thresholds` (steady, firstcall) and the calibration found for this machine (its file or why
    none, and its thresholds). Nothing may gate on another machine (its fingerprint, or reference
    probes that do not agree) or a busy one: `blockers` says so."""
    cur, base = by_name(current), by_name(baseline)
    rows = comparison_rows(cur, base, *thresholds, calibration[1]) if baseline else []
    machines = check(current, baseline, cur_fp)
    if not baseline:
        return Comparison(None, note, *thresholds, busy=machines.busy)
    probe_check = probes.compare(current, baseline)
    blockers = (([machines.differs] if machines.differs else []) + ([] if probe_check.agree else [probe_check.reason])
                + machines.busy)
    return Comparison(", ".join(str(run.path) for run in baseline), note, *thresholds, rows=rows, blockers=blockers,
                      machine_diff=machines.differences, calibration=calibration[0], baseline_benches=base,
                      busy=machines.busy)


@dataclass(frozen=True)
class Comparison:
    """The current runs against their baseline, as reporting/cli.py found it (baseline None: none)."""
    baseline: str | None  # the baseline runs, comma-separated
    note: str  # why there is none, or which stored runs were left out
    threshold: float  # steady regression threshold, %
    firstcall_threshold: float
    rows: list[dict] = field(default_factory=list)  # one comparison row per benchmark
    blockers: list[str] = field(default_factory=list)  # why nothing gates
    machine_diff: list[tuple] = field(default_factory=list)  # machine_info differences noted
    calibration: str | None = None  # the calibration file used, or why none
    baseline_benches: dict[str, list[Bench]] = field(default_factory=dict)
    busy: list[str] = field(default_factory=list)  # why a run of either side, measured on a busy machine, gates nothing
