"""report/index.html: one self-contained page (plotly.js and the data embedded, no network).

The figures are plain plotly JSON that each section of reporting/sections/ builds from the same rows
as its tables and PNGs, in the looks of reporting/style.py, placed here in the sections' order with
any HTML block of their own; plotly.js is embedded once, gzip-compressed, and unpacked by the
browser's DecompressionStream. All of report.md is in the page (reporting.markdown.markdown_html)
with a small filter by framework, mode, device, workload.
What comes from the runs is escaped by reporting/escape.py: for_html in the markup, plotly_figure
over every figure, for_script over the JSON that carries them.
"""
from __future__ import annotations

import base64
import gzip
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from reporting import ratios
from reporting.escape import for_html, for_script, plotly_figure
from reporting.markdown import markdown_html
from reporting.page_assets import CSS, JS
from reporting.render import findings
from reporting.sections import SECTIONS

if TYPE_CHECKING:
    from reporting.model import Report
    from reporting.ratios import Ratio


def verdict_html(r: Report) -> str:
    """The verdict's sentence (and any gated slower benchmark): the page's first words under its title."""
    return "".join(f'<p class="{"bad" if line.startswith("SLOWER: ") else "verdict"}">{for_html(line)}</p>'
                   for line in r.verdict_lines())


def _headline_row(x: Ratio) -> str:
    workload, device, pairing = (for_html(v) for v in (x.workload, x.device, x.pairing))
    return (f'<tr><td>{workload}</td><td>{device}</td><td>{pairing}</td><td>{for_html(x.size)}</td>'
            f'<td class="num" data-headline="{workload}|{device}|{pairing}">{x.ratio:.3g}</td>'
            f"<td>{for_html(x.interval)}</td><td>{x.processes}</td><td>{for_html(x.word)}</td></tr>")


def headline(r: Report) -> str:
    """The JAX/PyTorch geometric means with their intervals, below the first screen."""
    rows = "".join(_headline_row(x) for x in r.rows["ratios"].gmeans)
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


def _body(r: Report, folder: Path) -> tuple[dict[str, str], str, str]:
    """Each section's figures as escaped plotly JSON by key, the navigation to them, and the sections'
    blocks in order (the ratio chart stands on the first screen instead)."""
    figures: dict[str, str] = {}
    nav, blocks = [], []
    for section in SECTIONS:
        blocks.append(section.html(r, folder))
        for key, title, fig in section.figures(r):
            figures[key] = plotly_figure(fig)
            if key != "ratio":
                nav.append(f'<a href="#sec-{key}">{title}</a>')
                blocks.append(f'<section id="sec-{key}"><h2>{title}</h2><div class="fig" id="fig-{key}">Loading the '
                              "plot...</div></section>")
    return figures, " · ".join(nav), "".join(blocks)


def page(r: Report, markdown: str, folder: Path) -> str:
    """The page of `markdown` (report.md), with the section images written into `folder`."""
    figures, nav, blocks = _body(r, folder)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>Benchmark report</title><style>{CSS}</style>'
            f'</head><body><header><h1>Benchmark report</h1>{findings_html(r, "ratio" in figures)}{_header(r)}'
            f'</header><nav>{nav} · '
            f'<a href="#tables">Tables</a></nav><main>{headline(r)}{blocks}'
            f'<section id="tables"><h2>Tables (as in report.md)</h2>{filters(r)}{markdown_html(markdown)}'
            f'</section></main><p id="status" role="status"></p>'
            f'<script type="application/json" id="figures">{_script_json(figures)}</script>'
            f'<script type="text/plain" id="plotly-gz">{plotly_gz()}</script><script>{JS}</script></body></html>')


def write_page(r: Report, markdown: str, folder: Path) -> bool:
    """index.html, or False (nothing written) where plotly is not installed (a GPU machine's own
    Python, say): the rest of the report does not need it."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    (folder / "index.html").write_text(page(r, markdown, folder), encoding="utf8")
    return True
