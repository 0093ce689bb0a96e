"""One SuiteSession per run: the options read once, typed, and what the run measures about itself.

pytest_configure builds it and keeps it in `config.stash`; everything else asks `suite(config)`
(pytest-benchmark's own plugin keeps one BenchmarkSession the same way), so no loose attribute
hangs on pytest's Config.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchmarks import machine, progress
from benchmarks.plugin.cases import has_framework
from benchmarks.plugin.options import SIZE_KINDS


@dataclass(frozen=True)
class Settings:
    """The suite's options, parsed (benchmarks/plugin/options.py) and checked once."""
    device: str
    sizes: dict[str, list[int]]  # kind (batch, array, matrix) -> sizes
    firstcall_rounds: int
    firstcall_sizes: str
    matmul_precision: str
    gpt_configs: list[str]
    gpt_steps: int
    gpt_text: str | None
    data_root: str | None
    dataset: str
    download: bool
    epochs: int
    epoch_samples: int
    devices: list[int]
    memory: str
    shuffle: int | None
    compile_cache: str | None
    jax_dispatch: str  # async | inline


@dataclass
class SuiteSession:
    settings: Settings
    cpu_watch: machine.CpuWatch  # other processes' CPU use over the whole run
    cpu_hz_actual: Any = None  # cpuinfo's reading of this moment, kept out of machine_info
    probes: Any = None  # benchmarks.probes.Probes, for a run whose figures are kept
    working_sets: dict[str, dict] = field(default_factory=dict)  # fullname -> the memory child's figures
    memory_pass_s: float | None = None
    memory_failures: list[str] = field(default_factory=list)


KEY = pytest.StashKey[SuiteSession]()


def suite(config: pytest.Config) -> SuiteSession:
    return config.stash[KEY]


def settings(config: pytest.Config) -> Settings:
    return config.stash[KEY].settings


def _settings(config: pytest.Config) -> Settings:
    option = config.getoption
    data_root = option("--data-root")
    if data_root is not None and not os.path.isdir(data_root):
        raise pytest.UsageError(f"--data-root: not a folder: {data_root!r}")
    return Settings(device=option("--device"), sizes={kind: option(f"--{kind}-sizes") for kind in SIZE_KINDS},
                    firstcall_rounds=option("--firstcall-rounds"), firstcall_sizes=option("--firstcall-sizes"),
                    matmul_precision=option("--matmul-precision"), gpt_configs=_gpt_configs(option("--gpt-configs")),
                    gpt_steps=option("--gpt-steps"), gpt_text=_gpt_text(option("--text")), data_root=data_root,
                    dataset=option("--dataset"), download=option("--download"), epochs=option("--epochs"),
                    epoch_samples=option("--epoch-samples"), devices=option("--devices"), memory=option("--memory"),
                    shuffle=option("--shuffle"), compile_cache=_compile_cache(option("--compile-cache")),
                    jax_dispatch=jax_dispatch(option("--jax-dispatch"), counting=bool(option("--count-instructions"))))


def _compile_cache(folder: str | None) -> str | None:
    """--compile-cache DIR: a folder this process can write into (made if missing)."""
    if folder is not None:
        try:
            (Path(folder) / "jax").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise pytest.UsageError(f"--compile-cache: cannot make a folder there: {folder!r} ({e.strerror})") from None
        if not os.access(Path(folder) / "jax", os.W_OK | os.X_OK):
            raise pytest.UsageError(f"--compile-cache: not writable: {folder!r}")
    return folder


def _gpt_configs(value: str) -> list[str]:
    from models import text

    names = value.split(",")
    if not all(name in text.CONFIGS for name in names):
        raise pytest.UsageError(f"--gpt-configs: expected comma-separated names from {', '.join(text.CONFIGS)}, "
                                f"got {value!r}")
    return list(dict.fromkeys(names))


def _gpt_text(path: str | None) -> str | None:
    from models import text

    if path is not None:
        try:
            text.load_corpus(path)
        except text.CorpusError as e:
            raise pytest.UsageError(f"--text: {e}") from None
    return path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cases(modes, sizes, phases): parametrise a benchmark over "
                            "framework-mode x device x size x phase")
    config.stash[KEY] = SuiteSession(_settings(config), machine.CpuWatch())
    set_precision(config.stash[KEY].settings.matmul_precision)
    set_compile_cache(config.stash[KEY].settings.compile_cache)
    set_jax_dispatch(config.stash[KEY].settings.jax_dispatch)
    _storage_anywhere()
    progress.register(config)


def _storage_anywhere() -> None:
    """pytest-benchmark formats its storage path relative to the current folder when it warns that
    machine_info differs, which raises ValueError (INTERNALERROR) for a --benchmark-storage outside
    it (its open issue #217). Fall back to the absolute path there."""
    try:
        from pytest_benchmark.storage.file import FileStorage
    except ImportError:
        return

    def location(self) -> str:
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)
    FileStorage.location = property(location)  # type: ignore[method-assign, assignment]


def set_compile_cache(folder: str | None) -> None:
    """JAX's persistent compilation cache: off (a first call must pay the compile), or with
    --compile-cache (steady cases only, benchmarks/plugin/cases.py) every entry kept in `folder`:
    the same compiled code, loaded instead of compiled, so a fresh process starts timing sooner."""
    if not has_framework("jax"):
        return
    import jax

    jax.config.update("jax_enable_compilation_cache", folder is not None)
    if folder is not None:
        for name, value in jax_cache_settings(Path(folder) / "jax").items():
            jax.config.update(name, value)


def jax_cache_settings(folder: Path) -> dict[str, Any]:
    """JAX's persistent compilation cache in `folder`, every entry kept, as JAX config names and
    values (set through jax.config above; reporting/pingpong.py hands them to its processes as the
    JAX_* environment variables of those names)."""
    return {"jax_enable_compilation_cache": True, "jax_compilation_cache_dir": str(folder),
            "jax_persistent_cache_min_compile_time_secs": 0.0, "jax_persistent_cache_min_entry_size_bytes": 0}


def jax_dispatch(asked: str | None, counting: bool) -> str:
    """--jax-dispatch as asked, else inline under instruction counting and async (JAX's default) otherwise."""
    return asked or ("inline" if counting else "async")


def set_jax_dispatch(dispatch: str) -> None:
    """Where JAX runs its CPU computations (before its CPU client exists): handed to its pool thread
    while the calling thread goes on (async, JAX's default), or on the calling thread (inline; the
    same computation). JAX reads jax_cpu_enable_async_dispatch from its config only: the environment
    variable of that name does nothing. Counting runs inline: handed to the pool, whether the next
    operation found its inputs ready depended on how the two threads happened to run, and the
    bookkeeping around each operation moved a small jax-eager step's count by up to 1.8% between
    processes of one commit (docs/regression-gate.md)."""
    if has_framework("jax"):
        import jax

        jax.config.update("jax_cpu_enable_async_dispatch", dispatch == "async")


def set_precision(precision: str) -> None:
    """Same float32 matmul precision on both sides, before any benchmark is built."""
    if has_framework("jax"):
        import jax

        jax.config.update("jax_default_matmul_precision", "highest" if precision == "highest" else "tensorfloat32")
    if has_framework("torch"):
        import torch

        tf32 = precision == "tf32"
        torch.set_float32_matmul_precision("highest" if not tf32 else "high")
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
