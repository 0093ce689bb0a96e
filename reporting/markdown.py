"""The report's text pieces shared by every section: number and time formats, a Markdown table whose
cells are escaped (reporting/escape.py), and the subset of Markdown report.md uses turned into HTML
for the page."""
from __future__ import annotations

import re

from pytest_benchmark.utils import format_time

from reporting.escape import for_html, for_markdown, from_markdown


def fmt_time(s: float | None) -> str:
    return "" if s is None else f"{format_time(s)}s"


def fmt_bytes(n: float | None) -> str:
    return "" if n is None else f"{n / 2 ** 20:.1f} MiB"


def fmt(x, spec: str = ".3g") -> str:
    return "" if x is None else format(x, spec) if isinstance(x, float) else str(x)


def pct(x: float | None, spec: str = "+.1f") -> str:
    return "" if x is None else f"{x:{spec}}%"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(for_markdown(str(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _inline(text: str) -> str:
    text = for_html(from_markdown(text))
    text = re.sub(r"`([^`]*)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


def _html_table(lines: list[str]) -> str:
    cells = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines if not line.startswith("|--")]
    head = "".join(f"<th>{_inline(c)}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in cells[1:])
    return f'<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def markdown_html(markdown: str) -> str:
    """The subset of Markdown report.md uses (headings, tables, quotes, lists, paragraphs) as HTML,
    so every table of report.md is in the page with the same text."""
    out, table = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            out.append(_html_table(table))
            table = []
        if m := re.match(r"(#+) (.*)", line):
            level = min(len(m[1]) + 1, 6)
            out.append(f'<h{level} id="{re.sub(r"[^a-z0-9]+", "-", m[2].lower()).strip("-")}">'
                       f"{_inline(m[2])}</h{level}>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{_inline(line[2:])}</blockquote>")
        elif line.startswith("- "):
            out.append(f"<ul><li>{_inline(line[2:])}</li></ul>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    return "\n".join(out)
