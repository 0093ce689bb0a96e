"""What a report section is: a name, a title and an order; rows computed once from the loaded runs
(and the shared `Context`); and what each output makes of those rows (modelled on asv's
summarylist view: one view, one class).

A section overrides only what it has: its Markdown lines for report.md, its columns of results.csv,
its plotly figures for index.html (and an HTML block of its own), its PNGs. The renderers
(reporting/render.py, csvout.py, html.py, plots.py) loop over reporting.sections.SECTIONS and never
name a section. Everything taken from the runs is escaped through reporting/escape.py by whoever
writes it out: md_table and for_markdown in the Markdown, for_plotly / plotly_figure in the page.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from reporting.compare import Comparison
from reporting.drawing import draw_or_reuse, pyplot
from reporting.load import Bench, Run

if TYPE_CHECKING:
    from reporting.model import Report

Figure = tuple[str, str, dict]  # (the page's key, its heading, the plotly figure)
Draw = Callable[[Any, Path, dict], Any]  # draw(pyplot, path, metadata); False: nothing to draw
Png = tuple[str, Draw, Any]  # (file name, how it is drawn, the data it is drawn from)
File = tuple[str, Callable[[Path], None]]  # (file name, how it is written to a path)


@dataclass(frozen=True)
class Context:
    """What the sections' rows are computed from, loaded once by reporting/cli.py."""
    current: dict[str, Bench]  # benchmark name -> its figures in the current runs
    peaks: dict[tuple, float]  # (run, device[, framework]) -> the measured matmul peak, GFLOP/s
    processes: list[Run]  # the repeated fresh processes the JAX/PyTorch ratios are judged across
    comparison: Comparison  # the current runs against the baseline
    history: list[tuple] | None  # --history: (run summary, is a baseline) in time order
    models: Path  # models/, whose JAX and PyTorch files are counted


class Section:
    """One part of the report; every output it has nothing for stays empty."""
    name: ClassVar[str]  # the key of its rows in Report.rows
    title: ClassVar[str]  # its heading
    order: ClassVar[int]  # its place in report.md and on the page (lower first)

    def rows(self, ctx: Context) -> Any:
        """Its figures, computed once from the runs; every output reads them from Report.rows."""
        return None

    def markdown(self, r: Report) -> list[str]:
        """Its lines of report.md (each table's cells escaped by md_table)."""
        return []

    def csv(self, r: Report, rows: dict[str, dict]) -> None:
        """Fill its columns of results.csv into `rows` (benchmark name -> row)."""

    def figures(self, r: Report) -> list[Figure]:
        """Its plotly figures for index.html."""
        return []

    def html(self, r: Report, folder: Path) -> str:
        """An HTML block of its own for index.html, before its figures."""
        return ""

    def pngs(self, r: Report) -> list[Png]:
        """Its PNG figures."""
        return []

    def files(self, r: Report) -> list[File]:
        """Its files other than PNGs (a CSV of its own)."""
        return []

    def write(self, r: Report, folder: Path) -> None:
        """Its files into the report folder, then each PNG drawn, or reused from the report being
        replaced when drawn from the same data by the same code."""
        for name, write in self.files(r):
            write(folder / name)
        code = Path(str(sys.modules[type(self).__module__].__file__)).read_bytes()
        for name, draw, data in self.pngs(r):
            draw_or_reuse(name, (data, code), _with_pyplot(draw), folder, r.previous)


def _with_pyplot(draw: Draw) -> Callable[[Path, dict], Any]:
    """draw(path, metadata) with matplotlib imported only when it is called."""
    return lambda path, meta: draw(pyplot(), path, meta)
