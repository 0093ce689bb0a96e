"""results.csv: one row per benchmark, every number the tables show, and its verdict (against a
baseline: slower / faster / same / undecided, new, missing; memory: larger / smaller / similar).
Each section fills its own columns (reporting.sections.base.Section.csv)."""
from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from reporting.compare import ROW_COLUMNS
from reporting.sections import SECTIONS
from reporting.tables import gflops, throughput

if TYPE_CHECKING:
    from reporting.model import Report

ID_COLUMNS = ["workload", "framework", "mode", "device", "size", "size_value", "phase"]
CSV_COLUMNS = (["name", "fullname", "run"] + ID_COLUMNS +
               ["median_s", "min_s", "iqr_s", "rounds", "items_per_s", "gflops", "share_of_peak",
                "share_of_own_matmul", "peak_memory_bytes", "memory_note", "other_cpu_share", "jax_torch_ratio",
                "jax_torch_ratio_low", "jax_torch_ratio_high", "jax_torch_processes", "jax_torch_verdict",
                "firstcall_s", "steady_s", "overhead_s", "break_even_steps"] + ROW_COLUMNS)


def _bench_row(b) -> dict:
    return {"name": b.name, "fullname": b.fullname, "run": b.run, "median_s": b.median, "min_s": b.min_s,
            "iqr_s": b.iqr, "rounds": b.rounds, "items_per_s": throughput(b), "gflops": gflops(b),
            **{k: b.get(k) for k in ID_COLUMNS + ["peak_memory_bytes", "memory_note", "other_cpu_share"]}}


def render_csv(r: Report) -> str:
    rows = {b.name: _bench_row(b) for b in r.current.values()}
    for section in SECTIONS:
        section.csv(r, rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows.values())
    return buf.getvalue()
