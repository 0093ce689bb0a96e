"""The figures, drawn with matplotlib (imported only here, only when plotting, Agg backend)."""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from reporting.stats import ratio_interval
from reporting.tables import throughput

PLOTS = ("ratio_to_baseline.png", "history.png", "scaling.png", "compile_vs_steady.png")


def _left_margin(labels: list[str], width_in: float, fontsize: float = 7) -> float:
    """Room for the longest y tick label, so no layout engine has to measure every text."""
    return min(0.7, (0.3 + 0.6 * fontsize / 72 * max(map(len, labels), default=1)) / width_in)


def _median_ratios(r: dict, rows: list[dict]) -> tuple[np.ndarray, list[float], list[float]]:
    """current / baseline median per row (the middle baseline run), and its interval's extent."""
    ratios, lo, hi = [], [], []
    for x in rows:
        cur = r["current"][x["fullname"]]
        bases = sorted(r["baseline_benches"][x["fullname"]], key=lambda b: b.median)
        base = bases[len(bases) // 2]
        ratio, ci = cur.median / base.median, ratio_interval(cur, base)
        ratios.append(ratio)
        lo.append(max(ratio - ci[0], 0) if ci else 0)
        hi.append(max(ci[1] - ratio, 0) if ci else 0)
    return np.array(ratios), lo, hi


def plot_ratio_to_baseline(plt, r: dict, path: Path) -> None:
    rows = [x for x in r["regressions"] if x["change_pct"] is not None and x["fullname"] in r["current"]]
    fig, ax = plt.subplots(figsize=(11, 1.5 + 0.2 * len(rows)))
    y = np.arange(len(rows))
    ratios, lo, hi = _median_ratios(r, rows)
    colors = np.array(["tab:red" if x["verdict"] == "regressed" else "tab:green" if x["verdict"] == "improved"
                       else "tab:blue" for x in rows])
    ax.errorbar(ratios, y, xerr=[lo, hi], fmt="none", ecolor="gray")
    gated = np.array([x["gated"] for x in rows], dtype=bool)
    ax.scatter(ratios[gated], y[gated], c=colors[gated], zorder=3, label="median, gated")
    ax.scatter(ratios[~gated], y[~gated], facecolors="none", edgecolors=colors[~gated], zorder=3,
               label="median, not gated (firstcall or busy)")
    ax.scatter([1 + x["change_pct"] / 100 for x in rows], y, marker="x", c="black", s=12, zorder=4,
               label="fastest round (gate statistic)")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    t = r["threshold"] / 100
    ax.axvspan(1 - t, 1 + t, color="tab:gray", alpha=0.15, label=f"±{r['threshold']:g}% threshold")
    ax.axvline(1, color="black", lw=0.8)
    labels = [x["name"] for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("current / baseline (95% intervals of both medians combined)")
    ax.legend(loc="lower right", fontsize=7)
    fig.subplots_adjust(left=_left_margin(labels, 11), right=0.97, bottom=1.0 / fig.get_figheight(), top=0.98)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _history_series(history: list) -> dict:
    """(workload, phase) -> [{run index: bench}] per benchmark name."""
    by_name = defaultdict(dict)
    for i, run in enumerate(history):
        for b in run.benches.values():
            by_name[b.fullname][i] = b
    series = defaultdict(list)
    for points in by_name.values():
        any_b = next(iter(points.values()))
        series[(any_b.get("workload"), any_b.get("phase"))].append(points)
    return series


def plot_history(plt, history: list, path: Path) -> None:
    series = _history_series(history)
    keys = sorted(series, key=str)
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 2.8 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for points in series[key]:
            idx = sorted(points)
            medians = np.array([points[i].median for i in idx])
            ax.plot(idx, medians / np.median(medians), lw=0.8, marker=".", ms=3)
        ax.set_title(f"{key[0]} ({key[1]})", fontsize=9)
        ax.set_ylabel("median / its own median", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.supxlabel(f"run (oldest to newest, {len(history)} runs)", fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, hspace=0.45, wspace=0.3)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _scaling_lines(benches: dict) -> dict:
    lines = defaultdict(lambda: defaultdict(list))  # workload -> label -> [(size, median, throughput)]
    for b in benches.values():
        if b.get("phase") != "firstcall" and isinstance(b.get("size_value"), int):
            label = f"{b.get('framework')}-{b.get('mode')}-{b.get('device')}"
            lines[b.get("workload")][label].append((b.get("size_value"), b.median, throughput(b)))
    return lines


def plot_scaling(plt, benches: dict, path: Path) -> bool:
    lines = _scaling_lines(benches)
    workloads = sorted(w for w, ls in lines.items() if any(len(p) > 1 for p in ls.values()))
    if not workloads:
        return False
    fig, axes = plt.subplots(2, len(workloads), figsize=(4 * len(workloads), 6), squeeze=False)
    for col, w in enumerate(workloads):
        for label, points in sorted(lines[w].items()):
            points.sort()
            sizes = [p[0] for p in points]
            axes[0, col].loglog(sizes, [p[1] for p in points], marker="o", label=label)
            if all(p[2] for p in points):
                axes[1, col].loglog(sizes, [p[2] for p in points], marker="o", label=label)
        axes[0, col].set_title(w, fontsize=9)
        axes[0, col].set_ylabel("median time per call (s)", fontsize=7)
        axes[1, col].set_ylabel("items/s", fontsize=7)
        axes[1, col].set_xlabel("size (batch / elements / matrix side)", fontsize=7)
        axes[0, col].legend(fontsize=6, loc="upper left")
    for ax in axes.flat:
        ax.minorticks_off()  # log-axis minor ticks cost more to draw than the data
    fig.subplots_adjust(left=0.06, right=0.98, wspace=0.35, hspace=0.25)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def plot_compile(plt, rows: list[dict], path: Path) -> bool:
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.3 * len(rows)))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [x["firstcall_s"] for x in rows], height=0.4, label="firstcall (compile + 1 step)")
    ax.barh(y + 0.2, [x["steady_s"] for x in rows], height=0.4, label="steady step")
    ax.set_xscale("log")
    labels = [f"{x['workload']} {x['size']} {x['framework']}-{x['mode']}-{x['device']}" for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("median seconds per call")
    ax.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(left=_left_margin(labels, 8), right=0.97, bottom=0.9 / fig.get_figheight(), top=0.98)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def render_plots(r: dict, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if r["baseline"] is not None:
        plot_ratio_to_baseline(plt, r, folder / "ratio_to_baseline.png")
    if r["history"] and len(r["history"]) > 1:
        plot_history(plt, r["history"], folder / "history.png")
    plot_scaling(plt, r["current"], folder / "scaling.png")
    plot_compile(plt, r["compile"], folder / "compile_vs_steady.png")
