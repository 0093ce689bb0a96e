"""pytest-benchmark's machine_info (what describes machine and install) and the JSON's "suite" key.

machine_info holds only what is the same in every run on one machine: pytest-benchmark warns on any
difference. What one run measured goes to the suite key: the reference probes at its start and end
(benchmarks/probes.py), other processes' CPU share, the options that shape what was measured.
"""
from __future__ import annotations

import os
import platform

import pytest

from benchmarks import machine, probes
from benchmarks.plugin.cases import has_framework
from benchmarks.plugin.memory_pass import working_sets
from benchmarks.plugin.session import suite


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Versions, devices, threads and precision: what a reader needs to trust a comparison. Only what
    describes the machine and the install, the same in every run on one machine: pytest-benchmark
    warns on any difference. What one run measured goes to the JSON's "suite" key."""
    cpu = machine_info.get("cpu")
    if isinstance(cpu, dict):  # a reading of this moment, not a description of the machine
        suite(config).cpu_hz_actual = cpu.pop("hz_actual", None)
        cpu.pop("hz_actual_friendly", None)
    machine_info["suite"] = {
        "matmul_precision": suite(config).settings.matmul_precision,
        "jax_dispatch": suite(config).settings.jax_dispatch,
        "env": {k: os.environ.get(k) for k in ("XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                                                "CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS",
                                                "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION",
                                                "TORCHINDUCTOR_FORCE_DISABLE_CACHES")},
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
    }
    import numpy

    machine_info["numpy"] = numpy.__version__
    if has_framework("jax"):
        import jax
        import jaxlib

        machine_info["jax"] = jax.__version__
        machine_info["jaxlib"] = jaxlib.__version__
        machine_info["jax_devices"] = [f"{d.platform}:{d.device_kind}" for d in jax.devices()]
        machine_info["jax_default_matmul_precision"] = str(jax.config.jax_default_matmul_precision)  # type: ignore[attr-defined]
    if has_framework("torch"):
        import torch

        machine_info["torch"] = torch.__version__
        machine_info["torch_threads"] = torch.get_num_threads()
        machine_info["torch_interop_threads"] = torch.get_num_interop_threads()
        machine_info["torch_float32_matmul_precision"] = torch.get_float32_matmul_precision()
        machine_info["torch_cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            machine_info["gpu"] = {"name": props.name, "memory_bytes": props.total_memory,
                                   "capability": f"{props.major}.{props.minor}",
                                   "driver": _nvidia_driver()}
    if has_framework("scipy"):
        import scipy

        machine_info["scipy"] = scipy.__version__


def pytest_collection_finish(session: pytest.Session) -> None:
    """The reference probes' first half, before the first benchmark of a run whose figures are kept."""
    config = session.config
    saved = any(config.getoption(name, None) for name in ("benchmark_autosave", "benchmark_save", "benchmark_json"))
    timed = any("benchmark" in getattr(item, "fixturenames", ()) for item in session.items)
    if saved and timed and not config.getoption("benchmark_disable", False) and not config.getoption("collectonly"):
        suite(config).probes = probes.Probes()


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict) -> None:
    """The run's own figures, beside machine_info: reference probes (start and end), other
    processes' CPU share, the options that shape what was measured."""
    run = suite(config)
    probe = run.probes
    working_sets(config, output_json["benchmarks"])
    output_json["suite"] = {
        "probes": probe.finish() if probe is not None else None,
        "load": machine.run_load(run.cpu_watch.share()),
        "firstcall_rounds": run.settings.firstcall_rounds,
        "memory_pass": run.settings.memory,
        "memory_pass_s": run.memory_pass_s,
        "cpu_hz_actual": run.cpu_hz_actual,
    }


def _nvidia_driver() -> str | None:
    try:
        with open("/proc/driver/nvidia/version") as f:
            return f.readline().strip()
    except OSError:
        return None

