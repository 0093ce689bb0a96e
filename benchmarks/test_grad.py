"""Gradients of the shared elementwise function, with and without JIT (issue 3).

- grad_scalar: d f / d x at one point, a latency benchmark: `jax.grad` (jit, eager) vs
  `torch.autograd.grad` (eager) and `torch.func.grad` under `torch.compile` (compile).
- grad_vmap: per-element gradients of n points by vectorising the scalar gradient:
  `jax.vmap(jax.grad(f))` vs `torch.func.vmap(torch.func.grad(f))`.
- grad_sum: the same n gradients as the gradient of sum(f(x)) (f is elementwise): `jax.grad` vs
  PyTorch autograd (`torch.autograd.grad`), the forward under `torch.compile` in compile mode.
Steady state only: first-call compile cost is measured on the same function by test_jit.py.
"""
import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile")]
TOL = {"rtol": 1e-5, "atol": 1e-5}  # float32 autodiff vs the closed-form derivative, |f'| <= 13


@pytest.mark.cases(modes=MODES, sizes=[("scalar", 1)], phases=("steady",))
def test_grad_scalar(benchmark, spec):
    x = np.float32(functions.GRAD_POINT)
    out = harness.run(benchmark, spec, _case("grad_scalar", spec, x))
    np.testing.assert_allclose(harness.as_numpy(out), functions.elementwise_grad(x), **TOL)


@pytest.mark.cases(modes=MODES, sizes="array", phases=("steady",))
def test_grad_vmap(benchmark, spec):
    x = functions.elementwise_input(spec.size_value)
    out = harness.run(benchmark, spec, _case("grad_vmap", spec, x))
    np.testing.assert_allclose(harness.as_numpy(out), functions.elementwise_grad(x), **TOL)


@pytest.mark.cases(modes=MODES, sizes="array", phases=("steady",))
def test_grad_sum(benchmark, spec):
    x = functions.elementwise_input(spec.size_value)
    out = harness.run(benchmark, spec, _case("grad_sum", spec, x))
    np.testing.assert_allclose(harness.as_numpy(out), functions.elementwise_grad(x), **TOL)


def _case(workload: str, spec, x: np.ndarray) -> harness.Case:
    step = _jax_step if spec.framework == "jax" else _torch_step
    return harness.Case(workload=workload, make_step=lambda: step(workload, spec, x), items_per_call=x.size,
                        bytes_per_call=2 * x.nbytes)


def _jax_step(workload: str, spec, x: np.ndarray):
    """A new callable: the gradient, jitted in jit mode, at x already on the device."""
    import jax
    import jax.numpy as jnp

    f = lambda v: functions.elementwise(v, jnp)  # noqa: E731
    if workload == "grad_scalar":
        grad = jax.grad(f)
    elif workload == "grad_vmap":
        grad = jax.vmap(jax.grad(f))
    else:  # grad_sum
        grad = jax.grad(lambda v: f(v).sum())
    grad = jax.jit(grad) if spec.mode == "jit" else grad
    x = jax.device_put(x, harness.jax_device(spec))
    return lambda: grad(x)


def _torch_step(workload: str, spec, x: np.ndarray):
    """A new callable: the gradient at x already on the device; torch.compile in compile mode."""
    import torch

    f = lambda v: functions.elementwise(v, torch)  # noqa: E731
    compiled = harness.torch_compile if spec.mode == "compile" else (lambda fn: fn)
    x = torch.from_numpy(np.array(x)).to(harness.torch_device(spec))
    if workload == "grad_sum":  # compile mode: the forward compiled, autograd runs its compiled backward
        forward = compiled(lambda v: f(v).sum())
        x.requires_grad_(True)
        return lambda: torch.autograd.grad(forward(x), x)[0]
    if workload == "grad_vmap":
        grad = compiled(torch.func.vmap(torch.func.grad(f)))
    elif spec.mode == "compile":  # grad_scalar via torch.func.grad: Dynamo traces it as one graph
        grad = compiled(torch.func.grad(f))
    else:  # grad_scalar eager: the classic autograd call
        x.requires_grad_(True)
        return lambda: torch.autograd.grad(f(x), x)[0]
    return lambda: grad(x)

