"""Epoch vs step: an epoch's time per step against the step benchmark of the same case, and why
they may differ (reporting/consistency.py). No section at all when the run has no such pair."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reporting import consistency
from reporting.consistency import Agreement, agreements
from reporting.markdown import fmt_time, md_table
from reporting.sections.base import Context, Section

if TYPE_CHECKING:
    from reporting.model import Report

INTRO = (f"One steady epoch of the MLP divided by its steps, against the steady step benchmark of the same case "
         f"(single passes of the main run). Agree: within +/-{consistency.AGREE_PCT:g}%; a larger gap is named with "
         f"its cause; beyond +/-{consistency.SUSPECT_PCT:g}%, or with no known cause, it says look.")


class Consistency(Section):
    name = "consistency"
    title = "Epoch vs step: do related benchmarks agree?"
    order = 60

    def rows(self, ctx: Context) -> list[Agreement]:
        return agreements(ctx.current)

    def markdown(self, r: Report) -> list[str]:
        rows: list[Agreement] = r.rows[self.name]
        if not rows:
            return []
        return ["", f"## {self.title}", "", INTRO, "", md_table(
            ["framework-mode", "device", "size", "epoch per step", "step", "epoch / step", "verdict", "why"],
            [[f"{a.framework}-{a.mode}", a.device, a.size, fmt_time(a.epoch_step_s), fmt_time(a.step_s),
              f"{a.change_pct:+.1f}%", a.verdict, a.why] for a in rows])]
