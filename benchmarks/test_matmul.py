"""float32 square matrix multiply, n x n @ n x n (issue 3): NumPy, `jax.jit`, PyTorch eager.

flops_per_call = 2n³, with each framework's own count alongside; matmul_precision is recorded by
the harness. The best GFLOP/s here is the machine peak that the report divides the other
workloads by. Steady state only: a first call of one product says nothing a reader needs.
"""
import functools

import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("numpy", "plain"), ("jax", "jit"), ("torch", "eager")]
TOL = {"highest": 1e-5, "tf32": 1e-2}  # relative Frobenius error vs a float64 product


@pytest.mark.cases(modes=MODES, sizes="matrix", phases=("steady",))
def test_matmul(benchmark, spec):
    a, b = functions.matmul_inputs(spec.size_value)
    out = harness.run(benchmark, spec, _case(spec, a, b))
    assert functions.relative_error(harness.as_numpy(out), _reference(spec.size_value)) < TOL[spec.matmul_precision]


def _case(spec, a: np.ndarray, b: np.ndarray) -> harness.Case:
    n = a.shape[0]
    return harness.Case(workload="matmul", make_step=lambda: _step(spec, a, b), items_per_call=n * n,
                        flops_per_call=2 * n**3, framework_flops=lambda: _framework_flops(spec, a, b),
                        bytes_per_call=3 * a.nbytes)


def _step(spec, a: np.ndarray, b: np.ndarray):
    """A new callable multiplying a and b, already on the device."""
    if spec.framework == "numpy":
        return lambda: a @ b
    if spec.framework == "jax":
        import jax
        import jax.numpy as jnp

        a, b = jax.device_put((a, b), harness.jax_device(spec))
        matmul = jax.jit(jnp.matmul)
        return lambda: matmul(a, b)
    import torch

    a, b = (torch.from_numpy(m).to(harness.torch_device(spec)) for m in (a, b))
    return lambda: torch.matmul(a, b)


def _framework_flops(spec, a: np.ndarray, b: np.ndarray) -> float | None:
    """XLA's cost analysis or PyTorch's FlopCounterMode for the same product (untimed)."""
    if spec.framework == "jax":
        import jax
        import jax.numpy as jnp

        return jax.jit(jnp.matmul).lower(a, b).compile().cost_analysis().get("flops")
    if spec.framework == "torch":
        import torch
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            torch.matmul(torch.from_numpy(a), torch.from_numpy(b))
        return counter.get_total_flops()
    return None


@functools.cache
def _reference(n: int) -> np.ndarray:
    a, b = functions.matmul_inputs(n)
    return a.astype(np.float64) @ b.astype(np.float64)
