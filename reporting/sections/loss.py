"""Loss curves: every extra_info list named loss_curve* or *_losses, one page panel per workload, size
and field (no table, no PNG)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reporting import style
from reporting.escape import for_plotly
from reporting.sections.base import Context, Figure, Section

if TYPE_CHECKING:
    from reporting.model import Report

LOSS_FIELD = re.compile(r"^loss_curve.*|.*_losses$")  # extra_info lists plotted as loss curves


def loss_curves(benches: dict) -> dict[tuple, list]:
    """(workload, size, field) -> [bench] for extra_info list fields named loss_curve* or *_losses."""
    groups: dict[tuple, list] = {}
    for b in sorted(benches.values(), key=lambda b: style.order(style.key(b.get("framework"), b.get("mode")))):
        for field, values in b.info.items():
            if LOSS_FIELD.match(field) and isinstance(values, list) and values:
                groups.setdefault((b.get("workload"), b.get("size"), field), []).append(b)
    return groups


def _trace(b, field: str, refs: tuple[str, str], show: bool) -> dict:
    label, look = style.key(b.get("framework"), b.get("mode")), style.look(b.get("framework"), b.get("mode"))
    values = [v if isinstance(v, (int, float)) else None for v in b.info[field]]
    return {"type": "scatter", "mode": "lines", "name": label, "legendgroup": label, "showlegend": show,
            "xaxis": refs[0], "yaxis": refs[1], "y": values, "line": {"color": look.colour, "dash": look.plotly_dash},
            "hovertemplate": f"{for_plotly(b.name)}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"}


def loss_figure(groups: dict[tuple, list]) -> dict | None:
    if not groups:
        return None
    keys = sorted(groups, key=str)
    grid, refs = style.grid(len(keys), 2, 300, {"x": {"title": {"text": "step"}, "gridcolor": "#ddd"},
                                                "y": {"title": {"text": "loss"}, "gridcolor": "#ddd"}})
    data, shown = [], set()
    for (w, size, field), ref in zip(keys, refs, strict=False):
        for b in groups[(w, size, field)]:
            label = style.key(b.get("framework"), b.get("mode"))
            data.append(_trace(b, field, ref, label not in shown))
            shown.add(label)
    layout = style.layout("Loss curves recorded by the benchmarks (extra_info loss_curve* / *_losses)",
                          grid.pop("height"), **grid)
    layout["annotations"] = style.panel_titles([f"{w} {s}: {f}" for w, s, f in keys], layout)
    return {"data": data, "layout": layout}


class Loss(Section):
    name = "loss"
    title = "Loss curves"
    order = 140

    def rows(self, ctx: Context) -> dict[tuple, list]:
        return loss_curves(ctx.current)

    def figures(self, r: Report) -> list[Figure]:
        fig = loss_figure(r.rows[self.name])
        return [(self.name, self.title, fig)] if fig else []
