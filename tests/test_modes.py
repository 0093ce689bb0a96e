"""The mode table (benchmarks/modes.py) is complete and consistent, and what is derived from it says
the same: every mode a benchmark file names has a row, every row states every field, looks differ,
compiling rows say what their first call compiles, pairings pair one jax and one torch mode."""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import get_args

import pytest

from benchmarks import harness, modes, spec
from benchmarks.modes import ROWS, ModeRow
from reporting import style, tables

ROOT = Path(__file__).resolve().parents[1]
IDS = [r.key for r in ROWS]
HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
# matplotlib's filled markers and linestyles; plotly's symbols and dashes the table may use
MPL_MARKERS = set("o s D d ^ v < > X P x + * h H p 8".split())
MPL_DASHES = {"-", "--", ":", "-."}
PLOTLY_SYMBOLS = {"circle", "square", "diamond", "triangle-up", "triangle-down", "triangle-left", "triangle-right",
                  "x", "cross", "star", "hexagon", "hexagon2", "pentagon", "octagon", "star-square", "star-diamond",
                  "diamond-tall", "diamond-wide", "hourglass", "bowtie"}
PLOTLY_DASHES = {"solid", "dash", "dot", "dashdot", "longdash", "longdashdot"}


def benchmark_modes() -> dict[tuple[str, str], list[str]]:
    """Every (framework, mode) a benchmark file names, in a `...MODES = [...]` list or a literal
    `modes=[...]` of @pytest.mark.cases, with where it is named."""
    named: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / "benchmarks").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            values = []
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("MODES") for t in node.targets):
                values.append(node.value)
            if isinstance(node, ast.Call):
                values += [k.value for k in node.keywords if k.arg == "modes" and not isinstance(k.value, ast.Name)]
            for value in values:
                for pair in ast.literal_eval(value):
                    named.setdefault(tuple(pair), []).append(f"{path.name}:{node.lineno}")
    return named


def test_every_mode_a_benchmark_names_is_a_row():
    named = benchmark_modes()
    assert ("torch", "cudagraphs") in named and ("numpy", "plain") in named  # the scan found the lists
    missing = {pair: where for pair, where in named.items() if modes.row(*pair) is None}
    assert not missing, f"modes named by benchmark files with no row in benchmarks/modes.py: {missing}"


def test_rows_are_unique_and_name_known_frameworks_and_modes():
    assert len(set(IDS)) == len(IDS), IDS
    assert all(r.framework in spec.FRAMEWORKS for r in ROWS)
    assert set(get_args(modes.Mode)) == {r.mode for r in ROWS}  # no mode word without a row
    assert spec.MODES == tuple(dict.fromkeys(r.mode for r in ROWS))


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_a_row_states_every_field_with_its_type(row: ModeRow):
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(ModeRow))  # no field left out
    assert isinstance(row.compiles, bool)
    assert row.device is None or row.device in spec.DEVICES
    assert isinstance(row.firstcall_includes, str) and row.firstcall_includes.strip()
    assert row.pairing is None or row.pairing in modes.PAIRING_WORDS
    assert isinstance(row.look, modes.Look) and all(isinstance(v, str) and v for v in row.look)
    assert HEX.match(row.look.colour), row.look.colour
    assert row.look.marker in MPL_MARKERS and row.look.dash in MPL_DASHES
    assert row.look.symbol in PLOTLY_SYMBOLS and row.look.plotly_dash in PLOTLY_DASHES


def test_every_row_looks_different_from_every_other_and_from_the_fallback():
    for part in ("colour", "marker", "symbol"):
        values = [getattr(r.look, part) for r in ROWS] + [getattr(style.OTHER, part)]
        values = [v.lower() for v in values] if part == "colour" else values  # markers "d" and "D" differ
        assert len(set(values)) == len(values), f"two rows share a {part}: {values}"


def test_a_framework_keeps_one_line_style():
    """JAX solid, PyTorch dashed, NumPy/SciPy dotted: a plot reads without colour."""
    for framework in {r.framework for r in ROWS}:
        dashes = {(r.look.dash, r.look.plotly_dash) for r in ROWS if r.framework == framework}
        assert len(dashes) == 1, (framework, dashes)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_the_first_call_note_says_what_it_compiles(row: ModeRow):
    text = row.firstcall_includes
    if row.compiles:
        assert "nothing to compile" not in text
        assert any(word in text for word in ("compile", "Inductor", "XLA")), text
    else:
        assert not any(word in text for word in ("XLA compile", "Inductor", "Dynamo")), text


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_torch_compile_mode_belongs_to_compiling_torch_rows(row: ModeRow):
    if row.framework == "torch" and row.compiles:
        assert row.torch_compile_mode in ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
    else:
        assert row.torch_compile_mode is None


def test_a_mode_word_means_the_same_in_every_framework():
    for field in ("compiles", "device"):
        modes.per_mode(field)  # raises where two rows of one word disagree


def test_each_pairing_pairs_one_jax_and_one_torch_mode():
    for pairing in modes.PAIRING_WORDS:
        rows = [r for r in ROWS if r.pairing == pairing]
        assert sorted(r.framework for r in rows) == ["jax", "torch"], (pairing, [r.key for r in rows])
        if pairing not in modes.MIXED_PAIRINGS:
            assert len({r.compiles for r in rows}) == 1, f"pairing {pairing} puts a compiled mode beside an eager one"
    assert tables.PAIRINGS == modes.pairings() == (("jit", "compile"), ("eager", "eager"), ("spmd", "ddp"))


def test_an_inconsistent_table_is_refused(monkeypatch):
    twin = dataclasses.replace(modes.row("torch", "eager"), mode="compile", pairing="eager")  # type: ignore[arg-type]
    monkeypatch.setattr(modes, "ROWS", ROWS + (twin,))
    with pytest.raises(ValueError, match="disagree on compiles"):
        modes.per_mode("compiles")
    with pytest.raises(ValueError, match="pairing 'eager'"):
        modes.pairings()


def test_what_is_derived_reads_the_table():
    assert spec.COMPILED_MODES == tuple(dict.fromkeys(r.mode for r in ROWS if r.compiles))
    assert spec.DEVICE_ONLY_MODES == {r.mode: r.device for r in ROWS if r.device}
    assert all(harness.FIRSTCALL_INCLUDES[r.framework, r.mode] == r.firstcall_includes for r in ROWS)
    assert list(style.STYLES) == IDS and all(style.look(r.framework, r.mode) == r.look for r in ROWS)
    assert style.look("jax", "no-such-mode") == style.OTHER


@pytest.mark.parametrize("row", [r for r in ROWS if r.framework == "torch"], ids=lambda r: r.key)
def test_the_torch_backend_compiles_as_its_row_says(row: ModeRow):
    pytest.importorskip("torch")
    from benchmarks import frameworks

    device = row.device or "cpu"
    assert frameworks.TorchBackend(spec.Spec("torch", row.mode, device, "n1", 1, "steady")).compile_mode \
        == row.torch_compile_mode
