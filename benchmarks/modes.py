"""Every mode, one row each: what a (framework, mode) pair is, written once.

A mode is how a framework runs a step: `jit` (jax.jit), `eager`, `scan` (the whole loop in one
compiled lax.scan), `compile` (torch.compile), `cudagraphs` (torch.compile recording CUDA graphs),
`spmd` (jax.jit over a global mesh of N processes, multi-controller), `ddp` (DistributedDataParallel),
`plain` (NumPy / SciPy). Its row says whether it compiles, on which
device alone it exists, what its first call contains, which torch.compile mode it asks for, how the
plots draw it and which JAX-vs-PyTorch pairing it takes part in. Everything else reads the table:

- benchmarks/spec.py: `MODES`, `COMPILED_MODES`, `DEVICE_ONLY_MODES` (benchmarks/plugin/cases.py drops a case on
  a device its mode does not exist on);
- benchmarks/harness.py: `FIRSTCALL_INCLUDES`, the firstcall's `firstcall_includes` note;
- benchmarks/frameworks.py: `TorchBackend.compile_mode` (JAX jits exactly the compiling modes);
- reporting/style.py: `STYLES`, one look per row, in the table's (legend) order;
- reporting/tables.py: `PAIRINGS`, the JAX-vs-PyTorch ratio pairs;
- benchmarks/plugin/instructions.py: `uncounted`, the modes callgrind cannot count (left to time).

Which modes a workload runs stays in its benchmark file (`MODES = [...]`); tests/test_modes.py
checks those name rows of this table, and that the rows are complete and consistent. Standard
library only: report.py imports it without any framework.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

if TYPE_CHECKING:
    from benchmarks.spec import Device, Framework

# the mode words of the rows below (mypy checks each row's word is one; tests/test_modes.py that
# each one has a row)
Mode = Literal["jit", "eager", "scan", "spmd", "compile", "cudagraphs", "ddp", "plain"]
# a JAX-vs-PyTorch pairing: the ratio table pairs the one jax row and the one torch row that name it.
# compiled and eager pair like with like; multi-process pairs each framework's multi-host data-parallel
# path as users run it (JAX's is compiled, DDP's eager): the one pairing that may mix them
Pairing = Literal["compiled", "eager", "multi-process"]
MIXED_PAIRINGS: tuple[str, ...] = ("multi-process",)


class Look(NamedTuple):
    """How a plot draws one framework-mode (reporting/style.py)."""

    colour: str  # hex, from the Okabe-Ito palette where it can be
    marker: str  # matplotlib marker
    dash: str  # matplotlib linestyle
    symbol: str  # plotly marker symbol
    plotly_dash: str


NOTHING_TO_COMPILE = "the first call of a fresh callable (nothing to compile)"
# Inductor builds its C++ kernels with the host compiler for the host CPU (AVX-512 here), which
# valgrind's synthetic CPU cannot run ("Illegal instruction"): these modes are left to time.
RANK_PROCESSES = "its steps run in rank processes that callgrind does not follow"
INDUCTOR_UNDER_VALGRIND = "Inductor's kernels are built for the host CPU, whose instructions valgrind cannot run"


@dataclass(frozen=True, kw_only=True)
class ModeRow:
    """One (framework, mode). No field has a default: a row states every one."""

    framework: Framework
    mode: Mode
    compiles: bool  # the step is compiled (jax.jit, lax.scan, torch.compile): a firstcall pays it
    device: Device | None  # the only device the mode exists on; None: every device
    firstcall_includes: str  # what a firstcall benchmark's time contains (extra_info.firstcall_includes)
    torch_compile_mode: str | None  # torch.compile(mode=...) for a compiling torch row; None otherwise
    look: Look
    pairing: Pairing | None  # its JAX-vs-PyTorch ratio pairing; None: not paired
    uncounted: str | None  # why callgrind cannot count its steps (benchmarks/instructions.py); None: it can

    @property
    def key(self) -> str:
        """The label the report gives it: `<framework>-<mode>`, as in a benchmark id."""
        return f"{self.framework}-{self.mode}"


ROWS: tuple[ModeRow, ...] = (
    # JAX: solid lines, round and square markers
    ModeRow(framework="jax", mode="jit", compiles=True, device=None,
            firstcall_includes="trace + lower + XLA compile + one step; jax.clear_caches() before each round, "
                               "persistent compilation cache off",
            torch_compile_mode=None, look=Look("#0072B2", "o", "-", "circle", "solid"), pairing="compiled",
            uncounted=None),
    ModeRow(framework="jax", mode="eager", compiles=False, device=None,
            firstcall_includes="one eager step with every per-op compile cache cleared (jax.clear_caches())",
            torch_compile_mode=None, look=Look("#56B4E9", "s", "-", "square", "solid"), pairing="eager",
            uncounted=None),
    ModeRow(framework="jax", mode="scan", compiles=True, device=None,
            firstcall_includes="trace + lower + XLA compile + one call; jax.clear_caches() before each round, "
                               "persistent compilation cache off",
            torch_compile_mode=None, look=Look("#009E73", "D", "-", "diamond", "solid"), pairing=None,
            uncounted=None),
    # multi-controller: one process per device (per host across machines), jax.distributed
    # (benchmarks/dp_rank.py); what a multi-host JAX user runs against torch-ddp
    ModeRow(framework="jax", mode="spmd", compiles=True, device=None,
            firstcall_includes="trace + lower + XLA compile + one step in every process (each compiles the same "
                               "SPMD program); jax.clear_caches() before each round, persistent compilation cache off",
            torch_compile_mode=None, look=Look("#332288", "h", "-", "hexagon", "solid"), pairing="multi-process",
            uncounted=RANK_PROCESSES),
    # PyTorch: dashed lines, triangles
    ModeRow(framework="torch", mode="eager", compiles=False, device=None,
            firstcall_includes="the first eager step of a fresh model (nothing to compile)",
            torch_compile_mode=None, look=Look("#E69F00", "^", "--", "triangle-up", "dash"), pairing="eager",
            uncounted=None),
    ModeRow(framework="torch", mode="compile", compiles=True, device=None,
            firstcall_includes="Dynamo trace + AOTAutograd + Inductor codegen and C++ build + one step; "
                               "torch._dynamo.reset(), a fresh empty Inductor/Triton cache directory and "
                               "in-memory kernel tables cleared before each round, caches force-disabled; "
                               "excludes Inductor's one-time process start-up (startup_s), paid untimed beforehand",
            torch_compile_mode="default", look=Look("#D55E00", "v", "--", "triangle-down", "dash"), pairing="compiled",
            uncounted=INDUCTOR_UNDER_VALGRIND),
    # torch.compile(mode="reduce-overhead") records CUDA graphs (as XLA:GPU does by default): CUDA only
    ModeRow(framework="torch", mode="cudagraphs", compiles=True, device="cuda",
            firstcall_includes="as torch-compile, with mode='reduce-overhead': CUDA graph recording on top",
            torch_compile_mode="reduce-overhead", look=Look("#000000", ">", "--", "triangle-right", "dash"),
            pairing=None,
            uncounted=INDUCTOR_UNDER_VALGRIND),
    # DistributedDataParallel over rank processes (benchmarks/dp_rank.py), eager inside each
    ModeRow(framework="torch", mode="ddp", compiles=False, device=None, firstcall_includes=NOTHING_TO_COMPILE,
            torch_compile_mode=None, look=Look("#F0E442", "<", "--", "triangle-left", "dash"),
            pairing="multi-process", uncounted=RANK_PROCESSES),
    # NumPy / SciPy references: dotted lines, crosses
    ModeRow(framework="numpy", mode="plain", compiles=False, device=None, firstcall_includes=NOTHING_TO_COMPILE,
            torch_compile_mode=None, look=Look("#CC79A7", "X", ":", "x", "dot"), pairing=None,
            uncounted=None),
    ModeRow(framework="scipy", mode="plain", compiles=False, device=None, firstcall_includes=NOTHING_TO_COMPILE,
            torch_compile_mode=None, look=Look("#555555", "P", ":", "cross", "dot"), pairing=None,
            uncounted=None),
)

FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ModeRow))
MODE_WORDS: tuple[str, ...] = get_args(Mode)
PAIRING_WORDS: tuple[str, ...] = get_args(Pairing)


@cache
def _index() -> dict[tuple[str, str], ModeRow]:
    return {(r.framework, r.mode): r for r in ROWS}


def row(framework: str, mode: str) -> ModeRow | None:
    """The row of (framework, mode), or None where the table has none."""
    return _index().get((framework, mode))


def per_mode(field: str) -> dict[str, object]:
    """{mode word: the row's `field`} for a field that belongs to the mode word, whatever the
    framework (compiles, device); a ValueError where two rows of one mode word disagree."""
    out: dict[str, object] = {}
    for r in ROWS:
        value = getattr(r, field)
        if out.setdefault(r.mode, value) != value:
            raise ValueError(f"benchmarks/modes.py: the {r.mode!r} rows disagree on {field}")
    return out


def pairings() -> tuple[tuple[str, str], ...]:
    """(jax mode, torch mode) per pairing, in the table's order; a ValueError unless each pairing
    names exactly one jax row and one torch row."""
    named: dict[str, list[ModeRow]] = {}
    for r in ROWS:
        if r.pairing is not None:
            named.setdefault(r.pairing, []).append(r)
    out = []
    for pairing, rows in named.items():
        jax = [r.mode for r in rows if r.framework == "jax"]
        torch = [r.mode for r in rows if r.framework == "torch"]
        if len(jax) != 1 or len(torch) != 1 or len(rows) != 2:
            raise ValueError(f"benchmarks/modes.py: pairing {pairing!r} names {[r.key for r in rows]}, "
                             "not one jax row and one torch row")
        out.append((jax[0], torch[0]))
    return tuple(out)
