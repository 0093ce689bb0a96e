"""report/index.html in a real browser: headless Chromium renders it without console errors, the
plots are drawn, and the headline numbers equal those of results.csv. Skips without chromium.

REPORT_HTML_SCREENSHOT=1 also copies the screenshot to report/page.png for a person to look at.
"""
from __future__ import annotations

import csv
import html
import json
import math
import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tests.test_report import ROOT, run_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BASE = ROOT / "baselines" / "Linux-CPython-3.11-64bit"
PAIRING = {"jit": "jit/compile", "eager": "eager/eager"}


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=30000", "--window-size=1366,4000", *args,
           page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def csv_gmeans(path: Path) -> dict[str, float]:
    """workload|device|pairing -> geometric mean of results.csv's jax_torch_ratio over sizes."""
    groups = defaultdict(list)
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["framework"] == "jax" and row["jax_torch_ratio"] and row["mode"] in PAIRING:
                groups[f"{row['workload']}|{row['device']}|{PAIRING[row['mode']]}"].append(float(row["jax_torch_ratio"]))
    return {k: math.exp(sum(map(math.log, v)) / len(v)) for k, v in groups.items()}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    code, out, _ = run_report(tmp, _NoCapture(), str(BASE / "0003_baseline.json"), "--baseline",
                              str(BASE / "0001_baseline.json"), "--baseline", str(BASE / "0002_baseline.json"))
    assert code == 0
    return tmp, tmp / "out"


class _NoCapture:
    """run_report wants capsys; a module fixture cannot have it (stdout goes to pytest's capture)."""

    def readouterr(self):
        return type("Captured", (), {"out": "", "err": ""})()


def test_the_page_is_one_self_contained_file_of_a_few_megabytes(report):
    page = (report[1] / "index.html").read_text()
    assert len(page.encode()) < 4 * 2 ** 20
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from the network
    assert page.count('id="plotly-gz"') == 1  # plotly.js once


@pytest.mark.skipif(not CHROMIUM, reason="chromium not installed (apt-get install -y chromium)")
def test_chromium_renders_the_page_without_errors_and_the_headline_matches_results_csv(report):
    tmp, out = report
    proc = chromium(out / "index.html", tmp, "--dump-dom")
    dom = proc.stdout
    errors = [line for line in proc.stderr.splitlines() if "Uncaught" in line or ":CONSOLE" in line]
    assert not errors, errors
    assert re.search(r'data-plotted="[1-9]', dom), "the plots were not drawn"
    assert dom.count('class="main-svg"') >= 6 and '<p id="status" role="status"></p>' in dom
    sentence = json.loads((out / "verdict.json").read_text())["sentence"]
    assert html.escape(sentence.split("`")[0], quote=False) in dom  # the first screen says what verdict.json says
    headline = dict(re.findall(r'data-headline="([^"]+)">([^<]+)<', dom))
    expected = csv_gmeans(out / "results.csv")
    assert headline and set(headline) == set(expected)
    for key, shown in headline.items():
        assert shown == f"{expected[key]:.3g}", key


@pytest.mark.skipif(not CHROMIUM, reason="chromium not installed (apt-get install -y chromium)")
def test_a_screenshot_at_laptop_width(report):
    tmp, out = report
    shot = tmp / "page.png"
    chromium(out / "index.html", tmp, f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 50_000
    if os.environ.get("REPORT_HTML_SCREENSHOT"):
        (ROOT / "report").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "report" / "page.png")


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """A full run whose ratios are judged across six quick-set runs taken as its repeated processes."""
    tmp = tmp_path_factory.mktemp("judged")
    processes = tmp / "processes"
    processes.mkdir()
    for i, path in enumerate(sorted(BASE.glob("000[4-9]_quick.json"))):
        shutil.copy(path, processes / f"proc-{i + 1:02d}.json")
    code, _, _ = run_report(tmp, _NoCapture(), str(BASE / "0003_baseline.json"), "--processes", str(processes))
    assert code == 0
    return tmp, tmp / "out"


def test_the_first_screen_is_the_findings_then_their_chart_then_the_verdict_then_the_machine(judged):
    page = (judged[1] / "index.html").read_text()
    marks = ['id="findings"', 'class="finding"', 'id="fig-ratio"', 'id="verdict-lines"', 'id="machine"', "<nav>"]
    positions = [page.index(m) for m in marks]
    assert positions == sorted(positions)
    assert "judged across 6 fresh processes (95% intervals" in page


def test_every_ratio_of_the_report_has_an_interval_a_process_count_and_a_word(judged):
    from reporting.ratios import WORDS

    with (judged[1] / "results.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["jax_torch_ratio"]]
    assert rows and all(r["jax_torch_verdict"] in WORDS and int(r["jax_torch_processes"]) >= 1 for r in rows)
    judged_rows = [r for r in rows if int(r["jax_torch_processes"]) == 6]
    assert judged_rows and all(float(r["jax_torch_ratio_low"]) <= float(r["jax_torch_ratio"])
                               <= float(r["jax_torch_ratio_high"]) for r in judged_rows)
    md = (judged[1] / "report.md").read_text()
    assert "| 95% interval | processes | verdict |" in md and "one process: no interval" in md


@pytest.mark.skipif(not CHROMIUM, reason="chromium not installed (apt-get install -y chromium)")
def test_the_judged_page_draws_its_ratio_chart_with_error_bars(judged):
    tmp, out = judged
    dom = chromium(out / "index.html", tmp, "--dump-dom").stdout
    assert re.search(r'data-plotted="[1-9]', dom) and 'class="errorbar"' in dom.split('id="verdict-lines"')[0]
