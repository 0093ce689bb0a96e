"""report/index.html: one self-contained page (plotly.js and the data embedded, no network).

The figures are plain plotly JSON built here from the same rows as the tables and PNGs, in the
looks of reporting/style.py; plotly.js is embedded once, gzip-compressed (4.8 MB -> 2 MB of
base64), and unpacked by the browser's DecompressionStream. Every table of report.md is in the
page (reporting.render.markdown_html) with a small filter by framework, mode, device, workload.
What comes from the runs is escaped by reporting/escape.py: for_html in the markup, plotly_figure
over every figure, for_script over the JSON that carries them.
"""
from __future__ import annotations

import base64
import gzip
import json
import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING

from reporting import plots, ratios, style
from reporting.escape import for_html, for_plotly, for_script, plotly_figure
from reporting.history import history_figure
from reporting.page_assets import CSS, JS
from reporting.render import findings, fmt_time, markdown_html, overhead_section, verdict_lines

if TYPE_CHECKING:
    from reporting.model import Report
    from reporting.ratios import Ratio


def _label(x: Ratio) -> str:
    return f"{x.workload} {x.size} {x.device}"


def _ratio_trace(rows: list[Ratio], pairing: str, judged: bool) -> dict:
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


def ratio_figure(r: Report) -> dict | None:
    """The ratios with their intervals (hollow: one process, no interval): the page's first screen."""
    if not r.ratios:
        return None
    labels = list(dict.fromkeys(_label(x) for x in r.ratios))
    data = []
    for pairing in sorted({x.pairing for x in r.ratios}):
        rows = [x for x in r.ratios if x.pairing == pairing]
        for judged in (True, False):
            mine = [x for x in rows if (x.low is not None and x.high is not None) == judged]
            if mine:
                data.append(_ratio_trace(mine, pairing, judged))
    return {"data": data, "layout": style.layout(
        f"JAX time / PyTorch time, steady, {ratios.CONFIDENCE:.0%} intervals across processes (left of 1: JAX faster)",
        140 + style.ROW_PX * len(labels),
        xaxis=style.log_axis("JAX / PyTorch fastest-round time, log scale"), yaxis=style.category_axis(labels),
        shapes=[style.vline(1)])}


def compile_figure(r: Report) -> dict | None:
    rows = r.compile
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


def scaling_figure(r: Report, rate: bool) -> dict | None:
    lines = plots.scaling_lines(r.current)
    if not lines:
        return None
    workloads = sorted(lines)
    grid, refs = style.grid(len(workloads), 4, 260, {"x": style.log_axis("size"), "y": style.log_axis("")})
    data, shown, fits = [], set(), plots.fitted_lines(r.current) if not rate else {}
    for w, (xref, yref) in zip(workloads, refs, strict=False):
        unit = plots.rate_unit(lines[w])
        grid["yaxis" + xref[1:]]["title"]["text"] = unit if rate else "median s/call"
        for label, points in sorted(lines[w].items(), key=lambda kv: style.order(kv[0])):
            values = [p[2] if p[3] == unit else None for p in points] if rate else [p[1] for p in points]
            look = style.look(*label.split("-")[:2])
            data.append({"type": "scatter", "mode": "lines+markers", "name": label, "legendgroup": label,
                         "showlegend": label not in shown, "xaxis": xref, "yaxis": yref,
                         "x": [p[0] for p in points], "y": values, "text": [p[4] for p in points],
                         "line": {"color": look.colour, "dash": look.plotly_dash}, "marker": style.marker(look),
                         "hovertemplate": "size %{x}<br>%{y:.4s}" + (f" {unit}" if rate else " s")
                                          + "<br>%{text}<extra></extra>"})
            if (w, label) in fits:  # fixed + work / throughput, dotted
                xs, ys = fits[(w, label)]
                data.append({"type": "scatter", "mode": "lines", "name": f"{label} fit", "legendgroup": label,
                             "showlegend": False, "xaxis": xref, "yaxis": yref, "x": xs, "y": ys,
                             "line": {"color": look.colour, "dash": "dot", "width": 1},
                             "hovertemplate": "fit: %{y:.4s} s<extra></extra>"})
            shown.add(label)
    title = ("Throughput with size: GFLOP/s where the FLOPs are known, items/s otherwise (axis says which)"
             if rate else "Median time per call with size (log-log)")
    layout = style.layout(title, grid.pop("height"), **grid)
    layout["annotations"] = style.panel_titles(workloads, layout)
    return {"data": data, "layout": layout}


def baseline_figure(r: Report) -> dict | None:
    if r.baseline is None:
        return None
    rows = r.baseline_rows
    data = []
    for verdict, look in plots.verdict_looks().items():
        for gated in (True, False):
            sel = [x for x in rows if x["verdict"] == verdict and x["gated"] == gated]
            if not sel:
                continue
            lo = [x["ratio"] - x["interval"][0] if x["interval"] else 0 for x in sel]
            hi = [x["interval"][1] - x["ratio"] if x["interval"] else 0 for x in sel]
            data.append({"type": "scatter", "mode": "markers", "x": [x["ratio"] for x in sel],
                         "y": [x["name"] for x in sel], "marker": style.marker(look, not gated),
                         "name": f"{verdict}, {'gated' if gated else 'not gated'}",
                         "error_x": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                                     "color": "#888", "thickness": 1},
                         "customdata": [[x["change_pct"], x["threshold_pct"], x["test"]] for x in sel],
                         "hovertemplate": "%{y}<br>median ratio %{x:.3g}<br>fastest round %{customdata[0]:+.1f}% "
                                          "(threshold %{customdata[1]:g}%)<br>%{customdata[2]}<extra></extra>"})
    t = r.threshold / 100
    band = {"type": "rect", "xref": "x", "yref": "paper", "x0": 1 / (1 + t), "x1": 1 + t, "y0": 0, "y1": 1,
            "fillcolor": "#999", "opacity": 0.2, "line": {"width": 0}}
    return {"data": data, "layout": style.layout(
        f"Current / baseline median with 95% intervals (grey band: ±{r.threshold:g}%; same only with the interval inside)",
        160 + 14 * len(rows), xaxis=style.log_axis("current / baseline median, log scale"),
        yaxis=style.category_axis([x["name"] for x in rows]), shapes=[band, style.vline(1)])}


def memory_figure(r: Report) -> dict | None:
    rows = [x for x in r.memory if x["jax_bytes"] is not None or x["torch_bytes"] is not None]
    if not rows:
        return None
    labels = [f"{x['workload']} {x['size']} {x['device']} {x['pairing']}" for x in rows]
    data = [{"type": "bar", "orientation": "h", "name": name, "y": labels,
             "x": [None if x[f"{fw}_bytes"] is None else x[f"{fw}_bytes"] / 2 ** 20 for x in rows],
             "marker": {"color": style.look(fw, mode).colour, "pattern": {"shape": shape}},
             "hovertemplate": "%{y}<br>%{x:.1f} MiB<extra>" + name + "</extra>"}
            for fw, mode, name, shape in (("jax", "jit", "JAX", ""), ("torch", "eager", "PyTorch", "/"))]
    data.append({"type": "scatter", "mode": "markers", "name": "analytic floor", "y": labels,
                 "x": [None if x["floor_bytes"] is None else x["floor_bytes"] / 2 ** 20 for x in rows],
                 "marker": {"symbol": "line-ns-open", "size": 14, "color": "#000"},
                 "hovertemplate": "%{y}<br>floor %{x:.1f} MiB<extra></extra>"})
    return {"data": data, "layout": style.layout("Working set of a step, JAX vs PyTorch (PyTorch hatched; | = floor)",
                                                 140 + 30 * len(rows),
                                            barmode="group", xaxis={"title": {"text": "MiB"}, "automargin": True},
                                            yaxis=style.category_axis(labels))}


def loss_figure(r: Report) -> dict | None:
    groups = plots.loss_curves(r.current)
    if not groups:
        return None
    keys = sorted(groups, key=str)
    grid, refs = style.grid(len(keys), 2, 300, {"x": {"title": {"text": "step"}, "gridcolor": "#ddd"},
                                                "y": {"title": {"text": "loss"}, "gridcolor": "#ddd"}})
    data, shown = [], set()
    for (w, size, field), (xref, yref) in zip(keys, refs, strict=False):
        for b in groups[(w, size, field)]:
            label = style.key(b.get("framework"), b.get("mode"))
            look = style.look(b.get("framework"), b.get("mode"))
            values = [v if isinstance(v, (int, float)) else None for v in b.info[field]]
            data.append({"type": "scatter", "mode": "lines", "name": label, "legendgroup": label,
                         "showlegend": label not in shown, "xaxis": xref, "yaxis": yref, "y": values,
                         "line": {"color": look.colour, "dash": look.plotly_dash},
                         "hovertemplate": f"{for_plotly(b.name)}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"})
            shown.add(label)
    layout = style.layout("Loss curves recorded by the benchmarks (extra_info loss_curve* / *_losses)",
                          grid.pop("height"), **grid)
    layout["annotations"] = style.panel_titles([f"{w} {s}: {f}" for w, s, f in keys], layout)
    return {"data": data, "layout": layout}


@dataclass(frozen=True)
class Training:
    """reporting/training.py's section: its markdown and its PNGs as (name, base64)."""
    markdown: str = ""
    images: list[tuple[str, str]] = dataclass_field(default_factory=list)


def training(r: Report, folder: Path) -> Training:
    """reporting.training's section when that module exists: its markdown, and its PNGs as data URIs."""
    try:
        from reporting.training import render_training
    except ImportError:
        return Training()
    before = set(folder.glob("*.png"))
    benches = [{"name": b.name, "fullname": b.fullname, "extra_info": b.info,
                "stats": {"median": b.median, "min": b.min_s, "iqr": b.iqr, "rounds": b.rounds}}
               for b in r.current.values()]
    markdown = render_training(benches, folder, r.previous) or ""
    images = sorted(set(folder.glob("*.png")) - before)
    return Training(markdown, [(p.name, base64.b64encode(p.read_bytes()).decode()) for p in images])


def roofline_figure(r: Report) -> dict | None:
    """Achieved GFLOP/s against arithmetic intensity, under the run's measured roofs (first device)."""
    rf = r.roofline
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


FIGURES = (("ratio", "JAX vs PyTorch", ratio_figure), ("compile", "Compile vs steady", compile_figure),
           ("roofline", "Roofline", roofline_figure),
           ("scaling", "Scaling with size", lambda r: scaling_figure(r, False)),
           ("throughput", "Throughput with size", lambda r: scaling_figure(r, True)),
           ("baseline", "Against the baseline", baseline_figure), ("history", "History", history_figure),
           ("memory", "Memory", memory_figure), ("loss", "Loss curves", loss_figure))


def verdict_html(r: Report) -> str:
    """The verdict's sentence (and any gated slower benchmark): the page's first words under its title."""
    return "".join(f'<p class="{"bad" if line.startswith("SLOWER: ") else "verdict"}">{for_html(line)}</p>'
                   for line in verdict_lines(r))


def _headline_row(x: Ratio) -> str:
    workload, device, pairing = (for_html(v) for v in (x.workload, x.device, x.pairing))
    return (f'<tr><td>{workload}</td><td>{device}</td><td>{pairing}</td><td>{for_html(x.size)}</td>'
            f'<td class="num" data-headline="{workload}|{device}|{pairing}">{x.ratio:.3g}</td>'
            f"<td>{for_html(x.interval)}</td><td>{x.processes}</td><td>{for_html(x.word)}</td></tr>")


def headline(r: Report) -> str:
    """The JAX/PyTorch geometric means with their intervals, below the first screen."""
    rows = "".join(_headline_row(x) for x in r.gmeans)
    table = ('<div class="scroll"><table class="data"><thead><tr><th>workload</th><th>device</th>'
             '<th>jax/torch mode</th><th>sizes</th><th>JAX / PyTorch time (geometric mean; &lt; 1: JAX faster)</th>'
             f'<th>{ratios.CONFIDENCE:.0%} interval</th><th>processes</th><th>verdict</th>'
             f'</tr></thead><tbody>{rows}</tbody></table></div>') if rows else ""
    return f'<section id="verdict"><h2>JAX vs PyTorch, geometric means over sizes</h2>{table}</section>'


def findings_html(r: Report, has_chart: bool) -> str:
    """The first screen: the findings in sentences, then the chart of the ratios with their intervals."""
    said = "".join(f'<p class="finding">{for_html(line)}</p>' for line in findings(r))
    chart = '<div class="fig" id="fig-ratio">Loading the plot...</div>' if has_chart else ""
    return f'<section id="findings">{said}{chart}</section>' if said or chart else ""


def why(r: Report) -> str:
    """Where the time goes (fixed cost vs throughput per size sweep), right after the headline."""
    return f'<section id="why">{markdown_html(chr(10).join(overhead_section(r)))}</section>' if r.overhead else ""


def plotly_gz() -> str:
    """plotly.min.js gzip-compressed and base64-encoded, cached per plotly version (not compressed again per report)."""
    import os

    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "report.py"
    cached = cache / f"plotly-{plotly.__version__}-{source.stat().st_size}.js.gz.b64"
    try:
        return cached.read_text(encoding="ascii")
    except OSError:
        pass
    text = base64.b64encode(gzip.compress(source.read_bytes(), 6)).decode("ascii")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(text, encoding="ascii")
        tmp.replace(cached)
    except OSError:
        pass  # no cache: compressed again next time
    return text


def _clean(x):
    """JSON without NaN/inf (JSON.parse rejects them): None instead."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    return [_clean(v) for v in x] if isinstance(x, (list, tuple)) else x


def _script_json(obj) -> str:
    try:  # the common case: no NaN/inf anywhere, no copy needed
        text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_clean(obj), separators=(",", ":"))
    return for_script(text)


def filters(r: Report) -> str:
    selects = []
    for key in ("framework", "mode", "device", "workload"):
        values = sorted({str(b.get(key)) for b in r.current.values() if b.get(key) is not None})
        options = "".join(f"<option>{for_html(v)}</option>" for v in values)
        selects.append(f'<label>{key} <select name="{key}"><option value="">all</option>{options}</select></label>')
    return ('<form id="filters" aria-label="filter the tables">Filter the tables: ' + " ".join(selects)
            + ' <span class="hint">(plots: click legend entries to hide or show a framework-mode)</span></form>')


def _header(r: Report) -> str:
    """After the findings: the one-line regression status, then what the machine and runs were."""
    out = [f'<div id="verdict-lines">{verdict_html(r)}</div>', f"<p id=\"machine\">Run: {for_html(', '.join(r.runs))}</p>"]
    if r.partial:
        out.append(f'<p class="partial" id="partial"><strong>{for_html(r.partial)}</strong></p>')
    out += [f'<p class="bad">WARNING: {for_html(w)}</p>' for w in r.warnings]
    return "".join(out + [f'<p class="note">{for_html(n)}</p>' for n in r.notes])


def _training_html(training: Training) -> str:
    images = "".join(f'<figure><img alt="{for_html(name)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{for_html(name)}</figcaption></figure>" for name, data in training.images)
    if not training.markdown and not images:
        return ""
    return f'<section id="training"><h2>Training</h2>{images}{markdown_html(training.markdown)}</section>'


def page(r: Report, markdown: str, training: Training | None = None) -> str:
    figures = {key: plotly_figure(fig) for key, _, make in FIGURES if (fig := make(r))}
    below = [(k, t) for k, t, _ in FIGURES if k in figures and k != "ratio"]  # the ratio chart is on the first screen
    nav = " · ".join(f'<a href="#sec-{k}">{t}</a>' for k, t in below)
    sections = "".join(f'<section id="sec-{k}"><h2>{t}</h2><div class="fig" id="fig-{k}">Loading the plot...</div>'
                       "</section>" for k, t in below)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>Benchmark report</title><style>{CSS}</style>'
            f'</head><body><header><h1>Benchmark report</h1>{findings_html(r, "ratio" in figures)}{_header(r)}'
            f'</header><nav>{nav} · '
            f'<a href="#tables">Tables</a></nav><main>{headline(r)}{why(r)}{sections}{_training_html(training or Training())}'
            f'<section id="tables"><h2>Tables (as in report.md)</h2>{filters(r)}{markdown_html(markdown)}'
            f'</section></main><p id="status" role="status"></p>'
            f'<script type="application/json" id="figures">{_script_json(figures)}</script>'
            f'<script type="text/plain" id="plotly-gz">{plotly_gz()}</script><script>{JS}</script></body></html>')


def write_page(r: Report, markdown: str, folder: Path, training: Training | None = None) -> bool:
    """index.html, or False (nothing written) where plotly is not installed (a GPU machine's own
    Python, say): the rest of the report does not need it."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    (folder / "index.html").write_text(page(r, markdown, training), encoding="utf8")
    return True
