"""What one benchmark case is, and how its id reads: `<framework>-<mode>-<device>-<size>-<phase>`.

The id grammar is written here once. benchmarks/plugin/cases.py builds ids from `Spec`, the harness reads its
fields, and report.py parses stored names back with `parse_name` (this module imports only the
standard library, so report.py can use it without importing any framework). The modes, and what
each one is, are rows of one table in benchmarks/modes.py; the names below are derived from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast, get_args

from benchmarks.modes import ROWS, Mode, per_mode

Framework = Literal["jax", "torch", "numpy", "scipy"]
Device = Literal["cpu", "cuda"]
Phase = Literal["steady", "firstcall", "warmstart"]  # warmstart: a new process's first call, compile caches warm
Precision = Literal["highest", "tf32"]

FRAMEWORKS: tuple[str, ...] = get_args(Framework)
MODES: tuple[str, ...] = tuple(dict.fromkeys(r.mode for r in ROWS))  # the table's mode words, in its order
DEVICES: tuple[str, ...] = get_args(Device)
PHASES: tuple[str, ...] = get_args(Phase)
PRECISIONS: tuple[str, ...] = get_args(Precision)


@dataclass(frozen=True)
class Spec:
    """One benchmark case as its id names it, plus the run-wide settings it is measured with."""

    framework: Framework
    mode: Mode
    device: Device
    size: str  # the id's size word: batch1024, n10000, size1024, or a config name
    size_value: int
    phase: Phase
    firstcall_rounds: int = 5
    matmul_precision: Precision = "highest"
    memory: bool = True  # the memory pass (benchmarks/memory.py) after timing

    @property
    def id(self) -> str:
        return f"{self.framework}-{self.mode}-{self.device}-{self.size}-{self.phase}"

    @property
    def compiled(self) -> bool:
        """Whether this mode compiles the step (jax.jit, lax.scan, torch.compile)."""
        return self.mode in COMPILED_MODES


# from the table (benchmarks/modes.py): the modes that compile the step, and those that exist on one
# device only (torch-cudagraphs: torch.compile(mode="reduce-overhead") records CUDA graphs)
COMPILED_MODES: tuple[str, ...] = tuple(mode for mode, compiles in per_mode("compiles").items() if compiles)
DEVICE_ONLY_MODES: dict[str, str] = {mode: cast(str, device) for mode, device in per_mode("device").items() if device}

NAME_RE = re.compile(
    r"^test_(?P<workload>\w+)\[(?P<framework>[^-\]]+)-(?P<mode>[^-\]]+)-(?P<device>[^-\]]+)-"
    r"(?P<size>.+)-(?P<phase>" + "|".join(PHASES) + r")\]$")


def parse_name(name: str) -> dict[str, str] | None:
    """The fields of a stored benchmark name `test_<workload>[<id>]`, or None if it is not one of ours."""
    match = NAME_RE.match(name)
    return match.groupdict() if match else None


# Every result check's tolerance, by matmul precision: TF32 keeps a 10-bit mantissa (about 1e-3
# relative per product), so checks that involve matmuls loosen under it. Elementwise and
# optimiser checks involve no matmul and do not depend on the precision.
TOLERANCES: dict[str, dict[str, float]] = {
    # relative error of a loss against the float64 NumPy reference
    "loss": {"highest": 1e-5, "tf32": 1e-2},
    # rtol = atol of logits against the float64 NumPy reference
    "logits": {"highest": 1e-4, "tf32": 3e-2},
    # relative Frobenius error of a matrix product against float64
    "matmul": {"highest": 1e-5, "tf32": 1e-2},
}


def tolerance(check: str, precision: str) -> float:
    """The tolerance of `check` ("loss", "logits", "matmul") at matmul precision `precision`."""
    return TOLERANCES[check][precision]
