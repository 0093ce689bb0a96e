"""The shared problems of models/functions.py are right, and every framework computes the same thing.

Tolerances (float32 unless said): elementwise values and gradients rtol = atol = 1e-5 (|f|, |f'| <= 13
on [-3, 3], a few ulp of op-order differences); matmul 1e-5 relative Frobenius error against a
float64 product; optimisers functions.PARAM_TOL / RMSE_TOL (float32 1e-4 on the parameters, SciPy's
float64 1e-5). No torch.compile here: compiled modes are checked when the benchmarks run once.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from models import functions

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
torch = pytest.importorskip("torch")

TOL = {"rtol": 1e-5, "atol": 1e-5}
X = functions.elementwise_input(1001)


def f_jax(x):
    return functions.elementwise(x, jnp)


def f_torch(x):
    return functions.elementwise(x, torch)


def test_closed_form_derivative_matches_central_differences():
    x, h = np.linspace(-3.0, 3.0, 101), 1e-6  # float64
    numeric = (functions.elementwise(x + h) - functions.elementwise(x - h)) / (2 * h)
    np.testing.assert_allclose(functions.elementwise_grad(x), numeric, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name, gradient", [
    ("jax.grad eager", lambda x: jax.grad(f_jax)(jnp.float32(x))),
    ("jax.grad jit", lambda x: jax.jit(jax.grad(f_jax))(jnp.float32(x))),
    ("torch.autograd.grad", lambda x: _autograd(f_torch, torch.tensor(x))),
    ("torch.func.grad", lambda x: torch.func.grad(f_torch)(torch.tensor(x))),
])
def test_scalar_gradient_is_the_closed_form(name, gradient):
    x = np.float32(functions.GRAD_POINT)
    np.testing.assert_allclose(np.asarray(gradient(x)), functions.elementwise_grad(x), **TOL)


@pytest.mark.parametrize("name, gradient", [
    ("jax.vmap(jax.grad) jit", lambda x: jax.jit(jax.vmap(jax.grad(f_jax)))(x)),
    ("jax.grad of the sum eager", lambda x: jax.grad(lambda v: f_jax(v).sum())(x)),
    ("torch.func.vmap(torch.func.grad)", lambda x: torch.func.vmap(torch.func.grad(f_torch))(torch.from_numpy(x))),
    ("torch autograd of the sum", lambda x: _autograd(lambda v: f_torch(v).sum(), torch.from_numpy(x))),
])
def test_per_element_gradients_are_the_closed_form(name, gradient):
    np.testing.assert_allclose(np.asarray(gradient(X)), functions.elementwise_grad(X), **TOL)


def _autograd(f, x):
    x.requires_grad_(True)
    return torch.autograd.grad(f(x), x)[0].detach().numpy()


def test_elementwise_agrees_across_numpy_jax_and_torch():
    reference = functions.elementwise(X.astype(np.float64))
    outputs = {"numpy": functions.elementwise(X), "jax eager": f_jax(X), "jax jit": jax.jit(f_jax)(X),
               "torch eager": f_torch(torch.from_numpy(X)).numpy()}
    for name, out in outputs.items():
        assert np.asarray(out).dtype == np.float32, name
        np.testing.assert_allclose(np.asarray(out), reference, **TOL, err_msg=name)


def test_triad_agrees_across_numpy_jax_and_torch():
    b, c = functions.triad_inputs(4096)
    reference = b.astype(np.float64) + functions.TRIAD_SCALAR * c.astype(np.float64)
    outputs = {"numpy": functions.triad(b, c), "jax jit": jax.jit(lambda u, v: functions.triad(u, v, jnp))(b, c),
               "torch eager": functions.triad(torch.from_numpy(b), torch.from_numpy(c), torch).numpy()}
    for name, out in outputs.items():
        assert np.asarray(out).dtype == np.float32, name
        np.testing.assert_allclose(np.asarray(out), reference, rtol=1e-6, atol=1e-6, err_msg=name)


def test_matmul_agrees_across_numpy_jax_and_torch():
    a, b = functions.matmul_inputs(192)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    for out in (a @ b, jax.jit(jnp.matmul)(a, b), torch.from_numpy(a) @ torch.from_numpy(b)):
        assert functions.relative_error(np.asarray(out), reference) < 1e-5


def test_calibration_optimum_is_true_params():
    t, y = functions.calibration_data(200)
    value, gradient = functions.rmse_and_grad(np.asarray(functions.TRUE_PARAMS), t, y)
    assert np.abs(gradient).max() < 1e-12  # a stationary point by construction
    assert value == pytest.approx(functions.NOISE_STD, rel=0.2)  # the misfit left is the noise
    assert value == functions.optimum_rmse(t, y)


def test_analytic_misfit_gradient_matches_jax_autodiff():
    t, y = functions.calibration_data(200)
    start = np.asarray(functions.START)
    autodiff = jax.grad(functions.rmse)(jnp.asarray(start, jnp.float32), t.astype(np.float32), y.astype(np.float32), jnp)
    np.testing.assert_allclose(functions.rmse_and_grad(start, t, y)[1], autodiff, rtol=1e-5)


def _solve(framework: str, t: np.ndarray, y: np.ndarray):
    """One solve through the benchmark's own builder, on the CPU (jit for JAX)."""
    from benchmarks import frameworks
    from benchmarks.spec import Spec

    mode = {"scipy": "plain", "jax": "jit", "torch": "eager"}[framework]
    spec = Spec(framework, mode, "cpu", "calib2", t.size, "steady")
    return importlib.import_module(f"models.bfgs_{framework}").solve_step(t, y, frameworks.backend(spec))()


@pytest.mark.parametrize("framework, dtype", [("scipy", "float64"), ("jax", "float32"), ("torch", "float32")])
def test_optimiser_reaches_the_known_optimum(framework, dtype):
    t, y = functions.calibration_data(200)
    fit = _solve(framework, t, y)
    assert bool(fit.success) and int(fit.nit) > 1
    assert np.asarray(fit.x).dtype == dtype  # JAX and PyTorch solve in float32: no 64-bit mode at all
    np.testing.assert_allclose(np.asarray(fit.x), functions.TRUE_PARAMS, rtol=0, atol=functions.PARAM_TOL[dtype])
    assert abs(float(fit.fun) - functions.optimum_rmse(t, y)) < functions.RMSE_TOL[dtype]


def test_bfgs_workload_leaves_jax_in_32_bit():
    t, y = functions.calibration_data(50)
    _solve("jax", t, y)
    assert not jax.config.jax_enable_x64
    assert jnp.asarray(1.0).dtype == jnp.float32 and jnp.asarray(np.float64(1.0)).dtype == jnp.float32
