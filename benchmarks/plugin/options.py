"""The suite's command-line options, each parsed by a typed parser as pytest reads it.

The numeric parsers take ASCII digits only: str.isdigit() and int() also take '²', '١٢', '1_0',
' 7' or '+7'. A bad value raises pytest.UsageError, not argparse's ArgumentTypeError: pytest prints
that as its one line "ERROR: --option: ..." (exit 4), where an argparse error would add the usage
line and the ini file and rootdir lines.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from benchmarks.spec import PRECISIONS

# option name -> (default list, id prefix, largest accepted value)
SIZE_KINDS = {
    "batch": ("64,256,1024", "batch", 1 << 16),
    "array": ("10000,100000,1000000", "n", 1 << 28),
    "matrix": ("256,1024,2048", "size", 1 << 14),
}
MAX_FIRSTCALL_ROUNDS = 100
MAX_EPOCHS = 100
MAX_EPOCH_SAMPLES = 50_000  # the training split
MAX_COUNT_STEPS = 1000  # instructions counted per case (benchmarks/instructions.py)
MAX_DEVICES = 64  # data-parallel devices / ranks
MIN_GPT_STEPS, MAX_GPT_STEPS = 10, 100_000
ASCII_DIGITS = re.compile(r"[0-9]+")
TOO_LONG = 19  # digits past every bound here (int() itself refuses over 4300 digits)


def _ascii_int(text: str) -> int | None:
    """The value of a run of ASCII digits (leading zeros allowed), else None."""
    if not ASCII_DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) < TOO_LONG else 10**TOO_LONG


def _shown(text: str) -> str:
    """A value as an error message quotes it: repr (control characters escaped), cut when long."""
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"


def positive_ints(text: str, option: str, largest: int) -> list[int]:
    """Comma-separated integers in 1..largest, no empty parts, duplicates dropped; else a usage error."""
    parts = text.split(",")
    values = [v for v in map(_ascii_int, parts) if v is not None]
    if len(values) != len(parts):
        raise pytest.UsageError(f"{option}: expected comma-separated positive integers, got {_shown(text)}")
    if not all(1 <= v <= largest for v in values):
        raise pytest.UsageError(f"{option}: expected comma-separated positive integers up to {largest}, got {_shown(text)}")
    return list(dict.fromkeys(values))


def int_in(text: str, option: str, largest: int, smallest: int = 1) -> int:
    """One integer in smallest..largest; else a usage error."""
    value = _ascii_int(text)
    if value is None or not smallest <= value <= largest:
        raise pytest.UsageError(f"{option}: expected one integer from {smallest} to {largest}, got {_shown(text)}")
    return value


def _ints_type(option: str, largest: int) -> Callable[[str], list[int]]:
    def parse(text: str) -> list[int]:
        return positive_ints(text, option, largest)
    return parse


def _sizes_type(kind: str) -> Callable[[str], list[int]]:
    return _ints_type(f"--{kind}-sizes", SIZE_KINDS[kind][2])


def _int_type(option: str, largest: int, smallest: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        return int_in(text, option, largest, smallest)
    return parse


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jax-vs-torch", "JAX vs PyTorch suite")
    group.addoption("--device", default="auto", choices=("auto", "cpu", "cuda", "all"),
                    help="auto: the CPU, and CUDA too where both frameworks see a GPU (default auto)")
    group.addoption("--batch-sizes", default=SIZE_KINDS["batch"][0], type=_sizes_type("batch"),
                    help="comma-separated MLP batch sizes (default %(default)s)")
    group.addoption("--array-sizes", default=SIZE_KINDS["array"][0], type=_sizes_type("array"),
                    help="comma-separated array lengths for grad/jit workloads (default %(default)s)")
    group.addoption("--matrix-sizes", default=SIZE_KINDS["matrix"][0], type=_sizes_type("matrix"),
                    help="comma-separated square matrix sizes for matmul (default %(default)s)")
    group.addoption("--firstcall-sizes", default="one", choices=("one", "all"),
                    help="firstcall cases at the smallest size of each sweep only (one: compile time barely "
                         "depends on the size, docs/measuring.md) or at every size (default one)")
    group.addoption("--firstcall-rounds", default="3", type=_int_type("--firstcall-rounds", MAX_FIRSTCALL_ROUNDS),
                    help="cold rounds per firstcall benchmark, each a fresh compile (default %(default)s)")
    group.addoption("--matmul-precision", default="highest", choices=PRECISIONS,
                    help="float32 matmul precision on both sides: highest (true fp32) or tf32 (default highest)")
    group.addoption("--gpt-configs", default="tiny", help="comma-separated GPT configs: tiny, seed (default %(default)s)")
    group.addoption("--gpt-steps", default="300", type=_int_type("--gpt-steps", MAX_GPT_STEPS, MIN_GPT_STEPS),
                    help="AdamW steps of the GPT training run (default %(default)s)")
    group.addoption("--text", default=None, metavar="PATH",
                    help="UTF-8 text to train the GPT on (default: the King James Bible, see docs/gpt.md)")
    group.addoption("--data-root", default=None,
                    help="folder of MNIST/Fashion-MNIST IDX files (default $DATA_ROOT, else <repo>/data; "
                         "Fashion-MNIST is also found in /usr/share/datasets/fashion-mnist; docs/data.md)")
    group.addoption("--dataset", default="auto", choices=("auto", "fashion", "mnist", "digits"),
                    help="training data: auto (Fashion-MNIST, else MNIST, else the digits fallback) or one of them; "
                         "a named IDX set that is missing skips the training benchmarks (default auto)")
    group.addoption("--download", action="store_true",
                    help="download Fashion-MNIST (MNIST with --dataset mnist) into the data root with torchvision "
                         "if it is missing (make data does this at set-up)")
    group.addoption("--epochs", default="3", type=_int_type("--epochs", MAX_EPOCHS),
                    help="training epochs of test_convergence (default %(default)s)")
    group.addoption("--epoch-samples", default="10000", type=_int_type("--epoch-samples", MAX_EPOCH_SAMPLES),
                    help="training samples per test_mlp_epoch epoch, up to the 50000 of the training split "
                         "(default %(default)s)")
    group.addoption("--devices", default="1,2", type=_ints_type("--devices", MAX_DEVICES),
                    help="comma-separated device / rank counts of the data-parallel benchmarks (default %(default)s)")
    group.addoption("--shuffle", default=None, type=_int_type("--shuffle", 2 ** 31), metavar="SEED",
                    help="run the steady cases in a random order drawn from SEED, frameworks and cases mixed "
                         "(make bench's repeated processes: each its own order); firstcall cases are refused")
    group.addoption("--compile-cache", default=None, metavar="DIR",
                    help="steady cases only: JAX's persistent compilation cache in DIR (every entry kept), so that "
                         "a later process of the same selection loads its compiled code instead of compiling it "
                         "(make compare's time processes); firstcall cases are refused")
    group.addoption("--jax-dispatch", default=None, choices=("async", "inline"),
                    help="where JAX runs its CPU computations: async = handed to its pool while the calling thread "
                         "goes on (JAX's default, and this option's, except under --count-instructions), inline = "
                         "on the calling thread (instruction counting's default: its counts then repeat)")
    group.addoption("--memory", default="on", choices=("on", "off", "all"),
                    help="memory pass after timing, each case's working set in a fresh process: on = the steady "
                         "MLP, matmul and GPT cases, all = every steady case, off = none (default on)")

