"""results.csv: one row per benchmark, every number the tables show, and its verdict (against a
baseline: slower / faster / same / undecided, new, missing; memory: larger / smaller / similar)."""
from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from reporting.tables import gflops, throughput

if TYPE_CHECKING:
    from reporting.model import Report

ID_COLUMNS = ["workload", "framework", "mode", "device", "size", "size_value", "phase"]
CSV_COLUMNS = (["name", "fullname", "run"] + ID_COLUMNS +
               ["median_s", "min_s", "iqr_s", "rounds", "items_per_s", "gflops", "share_of_peak",
                "share_of_own_matmul", "peak_memory_bytes", "memory_note", "other_cpu_share", "jax_torch_ratio",
                "jax_torch_ratio_low", "jax_torch_ratio_high", "jax_torch_processes", "jax_torch_verdict",
                "firstcall_s", "steady_s", "overhead_s", "break_even_steps", "baseline_median_s", "baseline_min_s",
                "current_min_s", "baseline_runs", "baseline_spread_pct", "threshold_pct", "change_pct",
                "median_run_threshold_pct", "median_run_change_pct", "p_value", "interval_low_pct",
                "interval_high_pct", "resolvable_pct", "test", "gated", "not_gated", "verdict",
                "baseline_peak_memory_bytes", "memory_change_pct", "memory_verdict"])


def _bench_row(b) -> dict:
    return {"name": b.name, "fullname": b.fullname, "run": b.run, "median_s": b.median, "min_s": b.min_s,
            "iqr_s": b.iqr, "rounds": b.rounds, "items_per_s": throughput(b), "gflops": gflops(b),
            **{k: b.get(k) for k in ID_COLUMNS + ["peak_memory_bytes", "memory_note", "other_cpu_share"]}}


REGRESSION_COLUMNS = CSV_COLUMNS[CSV_COLUMNS.index("baseline_median_s"):]


def _regression_row(x: dict) -> dict:
    """A comparison row (reporting.compare: its keys are these CSV columns)."""
    return {k: x[k] for k in REGRESSION_COLUMNS}


def render_csv(r: Report) -> str:
    rows = {b.name: _bench_row(b) for b in r.current.values()}
    for x in r.side:
        rows[x["name"]].update(share_of_peak=x["share_of_peak"], share_of_own_matmul=x["share_of_own_matmul"])
    for ratio in r.ratios:
        for name in ratio.names:
            if name in rows:  # processes may hold benchmarks the run itself did not measure
                rows[name].update(jax_torch_ratio=ratio.ratio, jax_torch_ratio_low=ratio.low,
                                  jax_torch_ratio_high=ratio.high, jax_torch_processes=ratio.processes,
                                  jax_torch_verdict=ratio.word)
    for x in r.compile:
        for name in x["names"]:
            rows[name].update(firstcall_s=x["firstcall_s"], steady_s=x["steady_s"], overhead_s=x["overhead_s"],
                              break_even_steps=x["break_even"])
    for x in r.regressions:
        row = rows.setdefault(x["name"], {"name": x["name"], "fullname": x["fullname"], "phase": x["phase"]})
        row.update(_regression_row(x))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows.values())
    return buf.getvalue()
