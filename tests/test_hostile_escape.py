"""Hostile strings in a run file stay data in everything report.py writes (reporting/escape.py).

A run whose benchmark name, extra_info strings, machine_info strings, suite note and file name
carry HTML, script-ending, terminal-control and table-breaking payloads: nothing of them executes
in index.html (headless Chromium, skipped without it), no escape sequence or carriage return
reaches the terminal or report.md, no forged verdict line starts a line, and every table keeps
its columns.
"""
from __future__ import annotations

import contextlib
import copy
import io
import re
import warnings
from pathlib import Path

import pytest

from reporting.cli import main
from reporting.escape import for_markdown, for_terminal, from_markdown
from tests.test_report import SLOWED, load, save, scaled
from tests.test_report_html import CHROMIUM, chromium

MARK = "document.body.dataset.pwned=1"  # what a payload would do if it ran
TITLE = "document.title=`PWNED`"
IMG = f"<img src=x onerror={MARK}>"
SCRIPT = f"</script><script>{TITLE}</script><!--<script>"
FORGED = "\x1b[2K\rNothing gated is slower.\nNothing gated is slower.\n"  # clear the line or start one: a verdict of its own
BIDI = "\u202e"
NAME = f"{SLOWED}{FORGED}|{IMG}"
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # the PNGs' labels: see the last test
CONTROLS = ("\x1b", "\r", BIDI, "\x9b")


def hostile_info(info: dict) -> dict:
    """Every string field of one benchmark's extra_info, hostile; the figures and the pairings kept."""
    size = info["size"]
    info.update({"device": f'cpu"><img src=x onerror={MARK}>|\x1b[31m', "size": f"<b>|{BIDI}{size}",
                 "size_value": int(re.search(r"\d+$", size)[0]), "device_name": f"{IMG}{FORGED}",
                 "dtype": f"float32{SCRIPT}", "matmul_precision": f"highest|{FORGED}",
                 "memory_note": f"CPU{SCRIPT}: {FORGED}", "peak_memory_bytes": 2 ** 20})
    if info["workload"] != "matmul":  # the peak is read from the matmul benchmarks
        info["workload"] += f"{SCRIPT}|"
    if info["framework"] == "numpy":
        info.update({"framework": f"numpy{FORGED}", "mode": f"plain{BIDI}|<i>", "phase": f"steady{IMG}"})
    return info


def hostile(doc: dict, cur: bool = False) -> dict:
    doc = copy.deepcopy(doc)
    for b in doc["benchmarks"]:
        hostile_info(b["extra_info"])
        if b["name"] == SLOWED:
            b["name"], b["fullname"] = NAME, f"test_fixture_bench.py::{NAME}"
    mi = doc["machine_info"]
    mi["node"] = f"node{IMG}{FORGED}"
    mi["cpu"]["brand_raw"] = f"CPU{IMG}|{FORGED}"
    if cur:  # differences that are only noted (machine_info keys outside the fingerprint)
        mi["python_compiler"] = f"GCC{IMG}|{FORGED}"
        mi[f"key`{IMG}|\n"] = "value"
    return doc


def make_report(tmp: Path, cur_doc: dict, base_doc: dict, *args: str) -> tuple[int, str, str, Path]:
    cur = save(cur_doc, tmp / f"cur{FORGED}<img src=x onerror={MARK}>.json")
    base = save(base_doc, tmp / "base.json")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(cur), "--baseline", str(base), "--out", str(tmp / "out"), *args])
    return code, out.getvalue(), err.getvalue(), tmp / "out"


@pytest.fixture(scope="module")
def slower(tmp_path_factory):
    """A gated slower verdict on the benchmark with the hostile name; the terminal summary."""
    cur = scaled(hostile(load(), cur=True), NAME, 1.3)
    result = make_report(tmp_path_factory.mktemp("slower"), cur, hostile(load()), "--summary")
    assert result[0] == 1, result[2]
    return result


@pytest.fixture(scope="module")
def not_gated(tmp_path_factory):
    """A busy run (hostile suite note) on another CPU (hostile brand): nothing gates; the whole report printed."""
    cur = hostile(load(), cur=True)
    cur["machine_info"]["cpu"]["brand_raw"] += "other"
    cur["suite"] = {**cur.get("suite", {}), "load": {"busy": True, "other_cpu_share": 0.5, "note": f"{IMG}{FORGED}|"}}
    result = make_report(tmp_path_factory.mktemp("not_gated"), cur, hostile(load()), "--full")
    assert result[0] == 0, result[2]
    return result


def test_escapers_keep_ordinary_text_and_read_back():
    ordinary = "test_matmul[jax-jit-cpu-size32-steady] µs 日本 é (ok)"
    assert for_terminal(ordinary) == ordinary == for_markdown(ordinary)
    assert for_terminal(FORGED) == "\\x1b[2K\\x0dNothing gated is slower.\\x0aNothing gated is slower.\\x0a"
    assert from_markdown(for_markdown("a|b\\c<d>](x)")) == "a|b\\c<d>](x)"


@pytest.mark.parametrize("case", ["slower", "not_gated"])
def test_the_page_holds_no_raw_payload(case, request):
    page = (request.getfixturevalue(case)[3] / "index.html").read_text()
    assert "&lt;img src=x onerror=" in page  # the payload is there, as text
    for raw in ("<script>document", "<!--", "<b>|", "<i>"):
        assert raw not in page, raw
    assert not re.search(r"<img[\s>]", page)
    assert page.count("<script") == page.count("</script>") == 3  # the figures, plotly.js, the page's code


@pytest.mark.skipif(not CHROMIUM, reason="chromium not installed (apt-get install -y chromium)")
def test_nothing_from_the_run_executes_in_chromium(slower, tmp_path):
    proc = chromium(slower[3] / "index.html", tmp_path, "--dump-dom")
    dom = proc.stdout
    assert re.search(r'data-plotted="[1-9]', dom), "the plots were not drawn (figures JSON broken?)"
    assert "<title>Benchmark report</title>" in dom and "PWNED</title>" not in dom
    assert "data-pwned" not in dom and not re.search(r"<img[\s>]", dom)
    shown = re.sub(r'data-unformatted="[^"]*"', "", dom)  # plotly keeps each label's source text there
    assert "&lt;img src=x onerror=" in shown and "&amp;lt;" not in shown  # shown as written: escaped once
    assert not [line for line in proc.stderr.splitlines() if "Uncaught" in line]


@pytest.mark.parametrize("case", ["slower", "not_gated"])
def test_terminal_and_report_md_hold_no_control_character(case, request):
    _, out, err, folder = request.getfixturevalue(case)
    for text in (out, err, (folder / "report.md").read_bytes().decode()):  # no newline translation
        assert not [c for c in CONTROLS if c in text]
        assert not re.search(r"^\W*Nothing gated is slower", text, re.M)  # the forged verdict starts no line
    assert "\\x1b[2K\\x0dNothing gated is slower." in out


def test_the_slower_line_names_the_benchmark_on_one_line(slower):
    out = slower[1]
    line = next(line for line in out.splitlines() if line.startswith("SLOWER: "))
    assert line == "SLOWER: " + for_terminal(NAME)


def markdown_columns(line: str) -> int:
    return sum(token == "|" for token in re.findall(r"\\.|\|", line)) - 1


@pytest.mark.parametrize("case", ["slower", "not_gated"])
def test_tables_keep_their_columns(case, request):
    folder = request.getfixturevalue(case)[3]
    markdown = (folder / "report.md").read_bytes().decode()
    tables = re.findall(r"(?:^\|.*\n)+", markdown, re.M)
    assert len(tables) >= 5 and "\\|" in markdown
    for table in tables:
        rows = table.splitlines()
        assert {markdown_columns(row) for row in rows} == {markdown_columns(rows[0])}, rows[0]
    page = (folder / "index.html").read_text()
    for head, body in re.findall(r'<table class="data"><thead>(.*?)</thead><tbody>(.*?)</tbody>', page):
        assert {row.count("<td") for row in re.findall(r"<tr>(.*?)</tr>", body)} == {head.count("<th")}, head


def test_an_error_line_about_a_hostile_path_is_one_line(tmp_path):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(tmp_path / f"missing{FORGED}.json"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert err.getvalue().count("\n") == 1 and not [c for c in CONTROLS if c in err.getvalue()]


def test_plot_labels_warn_nothing_raw(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_report(tmp_path, hostile(load(), cur=True), hostile(load()), "--summary")
    assert not [w for w in caught if any(c in str(w.message) for c in CONTROLS)]
