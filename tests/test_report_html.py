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
