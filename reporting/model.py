"""The report: everything report.py found, built once by reporting/cli.py and then only read.

The renderers (render.py: markdown and the terminal summary; csvout.py: results.csv; plots.py:
the PNGs; html.py: index.html) take a `Report` and return or write their output; none of them
adds to it. What one renderer needs from another's output is passed as an argument.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reporting.consistency import Agreement
from reporting.load import Bench
from reporting.ratios import Ratio
from reporting.verdict import Verdict


@dataclass
class Report:
    runs: list[str]  # the current run files
    current: dict[str, Bench]  # benchmark name -> its figures in the current runs
    notes: list[str]  # what report.py chose for the reader (picked run, partial history, ...)
    peaks: dict[tuple, float]  # (device, dtype) -> the measured matmul peak, GFLOP/s
    side: list[dict]  # one row per benchmark: time, throughput, GFLOP/s, share of peak
    ratios: list[Ratio]  # JAX / PyTorch per workload, size, device and pairing, with interval and word
    gmeans: list[Ratio]  # their geometric means per workload, device and pairing
    compile: list[dict]  # first call vs steady state
    consistency: list[Agreement]  # an epoch's time per step against the step benchmark
    memory: list[dict]  # working sets side by side, with the analytic floor
    overhead: list[dict]  # fixed cost and throughput fitted over sizes (scaling.py)
    dispatch: list[dict]  # per-op dispatch cost of eager modes
    roofline: dict  # the roofline chart's points and ceilings
    size: list[dict]  # implementation size of each model pair
    baseline: str | None  # the baseline runs, comma-separated; None: no baseline
    baseline_note: str  # why there is none, or which stored runs were left out
    threshold: float  # steady regression threshold, %
    firstcall_threshold: float
    regressions: list[dict] = field(default_factory=list)  # one comparison row per benchmark
    blockers: list[str] = field(default_factory=list)  # why nothing gates
    machine_diff: list[tuple] = field(default_factory=list)  # machine_info differences noted
    calibration: str | None = None  # the calibration file used, or why none
    baseline_benches: dict[str, list[Bench]] = field(default_factory=dict)
    history: list[tuple] | None = None  # --history: (run summary, is a baseline) in time order
    partial: str = ""  # the current run covers only part of the stored runs' selection
    warnings: list[str] = field(default_factory=list)
    previous: Path | None = None  # the report folder being replaced: its unchanged PNGs are reused
    verdict: Verdict | None = None  # set last, from everything above

    baseline_rows: list[dict] = field(default_factory=list)  # comparison rows with a change, with their ratio intervals
    history_series: dict = field(default_factory=dict)  # history.series(history): the PNG, its cache key and the page
