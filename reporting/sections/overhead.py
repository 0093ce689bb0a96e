"""Where the time goes: per steady size sweep, time per call = fixed + work / throughput
(reporting/scaling.py), with the per-op dispatch cost of eager modes beside it; on the page right
after the headline."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from reporting.markdown import fmt_time, markdown_html, md_table
from reporting.scaling import FIT_TOLERANCE_PCT, dominant, overhead_rows
from reporting.sections.base import Context, Section

if TYPE_CHECKING:
    from reporting.model import Report

INTRO = ("Fit of each size sweep: time per call = fixed + work / throughput (work = the analytic FLOPs, else "
         "the items, of a call; least squares in relative error, non-negative; 95% bootstrap intervals over the "
         "raw rounds). Fixed = what a call costs whatever its size: dispatch, Python, launch, and any work that "
         "does not grow with it (an SGD step's weight update). Crossover = the size at which the two are equal: "
         "below it a call is mostly fixed cost. Fit error = the largest miss on a measured median (over "
         f"{FIT_TOLERANCE_PCT:g}%: not linear, figures not used).")


def fmt_rate(f) -> str:
    t = f.throughput
    if t is None:
        return ""
    return f"{t / 1e9:.3g} GFLOP/s" if f.unit == "flop" else f"{t:.3g} items/s"


def size_word(row: dict) -> str:
    """The crossover in the sweep's own size words (batch17, n3.2e+03, size48)."""
    value = row["crossover_size"]
    if value is None:
        return ""
    prefix = re.sub(r"\d+$", "", row["sizes"][0])
    return f"{prefix}{value:.0f}" if value < 1e5 else f"{prefix}{value:.2g}"


def _per_op(x: dict, dispatch: dict) -> str:
    """What an eager sweep's smallest size pays per dispatched op beyond its compiled step."""
    d = dispatch.get((x["workload"], x["device"], x["framework"], x["sizes"][0])) if x["mode"] == "eager" else None
    if not (d and d["overhead_per_op_s"]):
        return ""
    return (f"; per-op dispatch: {d['ops']} ops x {fmt_time(d['overhead_per_op_s'])} beyond the compiled step "
            f"= {d['ops'] * d['overhead_per_op_s'] / d['median_s']:.0%} of the call at {x['sizes'][0]}")


def _row(x: dict, dispatch: dict) -> list:
    f = x["fit"]
    fixed = f"{fmt_time(f.fixed_s)} ({fmt_time(f.fixed_interval[0])}-{fmt_time(f.fixed_interval[1])})" if f.linear else ""
    return [x["workload"], x["device"], f"{x['framework']}-{x['mode']}", f"{x['sizes'][0]}-{x['sizes'][-1]}",
            fixed, fmt_rate(f) if f.linear else "", size_word(x) if f.linear else "", f"{f.max_error_pct:.1f}%",
            dominant(x) + _per_op(x, dispatch)]


class Overhead(Section):
    name = "overhead"
    title = "Where the time goes: fixed cost per call vs throughput (steady)"
    order = 10

    def rows(self, ctx: Context) -> list[dict]:
        return overhead_rows(ctx.current)

    def markdown(self, r: Report) -> list[str]:
        out = ["", f"## {self.title}", "", INTRO, ""]
        if not r.rows[self.name]:
            return out + ["No workload was measured at two or more sizes."]
        dispatch = {(d["workload"], d["device"], d["framework"], d["size"]): d for d in r.rows["dispatch"]}
        return out + [md_table(["workload", "device", "framework-mode", "sizes", "fixed per call (95%)",
                                "throughput (large sizes)", "crossover size", "fit error", "what dominates"],
                               [_row(x, dispatch) for x in r.rows[self.name]])]

    def html(self, r: Report, folder: Path) -> str:
        """The fit's table right after the headline: why one framework is faster at a size."""
        return (f'<section id="why">{markdown_html(chr(10).join(self.markdown(r)))}</section>'
                if r.rows[self.name] else "")
