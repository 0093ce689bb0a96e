"""Ids select what they say; bad options and missing GPU/framework give one line, not a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.plugin.cases import has_framework
from tests.collect import pytest_collect

ROOT = Path(__file__).resolve().parent.parent


def pytest_run(*args, path="benchmarks", env=None) -> subprocess.CompletedProcess:
    if "--collect-only" in args and env is None:  # a collection: forked from a server that imported the frameworks
        return pytest_collect(path, *args)
    return subprocess.run([sys.executable, "-m", "pytest", path, *args],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def collected(*args) -> list[str]:
    result = pytest_run("--collect-only", "-q", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def fields(nodeid: str) -> set[str]:
    """The id's words; a data-parallel size word batchBxN also counts as batchB (its global batch)."""
    words = set(nodeid.split("[", 1)[1].rstrip("]").split("-"))
    return words | {w.split("x")[0] for w in words if w.startswith("batch") and "x" in w}


@pytest.fixture(scope="module")
def all_ids() -> list[str]:
    return collected()


def test_every_id_reads_framework_mode_device_size_phase(all_ids):
    from benchmarks.spec import DEVICES, FRAMEWORKS, MODES, PHASES, parse_name

    for nodeid in all_ids:
        parts = parse_name(nodeid.split("::")[1])
        assert parts is not None, nodeid
        assert (parts["framework"] in FRAMEWORKS and parts["mode"] in MODES and parts["device"] in DEVICES
                and parts["phase"] in PHASES), nodeid


def test_committed_baselines_still_match_by_name():
    """Renaming a benchmark would orphan its baselines: every stored full-run name is still collected
    (firstcall at every size: --firstcall-sizes all, as the baselines were taken)."""
    names = {nodeid.split("::")[1] for nodeid in collected("--firstcall-sizes", "all")}
    for run in (ROOT / "baselines").glob("*/*_baseline.json"):
        stored = {b["name"] for b in json.loads(run.read_text())["benchmarks"]}
        assert stored <= names, sorted(stored - names)[:5]


def test_firstcall_runs_at_one_size_per_sweep_unless_asked(all_ids):
    first = [i for i in all_ids if "test_mlp_train_step[" in i and "firstcall" in i]
    assert first and all("batch64" in i for i in first)
    assert any("batch1024-firstcall" in i for i in collected("--firstcall-sizes", "all", "-k", "test_mlp_train_step"))


@pytest.mark.parametrize("expression, words", [  # each a pytest run: one per kind of word
    ("jax and batch1024", {"jax", "batch1024"}),  # framework and size
    ("torch and eager", {"torch", "eager"}),  # framework and mode
    ("firstcall", {"firstcall"}),  # phase
])
def test_k_selects_exactly_what_it_says(all_ids, expression, words):
    selected = collected("-k", expression)
    assert selected and sorted(selected) == sorted(i for i in all_ids if words <= fields(i))


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "abc"], "--batch-sizes: expected comma-separated positive integers, got 'abc'"),
    (["--batch-sizes", "0"], "--batch-sizes: expected comma-separated positive integers up to 65536, got '0'"),
    (["--batch-sizes", "99999999999"], "--batch-sizes: expected comma-separated positive integers up to 65536"),
    (["--batch-sizes", "64,,"], "--batch-sizes: expected comma-separated positive integers, got '64,,'"),
    (["--firstcall-rounds", "-1"], "--firstcall-rounds: expected one integer from 1 to 100, got '-1'"),
    (["--firstcall-rounds", "3,5"], "--firstcall-rounds: expected one integer from 1 to 100, got '3,5'"),
    (["--array-sizes", "1e4"], "--array-sizes: expected comma-separated positive integers, got '1e4'"),
    (["--array-sizes", "10000,0"], "--array-sizes: expected comma-separated positive integers up to 268435456, got '10000,0'"),
    (["--matrix-sizes", "big"], "--matrix-sizes: expected comma-separated positive integers, got 'big'"),
    (["--matrix-sizes", ""], "--matrix-sizes: expected comma-separated positive integers, got ''"),
])
def test_bad_option_is_a_usage_error_naming_it(args, message):
    """What the options' parsers check, called as pytest calls them (the command line is tested below)."""
    from benchmarks.plugin import options

    option = args[0]
    kind = option[2:].split("-")[0]
    with pytest.raises(pytest.UsageError) as err:
        if option == "--firstcall-rounds":
            options.int_in(args[1], option, options.MAX_FIRSTCALL_ROUNDS)
        else:
            options.positive_ints(args[1], option, options.SIZE_KINDS[kind][2])
    assert message in str(err.value)


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "64,,"], "--batch-sizes: expected comma-separated positive integers, got '64,,'"),
    (["--firstcall-rounds", "3,5"], "--firstcall-rounds: expected one integer from 1 to 100, got '3,5'"),
])
def test_bad_option_on_the_command_line_is_one_line_usage_error(args, message):
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
    assert " skipped" in result.stdout and " passed" not in result.stdout and "no CUDA GPU visible" in result.stdout


def test_missing_framework_skips_with_reason(tmp_path):
    fake = tmp_path / "jax"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('jax hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = pytest_run("--benchmark-disable", "-rs", "-q", "-k", "batch64 and steady and eager",
                        path="benchmarks/test_mlp.py", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 2 skipped" in result.stdout and "jax is not installed" in result.stdout


def test_compile_cache_is_for_steady_cases_only(tmp_path):
    """A first call must compile, not load: --compile-cache refuses it, in one line; so a folder it
    cannot make."""
    assert collected("-k", "test_mlp_train_step and steady", "--batch-sizes", "64", "--compile-cache", str(tmp_path))
    refused = pytest_run("--collect-only", "-q", "-k", "test_mlp_train_step", "--compile-cache", str(tmp_path))
    assert refused.returncode == 4 and "--compile-cache: select steady cases only" in refused.stdout + refused.stderr
    (tmp_path / "file").write_text("")
    bad = pytest_run("--collect-only", "-q", "-k", "steady", "--compile-cache", str(tmp_path / "file"))
    errors = [line for line in bad.stderr.splitlines() if line.strip()]
    assert bad.returncode == 4 and len(errors) == 1 and "--compile-cache: cannot make a folder there" in errors[0]


CACHE_PROBE = """
import sys
import jax, jax.numpy as jnp
from jax import monitoring
from benchmarks.plugin.session import set_compile_cache
hits = []
monitoring.register_event_listener(lambda event, **kw: hits.append(event) if event.endswith("cache_hits") else None)
set_compile_cache(sys.argv[1] if len(sys.argv) > 1 else None)
jax.block_until_ready(jax.jit(lambda x: jnp.sin(x) * 3.0 + 1.0)(jnp.ones(8)))
print(len(hits))
"""


@pytest.mark.skipif(not has_framework("jax"), reason="jax is not installed")
def test_compile_cache_loads_in_a_new_process_what_an_earlier_one_compiled(tmp_path):
    """The first process compiles and stores; the second loads it (a cache hit); without the
    option nothing is stored or loaded (the suite's default: a first call pays its compile)."""
    def hits(*args: str) -> int:
        proc = subprocess.run([sys.executable, "-c", CACHE_PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        return int(proc.stdout.split()[-1])

    assert hits() == 0 and hits() == 0
    assert hits(str(tmp_path)) == 0 and any((tmp_path / "jax").iterdir())
    assert hits(str(tmp_path)) >= 1  # each compiled computation (jnp.ones, the jitted function) a hit
