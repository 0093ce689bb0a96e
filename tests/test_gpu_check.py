"""make gpu-check's pieces that a CPU can check: the pre-flight line, and a report without plotly."""
from __future__ import annotations

import sys

from benchmarks import preflight
from tests.test_report import DATA, run_report


def test_preflight_names_the_versions_it_found(capsys):
    assert preflight.main(["--device", "cpu"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("gpu-check: Python ") and "jax " in line and "torch " in line and "device cpu" in line


def test_preflight_fails_in_one_line_naming_a_missing_package(capsys, monkeypatch):
    monkeypatch.setitem(preflight.REQUIRED, "no_such_package_here", "a test")
    assert preflight.main(["--device", "cpu"]) == 2
    (line,) = capsys.readouterr().out.splitlines()
    assert "missing Python package(s)" in line and "no_such_package_here (a test)" in line


def test_the_report_leaves_the_page_out_without_plotly_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly raises ImportError
    code, out, _ = run_report(tmp_path, capsys, str(DATA / "run_a.json"))
    assert code == 0 and "no index.html (plotly is not installed" in out
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert "index.html" not in written and {"report.md", "results.csv", "verdict.json"} <= written
