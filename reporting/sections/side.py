"""Frameworks side by side: one row per steady benchmark with its time, throughput, GFLOP/s and its
share of the machine's measured matmul peak (reporting/tables.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from reporting.escape import for_markdown
from reporting.markdown import fmt, fmt_bytes, fmt_time, md_table
from reporting.sections.base import Context, Section
from reporting.tables import side_by_side

if TYPE_CHECKING:
    from reporting.model import Report


@dataclass(frozen=True)
class SideBySide:
    peaks: dict[tuple, float]  # the measured matmul peaks the shares are of
    rows: list[dict]


def peak_line(peaks: dict[tuple, float]) -> str:
    """What the shares of peak are of, or why they are empty."""
    if not peaks:
        return ("Share of peak is empty: the run has no steady `matmul` benchmark to measure this "
                "machine's matmul peak.\n")
    return ("Share of peak = GFLOP/s / the best steady `matmul` GFLOP/s of the same run and device: "
            + ", ".join(f"{for_markdown(str(key[1]))} {p:.3g} GFLOP/s" for key, p in sorted(peaks.items())
                        if len(key) == 2)
            + ". Share of own matmul = the same against the best matmul of the benchmark's own framework "
            "(what its matmul kernels reach here).\n")


class Side(Section):
    name = "side"
    title = "Frameworks side by side (steady)"
    order = 30

    def rows(self, ctx: Context) -> SideBySide:
        return SideBySide(ctx.peaks, side_by_side(ctx.current, ctx.peaks))

    def markdown(self, r: Report) -> list[str]:
        side: SideBySide = r.rows[self.name]
        return ["", f"## {self.title}", "", peak_line(side.peaks), md_table(
            ["workload", "size", "device", "framework", "mode", "median", "IQR", "items/s", "GFLOP/s",
             "share of peak", "share of own matmul", "peak memory"],
            [[x["workload"], x["size"], x["device"], x["framework"], x["mode"], fmt_time(x["median_s"]),
              fmt_time(x["iqr_s"]), fmt(x["items_per_s"]), fmt(x["gflops"]), fmt(x["share_of_peak"], ".1%"),
              fmt(x["share_of_own_matmul"], ".1%"), fmt_bytes(x["peak_memory_bytes"])] for x in side.rows])]

    def csv(self, r: Report, rows: dict[str, dict]) -> None:
        for x in r.rows[self.name].rows:
            rows[x["name"]].update(share_of_peak=x["share_of_peak"], share_of_own_matmul=x["share_of_own_matmul"])
