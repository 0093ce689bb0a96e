"""report.py's package: stored pytest-benchmark JSON -> tables, plots, CSV, verdicts, exit code.

load (files -> Run/Bench, validated) -> machine (fingerprints, load) -> compare (verdicts) ->
sections/ (one module per report section: its rows, Markdown, CSV columns, figures, PNGs; in one
registry) -> render / csvout / html / plots (loop over the sections) -> output (atomic report
folder). cli wires them; calibrate and ab are the two other commands.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: baselines/ and models/ live here


class BadInput(Exception):
    """One line for the user: which file, what is wrong with it (exit 2)."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")


EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
