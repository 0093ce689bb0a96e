"""float32 square matrix multiply, n x n @ n x n: NumPy, `jax.jit`, PyTorch eager.

flops_per_call = 2n³, with each framework's own count alongside; matmul_precision is recorded by
the harness. The best GFLOP/s here is the machine peak that the report divides the other
workloads by. Steady state only: a first call of one product says nothing a reader needs.
"""
import functools

import numpy as np
import pytest

from benchmarks import harness
from benchmarks.spec import tolerance
from models import functions

MODES = [("numpy", "plain"), ("jax", "jit"), ("torch", "eager")]


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes="matrix", phases=("steady",))
def test_matmul(benchmark, spec):
    n = spec.size_value
    a, b = functions.matmul_inputs(n)
    out = harness.run(benchmark, spec, harness.Workload(
        "matmul", lambda be: functions.matmul_step(a, b, be), items_per_call=n * n, flops_per_call=2 * n**3,
        count_framework_flops=True, bytes_per_call=3 * a.nbytes, memory_floor_bytes=3 * a.nbytes))
    error = functions.relative_error(harness.as_numpy(out), _reference(n))
    assert error < tolerance("matmul", spec.matmul_precision)


@functools.cache
def _reference(n: int) -> np.ndarray:
    a, b = functions.matmul_inputs(n)
    return a.astype(np.float64) @ b.astype(np.float64)
