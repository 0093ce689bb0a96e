"""docs/results.md is generated from its committed run (make results), never edited by hand: it fails
here when the page no longer matches its run, or when the run's repeated processes are missing."""
from __future__ import annotations

import re

from reporting import results
from tests.test_report import ROOT

PAGE = ROOT / "docs" / "results.md"


def test_the_committed_results_page_is_what_its_run_gives(monkeypatch):
    monkeypatch.chdir(ROOT)  # the page's paths are relative to the repository
    run = re.search(r"python -m reporting\.results (\S+)\)", PAGE.read_text())[1]
    assert (ROOT / run).is_file() and list((ROOT / run.replace(".json", ".processes")).glob("proc-*.json"))
    assert results.page(run) == PAGE.read_text(), "docs/results.md is stale: run `make results` and commit it"
