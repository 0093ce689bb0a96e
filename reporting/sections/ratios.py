"""JAX / PyTorch time ratios per workload, size, device and mode pairing, judged across repeated
fresh processes where there are some (reporting/ratios.py), with their geometric means over sizes;
the page's first-screen chart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from reporting import ratios, style
from reporting.markdown import fmt_time, md_table
from reporting.ratios import Ratio
from reporting.sections.base import Context, Figure, Section

if TYPE_CHECKING:
    from reporting.model import Report

INTRO = (f"Each ratio: the Hodges-Lehmann estimate of JAX's over PyTorch's fastest round, one value per fresh "
         f"process, with its {ratios.CONFIDENCE:.0%} interval (Mann-Whitney); same = the interval within "
         f"+/-{ratios.SAME_PCT:g}%. JAX and PyTorch columns: the median over processes of each side's fastest "
         f"round (one process: the run's median).")


@dataclass(frozen=True)
class Ratios:
    ratios: list[Ratio]  # per workload, size, device and pairing, with interval and word
    gmeans: list[Ratio]  # their geometric means per workload, device and pairing


def judged(ctx: Context) -> Ratios:
    """Every JAX/PyTorch pair: judged across the processes where they measured it, else the run's own
    single-process figure (no interval); and the geometric means over sizes."""
    across = ratios.from_processes(ctx.processes)
    single = ratios.from_one_run(ctx.current, {(x.workload, x.device, x.pairing, x.size) for x in across})
    return Ratios(across + single, ratios.gmeans(ctx.processes, single))


def _cells(x: Ratio) -> list:
    return [f"{x.ratio:.3g}", x.interval, str(x.processes), x.word]


def _label(x: Ratio) -> str:
    return f"{x.workload} {x.size} {x.device}"


def _trace(rows: list[Ratio], pairing: str, judged: bool) -> dict:
    trace = {"type": "scatter", "mode": "markers", "x": [x.ratio for x in rows], "y": [_label(x) for x in rows],
             "name": f"JAX/PyTorch {pairing}" + ("" if judged else " (one process: no interval)"),
             "marker": style.marker(style.look("jax", pairing.split("/")[0]), hollow=not judged),
             "customdata": [[fmt_time(x.jax_s), fmt_time(x.torch_s), " vs ".join(x.names), x.interval, x.processes,
                             x.word] for x in rows],
             "hovertemplate": "ratio %{x:.3g}, interval %{customdata[3]} (%{customdata[4]} processes): "
                              "%{customdata[5]}<br>JAX %{customdata[0]}, PyTorch %{customdata[1]}"
                              "<br>%{customdata[2]}<extra></extra>"}
    if judged:
        trace["error_x"] = {"type": "data", "symmetric": False, "array": [(x.high or x.ratio) - x.ratio for x in rows],
                            "arrayminus": [x.ratio - (x.low or x.ratio) for x in rows]}
    return trace


def ratio_figure(rows: list[Ratio]) -> dict | None:
    """The ratios with their intervals (hollow: one process, no interval): the page's first screen."""
    if not rows:
        return None
    labels = list(dict.fromkeys(_label(x) for x in rows))
    data = []
    for pairing in sorted({x.pairing for x in rows}):
        mine = [x for x in rows if x.pairing == pairing]
        for judged in (True, False):
            if sel := [x for x in mine if (x.low is not None and x.high is not None) == judged]:
                data.append(_trace(sel, pairing, judged))
    return {"data": data, "layout": style.layout(
        f"JAX time / PyTorch time, steady, {ratios.CONFIDENCE:.0%} intervals across processes (left of 1: JAX faster)",
        140 + style.ROW_PX * len(labels),
        xaxis=style.log_axis("JAX / PyTorch fastest-round time, log scale"), yaxis=style.category_axis(labels),
        shapes=[style.vline(1)])}


class RatioSection(Section):
    name = "ratios"
    title = "JAX vs PyTorch"
    order = 50

    def rows(self, ctx: Context) -> Ratios:
        return judged(ctx)

    def markdown(self, r: Report) -> list[str]:
        rows: Ratios = r.rows[self.name]
        out = ["", "## JAX / PyTorch time ratio (steady; < 1 means JAX is faster)", ""]
        if not rows.ratios:
            return out + ["No workload has both a JAX and a PyTorch steady benchmark in a jit/compile or eager/eager "
                          "pairing."]
        conf = f"{ratios.CONFIDENCE:.0%} interval"
        return out + [INTRO, "", md_table(
            ["workload", "size", "device", "jax/torch mode", "JAX", "PyTorch", "ratio", conf, "processes", "verdict"],
            [[x.workload, x.size, x.device, x.pairing, fmt_time(x.jax_s), fmt_time(x.torch_s), *_cells(x)]
             for x in rows.ratios]), "", md_table(
            ["workload", "device", "jax/torch mode", "sizes", "geometric mean ratio", conf, "processes", "verdict"],
            [[x.workload, x.device, x.pairing, x.size.removeprefix("gmean of "), *_cells(x)] for x in rows.gmeans])]

    def csv(self, r: Report, rows: dict[str, dict]) -> None:
        for ratio in r.rows[self.name].ratios:
            for name in ratio.names:
                if name in rows:  # processes may hold benchmarks the run itself did not measure
                    rows[name].update(jax_torch_ratio=ratio.ratio, jax_torch_ratio_low=ratio.low,
                                      jax_torch_ratio_high=ratio.high, jax_torch_processes=ratio.processes,
                                      jax_torch_verdict=ratio.word)

    def figures(self, r: Report) -> list[Figure]:
        fig = ratio_figure(r.rows[self.name].ratios)
        return [("ratio", self.title, fig)] if fig else []
