"""Warm start: the first call of a new process when the compile caches on disk are warm, beside the
cold first call (firstcall) and the steady state, for the compiled modes (benchmarks/warmstart.py).

The MLP train step, the GPT train step and the jit elementwise function, each at the first size of
its sweep, as jax-jit and torch-compile; ids end in `-warmstart` (`-k warmstart`). Each round is a
new child process with the run's own warm cache directory; process start and imports are timed
apart (extra_info process_start_s, import_s), the cache's size is recorded (cache_bytes), and a
round that missed the cache fails.
"""
from __future__ import annotations

import pytest

from benchmarks import warmstart
from benchmarks.plugin.options import SIZE_KINDS
from benchmarks.plugin.session import Settings, settings
from benchmarks.test_gpt import gpt_sizes

MODES = [("jax", "jit"), ("torch", "compile")]
ROUNDS = 3  # at most: --firstcall-rounds caps it, as it caps the cold rounds


def first(kind: str):
    def sizes(run: Settings) -> list[tuple[str, int]]:
        n = run.sizes[kind][0]
        return [(f"{SIZE_KINDS[kind][1]}{n}", n)]
    return sizes


def first_gpt(run: Settings) -> list[tuple[str, int]]:
    return gpt_sizes(run)[:1]


def _rounds(benchmark, spec) -> int:
    return 1 if getattr(benchmark, "disabled", False) else min(spec.firstcall_rounds, ROUNDS)


@pytest.mark.cases(modes=MODES, sizes=first("batch"), phases=("warmstart",))
def test_mlp_train_step(benchmark, spec):
    warmstart.measure(benchmark, spec, "mlp_train_step", _rounds(benchmark, spec))


@pytest.mark.cases(modes=MODES, sizes=first_gpt, phases=("warmstart",))
def test_gpt_train_step(benchmark, spec, request):
    warmstart.measure(benchmark, spec, "gpt_train_step", _rounds(benchmark, spec),
                      {"gpt_text": settings(request.config).gpt_text})


@pytest.mark.cases(modes=MODES, sizes=first("array"), phases=("warmstart",))
def test_jit_elementwise(benchmark, spec):
    warmstart.measure(benchmark, spec, "jit_elementwise", _rounds(benchmark, spec))
