"""Scaling with size: each steady size sweep's median time and throughput against its size, with the
fixed + work / throughput fit of the overhead section dotted over it (scaling.png and two page
figures; no table of its own)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting import style
from reporting.drawing import figure_legend
from reporting.sections.base import Context, Figure, Png, Section
from reporting.tables import gflops, throughput

if TYPE_CHECKING:
    from reporting.model import Report


def rate(b) -> tuple[float | None, str]:
    """GFLOP/s where the benchmark knows its FLOPs, else items/s, and which it is."""
    g = gflops(b)
    return (g, "GFLOP/s") if g else (throughput(b), "items/s")


def _suffix(device, devices: set) -> str:
    return f"-{device}" if len(devices) > 1 else ""


def scaling_lines(benches: dict) -> dict:
    """workload -> "framework-mode[-device]" -> [(size, median, rate, rate unit, name)], sorted by size."""
    devices = {b.get("device") for b in benches.values()}
    lines: defaultdict[Any, defaultdict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for b in benches.values():
        if b.get("phase") == "steady" and isinstance(b.get("size_value"), int):
            label = style.key(b.get("framework"), b.get("mode")) + _suffix(b.get("device"), devices)
            lines[b.get("workload")][label].append((b.get("size_value"), b.median, *rate(b), b.name))
    return {w: {k: sorted(v) for k, v in ls.items()} for w, ls in lines.items()
            if any(len(p) > 1 for p in ls.values())}


def fitted_lines(r: Report) -> dict[tuple[str, str], tuple[list[int], list[float]]]:
    """(workload, line label) -> (sizes, fixed + work / throughput at each size) of every linear fit of
    the overhead section, labelled as scaling_lines labels its lines."""
    devices = {b.get("device") for b in r.current.values()}
    return {(x["workload"], style.key(x["framework"], x["mode"]) + _suffix(x["device"], devices)):
            (x["size_values"], [x["fit"].predict(w) for w in x["works"]])
            for x in r.rows["overhead"] if x["fit"].linear}


def rate_unit(lines: dict) -> str:
    """One workload's throughput unit: GFLOP/s when every line knows its FLOPs."""
    units = {p[3] for points in lines.values() for p in points}
    return "GFLOP/s" if units == {"GFLOP/s"} else "items/s"


def _panel(axes, lines: dict, handles: dict, fits: dict) -> None:
    unit = rate_unit(lines)
    for label, points in sorted(lines.items(), key=lambda kv: style.order(kv[0])):
        look = style.look(*label.split("-")[:2])
        kw = dict(color=look.colour, marker=look.marker, ls=look.dash, ms=4, lw=1.2)
        handles[label], = axes[0].loglog([p[0] for p in points], [p[1] for p in points], **kw)
        if label in fits:  # the fixed + work / throughput fit, thin and dotted
            axes[0].loglog(*fits[label], color=look.colour, ls=":", lw=0.8)
        values = [p[2] if p[3] == unit else None for p in points]
        if all(values):
            axes[1].loglog([p[0] for p in points], values, **kw)
    axes[0].set_ylabel("median time per call (s)", fontsize=7)
    axes[1].set_ylabel(unit + (" (FLOPs known)" if unit == "GFLOP/s" else " (no FLOP count)"), fontsize=7)
    axes[1].set_xlabel("size (batch / elements / matrix side)", fontsize=7)


def plot_scaling(plt, lines: dict, fits: dict, path: Path, metadata: dict | None = None) -> bool:
    if not lines:
        return False
    workloads = sorted(lines)
    fig, axes = plt.subplots(2, len(workloads), figsize=(3.6 * len(workloads), 6.4), squeeze=False)
    handles: dict[str, Any] = {}
    for col, w in enumerate(workloads):
        _panel(axes[:, col], lines[w], handles, {k[1]: v for k, v in fits.items() if k[0] == w})
        axes[0, col].set_title(w, fontsize=9)
    for ax in axes.flat:
        ax.minorticks_off()  # log-axis minor ticks cost more to draw than the data
        ax.tick_params(labelsize=7)
    figure_legend(fig, handles, loc="upper center", ncol=len(handles))
    fig.subplots_adjust(left=0.05, right=0.99, top=0.9, wspace=0.4, hspace=0.25)
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)
    return True


def _traces(label: str, points: list, unit: str, rate: bool, refs: tuple[str, str], fit, show: bool) -> list[dict]:
    """A line's trace (time or rate) and, for time, its fit dotted."""
    look, (xref, yref) = style.look(*label.split("-")[:2]), refs
    values = [p[2] if p[3] == unit else None for p in points] if rate else [p[1] for p in points]
    out = [{"type": "scatter", "mode": "lines+markers", "name": label, "legendgroup": label,
            "showlegend": show, "xaxis": xref, "yaxis": yref, "x": [p[0] for p in points], "y": values,
            "text": [p[4] for p in points],
            "line": {"color": look.colour, "dash": look.plotly_dash}, "marker": style.marker(look),
            "hovertemplate": "size %{x}<br>%{y:.4s}" + (f" {unit}" if rate else " s") + "<br>%{text}<extra></extra>"}]
    if fit:  # fixed + work / throughput, dotted
        out.append({"type": "scatter", "mode": "lines", "name": f"{label} fit", "legendgroup": label,
                    "showlegend": False, "xaxis": xref, "yaxis": yref, "x": fit[0], "y": fit[1],
                    "line": {"color": look.colour, "dash": "dot", "width": 1},
                    "hovertemplate": "fit: %{y:.4s} s<extra></extra>"})
    return out


def scaling_figure(r: Report, rate: bool) -> dict | None:
    lines = r.rows["scaling"]
    if not lines:
        return None
    workloads = sorted(lines)
    grid, refs = style.grid(len(workloads), 4, 260, {"x": style.log_axis("size"), "y": style.log_axis("")})
    data, shown, fits = [], set(), fitted_lines(r) if not rate else {}
    for w, ref in zip(workloads, refs, strict=False):
        unit = rate_unit(lines[w])
        grid["yaxis" + ref[0][1:]]["title"]["text"] = unit if rate else "median s/call"
        for label, points in sorted(lines[w].items(), key=lambda kv: style.order(kv[0])):
            data += _traces(label, points, unit, rate, ref, fits.get((w, label)), label not in shown)
            shown.add(label)
    title = ("Throughput with size: GFLOP/s where the FLOPs are known, items/s otherwise (axis says which)"
             if rate else "Median time per call with size (log-log)")
    layout = style.layout(title, grid.pop("height"), **grid)
    layout["annotations"] = style.panel_titles(workloads, layout)
    return {"data": data, "layout": layout}


class Scaling(Section):
    name = "scaling"
    title = "Scaling with size"
    order = 15

    def rows(self, ctx: Context) -> dict:
        return scaling_lines(ctx.current)

    def figures(self, r: Report) -> list[Figure]:
        return [(key, title, fig) for key, title, rate in (("scaling", self.title, False),
                                                           ("throughput", "Throughput with size", True))
                if (fig := scaling_figure(r, rate))]

    def pngs(self, r: Report) -> list[Png]:
        fits = fitted_lines(r)
        return [("scaling.png", lambda plt, p, m: plot_scaling(plt, r.rows[self.name], fits, p, m), r.rows[self.name])]
