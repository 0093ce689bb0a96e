"""JIT vs plain execution of the shared elementwise function over n float32 elements.

NumPy runs it as is; JAX eager and `jax.jit`; PyTorch eager and `torch.compile`, all through
`functions.elementwise_step`. Steady and first call (numpy and eager first calls are the
no-compile reference in the firstcall group). bytes_per_call counts one float32 read and one
write per element, for effective GB/s.
"""
import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("numpy", "plain"), ("jax", "eager"), ("jax", "jit"), ("torch", "eager"), ("torch", "compile")]
TOL = {"rtol": 1e-5, "atol": 1e-5}  # float32, |f| <= 12 on [-3, 3]: a few ulp of op-order differences


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes="array")
def test_jit_elementwise(benchmark, spec):
    out = harness.run(benchmark, spec, elementwise_workload(spec))
    x = functions.elementwise_input(spec.size_value)
    np.testing.assert_allclose(harness.as_numpy(out), functions.elementwise(x), **TOL)


def elementwise_workload(spec) -> harness.Workload:
    """The elementwise function over the spec's n elements (also a warm-start child's: test_warmstart.py)."""
    x = functions.elementwise_input(spec.size_value)
    return harness.Workload(
        "jit_elementwise", lambda be: functions.elementwise_step(x, be), items_per_call=x.size,
        bytes_per_call=2 * x.nbytes, extra={"ops_per_element": functions.ELEMENTWISE_OPS})
