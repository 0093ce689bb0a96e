"""Compile vs steady: each compiled mode's first call against its steady step, the steps after which
compiling pays off against the same framework's eager mode, and the warm start from a cache on disk
(reporting/tables.py); compile_vs_steady.png and a page figure."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reporting import style
from reporting.drawing import left_margin
from reporting.markdown import fmt, fmt_time, md_table
from reporting.sections.base import Context, Figure, Png, Section
from reporting.tables import compile_table

if TYPE_CHECKING:
    from reporting.model import Report

WARM = ("Cold (fresh process) = the first call of the child that filled the run's own, empty cache "
        "directory; warm start = the median first call of later children with that cache (each round a new "
        "process; its start-up and imports timed apart); saved = cold - warm. Both include what a new process "
        "pays in its first call (Inductor's start-up among it), which the in-process firstcall above leaves "
        "out. Break-even from warm: as above, with the warm start as the first call.")


def warm_table(rows: list[dict]) -> list[str]:
    """The warm starts beside the cold first call, when the run measured any."""
    warm = [x for x in rows if x["warmstart_s"] is not None]
    if not warm:
        return []
    return ["", "### Warm start: a new process's first call with the compile caches on disk warm", "", WARM, "",
            md_table(["workload", "size", "device", "framework", "mode", "cold (fresh process)", "warm start",
                      "saved", "firstcall (in-process)", "steady", "break-even from warm"],
                     [[x["workload"], x["size"], x["device"], x["framework"], x["mode"],
                       fmt_time(x["cold_process_s"]), fmt_time(x["warmstart_s"]), fmt_time(x["cache_saved_s"]),
                       fmt_time(x["firstcall_s"]), fmt_time(x["steady_s"]), fmt(x["break_even_warm"])]
                      for x in warm])]


def plot_compile(plt, rows: list[dict], path: Path, metadata: dict | None = None) -> bool:
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.3 * len(rows)))
    y = np.arange(len(rows))
    looks = [style.look(x["framework"], x["mode"]) for x in rows]
    ax.barh(y - 0.2, [x["firstcall_s"] for x in rows], height=0.4, color=[lk.colour for lk in looks],
            hatch="///", edgecolor="white", label="firstcall: compile + 1 step (hatched)")
    ax.barh(y + 0.2, [x["steady_s"] for x in rows], height=0.4, color=[lk.colour for lk in looks],
            label="steady step (plain)")
    ax.set_xscale("log")
    labels = [f"{x['workload']} {x['size']} {x['framework']}-{x['mode']}-{x['device']}"
              + (f" (break-even {x['break_even']})" if x["break_even"] is not None else "") for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("median seconds per call, log scale; colour = framework-mode as in every plot")
    ax.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(left=left_margin(labels, 8), right=0.97, bottom=0.9 / fig.get_figheight(), top=0.98)
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)
    return True


def compile_figure(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    label = [f"{x['workload']} {x['size']} {x['framework']}-{x['mode']}-{x['device']}" for x in rows]
    data = []
    for key in sorted({style.key(x["framework"], x["mode"]) for x in rows}, key=style.order):
        sel = [i for i, x in enumerate(rows) if style.key(x["framework"], x["mode"]) == key]
        look = style.STYLES.get(key, style.OTHER)
        custom = [[fmt_time(rows[i]["overhead_s"]), str(rows[i]["break_even"] or "-"), " / ".join(rows[i]["names"])]
                  for i in sel]
        for phase, hollow in (("firstcall", False), ("steady", True)):
            data.append({"type": "scatter", "mode": "markers", "name": f"{key} {phase}", "legendgroup": key,
                         "x": [rows[i][f"{phase}_s"] for i in sel], "y": [label[i] for i in sel],
                         "marker": style.marker(look, hollow), "customdata": custom,
                         "hovertemplate": f"{phase} %{{x:.3s}}s<br>overhead %{{customdata[0]}}, break-even "
                                          "%{customdata[1]} steps<br>%{customdata[2]}<extra></extra>"})
    return {"data": data, "layout": style.layout(
        "Compile vs steady: first call (filled) and steady step (hollow)", 140 + style.ROW_PX * len(rows),
        xaxis=style.log_axis("median seconds per call, log scale"), yaxis=style.category_axis(label))}


class Compile(Section):
    name = "compile"
    title = "Compile vs steady"
    order = 80

    def rows(self, ctx: Context) -> list[dict]:
        return compile_table(ctx.current)

    def markdown(self, r: Report) -> list[str]:
        rows = r.rows[self.name]
        out = ["", f"## {self.title}", "",
               "Overhead = firstcall median - steady median. Break-even = smallest n with "
               "F_c + (n-1) S_c <= F_e + (n-1) S_e against the same framework's eager mode.", ""]
        if not rows:
            return out + ["No benchmark has both a firstcall and a steady phase."]
        return out + [md_table(["workload", "size", "device", "framework", "mode", "firstcall", "steady", "overhead",
                                "break-even steps", "note"],
                               [[x["workload"], x["size"], x["device"], x["framework"], x["mode"],
                                 fmt_time(x["firstcall_s"]), fmt_time(x["steady_s"]), fmt_time(x["overhead_s"]),
                                 fmt(x["break_even"]), x["note"]] for x in rows])] + warm_table(rows)

    def csv(self, r: Report, rows: dict[str, dict]) -> None:
        for x in r.rows[self.name]:
            for name in x["names"]:
                rows[name].update(firstcall_s=x["firstcall_s"], steady_s=x["steady_s"], overhead_s=x["overhead_s"],
                                  break_even_steps=x["break_even"])

    def figures(self, r: Report) -> list[Figure]:
        fig = compile_figure(r.rows[self.name])
        return [(self.name, self.title, fig)] if fig else []

    def pngs(self, r: Report) -> list[Png]:
        rows = r.rows[self.name]
        return [("compile_vs_steady.png", lambda plt, p, m: plot_compile(plt, rows, p, m), rows)]
