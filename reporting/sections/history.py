"""History: with --history, each benchmark's median over every run stored beside the current one (and
the baseline runs), relative to its own median (reporting/history.py); history.png and a page figure."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reporting import style
from reporting.drawing import figure_legend
from reporting.history import Point, Summary, series, tick_label
from reporting.sections.base import Context, Figure, Png, Section

if TYPE_CHECKING:
    from reporting.model import Report


@dataclass(frozen=True)
class Timeline:
    line: list[tuple[Summary, bool]]  # (run summary, is a baseline), oldest first
    series: dict[tuple, dict[str, list[Point]]]  # (workload, phase) -> fullname -> its points


def series_key(t: Timeline) -> list:
    """What the history figures are drawn from, as plain tuples (cheaper to hash than the repr of many dataclasses):
    every point, and the timeline's tick labels (dates and commits)."""
    return [[tick_label(s) for s, _ in t.line]] + [
        (key, name, [(p.x, p.median, p.name, p.framework, p.mode, p.baseline) for p in points])
        for key, by_name in sorted(t.series.items(), key=lambda kv: str(kv[0]))
        for name, points in sorted(by_name.items())]


def _ticks(ax, line: list) -> None:
    step = max(1, math.ceil(len(line) / 4))
    ticks = list(range(0, len(line), step))
    ax.set_xticks(ticks, [tick_label(line[i][0]) for i in ticks], fontsize=6)
    ax.set_xlim(-0.5, len(line) - 0.5)


def _panel(ax, by_name: dict[str, list[Point]], handles: dict) -> None:
    for points in by_name.values():
        look = style.look(points[0].framework, points[0].mode)
        handles[style.key(points[0].framework, points[0].mode)], = ax.plot(
            [p.x for p in points], [p.relative for p in points], color=look.colour, ls=look.dash, lw=0.8,
            marker=look.marker, ms=2.5)
        if base := [p for p in points if p.baseline]:
            handles["baseline run"] = ax.scatter([p.x for p in base], [p.relative for p in base], marker="s",
                                                 s=30, facecolors="none", edgecolors="black", zorder=3)


def plot_history(plt, t: Timeline, path: Path, metadata: dict | None = None) -> None:
    keys = sorted(t.series, key=str)
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 0.8 + 2.8 * nrows), squeeze=False)
    handles: dict = {}
    for ax, key in zip(axes.flat, keys, strict=False):
        _panel(ax, t.series[key], handles)
        ax.set_title(f"{key[0]} ({key[1]})", fontsize=9)
        ax.set_ylabel("median / its own median", fontsize=7)
        ax.tick_params(labelsize=7)
        _ticks(ax, t.line)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    figure_legend(fig, handles, loc="upper center", ncol=8)
    fig.supxlabel(f"run date (UTC) and commit, oldest to newest: {len(t.line)} runs", fontsize=8)
    fig.subplots_adjust(left=0.06, right=0.98, top=1 - 0.6 / fig.get_figheight(), hspace=0.6, wspace=0.3)
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)


def _traces(points_by_name: dict, xref: str, yref: str, shown: set) -> list[dict]:
    """One trace per framework-mode in a panel (benchmarks separated by gaps), plus its baseline runs."""
    groups: dict[str, list] = {}
    for points in points_by_name.values():
        groups.setdefault(style.key(points[0].framework, points[0].mode), []).append(points)
    traces = []
    for key in sorted(groups, key=style.order):
        look, xs, ys, names = style.STYLES.get(key, style.OTHER), [], [], []
        for points in groups[key]:
            xs += [p.x for p in points] + [None]
            ys += [p.relative for p in points] + [None]
            names += [f"{p.name}: {p.median:.4g} s" for p in points] + [None]
        traces.append({"type": "scatter", "mode": "lines+markers", "name": key, "legendgroup": key,
                       "showlegend": key not in shown, "xaxis": xref, "yaxis": yref, "x": xs, "y": ys,
                       "text": names, "line": {"color": look.colour, "dash": look.plotly_dash, "width": 1},
                       "marker": {**style.marker(look), "size": 5}, "hovertemplate": "%{text}<extra></extra>"})
        shown.add(key)
    if base := [p for points in points_by_name.values() for p in points if p.baseline]:
        traces.append({"type": "scatter", "mode": "markers", "name": "baseline run", "legendgroup": "baseline",
                       "showlegend": "baseline" not in shown, "xaxis": xref, "yaxis": yref,
                       "x": [p.x for p in base], "y": [p.relative for p in base], "hoverinfo": "skip",
                       "marker": {"symbol": "square-open", "size": 11, "color": "black"}})
        shown.add("baseline")
    return traces


def history_figure(t: Timeline) -> dict:
    line, keys = t.line, sorted(t.series, key=str)
    step = max(1, math.ceil(len(line) / 6))
    ticks = list(range(0, len(line), step))
    axis_x = {"tickvals": ticks, "ticktext": [tick_label(line[i][0]).replace("\n", "<br>") for i in ticks],
              "range": [-0.5, len(line) - 0.5], "gridcolor": "#ddd", "automargin": True}
    grid, refs = style.grid(len(keys), 3, 260, {"x": axis_x, "y": {"title": {"text": "median / own median"},
                                                              "gridcolor": "#ddd"}})
    data: list[dict] = []
    shown: set[str] = set()
    for key, (xref, yref) in zip(keys, refs, strict=False):
        data += _traces(t.series[key], xref, yref, shown)
    layout = style.layout(f"History: each benchmark's median over {len(line)} runs (date UTC, commit)",
                          grid.pop("height"), **grid)
    layout["annotations"] = style.panel_titles([f"{w} ({p})" for w, p in keys], layout)
    return {"data": data, "layout": layout}


class History(Section):
    name = "history"
    title = "History"
    order = 130

    def rows(self, ctx: Context) -> Timeline | None:
        """The timeline when it has two runs or more (with fewer, cli.py says so in a note)."""
        return Timeline(ctx.history, series(ctx.history)) if ctx.history and len(ctx.history) > 1 else None

    def figures(self, r: Report) -> list[Figure]:
        t = r.rows[self.name]
        return [(self.name, self.title, history_figure(t))] if t else []

    def pngs(self, r: Report) -> list[Png]:
        t = r.rows[self.name]
        return [("history.png", lambda plt, p, m: plot_history(plt, t, p, m), series_key(t))] if t else []
