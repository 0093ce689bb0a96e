"""Against the baseline: each benchmark slower, faster, same or undecided (reporting/compare.py), how
it was judged, and whether it gates; ratio_to_baseline.png and a page figure of the changed ones."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reporting import style
from reporting.compare import MEMORY_MIN_BYTES, MEMORY_PCT, ROW_COLUMNS, Comparison
from reporting.drawing import left_margin
from reporting.escape import for_markdown
from reporting.machine import BUSY_SHARE
from reporting.markdown import fmt, fmt_time, md_table, pct
from reporting.sections.base import Context, Figure, Png, Section
from reporting.stats import ALPHA_ROUNDS, ratio_interval

if TYPE_CHECKING:
    from reporting.model import Report

VERDICT_WORDS = ("slower", "faster", "same", "undecided")  # the figure's verdicts, in legend order


@dataclass(frozen=True)
class Against:
    comparison: Comparison
    changed: list[dict]  # comparison rows with a change, with their median ratio and its interval


def changed_rows(current: dict, cmp: Comparison) -> list[dict]:
    """Regression rows with a change, each with its median ratio and that ratio's interval (or None)."""
    rows: list[dict] = []
    for x in cmp.rows:
        if x["change_pct"] is None or x["fullname"] not in current:
            continue
        cur = current[x["fullname"]]
        bases = sorted(cmp.baseline_benches[x["fullname"]], key=lambda b: b.median)
        base = bases[len(bases) // 2]  # the middle baseline run
        rows.append({**x, "ratio": cur.median / base.median, "interval": ratio_interval(cur, base),
                     "low_ratio": 1 + x["change_pct"] / 100,
                     "gated": x["gated"] and not cmp.blockers})  # nothing gates another machine
    return rows


def intro(cmp: Comparison, runs: int) -> list[str]:
    t, f = cmp.threshold, cmp.firstcall_threshold
    out = [f"Baseline: {for_markdown(str(cmp.baseline))}. Compared: the fastest round of a run (the gate statistic: "
           "other processes only add time); with several runs on both sides, the fastest of each side's runs, else "
           "the current runs' fastest against the slowest baseline run's (several baseline runs set the noise floor). "
           "Slower = the current side is slower than the baseline side by more "
           f"than the benchmark's threshold (steady: {t:g}% or, if larger, the threshold calibrated on "
           f"this machine for that many runs a side; firstcall {f:g}%). With several runs "
           "on both sides the sides' median runs must also differ by more than their own calibrated threshold "
           "(shown in the test column); with one run on a side the slow-down must be significant on each pair's "
           f"raw rounds (Mann-Whitney U, p < {ALPHA_ROUNDS:g}; p below is the largest). Faster = the mirror image. "
           "Same = the 95% interval of the current / baseline median (over every pair of runs) and the change "
           f"both lie inside ±{t:g}% (firstcall ±{f:g}%), the smallest change that "
           "matters, and no calibration puts this machine's runs further apart than that (a change inside a wide "
           "noise floor is never same); anything else is undecided. Resolvable = half that interval's width, or "
           "the calibrated threshold where it is wider: about the smallest change these runs could tell from none. "
           "Spread = the baseline runs' slowest / fastest - 1. Only steady benchmarks measured on a quiet "
           f"machine set the exit code (gated = yes; a benchmark during which other processes took more than "
           f"{BUSY_SHARE:.0%} of the CPU is not gated). Memory: larger or smaller beyond {MEMORY_PCT:g}% and "
           f"{MEMORY_MIN_BYTES // 2 ** 20} MiB, else similar; never gated.", ""]
    if cmp.note:
        out += [for_markdown(cmp.note[0].upper() + cmp.note[1:]) + ".", ""]
    if cmp.calibration:
        out += [f"Calibration: {for_markdown(cmp.calibration)}.", ""]
    if runs == 1:
        out += ["With one current run, a test on its rounds cannot tell a real slow-down from a run-level "
                "shift of this machine: confirm a slower verdict by measuring again and passing both runs "
                "(`make regress` does this), or compare A/B on this machine (`make compare`).", ""]
    return out


def interval_cell(row: dict) -> str:
    """The 95% interval of current / baseline median, in %, or why there is none."""
    if row["interval_low_pct"] is None or row["interval_high_pct"] is None:
        return "none (too few raw rounds)" if row["change_pct"] is not None else ""
    return f"{row['interval_low_pct']:+.1f}% .. {row['interval_high_pct']:+.1f}%"


def gated_cell(cmp: Comparison, row: dict) -> str:
    """yes, or why not: the whole comparison (see the verdict), or this benchmark (firstcall, busy)."""
    if cmp.blockers:
        return "no: nothing gates (see the verdict)"
    return "yes" if row["gated"] else f"no: {row['not_gated']}"


def table(cmp: Comparison) -> list[str]:
    return [md_table(["benchmark", "baseline", "spread", "current", "change", "threshold", "p", "test",
                      "95% interval", "resolvable", "gated", "verdict", "memory change", "memory verdict"],
                     [[x["name"], fmt_time(x["baseline_min_s"]), pct(x["baseline_spread_pct"], ".1f"),
                       fmt_time(x["current_min_s"]), pct(x["change_pct"]), pct(x["threshold_pct"], "g"),
                       fmt(x["p_value"], ".2g"), x["test"], interval_cell(x), pct(x["resolvable_pct"], ".1f"),
                       gated_cell(cmp, x), x["verdict"], pct(x["memory_change_pct"]), x["memory_verdict"]]
                      for x in cmp.rows]),
            "", "Machine differences noted: " + ("none." if not cmp.machine_diff else "")] + [
        f"- `{for_markdown(str(k))}`: {for_markdown(repr(b))} -> {for_markdown(repr(c))}"
        for k, b, c in cmp.machine_diff]


def _spans(rows: list[dict]) -> tuple[list[float], list[float]]:
    """Each row's interval as distances below and above its ratio (0 without one)."""
    return ([x["ratio"] - x["interval"][0] if x["interval"] else 0 for x in rows],
            [x["interval"][1] - x["ratio"] if x["interval"] else 0 for x in rows])


def plot_ratio_to_baseline(plt, rows: list[dict], threshold: float, path: Path, metadata: dict | None = None) -> None:
    fig, ax = plt.subplots(figsize=(11, 1.8 + 0.2 * len(rows)))
    y = np.arange(len(rows))
    ratios = np.array([x["ratio"] for x in rows])
    lo, hi = _spans(rows)
    ax.errorbar(ratios, y, xerr=[np.maximum(lo, 0), np.maximum(hi, 0)], fmt="none", ecolor="gray", lw=0.8)
    for verdict, gated, look in _groups():
        sel = np.array([x["verdict"] == verdict and x["gated"] == gated for x in rows], dtype=bool)
        if sel.any():
            ax.scatter(ratios[sel], y[sel], marker=look.marker, zorder=3, s=28, facecolors=look.colour if gated
                       else "none", edgecolors=look.colour, label=f"{verdict}, {'gated' if gated else 'not gated'}")
    ax.scatter([x["low_ratio"] for x in rows], y, marker="|", c="black", s=30, zorder=4,
               label="fastest round (the gate statistic)")
    t = threshold / 100
    ax.axvspan(1 / (1 + t), 1 + t, color="tab:gray", alpha=0.15, label=f"±{threshold:g}%: same only with the interval inside")
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    labels = [x["name"] for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("current / baseline median, log scale (bars: 95% intervals of both medians combined)")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -1.1 / fig.get_figheight()), fontsize=7, ncol=3, frameon=False)
    fig.subplots_adjust(left=left_margin(labels, 11), right=0.97, bottom=1.6 / fig.get_figheight(),
                        top=1 - 0.2 / fig.get_figheight())
    fig.savefig(path, dpi=80, metadata=metadata)
    plt.close(fig)


def _groups():
    """(verdict, gated, its look) in legend order (reporting/style.py's colours and markers)."""
    return [(word, gated, style.VERDICTS[word]) for word in VERDICT_WORDS for gated in (True, False)]


def baseline_figure(rows: list[dict], threshold: float) -> dict:
    data = []
    for verdict, gated, look in _groups():
        if not (sel := [x for x in rows if x["verdict"] == verdict and x["gated"] == gated]):
            continue
        lo, hi = _spans(sel)
        data.append({"type": "scatter", "mode": "markers", "x": [x["ratio"] for x in sel],
                     "y": [x["name"] for x in sel], "marker": style.marker(look, not gated),
                     "name": f"{verdict}, {'gated' if gated else 'not gated'}",
                     "error_x": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                                 "color": "#888", "thickness": 1},
                     "customdata": [[x["change_pct"], x["threshold_pct"], x["test"]] for x in sel],
                     "hovertemplate": "%{y}<br>median ratio %{x:.3g}<br>fastest round %{customdata[0]:+.1f}% "
                                      "(threshold %{customdata[1]:g}%)<br>%{customdata[2]}<extra></extra>"})
    t = threshold / 100
    band = {"type": "rect", "xref": "x", "yref": "paper", "x0": 1 / (1 + t), "x1": 1 + t, "y0": 0, "y1": 1,
            "fillcolor": "#999", "opacity": 0.2, "line": {"width": 0}}
    return {"data": data, "layout": style.layout(
        f"Current / baseline median with 95% intervals (grey band: ±{threshold:g}%; same only with the interval inside)",
        160 + 14 * len(rows), xaxis=style.log_axis("current / baseline median, log scale"),
        yaxis=style.category_axis([x["name"] for x in rows]), shapes=[band, style.vline(1)])}


class Baseline(Section):
    name = "baseline"
    title = "Against the baseline"
    order = 90

    def rows(self, ctx: Context) -> Against:
        return Against(ctx.comparison, changed_rows(ctx.current, ctx.comparison))

    def markdown(self, r: Report) -> list[str]:
        cmp = r.rows[self.name].comparison
        out = ["", f"## {self.title}: slower, faster, same or undecided", ""]
        if cmp.baseline is None:
            return out + [for_markdown(cmp.note)]
        return out + intro(cmp, len(r.runs)) + table(cmp)

    def csv(self, r: Report, rows: dict[str, dict]) -> None:
        for x in r.rows[self.name].comparison.rows:
            row = rows.setdefault(x["name"], {"name": x["name"], "fullname": x["fullname"], "phase": x["phase"]})
            row.update({k: x[k] for k in ROW_COLUMNS})

    def figures(self, r: Report) -> list[Figure]:
        against: Against = r.rows[self.name]
        if against.comparison.baseline is None:
            return []
        return [(self.name, self.title, baseline_figure(against.changed, against.comparison.threshold))]

    def pngs(self, r: Report) -> list[Png]:
        against: Against = r.rows[self.name]
        rows, threshold = against.changed, against.comparison.threshold
        if against.comparison.baseline is None:
            return []
        return [("ratio_to_baseline.png", lambda plt, p, m: plot_ratio_to_baseline(plt, rows, threshold, p, m),
                 (rows, threshold))]
