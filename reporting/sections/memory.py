"""Memory: the working set of a step, JAX and PyTorch side by side where both measured it the same
way, with the analytic floor (reporting/tables.py); a page figure."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reporting import style
from reporting.markdown import fmt, fmt_bytes, md_table
from reporting.sections.base import Context, Figure, Section
from reporting.tables import memory_table

if TYPE_CHECKING:
    from reporting.model import Report

INTRO = ("Each case in a fresh process: peak resident memory over its steps after build and warm-up, minus the "
         "process's memory after the framework's start-up and before the inputs were made, less library code "
         "pages (docs/measuring.md); on CUDA the allocator's peak over the same span. Floor = the least the math "
         "needs (inputs, parameters, gradients and optimiser state, the largest activation); a figure below "
         "0.9x its floor fails the run. Only figures measured the same way are put side by side.")


def memory_figure(memory: list[dict]) -> dict | None:
    rows = [x for x in memory if x["jax_bytes"] is not None or x["torch_bytes"] is not None]
    if not rows:
        return None
    labels = [f"{x['workload']} {x['size']} {x['device']} {x['pairing']}" for x in rows]
    data = [{"type": "bar", "orientation": "h", "name": name, "y": labels,
             "x": [None if x[f"{fw}_bytes"] is None else x[f"{fw}_bytes"] / 2 ** 20 for x in rows],
             "marker": {"color": style.look(fw, mode).colour, "pattern": {"shape": shape}},
             "hovertemplate": "%{y}<br>%{x:.1f} MiB<extra>" + name + "</extra>"}
            for fw, mode, name, shape in (("jax", "jit", "JAX", ""), ("torch", "eager", "PyTorch", "/"))]
    data.append({"type": "scatter", "mode": "markers", "name": "analytic floor", "y": labels,
                 "x": [None if x["floor_bytes"] is None else x["floor_bytes"] / 2 ** 20 for x in rows],
                 "marker": {"symbol": "line-ns-open", "size": 14, "color": "#000"},
                 "hovertemplate": "%{y}<br>floor %{x:.1f} MiB<extra></extra>"})
    return {"data": data, "layout": style.layout("Working set of a step, JAX vs PyTorch (PyTorch hatched; | = floor)",
                                                 140 + 30 * len(rows), barmode="group",
                                                 xaxis={"title": {"text": "MiB"}, "automargin": True},
                                                 yaxis=style.category_axis(labels))}


class Memory(Section):
    name = "memory"
    title = "Memory"
    order = 70

    def rows(self, ctx: Context) -> list[dict]:
        return memory_table(ctx.current)

    def markdown(self, r: Report) -> list[str]:
        out = ["", "## Memory: the working set of a step (steady; JAX / PyTorch)", "", INTRO, ""]
        if not r.rows[self.name]:
            return out + ["No JAX/PyTorch pair has a working set measured the same way (--memory off, or a case "
                          "outside the default memory set: --memory all)."]
        return out + [md_table(["workload", "size", "device", "jax/torch mode", "JAX", "PyTorch", "JAX / PyTorch",
                                "floor"],
                               [[x["workload"], x["size"], x["device"], x["pairing"], fmt_bytes(x["jax_bytes"]),
                                 fmt_bytes(x["torch_bytes"]), fmt(x["ratio"]), fmt_bytes(x["floor_bytes"])]
                                for x in r.rows[self.name]])]

    def figures(self, r: Report) -> list[Figure]:
        fig = memory_figure(r.rows[self.name])
        return [(self.name, self.title, fig)] if fig else []
