"""The verdict again at the end of report.md (reporting/verdict.py; the first lines say it too)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reporting.escape import for_markdown
from reporting.sections.base import Section

if TYPE_CHECKING:
    from reporting.model import Report


class VerdictSection(Section):
    name = "verdict"
    title = "Verdict"
    order = 110

    def markdown(self, r: Report) -> list[str]:
        return ["", f"## {self.title}", ""] + r.verdict_lines(for_markdown)
