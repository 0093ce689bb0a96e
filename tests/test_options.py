"""Ids select what they say; bad options and missing GPU/framework give one line, not a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_run(*args, path="benchmarks", env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", path, *args],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def collected(*args) -> list[str]:
    result = pytest_run("--collect-only", "-q", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def fields(nodeid: str) -> set[str]:
    return set(nodeid.split("[", 1)[1].rstrip("]").split("-"))


@pytest.fixture(scope="module")
def all_ids() -> list[str]:
    return collected()


def test_default_ids_per_benchmark(all_ids):
    names = {nodeid.split("::")[1].split("[")[0] for nodeid in all_ids}
    count = {name: sum(f"::{name}[" in i for i in all_ids) for name in names}
    assert count == {"test_mlp_train_step": 4 * 3 * 2, "test_mlp_predict": 4 * 3 * 2,  # modes x sizes x phases
                     "test_jit_elementwise": 5 * 3 * 2, "test_grad_scalar": 4, "test_grad_vmap": 4 * 3,
                     "test_grad_sum": 4 * 3, "test_matmul": 3 * 3, "test_bfgs": 3 * 2}
    assert any(i.endswith("test_mlp_train_step[jax-jit-cpu-batch1024-steady]") for i in all_ids)
    assert any(i.endswith("test_mlp_train_step[torch-compile-cpu-batch64-firstcall]") for i in all_ids)


@pytest.mark.parametrize("expression, words", [
    ("jax and batch1024", {"jax", "batch1024"}),
    ("firstcall", {"firstcall"}),
    ("torch and eager", {"torch", "eager"}),
    ("numpy", {"numpy"}),
    ("scipy", {"scipy"}),
    ("n1000000", {"n1000000"}),
    ("size1024", {"size1024"}),
])
def test_k_selects_exactly_what_it_says(all_ids, expression, words):
    selected = collected("-k", expression)
    assert selected and sorted(selected) == sorted(i for i in all_ids if words <= fields(i))


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "abc"], "--batch-sizes: expected comma-separated positive integers, got 'abc'"),
    (["--batch-sizes", "0"], "--batch-sizes: expected comma-separated positive integers, got '0'"),
    (["--firstcall-rounds", "-1"], "--firstcall-rounds: expected comma-separated positive integers"),
    (["--array-sizes", "1e4"], "--array-sizes: expected comma-separated positive integers, got '1e4'"),
    (["--array-sizes", "10000,0"], "--array-sizes: expected comma-separated positive integers, got '10000,0'"),
    (["--matrix-sizes", "big"], "--matrix-sizes: expected comma-separated positive integers, got 'big'"),
    (["--matrix-sizes", ""], "--matrix-sizes: expected comma-separated positive integers, got ''"),
])
def test_bad_option_is_one_line_usage_error(args, message):
    result = pytest_run("--collect-only", "-q", *args)
    assert result.returncode == 4  # pytest's usage error
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR:") and message in errors[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_cuda_without_gpu_skips_with_reason():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = pytest_run("--device", "cuda", "--benchmark-disable", "-rs", "-q", "-k", "batch64 and steady",
                        path="benchmarks/test_mlp.py")
    assert result.returncode == 0, result.stdout
    assert "8 skipped" in result.stdout and "no CUDA GPU visible" in result.stdout


def test_missing_framework_skips_with_reason(tmp_path):
    fake = tmp_path / "jax"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('jax hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = pytest_run("--benchmark-disable", "-rs", "-q", "-k", "batch64 and steady and eager",
                        path="benchmarks/test_mlp.py", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 2 skipped" in result.stdout and "jax is not installed" in result.stdout
