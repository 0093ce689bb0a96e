"""Per-operation cost of eager modes: an eager call's median over the operations it dispatches, and
what each costs beyond the same framework's compiled step (reporting/scaling.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reporting.markdown import fmt_time, md_table
from reporting.scaling import dispatch_rows
from reporting.sections.base import Context, Section

if TYPE_CHECKING:
    from reporting.model import Report

INTRO = ("Operations = what one eager call dispatches (JAX: the equations of its jaxpr; PyTorch: the ATen "
         "operators a TorchDispatchMode sees). Per op = eager median / operations. Beyond compiled = (eager "
         "median - the same framework's compiled median) / operations: the per-op cost the compiled step "
         "does not pay, the compiled step standing for the kernels' share.")


class Dispatch(Section):
    name = "dispatch"
    title = "Per-operation cost of eager modes (steady)"
    order = 20

    def rows(self, ctx: Context) -> list[dict]:
        return dispatch_rows(ctx.current)

    def markdown(self, r: Report) -> list[str]:
        out = ["", f"## {self.title}", "", INTRO, ""]
        if not r.rows[self.name]:
            return out + ["No eager benchmark counted its operations."]
        return out + [md_table(["workload", "size", "device", "framework", "operations", "eager median", "per op",
                                "compiled median", "beyond compiled, per op"],
                               [[x["workload"], x["size"], x["device"], x["framework"], x["ops"],
                                 fmt_time(x["median_s"]), fmt_time(x["per_op_s"]), fmt_time(x["compiled_s"]) + (
                                     f" ({x['compiled_mode']})" if x["compiled_mode"] else ""),
                                 fmt_time(x["overhead_per_op_s"])] for x in r.rows[self.name]])]
