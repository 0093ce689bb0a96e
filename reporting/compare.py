"""Verdicts of current runs against baseline runs, and whether the comparison may gate at all.

A benchmark has regressed when the fastest current run's gate statistic (its fastest round) is
slower than the slowest baseline run's by more than its threshold, and the slow-down is
significant (reporting.stats.significance). Its threshold is --threshold, or the calibrated one
for this machine when that is larger (never tighter than the benchmark's own A/A spread).
firstcall benchmarks, benchmarks measured while other processes took the CPU, and memory get
verdicts but do not set the exit code.
"""
from __future__ import annotations

import numpy as np

from reporting.load import Bench, Run, number
from reporting.machine import bench_busy, busy_reason, describe_diff, fingerprint_diff
from reporting.stats import run_stat, significance, spread_pct

MEMORY_PCT = 10.0  # a memory change flagged when above this share ...
MEMORY_MIN_BYTES = 1 << 20  # ... and above this many bytes


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def judge(curs: list[Bench], bases: list[Bench], limit: float) -> dict:
    """change (of the median gate statistics), p, test and verdict for one benchmark."""
    cur_stat, base_stat = [run_stat(c) for c in curs], [run_stat(b) for b in bases]
    change = 100 * (_median(cur_stat) / _median(base_stat) - 1)
    p, how, alpha = significance(curs, bases, "greater" if change >= 0 else "less")
    significant = p is None or p <= alpha if "across runs" in how else p is None or p < alpha
    if 100 * (min(cur_stat) / max(base_stat) - 1) > limit and significant:
        verdict = "regressed"
    elif 100 * (max(cur_stat) / min(base_stat) - 1) < -limit and significant:
        verdict = "improved"
    else:
        verdict = "unchanged"
    return {"change_pct": change, "p_value": p, "test": how, "verdict": verdict}


def not_gated_because(curs: list[Bench], bases: list[Bench], firstcall: bool) -> str:
    if firstcall:
        return "firstcall"
    busy = [number(b.get("other_cpu_share")) for b in curs + bases if bench_busy(b)]
    return f"busy (other processes {max(busy):.0%} of the CPU)" if busy else ""


def memory(curs: list[Bench], bases: list[Bench]) -> dict:
    """Peak memory change and its verdict; flagged beyond MEMORY_PCT and MEMORY_MIN_BYTES."""
    cur = _median([number(b.get("peak_memory_bytes")) for b in curs if number(b.get("peak_memory_bytes"))])
    base = _median([number(b.get("peak_memory_bytes")) for b in bases if number(b.get("peak_memory_bytes"))])
    if cur is None or base is None:
        return {"current_bytes": cur, "baseline_bytes": base, "memory_change_pct": None, "memory_verdict": ""}
    pct, grew = 100 * (cur / base - 1), cur - base
    verdict = ("regressed" if pct > MEMORY_PCT and grew > MEMORY_MIN_BYTES else
               "improved" if pct < -MEMORY_PCT and -grew > MEMORY_MIN_BYTES else "unchanged")
    return {"current_bytes": cur, "baseline_bytes": base, "memory_change_pct": pct, "memory_verdict": verdict}


def compare_one(name: str, curs: list[Bench], bases: list[Bench], limit: float, firstcall: bool) -> dict:
    any_b = (curs or bases)[0]
    reason = not_gated_because(curs, bases, firstcall)
    row = {"name": any_b.name, "fullname": name, "phase": any_b.get("phase"),
           "baseline_s": _median([run_stat(b) for b in bases]), "current_s": _median([run_stat(c) for c in curs]),
           "baseline_median_s": _median([b.median for b in bases]), "baseline_runs": len(bases),
           "current_runs": len(curs), "spread_pct": spread_pct([run_stat(b) for b in bases]),
           "threshold_pct": limit, "gated": not reason, "not_gated": reason,
           "change_pct": None, "p_value": None, "test": "", **memory(curs, bases)}
    if not bases or not curs:
        return {**row, "verdict": "new" if curs else "missing"}
    return {**row, **judge(curs, bases, limit)}


def regressions(current: dict[str, list[Bench]], baseline: dict[str, list[Bench]], threshold: float,
                firstcall_threshold: float, calibrated: dict[str, float] | None = None) -> list[dict]:
    """One row per benchmark on either side, with the threshold it is judged by."""
    rows = []
    for name in sorted(set(current) | set(baseline)):
        curs, bases = current.get(name, []), baseline.get(name, [])
        firstcall = (curs or bases)[0].get("phase") == "firstcall"
        limit = firstcall_threshold if firstcall else max(threshold, (calibrated or {}).get(name, 0.0))
        rows.append(compare_one(name, curs, bases, limit, firstcall))
    return rows


def gate_blockers(current: list[Run], baseline: list[Run], cur_fp: dict, base_fp: dict) -> list[str]:
    """Why this comparison must not set the exit code at all: another machine, a busy machine."""
    reasons = []
    diff = fingerprint_diff(base_fp, cur_fp)
    if diff:
        reasons.append(f"baseline machine differs in {describe_diff(diff)}")
    reasons += [reason for run in current + baseline if (reason := busy_reason(run))]
    return reasons


def by_name(runs: list[Run]) -> dict[str, list[Bench]]:
    out: dict[str, list[Bench]] = {}
    for run in runs:
        for name, bench in run.benches.items():
            out.setdefault(name, []).append(bench)
    return out


def gated_regressions(rows: list[dict], blockers: list[str]) -> list[dict]:
    if blockers:
        return []
    return [x for x in rows if x["verdict"] == "regressed" and x["gated"]]
