"""The PNG figures, drawn with matplotlib (imported only when plotting, Agg backend), and the data
behind them, which the page (reporting/html.py) draws again with plotly. Every line and marker
takes its look from reporting/style.py: one colour, marker and dash per framework and mode."""
from __future__ import annotations

import hashlib
import math
import re
import shutil
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from reporting import history as hist
from reporting import style
from reporting.scaling import overhead_rows
from reporting.stats import ratio_interval
from reporting.tables import gflops, throughput

if TYPE_CHECKING:
    from reporting.model import Report

LOSS_FIELD = re.compile(r"^loss_curve.*|.*_losses$")  # extra_info lists plotted as loss curves


def _left_margin(labels: list[str], width_in: float, fontsize: float = 7) -> float:
    """Room for the longest y tick label, so no layout engine has to measure every text."""
    return min(0.7, (0.3 + 0.6 * fontsize / 72 * max(map(len, labels), default=1)) / width_in)


# the baseline figure's verdicts, in legend order (reporting.compare's words)
VERDICT_WORDS = ("slower", "faster", "same", "undecided")


def verdict_looks() -> dict[str, style.Look]:
    """Each verdict's colour and marker (reporting/style.py)."""
    return {word: style.VERDICTS[word] for word in VERDICT_WORDS}


def compute_baseline_rows(r: Report) -> list[dict]:
    """Regression rows with a change, each with its median ratio and that ratio's interval (or None)."""
    rows: list[dict] = []
    for x in r.regressions:
        if x["change_pct"] is None or x["fullname"] not in r.current:
            continue
        cur = r.current[x["fullname"]]
        bases = sorted(r.baseline_benches[x["fullname"]], key=lambda b: b.median)
        base = bases[len(bases) // 2]  # the middle baseline run
        rows.append({**x, "ratio": cur.median / base.median, "interval": ratio_interval(cur, base),
                     "low_ratio": 1 + x["change_pct"] / 100,
                     "gated": x["gated"] and not r.blockers})  # nothing gates another machine
    return rows


def plot_ratio_to_baseline(plt, r: Report, path: Path, metadata: dict | None = None) -> None:
    rows = r.baseline_rows
    fig, ax = plt.subplots(figsize=(11, 1.8 + 0.2 * len(rows)))
    y = np.arange(len(rows))
    ratios = np.array([x["ratio"] for x in rows])
    lo = [x["ratio"] - x["interval"][0] if x["interval"] else 0 for x in rows]
    hi = [x["interval"][1] - x["ratio"] if x["interval"] else 0 for x in rows]
    ax.errorbar(ratios, y, xerr=[np.maximum(lo, 0), np.maximum(hi, 0)], fmt="none", ecolor="gray", lw=0.8)
    for verdict, look in verdict_looks().items():
        for gated in (True, False):
            sel = np.array([x["verdict"] == verdict and x["gated"] == gated for x in rows], dtype=bool)
            if sel.any():
                ax.scatter(ratios[sel], y[sel], marker=look.marker, zorder=3, s=28,
                           facecolors=look.colour if gated else "none", edgecolors=look.colour,
                           label=f"{verdict}, {'gated' if gated else 'not gated'}")
    ax.scatter([x["low_ratio"] for x in rows], y, marker="|", c="black", s=30, zorder=4,
               label="fastest round (the gate statistic)")
    t = r.threshold / 100
    ax.axvspan(1 / (1 + t), 1 + t, color="tab:gray", alpha=0.15, label=f"±{r.threshold:g}%: same only with the interval inside")
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    labels = [x["name"] for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("current / baseline median, log scale (bars: 95% intervals of both medians combined)")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -1.1 / fig.get_figheight()), fontsize=7, ncol=3, frameon=False)
    fig.subplots_adjust(left=_left_margin(labels, 11), right=0.97, bottom=1.6 / fig.get_figheight(),
                        top=1 - 0.2 / fig.get_figheight())
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)


def _figure_legend(fig, labels: dict, **kw) -> None:
    """One legend for the whole figure: label -> handle, in the style mapping's order."""
    keys = sorted(labels, key=style.order)
    fig.legend([labels[k] for k in keys], keys, fontsize=7, frameon=False, **kw)


def _timeline_ticks(ax, line: list) -> None:
    step = max(1, math.ceil(len(line) / 4))
    ticks = list(range(0, len(line), step))
    ax.set_xticks(ticks, [hist.tick_label(line[i][0]) for i in ticks], fontsize=6)
    ax.set_xlim(-0.5, len(line) - 0.5)


def plot_history(plt, r: Report, path: Path, metadata: dict | None = None) -> None:
    line, series = r.history, r.history_series
    assert line is not None  # _jobs draws the history only when there is one
    keys = sorted(series, key=str)
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 0.8 + 2.8 * nrows), squeeze=False)
    handles = {}
    for ax, key in zip(axes.flat, keys, strict=False):
        for points in series[key].values():
            look = style.look(points[0].framework, points[0].mode)
            handles[style.key(points[0].framework, points[0].mode)], = ax.plot(
                [p.x for p in points], [p.relative for p in points], color=look.colour, ls=look.dash, lw=0.8,
                marker=look.marker, ms=2.5)
            base = [p for p in points if p.baseline]
            if base:
                handles["baseline run"] = ax.scatter([p.x for p in base], [p.relative for p in base], marker="s",
                                                     s=30, facecolors="none", edgecolors="black", zorder=3)
        ax.set_title(f"{key[0]} ({key[1]})", fontsize=9)
        ax.set_ylabel("median / its own median", fontsize=7)
        ax.tick_params(labelsize=7)
        _timeline_ticks(ax, line)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    _figure_legend(fig, handles, loc="upper center", ncol=8)
    fig.supxlabel(f"run date (UTC) and commit, oldest to newest: {len(line)} runs", fontsize=8)
    fig.subplots_adjust(left=0.06, right=0.98, top=1 - 0.6 / fig.get_figheight(), hspace=0.6, wspace=0.3)
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)


def rate(b) -> tuple[float | None, str]:
    """GFLOP/s where the benchmark knows its FLOPs, else items/s, and which it is."""
    g = gflops(b)
    return (g, "GFLOP/s") if g else (throughput(b), "items/s")


def scaling_lines(benches: dict) -> dict:
    """workload -> "framework-mode[-device]" -> [(size, median, rate, rate unit, name)], sorted by size."""
    devices = {b.get("device") for b in benches.values()}
    lines: defaultdict[Any, defaultdict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for b in benches.values():
        if b.get("phase") == "steady" and isinstance(b.get("size_value"), int):
            label = style.key(b.get("framework"), b.get("mode")) + (f"-{b.get('device')}" if len(devices) > 1 else "")
            lines[b.get("workload")][label].append((b.get("size_value"), b.median, *rate(b), b.name))
    return {w: {k: sorted(v) for k, v in ls.items()} for w, ls in lines.items()
            if any(len(p) > 1 for p in ls.values())}


def fitted_lines(benches: dict) -> dict[tuple[str, str], tuple[list[int], list[float]]]:
    """(workload, line label) -> (sizes, fixed + work / throughput at each size) of every linear fit,
    labelled as scaling_lines labels its lines."""
    devices = {b.get("device") for b in benches.values()}
    out = {}
    for x in overhead_rows(benches):
        if x["fit"].linear:
            label = style.key(x["framework"], x["mode"]) + (f"-{x['device']}" if len(devices) > 1 else "")
            out[(x["workload"], label)] = (x["size_values"], [x["fit"].predict(w) for w in x["works"]])
    return out


def rate_unit(lines: dict) -> str:
    """One workload's throughput unit: GFLOP/s when every line knows its FLOPs."""
    units = {p[3] for points in lines.values() for p in points}
    return "GFLOP/s" if units == {"GFLOP/s"} else "items/s"


def _scaling_panel(axes, lines: dict, handles: dict, fits: dict) -> None:
    unit = rate_unit(lines)
    for label, points in sorted(lines.items(), key=lambda kv: style.order(kv[0])):
        fw, mode = label.split("-")[:2]
        look = style.look(fw, mode)
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


def plot_scaling(plt, benches: dict, path: Path, metadata: dict | None = None) -> bool:
    lines = scaling_lines(benches)
    if not lines:
        return False
    workloads = sorted(lines)
    fig, axes = plt.subplots(2, len(workloads), figsize=(3.6 * len(workloads), 6.4), squeeze=False)
    handles: dict[str, Any] = {}
    fits = fitted_lines(benches)
    for col, w in enumerate(workloads):
        _scaling_panel(axes[:, col], lines[w], handles, {k[1]: v for k, v in fits.items() if k[0] == w})
        axes[0, col].set_title(w, fontsize=9)
    for ax in axes.flat:
        ax.minorticks_off()  # log-axis minor ticks cost more to draw than the data
        ax.tick_params(labelsize=7)
    _figure_legend(fig, handles, loc="upper center", ncol=len(handles))
    fig.subplots_adjust(left=0.05, right=0.99, top=0.9, wspace=0.4, hspace=0.25)
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)
    return True


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
    fig.subplots_adjust(left=_left_margin(labels, 8), right=0.97, bottom=0.9 / fig.get_figheight(), top=0.98)
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)
    return True


def loss_curves(benches: dict) -> dict[tuple, list]:
    """(workload, size, field) -> [bench] for extra_info list fields named loss_curve* or *_losses."""
    groups: dict[tuple, list] = {}
    for b in sorted(benches.values(), key=lambda b: style.order(style.key(b.get("framework"), b.get("mode")))):
        for field, values in b.info.items():
            if LOSS_FIELD.match(field) and isinstance(values, list) and values:
                groups.setdefault((b.get("workload"), b.get("size"), field), []).append(b)
    return groups



CACHE_TAG = "report-py-input"  # PNG text chunk: the hash of what the figure was drawn from


def input_key(name: str, data) -> str:
    """A PNG's inputs and the code that draws it, hashed: equal keys draw equal figures."""
    code = b"".join(Path(cast(str, m.__file__)).read_bytes() for m in (style, hist)) + Path(__file__).read_bytes()
    return hashlib.sha256(code + name.encode() + repr(data).encode()).hexdigest()


def _reuse(previous: Path | None, name: str, key: str, folder: Path) -> bool:
    """Copy the previous report's PNG when it was drawn from the same inputs (a long history is slow to draw)."""
    old = previous / name if previous else None
    if not (old and old.is_file() and f"{CACHE_TAG}\0{key}".encode() in old.read_bytes()):
        return False
    shutil.copyfile(old, folder / name)
    return True


def plot_roofline(plt, rf: dict, path: Path, metadata: dict | None = None) -> bool:
    """Achieved GFLOP/s against arithmetic intensity, under each device's measured roofs."""
    if not rf["roofs"] or not rf["points"]:
        return False
    devices = sorted({dev for _, dev in rf["roofs"]})
    fig, axes = plt.subplots(1, len(devices), figsize=(6.4 * len(devices), 4.6), squeeze=False)
    handles = {}
    for ax, dev in zip(axes[0], devices, strict=True):
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
            label = style.key(p["framework"], p["mode"])
            handles[label] = ax.scatter(p["intensity"], p["gflops"], color=look.colour, marker=look.marker, s=22)
        ax.set_title(f"Roofline, {dev}", fontsize=9)
        ax.set_xlabel("arithmetic intensity (flop / byte)", fontsize=7)
        ax.set_ylabel("achieved GFLOP/s", fontsize=7)
        ax.minorticks_off()
        ax.tick_params(labelsize=7)
    _figure_legend(fig, handles, loc="upper center", ncol=len(handles))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.12)
    fig.savefig(path, dpi=90, metadata=metadata)
    plt.close(fig)
    return True


def _jobs(r: Report) -> list:
    """(file name, draw(plt, path, metadata), the data it is drawn from) per figure this report has."""
    jobs: list[tuple[str, Callable[[Any, Path, dict], Any], Any]] = []
    if r.baseline is not None:
        jobs.append(("ratio_to_baseline.png", lambda plt, p, m: plot_ratio_to_baseline(plt, r, p, m),
                     (r.baseline_rows, r.threshold)))
    if r.history and len(r.history) > 1:
        jobs.append(("history.png", lambda plt, p, m: plot_history(plt, r, p, m), hist.series_key(r)))
    jobs.append(("scaling.png", lambda plt, p, m: plot_scaling(plt, r.current, p, m), scaling_lines(r.current)))
    jobs.append(("compile_vs_steady.png", lambda plt, p, m: plot_compile(plt, r.compile, p, m), r.compile))
    jobs.append(("roofline.png", lambda plt, p, m: plot_roofline(plt, r.roofline, p, m), r.roofline))
    return jobs


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_or_reuse(name: str, data, draw, folder: Path, previous: Path | None) -> bool:
    """folder/name drawn with draw(path, metadata) (which may return False: nothing to draw; the PNG
    carries `metadata`, its input key), or copied from the `previous` report folder when that PNG
    was drawn from the same `data` and code."""
    key = input_key(name, data)
    if _reuse(previous, name, key, folder):
        return True
    return draw(folder / name, {CACHE_TAG: key}) is not False


def render_plots(r: Report, folder: Path) -> None:
    """Every PNG, each copied from r.previous (the report being replaced) when its inputs are the same.
    matplotlib's missing-glyph warnings are silenced: they would quote a label's characters, control
    characters from a run file among them, raw on the terminal."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        for name, draw, data in _jobs(r):
            draw_or_reuse(name, data, lambda path, meta, draw=draw: draw(pyplot(), path, meta), folder, r.previous)
