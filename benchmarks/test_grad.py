"""Gradients of the shared elementwise function, with and without JIT (models/grad_<framework>.py).

grad_scalar (one point, a latency benchmark), grad_vmap (n points by vectorising the scalar
gradient) and grad_sum (the gradient of sum(f(x))), each checked against the closed-form
derivative. Steady state only: first-call compile cost is measured on the same function by test_jit.py.
"""
from typing import Any

import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile")]
TOL: dict[str, Any] = {"rtol": 1e-5, "atol": 1e-5}  # float32 autodiff vs the closed-form derivative, |f'| <= 13


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes=[("scalar", 1)], phases=("steady",))
def test_grad_scalar(benchmark, spec):
    _check(benchmark, spec, "grad_scalar", np.float32(functions.GRAD_POINT))


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes="array", phases=("steady",))
def test_grad_vmap(benchmark, spec):
    _check(benchmark, spec, "grad_vmap", functions.elementwise_input(spec.size_value))


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes="array", phases=("steady",))
def test_grad_sum(benchmark, spec):
    _check(benchmark, spec, "grad_sum", functions.elementwise_input(spec.size_value))


def _check(benchmark, spec, workload: str, x):
    build = getattr(harness.model("grad", spec), workload)
    out = harness.run(benchmark, spec, harness.Workload(workload, lambda be: build(x, be), items_per_call=np.size(x),
                                                    bytes_per_call=2 * np.asarray(x).nbytes))
    np.testing.assert_allclose(harness.as_numpy(out), functions.elementwise_grad(x), **TOL)
