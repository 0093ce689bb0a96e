"""The roofline: every steady benchmark that knows its FLOPs and bytes per call, under the run's two
measured roofs (matmul GFLOP/s, STREAM triad GB/s; reporting/tables.py), as a table, roofline.png
and a page figure."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reporting import style
from reporting.drawing import figure_legend
from reporting.escape import for_markdown
from reporting.markdown import fmt, md_table
from reporting.sections.base import Context, Figure, Png, Section
from reporting.tables import roofline

if TYPE_CHECKING:
    from reporting.model import Report

INTRO = ("Arithmetic intensity = flops_per_call / bytes_per_call (the analytic FLOPs and the bytes a call must "
         "move at least). Roofs, both measured in this run: compute = the best steady matmul GFLOP/s, "
         "bandwidth = the best steady STREAM triad GB/s; the roof at an intensity is min(compute, intensity x "
         "bandwidth). Plot: roofline.png.")


def _device_panel(ax, rf: dict, dev, handles: dict) -> None:
    points = [p for p in rf["points"] if p["device"] == dev]
    lo = min([p["intensity"] for p in points] + [0.05]) / 2
    hi = max([p["intensity"] for p in points] + [100.0]) * 2
    for (_, d), (compute, bw) in rf["roofs"].items():
        if d == dev:
            xs = np.geomspace(lo, hi, 200)
            ax.loglog(xs, np.minimum(compute, xs * bw), color="#444", lw=1.5)
            ax.annotate(f"roofs: {compute:.3g} GFLOP/s, {bw:.3g} GB/s", (0.98, 0.03), xycoords="axes fraction",
                        fontsize=7, ha="right", va="bottom")
    for p in points:
        look = style.look(p["framework"], p["mode"])
        handles[style.key(p["framework"], p["mode"])] = ax.scatter(p["intensity"], p["gflops"], color=look.colour,
                                                                   marker=look.marker, s=22)
    ax.set_title(f"Roofline, {dev}", fontsize=9)
    ax.set_xlabel("arithmetic intensity (flop / byte)", fontsize=7)
    ax.set_ylabel("achieved GFLOP/s", fontsize=7)
    ax.minorticks_off()
    ax.tick_params(labelsize=7)


def plot_roofline(plt, rf: dict, path: Path, metadata: dict | None = None) -> bool:
    """Achieved GFLOP/s against arithmetic intensity, under each device's measured roofs."""
    if not rf["roofs"] or not rf["points"]:
        return False
    devices = sorted({dev for _, dev in rf["roofs"]})
    fig, axes = plt.subplots(1, len(devices), figsize=(6.4 * len(devices), 4.6), squeeze=False)
    handles: dict = {}
    for ax, dev in zip(axes[0], devices, strict=True):
        _device_panel(ax, rf, dev, handles)
    figure_legend(fig, handles, loc="upper center", ncol=len(handles))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.12)
    fig.savefig(path, dpi=90, metadata=metadata)
    plt.close(fig)
    return True


def roofline_figure(rf: dict) -> dict | None:
    """Achieved GFLOP/s against arithmetic intensity, under the run's measured roofs (first device)."""
    if not rf["roofs"] or not rf["points"]:
        return None
    (_, dev), (compute, bw) = sorted(rf["roofs"].items())[0]
    points = [p for p in rf["points"] if p["device"] == dev]
    xs = [min(p["intensity"] for p in points) / 2, compute / bw, max(p["intensity"] for p in points) * 2]
    data = [{"type": "scatter", "mode": "lines", "name": f"roofs: {compute:.3g} GFLOP/s, {bw:.3g} GB/s",
             "x": xs, "y": [min(compute, x * bw) for x in xs], "line": {"color": "#444", "width": 2}}]
    for label in sorted({style.key(p["framework"], p["mode"]) for p in points}, key=style.order):
        sel = [p for p in points if style.key(p["framework"], p["mode"]) == label]
        look = style.look(sel[0]["framework"], sel[0]["mode"])
        data.append({"type": "scatter", "mode": "markers", "name": label, "x": [p["intensity"] for p in sel],
                     "y": [p["gflops"] for p in sel], "marker": style.marker(look),
                     "text": [f"{p['workload']} {p['size']}" for p in sel],
                     "hovertemplate": "%{text}<br>%{x:.3g} flop/byte<br>%{y:.4s} GFLOP/s<extra></extra>"})
    return {"data": data, "layout": style.layout(
        f"Roofline ({dev}): achieved GFLOP/s against flop/byte, under the measured compute and bandwidth roofs",
        460, xaxis=style.log_axis("arithmetic intensity (flop / byte)"), yaxis=style.log_axis("GFLOP/s"))}


class Roofline(Section):
    name = "roofline"
    title = "Roofline"
    order = 40

    def rows(self, ctx: Context) -> dict:
        return roofline(ctx.current, ctx.peaks)

    def markdown(self, r: Report) -> list[str]:
        rf = r.rows[self.name]
        out = ["", f"## {self.title} (steady)", "", INTRO, ""]
        if not rf["roofs"]:
            return out + ["No roofline: the run needs a steady matmul and a steady stream_triad benchmark on a "
                          "device (both roofs are measured, never assumed)."]
        out.append("Roofs: " + "; ".join(f"{for_markdown(str(dev))}: {c:.3g} GFLOP/s, {bw:.3g} GB/s (ridge at "
                                        f"{c / bw:.3g} flop/byte)" for (_, dev), (c, bw) in sorted(rf["roofs"].items()))
                   + ".")
        if rf["unplaced"]:
            out.append(f"{rf['unplaced']} steady benchmarks record no FLOP or no byte count and are not placed.")
        return out + ["", md_table(["workload", "size", "device", "framework-mode", "flop/byte", "GFLOP/s", "roof",
                                    "share of roof", "bound by"],
                                   [[x["workload"], x["size"], x["device"], f"{x['framework']}-{x['mode']}",
                                     f"{x['intensity']:.3g}", f"{x['gflops']:.3g}", fmt(x["roof_gflops"]),
                                     fmt(x["share_of_roof"], ".1%"), x["bound_by"] or ""] for x in rf["points"]])]

    def figures(self, r: Report) -> list[Figure]:
        fig = roofline_figure(r.rows[self.name])
        return [(self.name, self.title, fig)] if fig else []

    def pngs(self, r: Report) -> list[Png]:
        rf = r.rows[self.name]
        return [("roofline.png", lambda plt, p, m: plot_roofline(plt, rf, p, m), rf)]
