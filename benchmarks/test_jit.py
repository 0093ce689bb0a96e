"""JIT vs plain execution of the shared elementwise function over n float32 elements (issue 3).

NumPy runs it as is; JAX eager and `jax.jit`; PyTorch eager and `torch.compile`. Steady and first
call (numpy and eager first calls are the no-compile reference in the firstcall group).
bytes_per_call counts one float32 read and one write per element, for effective GB/s.
"""
import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("numpy", "plain"), ("jax", "eager"), ("jax", "jit"), ("torch", "eager"), ("torch", "compile")]
TOL = {"rtol": 1e-5, "atol": 1e-5}  # float32, |f| <= 12 on [-3, 3]: a few ulp of op-order differences


@pytest.mark.cases(modes=MODES, sizes="array")
def test_jit_elementwise(benchmark, spec):
    x = functions.elementwise_input(spec.size_value)
    out = harness.run(benchmark, spec, _case(spec, x))
    np.testing.assert_allclose(harness.as_numpy(out), functions.elementwise(x), **TOL)


def _case(spec, x: np.ndarray) -> harness.Case:
    return harness.Case(workload="jit_elementwise", make_step=lambda: _step(spec, x), items_per_call=x.size,
                        bytes_per_call=2 * x.nbytes, extra={"ops_per_element": functions.ELEMENTWISE_OPS})


def _step(spec, x: np.ndarray):
    """A new callable running f on x, with x already on the device."""
    if spec.framework == "numpy":
        return lambda: functions.elementwise(x)
    if spec.framework == "jax":
        import jax
        import jax.numpy as jnp

        x = jax.device_put(x, harness.jax_device(spec))
        f = lambda v: functions.elementwise(v, jnp)  # noqa: E731
        f = jax.jit(f) if spec.mode == "jit" else f
        return lambda: f(x)
    import torch

    x = torch.from_numpy(x).to(harness.torch_device(spec))
    f = lambda v: functions.elementwise(v, torch)  # noqa: E731
    f = harness.torch_compile(f) if spec.mode == "compile" else f
    return lambda: f(x)

