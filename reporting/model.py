"""The report: everything report.py found, built once by reporting/cli.py and then only read.

It holds the runs' metadata, each section's rows (reporting/sections/: `rows[section.name]`) and
the verdict. The renderers (render.py: markdown and the terminal summary; csvout.py: results.csv;
plots.py: the PNGs; html.py: index.html) take a `Report` and return or write their output; none of
them adds to it. What one renderer needs from another's output is passed as an argument.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporting.load import Bench
from reporting.verdict import Verdict


@dataclass
class Report:
    runs: list[str]  # the current run files
    current: dict[str, Bench]  # benchmark name -> its figures in the current runs
    notes: list[str]  # what report.py chose for the reader (picked run, partial history, ...)
    rows: dict[str, Any]  # section name -> its rows (reporting/sections/)
    partial: str = ""  # the current run covers only part of the stored runs' selection
    warnings: list[str] = field(default_factory=list)
    previous: Path | None = None  # the report folder being replaced: its unchanged PNGs are reused
    verdict: Verdict | None = None  # set last, from the comparison with the baseline

    def verdict_lines(self, escape=str) -> list[str]:
        """The verdict's lines, each escaped by `escape` for where they go (they name benchmarks and runs)."""
        assert self.verdict is not None  # cli.build sets it before anything is rendered
        return [escape(line) for line in self.verdict.lines()]
