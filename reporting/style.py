"""One look per framework and mode, shared by every PNG (matplotlib) and the page (plotly).

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
JAX, PyTorch and the NumPy/SciPy references also differ in line style and marker family, so a
plot reads without colour: JAX solid with round/square markers, PyTorch dashed with triangles,
NumPy/SciPy dotted with crosses. The framework-mode looks are the mode table's
(benchmarks/modes.py, a `look` per row); this module adds the fallback and the verdicts' looks.
"""
from __future__ import annotations

import copy
import html
import math

from benchmarks.modes import ROWS, Look

# one look per row of the mode table, in its order (the legend's)
STYLES: dict[str, Look] = {r.key: r.look for r in ROWS}
OTHER = Look("#999999", "*", "-.", "star", "dashdot")  # a framework-mode the table does not have

# verdicts of the comparison against a baseline: colour and a marker of their own
VERDICTS = {
    "slower": Look("#D55E00", ">", "-", "triangle-right", "solid"),
    "faster": Look("#009E73", "<", "-", "triangle-left", "solid"),
    "same": Look("#0072B2", "o", "-", "circle", "solid"),
    "undecided": Look("#999999", "D", "-", "diamond", "solid"),
}


def key(framework, mode) -> str:
    return f"{framework}-{mode}"


def look(framework, mode) -> Look:
    return STYLES.get(key(framework, mode), OTHER)


def order(label: str) -> tuple:
    """Legend order: the mapping's order, then anything else alphabetically."""
    keys = list(STYLES)
    head = next((k for k in keys if label.startswith(k)), None)
    return (keys.index(head) if head else len(keys), label)


# plotly figure pieces shared by the page's figures (plain JSON, no plotly.py at run time)
ROW_PX = 18


def marker(look: Look, hollow: bool = False) -> dict:
    return {"color": look.colour, "symbol": look.symbol + ("-open" if hollow else ""), "size": 8}


def layout(title: str, height: float, **kw) -> dict:
    return {"title": {"text": title, "x": 0, "y": 0.995, "yref": "container", "yanchor": "top"},
            "height": int(height) + 40, "hovermode": "closest", "margin": {"l": 10, "r": 10, "t": 100, "b": 50},
            "font": {"size": 12},
            "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}, **kw}


def log_axis(title: str) -> dict:
    return {"type": "log", "title": {"text": title}, "automargin": True, "gridcolor": "#ddd"}


def category_axis(labels: list[str]) -> dict:
    return {"type": "category", "categoryorder": "array", "categoryarray": labels, "autorange": "reversed",
            "automargin": True, "tickfont": {"size": 11}}


def vline(x: float) -> dict:
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": "black", "width": 1}}


def grid(n: int, ncols: int, row_px: int, axis: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Layout axes for n panels in a grid, and each panel's (xref, yref)."""
    nrows = math.ceil(n / ncols)
    layout, refs = {}, []
    for i in range(n):
        row, col = divmod(i, ncols)
        suffix = "" if i == 0 else str(i + 1)
        x0, y1 = col / ncols, 1 - row / nrows
        layout[f"xaxis{suffix}"] = {**copy.deepcopy(axis["x"]), "domain": [x0 + 0.04, x0 + 1 / ncols - 0.02],
                                    "anchor": f"y{suffix}"}
        layout[f"yaxis{suffix}"] = {**copy.deepcopy(axis["y"]), "domain": [y1 - 1 / nrows + 0.12 / nrows * 2, y1 - 0.1 / nrows],
                                    "anchor": f"x{suffix}"}
        refs.append((f"x{suffix}", f"y{suffix}"))
    return {**layout, "height": 120 + row_px * nrows}, refs


def panel_titles(titles: list[str], layout: dict) -> list[dict]:
    notes = []
    for i, t in enumerate(titles):
        suffix = "" if i == 0 else str(i + 1)
        dom_x, dom_y = layout[f"xaxis{suffix}"]["domain"], layout[f"yaxis{suffix}"]["domain"]
        notes.append({"text": f"<b>{html.escape(t)}</b>", "xref": "paper", "yref": "paper", "x": dom_x[0], "y": dom_y[1],
                      "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"size": 12}})
    return notes
