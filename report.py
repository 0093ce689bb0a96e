"""Stored pytest-benchmark JSON -> tables, plots, CSV, regression verdicts and an exit code.

    python report.py [RUN.json ...] [--baseline PATH] [--out DIR] [--threshold PCT] [--firstcall-threshold PCT]
                     [--calibration FILE] [--history] [--full | --summary] [--debug]

A thin entry over the reporting/ package (load -> compare -> render -> plots; see
reporting/__init__.py). Exit codes, one meaning each:
  0  no gated regression (or nothing may gate: a machine that does not measure the same, a busy machine;
     the first line says why, and report/verdict.json holds it for scripts)
  1  a gated regression and nothing else
  2  bad input or usage: one line `report.py: error: <file>: <problem>`
  3  an unexpected failure: one line, the traceback with --debug
"""
from __future__ import annotations

import sys

from reporting.cli import main

if __name__ == "__main__":
    sys.exit(main())
