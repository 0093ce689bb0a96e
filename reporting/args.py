"""What the command lines of report.py, reporting.ab and reporting.calibrate share (their parsers, the output folders' check).

The numeric parsers take ASCII digits only: float() also takes '²' or '١٢' (Unicode digits),
'1_0', surrounding whitespace, 'nan' and 'inf'.
"""
from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from reporting import EXIT_BAD_INPUT, BadInput

ASCII_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
MAX_CHARS = 30  # a longer number is refused, not read


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + error
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> float | None:
    """`text` as a float when it is an ASCII decimal (12, 2.5, .5), finite and above 0; else None."""
    if len(text) > MAX_CHARS or not ASCII_DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) and value > 0 else None


def shown(text: str) -> str:
    """A value as an error message quotes it: repr (control characters escaped), cut when long."""
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"


def percentage(text: str) -> float:
    value = _positive(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a positive finite percentage")
    return value


def positive_float(text: str) -> float:
    value = _positive(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a positive number (ASCII digits, e.g. 600 or 2.5)")
    return value


def seconds(text: str) -> float:
    """0 or a positive ASCII decimal: a share of a budget that may be none."""
    if len(text) <= MAX_CHARS and ASCII_DECIMAL.fullmatch(text) and float(text) == 0:
        return 0.0
    value = _positive(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not 0 or a positive number of seconds (ASCII digits)")
    return value


def positive_int(text: str) -> int:
    value = _positive(text)
    if value is None or value != int(value):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a positive whole number (ASCII digits, e.g. 8)")
    return int(value)


def folder_name(text: str) -> Path:
    """An output folder's name; an empty one (Path('') is '.') is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name would be the current folder; name a folder of its own")
    return Path(text)


def check_folder(path: Path, option: str) -> None:
    """BadInput unless `path` is a folder this process can write into, or can be made one: checked
    before anything is measured, so that a bad --out or --keep cannot cost the whole budget's work."""
    existing = next(p for p in (path, *path.parents) if os.path.lexists(p))  # "." or "/" at the latest
    if not existing.is_dir():
        what = "an existing file" if existing.is_file() else "not a folder"
        raise BadInput(path, f"{option} is {what}" if existing == path else f"{option}: {existing} is {what}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInput(path, f"{option}: {existing} is not writable")
