"""The report's files beside report.md: every section's PNGs (and the training section's CSV), each
drawn with matplotlib by its section (reporting/sections/) or reused from the report being replaced."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reporting.drawing import quiet_glyphs
from reporting.sections import SECTIONS

if TYPE_CHECKING:
    from reporting.model import Report


def render_plots(r: Report, folder: Path) -> None:
    """Every section's files, each PNG copied from r.previous (the report being replaced) when its inputs
    are the same."""
    with quiet_glyphs():
        for section in SECTIONS:
            section.write(r, folder)
