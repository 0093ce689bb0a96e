"""What a first GPU run would trip over, checked where it can be without a GPU.

Pre-allocation off and recorded, precision-dependent tolerances from one table, which modes
exist on which device, torch.compile's mode recorded, and no host-to-device copy in a timed step.
"""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import frameworks
from benchmarks.plugin import machine_info, session
from benchmarks.spec import TOLERANCES, Spec, tolerance
from tests.collect import pytest_collect

ROOT = Path(__file__).resolve().parents[1]


def test_jax_does_not_preallocate_the_gpu_and_says_so():
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"  # set by the plugin before jax loads
    run = session.SuiteSession(settings=SimpleNamespace(matmul_precision="highest", jax_dispatch="async"),  # type: ignore[arg-type]
                               cpu_watch=SimpleNamespace(share=lambda: 0.0))  # type: ignore[arg-type]
    config = SimpleNamespace(stash={session.KEY: run})
    info: dict = {}
    machine_info.pytest_benchmark_update_machine_info(config, info)
    assert info["suite"]["env"]["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and info["suite"]["jax_dispatch"] == "async"


@pytest.mark.parametrize("check", sorted(TOLERANCES))
def test_tf32_loosens_every_matmul_check_and_highest_stays_tight(check):
    tf32_error = 2e-3  # what a 10-bit mantissa gives on a 784-wide dot product
    assert tolerance(check, "highest") < tf32_error < tolerance(check, "tf32")


def collected(*args: str) -> list[str]:
    result = pytest_collect("benchmarks/test_mlp.py", "--collect-only", "-q", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line.split("::")[1] for line in result.stdout.splitlines() if "::" in line]


def test_cuda_graph_mode_exists_on_cuda_only():
    ids = collected("--device", "all")
    assert any("[torch-cudagraphs-cuda-" in i for i in ids)
    assert not any("-cudagraphs-cpu-" in i for i in ids)
    assert any("[torch-compile-cpu-" in i for i in ids) and any("[torch-compile-cuda-" in i for i in ids)


def test_auto_device_shows_the_cpu_column_and_cuda_only_with_a_gpu():
    torch = pytest.importorskip("torch")
    devices = {i.split("-")[2] for i in collected()}
    assert devices == ({"cpu", "cuda"} if torch.cuda.is_available() else {"cpu"})


@pytest.mark.parametrize("mode, expected", [("eager", None), ("compile", "default"), ("cudagraphs", "reduce-overhead")])
def test_torch_compile_mode_is_explicit(mode, expected):
    pytest.importorskip("torch")
    be = frameworks.TorchBackend(Spec("torch", mode, "cuda", "batch64", 64, "steady"))
    assert be.compile_mode == expected


def test_bfgs_torch_step_copies_nothing_from_the_host(monkeypatch):
    torch = pytest.importorskip("torch")
    from models import bfgs_torch, functions

    t, y = functions.calibration_data(50)
    step = bfgs_torch.solve_step(t, y, frameworks.backend(Spec("torch", "eager", "cpu", "calib2", 50, "steady")))

    def no_host_copy(*args, **kwargs):
        raise AssertionError("torch.tensor() inside the timed step: a host-to-device copy on CUDA")

    monkeypatch.setattr(torch, "tensor", no_host_copy)
    monkeypatch.setattr(torch, "as_tensor", no_host_copy)
    fit = step()
    np.testing.assert_allclose(fit.x.numpy(), functions.TRUE_PARAMS, atol=functions.PARAM_TOL["float32"])
