"""The report's sections, one module each (reporting/sections/base.py says what a section is), and
their registry: the imports below, one line a section. As asv finds its plugins, every Section class
imported here is one instance of SECTIONS; report.md, results.csv, index.html and the PNGs take them
in their `order`. Adding a section: a new module here and its import line."""
# ruff: noqa: F401 (each import registers its section)
from __future__ import annotations

from reporting.sections.base import Section
from reporting.sections.baseline import Baseline
from reporting.sections.compile import Compile
from reporting.sections.consistency import Consistency
from reporting.sections.dispatch import Dispatch
from reporting.sections.history import History
from reporting.sections.loss import Loss
from reporting.sections.memory import Memory
from reporting.sections.overhead import Overhead
from reporting.sections.ratios import RatioSection
from reporting.sections.roofline import Roofline
from reporting.sections.scaling import Scaling
from reporting.sections.side import Side
from reporting.sections.size import Size
from reporting.sections.training import Training
from reporting.sections.verdict import VerdictSection

SECTIONS: tuple[Section, ...] = tuple(sorted((cls() for cls in Section.__subclasses__()), key=lambda s: s.order))
