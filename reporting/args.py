"""What the command lines of report.py, reporting.ab and reporting.calibrate share."""
from __future__ import annotations

import argparse
import math

from reporting import EXIT_BAD_INPUT


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + error
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def percentage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive finite percentage")
    return value
