"""What every PNG of the report is drawn with: matplotlib on the Agg backend (imported only when a
figure is drawn), the reuse of an unchanged PNG from the report being replaced, and the small layout
helpers the sections' figures share. Every line and marker takes its look from reporting/style.py."""
from __future__ import annotations

import hashlib
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reporting import style

CACHE_TAG = "report-py-input"  # PNG text chunk: the hash of what the figure was drawn from


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def input_key(name: str, data) -> str:
    """A PNG's inputs and the code that draws it, hashed: equal keys draw equal figures. `data` carries the
    drawing section's own code (reporting.sections.base.Section.write adds it)."""
    code = Path(style.__file__).read_bytes() + Path(__file__).read_bytes()
    return hashlib.sha256(code + name.encode() + repr(data).encode()).hexdigest()


def _reuse(previous: Path | None, name: str, key: str, folder: Path) -> bool:
    """Copy the previous report's PNG when it was drawn from the same inputs (a long history is slow to draw)."""
    old = previous / name if previous else None
    if not (old and old.is_file() and f"{CACHE_TAG}\0{key}".encode() in old.read_bytes()):
        return False
    shutil.copyfile(old, folder / name)
    return True


def draw_or_reuse(name: str, data, draw: Callable[[Path, dict], Any], folder: Path, previous: Path | None) -> bool:
    """folder/name drawn with draw(path, metadata) (which may return False: nothing to draw; the PNG
    carries `metadata`, its input key), or copied from the `previous` report folder when that PNG
    was drawn from the same `data` and code."""
    key = input_key(name, data)
    if _reuse(previous, name, key, folder):
        return True
    return draw(folder / name, {CACHE_TAG: key}) is not False


@contextmanager
def quiet_glyphs() -> Iterator[None]:
    """matplotlib's missing-glyph warnings silenced: they would quote a label's characters, control
    characters from a run file among them, raw on the terminal."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        yield


def left_margin(labels: list[str], width_in: float, fontsize: float = 7) -> float:
    """Room for the longest y tick label, so no layout engine has to measure every text."""
    return min(0.7, (0.3 + 0.6 * fontsize / 72 * max(map(len, labels), default=1)) / width_in)


def figure_legend(fig, labels: dict, **kw) -> None:
    """One legend for the whole figure: label -> handle, in the style mapping's order."""
    keys = sorted(labels, key=style.order)
    fig.legend([labels[k] for k in keys], keys, fontsize=7, frameon=False, **kw)
