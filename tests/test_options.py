"""Ids select what they say; bad options and missing GPU/framework give one line, not a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_mlp.py", *args],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def collected(*args) -> list[str]:
    result = pytest_run("--collect-only", "-q", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line.split("[", 1)[1].rstrip("]") for line in result.stdout.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def all_ids() -> list[str]:
    return collected()


def test_default_ids_cover_modes_sizes_and_phases(all_ids):
    assert len(all_ids) == 2 * 4 * 3 * 2  # tests x framework-modes x batch sizes x phases
    assert "jax-jit-cpu-batch1024-steady" in all_ids
    assert "torch-compile-cpu-batch64-firstcall" in all_ids


@pytest.mark.parametrize("expression, words", [
    ("jax and batch1024", {"jax", "batch1024"}),
    ("firstcall", {"firstcall"}),
    ("torch and eager", {"torch", "eager"}),
])
def test_k_selects_exactly_what_it_says(all_ids, expression, words):
    selected = collected("-k", expression)
    expected = [i for i in all_ids if words <= set(i.split("-"))]
    assert selected and sorted(selected) == sorted(expected)


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "abc"], "--batch-sizes: expected comma-separated positive integers, got 'abc'"),
    (["--batch-sizes", "0"], "--batch-sizes: expected comma-separated positive integers, got '0'"),
    (["--firstcall-rounds", "-1"], "--firstcall-rounds: expected comma-separated positive integers"),
])
def test_bad_option_is_one_line_usage_error(args, message):
    result = pytest_run("--collect-only", "-q", *args)
    assert result.returncode == 4  # pytest's usage error
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_cuda_without_gpu_skips_with_reason():
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = pytest_run("--device", "cuda", "--benchmark-disable", "-rs", "-q", "-k", "batch64 and steady")
    assert result.returncode == 0, result.stdout
    assert "8 skipped" in result.stdout and "no CUDA GPU visible" in result.stdout


def test_missing_framework_skips_with_reason(tmp_path):
    fake = tmp_path / "jax"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('jax hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = pytest_run("--benchmark-disable", "-rs", "-q", "-k", "batch64 and steady and eager", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 2 skipped" in result.stdout and "jax is not installed" in result.stdout
