"""Stored pytest-benchmark JSON -> tables, plots, CSV, regression verdicts and an exit code.

    python report.py [RUN.json ...] [--baseline PATH] [--out DIR] [--threshold PCT] [--history] [--debug]

A thin entry over the reporting/ package (load -> compare -> render -> plots; see
reporting/__init__.py). Exit codes, one meaning each:
  0  no gated regression (or nothing may gate: another machine, a busy machine; a `Not gated:` line says why)
  1  a gated regression and nothing else
  2  bad input or usage: one line `report.py: error: <file>: <problem>`
  3  an unexpected failure: one line, the traceback with --debug
"""
from __future__ import annotations

import sys

from reporting.cli import main

if __name__ == "__main__":
    sys.exit(main())
