"""Strings from run files are data: one escaping function per medium they are written to.

Benchmark names, extra_info and machine_info strings, paths, and the notes built from them go
through exactly one of these on their way out:
  for_html       the page's text and attribute values (index.html)
  for_plotly     text inside a plotly figure (plotly renders its own subset of HTML tags)
  for_script     JSON inside a <script> element of the page
  for_markdown   a table cell or a run of text in a line of report.md (from_markdown reads it back)
  for_terminal   one printed line; for_terminal_lines: printed text whose newlines are its own
Control characters (C0 with ESC, CR and newline; DEL; C1), the bidirectional overrides and the
line/paragraph separators become visible escapes (\\x1b, \\u202e); other Unicode is kept.
"""
from __future__ import annotations

import html
import re

INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
MARKDOWN_BREAK = re.compile(r"\r?\n|\t")  # what becomes a space in a Markdown line
MARKDOWN_SPECIAL = re.compile(r"[\\|<]|(?<=\])\(")  # backslash, cell separator, raw HTML, a link's "]("
MARKDOWN_ESCAPED = re.compile(r"\\([\\|<(])")  # what for_markdown escapes (read in pairs, left to right)
SCRIPT_SPECIAL = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
PLOTLY_MARKUP = ("hovertemplate", "annotations")  # written by the figure builders, who escape the data in them


def visible(char: str) -> str:
    """A character as the escape that names it: \\x1b, \\u202e."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutral(text: str) -> str:
    """Every control, bidi and line-separator character of `text` as its visible escape."""
    return INVISIBLE.sub(lambda m: visible(m[0]), text)


def for_terminal(text: str) -> str:
    """One line for a terminal: nothing in it can move the cursor, clear the screen or start a line."""
    return neutral(text)


def for_terminal_lines(text: str) -> str:
    """Text for a terminal whose newlines are its own (the report, the summary): each line neutral."""
    return "\n".join(neutral(line) for line in text.split("\n"))


def for_markdown(text: str) -> str:
    """A table cell or part of a line of report.md: line breaks and tabs as spaces, other controls
    visible, and backslash, |, < and a link's "](" backslash-escaped (no new line, cell, HTML or link)."""
    text = MARKDOWN_SPECIAL.sub(lambda m: "\\" + m[0], MARKDOWN_BREAK.sub(" ", text))
    return neutral(text)  # after: its escapes' backslashes are read as they are


def from_markdown(text: str) -> str:
    """What for_markdown escaped, read back (the page shows report.md's tables, escaped for HTML)."""
    return MARKDOWN_ESCAPED.sub(r"\1", text)


def for_html(text: str) -> str:
    """Text or an attribute value (quoted) of the page."""
    return html.escape(text, quote=True)


def for_plotly(text: str) -> str:
    """Text in a plotly figure: plotly reads <tags> and entities in it, and decodes &amp; &lt; &gt;."""
    return html.escape(text, quote=False)


def plotly_figure(value, key: str = ""):
    """A figure (dict) with every string in it escaped for plotly, but the hover templates and the
    panel titles (their data escaped where they are written) and the <br> breaks of tick labels."""
    if isinstance(value, str):
        return "<br>".join(map(for_plotly, value.split("<br>"))) if key == "ticktext" else for_plotly(value)
    if isinstance(value, dict):
        return {k: v if k in PLOTLY_MARKUP else plotly_figure(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plotly_figure(v, key) for v in value]
    return value


def for_script(json_text: str) -> str:
    """JSON text made safe inside <script>: no </script>, <!-- or & (\\u003c...; JSON.parse reads them
    back). Non-ASCII is already escaped by json.dumps (U+2028 among it)."""
    return re.sub(r"[<>&]", lambda m: SCRIPT_SPECIAL[m[0]], json_text)
