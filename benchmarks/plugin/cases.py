"""@pytest.mark.cases -> the parametrised `spec` of every benchmark, its skips, --shuffle, and the
steady-only check of --shuffle and --compile-cache.

Every benchmark asks for the `spec` fixture and declares what it covers with
`@pytest.mark.cases(modes=[("jax", "jit"), ...], sizes="batch")`; this turns that into ids
`<framework>-<mode>-<device>-<size>-<phase>` (benchmarks/spec.py) so that `-k jax`,
`-k batch1024`, `-k firstcall` and `-k cuda` select what they say.
"""
from __future__ import annotations

import importlib
import os
import random
from functools import cache
from typing import cast

import pytest

from benchmarks import memory
from benchmarks.plugin.options import SIZE_KINDS
from benchmarks.spec import DEVICE_ONLY_MODES, Device, Precision, Spec

# the default memory set (--memory on): every CPU and CUDA MLP train step, matmul and GPT (train step and
# forward) steady case; MLP predict and the rest with --memory all (predict's children would lengthen every pass)
DEFAULT_PHASES = ("steady", "firstcall")  # a warm start is asked for by name: phases=("warmstart",)
MEMORY_DEFAULT = ("test_mlp_train_step", "test_matmul", "test_gpt_train_step", "test_gpt_forward")


@cache
def has_framework(name: str) -> bool:
    """Importable, not just present: a broken install counts as missing (and is skipped). A memory
    child imports only its case's framework: to it, the other one is absent."""
    only = os.environ.get(memory.CHILD_FRAMEWORK_ENV)
    if only and name in ("jax", "torch") and name != only:
        return False
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@cache
def gpu_reason() -> str | None:
    """None when both JAX and PyTorch can use a CUDA GPU (a memory child: its one framework), else why not."""
    only = os.environ.get(memory.CHILD_FRAMEWORK_ENV)
    wanted = [only] if only in ("jax", "torch") else ["jax", "torch"] if not only else []
    missing = [name for name in wanted if not has_framework(name)]
    if missing:
        return f"{', '.join(missing)} not installed"
    if "torch" in wanted:
        import torch

        if not torch.cuda.is_available():
            return "no CUDA GPU visible to PyTorch (torch.cuda.is_available() is False)"
    if "jax" in wanted:
        import jax

        try:
            jax.devices("gpu")
        except RuntimeError:
            return "no CUDA GPU visible to JAX (install jax[cuda13]; jax.devices('gpu') failed)"
    return None


def _devices(choice: str) -> list[Device]:
    if choice == "auto":  # a GPU machine still shows the CPU column, for comparison with CPU-only runs
        return ["cpu", "cuda"] if gpu_reason() is None else ["cpu"]
    return ["cpu", "cuda"] if choice == "all" else [cast(Device, choice)]


def _sizes(config: pytest.Config, sizes) -> list[tuple[str, int]]:
    from benchmarks.plugin.session import settings

    if callable(sizes):  # a function of the run's settings: [(word, value), ...]
        return list(sizes(settings(config)))
    if isinstance(sizes, str):
        prefix = SIZE_KINDS[sizes][1]
        return [(f"{prefix}{n}", n) for n in settings(config).sizes[sizes]]
    return list(sizes)  # explicit [(word, value), ...]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    from benchmarks.plugin.session import settings

    if "spec" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("cases")
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: a benchmark using `spec` needs @pytest.mark.cases")
    run = settings(metafunc.config)
    sizes = _sizes(metafunc.config, marker.kwargs.get("sizes", "batch"))
    phases = marker.kwargs.get("phases", DEFAULT_PHASES)
    memory_pass = run.memory == "all" or (run.memory == "on" and metafunc.function.__name__ in MEMORY_DEFAULT)
    params = []
    for framework, mode in marker.kwargs["modes"]:
        for device in _devices(run.device):
            if DEVICE_ONLY_MODES.get(mode, device) != device:
                continue  # e.g. CUDA graphs: no such case on the CPU
            for word, value in sizes:
                for phase in sorted(phases, key=lambda phase: phase != "firstcall"):  # firstcall first: its
                    # caches cleared, it pays the cold compile; the steady case after it may reuse what it built
                    if phase == "firstcall" and run.firstcall_sizes == "one" and (word, value) != sizes[0]:
                        continue  # one size per sweep: the first call's compile does not grow with it
                    spec = Spec(framework, mode, device, word, value, phase, run.firstcall_rounds,
                                cast(Precision, run.matmul_precision), memory_pass)
                    params.append(pytest.param(spec, id=spec.id, marks=_skips(spec)))
    metafunc.parametrize("spec", params)


def _skips(spec: Spec) -> list:
    if not has_framework(spec.framework):
        return [pytest.mark.skip(reason=f"{spec.framework} is not installed (or fails to import)")]
    if spec.device == "cuda" and gpu_reason() is not None:
        return [pytest.mark.skip(reason=f"cuda: {gpu_reason()}")]
    if spec.device == "cuda" and spec.framework in ("numpy", "scipy"):
        return [pytest.mark.skip(reason=f"{spec.framework} runs on the CPU only")]
    return []


@pytest.hookimpl(trylast=True)  # after -m / -k have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shuffle SEED: the steady cases in a seeded random order. A firstcall case is refused with
    it (its steady twin relies on running after it: JAX's caches, Inductor's first compile) and
    with --compile-cache (a first call must compile, not load)."""
    seed = config.getoption("shuffle")
    for option in ("--shuffle", "--compile-cache"):
        if config.getoption(option) is not None and any("-firstcall]" in item.nodeid for item in items):
            raise pytest.UsageError(f"{option}: select steady cases only (add -k steady)")
    if seed is not None:
        random.Random(seed).shuffle(items)
