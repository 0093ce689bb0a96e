"""The shared problems of the capability workloads (gradients, JIT, matmul, BFGS), in one file.

Two problems, each written once where NumPy, JAX and PyTorch share an API and once per framework
where they do not:

- `elementwise(x, xp)`: a smooth scalar function of about ten operations (sin, cos, exp and
  polynomials) applied elementwise, with its closed-form derivative `elementwise_grad`. `xp` is
  `numpy`, `jax.numpy` or `torch`: their sin/cos/exp agree, so one body serves all three.
- the calibration problem (solved by models/bfgs_<framework>.py): fit the decay curve
  y = a·exp(-b·t) to noisy data by minimising the RMSE
  over the two parameters (a, b). The noise is made orthogonal to the curve's sensitivities at
  TRUE_PARAMS, so TRUE_PARAMS is exactly the least-squares optimum and the optimal RMSE is the RMS
  of that noise: every optimiser can be checked against known numbers.

JAX and PyTorch are imported inside the functions that need them, so NumPy-only users can import
this module.
"""
from __future__ import annotations

import numpy as np

ELEMENTWISE_OPS = 12  # operations per element in `elementwise`, for the report's op rate
GRAD_POINT = 0.7  # where the scalar gradient is taken
TRUE_PARAMS = (2.5, 1.3)  # (a, b) of y = a·exp(-b·t): the calibration optimum by construction
START = (1.0, 0.5)  # where every optimiser starts
NOISE_STD = 0.05  # noise on the synthetic observations
GTOL = 1e-5  # all three optimisers stop when max |gradient| <= GTOL (SciPy's and JAX's default)
PARAM_TOL = {"float64": 1e-5, "float32": 1e-4}  # a solve reaches the optimum: max |params - TRUE_PARAMS|
RMSE_TOL = {"float64": 1e-9, "float32": 1e-6}  # ... and |final misfit - optimum_rmse|
SEED = 0


# --- the elementwise function ---------------------------------------------------------------------

def elementwise(x, xp=np):
    """f(x) = sin(2x) + cos(x)·exp(-x²/10) + x³/2 - x, elementwise; `xp` is numpy, jax.numpy or torch."""
    x2 = x * x
    return xp.sin(2.0 * x) + xp.cos(x) * xp.exp(-0.1 * x2) + 0.5 * x2 * x - x


def elementwise_grad(x, xp=np):
    """f'(x) = 2cos(2x) - (sin(x) + x·cos(x)/5)·exp(-x²/10) + 3x²/2 - 1, the closed form."""
    return 2.0 * xp.cos(2.0 * x) - (xp.sin(x) + 0.2 * x * xp.cos(x)) * xp.exp(-0.1 * x * x) + 1.5 * x * x - 1.0


def elementwise_input(n: int) -> np.ndarray:
    """n float32 points evenly spread over [-3, 3], where f is smooth and of moderate size."""
    return np.linspace(-3.0, 3.0, n, dtype=np.float32)


def elementwise_step(x: np.ndarray, be):
    """A ready step on a backend: f over x (already on the device), jitted/compiled as the mode says.
    One body serves NumPy, JAX and PyTorch (`be.xp`)."""
    x, xp = be.put(x), be.xp
    f = be.compile(lambda v: elementwise(v, xp))
    return lambda: f(x)


# --- memory bandwidth: the STREAM triad -----------------------------------------------------------

TRIAD_SCALAR = 3.0


def triad_inputs(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)


def triad(b, c, xp=np):
    """a = b + s * c (STREAM's triad): 2 FLOPs and 12 bytes (two float32 reads, one write) per element."""
    return b + TRIAD_SCALAR * c


def triad_step(b: np.ndarray, c: np.ndarray, be):
    """A ready step on a backend: the triad over b and c (already on the device), a new output each call."""
    b, c, xp = be.put(b), be.put(c), be.xp
    f = be.compile(lambda u, v: triad(u, v, xp))
    return lambda: f(b, c)


# --- matrix multiply ------------------------------------------------------------------------------

def matmul_inputs(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two n x n float32 matrices of standard normal entries."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)


def matmul_step(a: np.ndarray, b: np.ndarray, be):
    """A ready step on a backend: a @ b with both already on the device."""
    a, b = be.put(a), be.put(b)
    product = be.compile(be.xp.matmul)
    return lambda: product(a, b)


def relative_error(result: np.ndarray, reference: np.ndarray) -> float:
    """Frobenius-norm error of `result` relative to `reference`."""
    reference = np.asarray(reference, dtype=np.float64)
    return float(np.linalg.norm(np.asarray(result, dtype=np.float64) - reference) / np.linalg.norm(reference))


# --- the calibration problem ----------------------------------------------------------------------

def curve(params, t, xp=np):
    """The parametric curve a·exp(-b·t) at times t."""
    return params[0] * xp.exp(-params[1] * t)


def rmse(params, t, y, xp=np):
    """Root-mean-square misfit of the curve with `params` to the observations y."""
    residual = curve(params, t, xp) - y
    return xp.sqrt(xp.mean(residual * residual))


def calibration_data(n_points: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Times t in [0, 4] and float64 observations y = curve(TRUE_PARAMS, t) + noise, fixed by `seed`.

    The noise has its projection onto the curve's sensitivities (d curve / d a, d curve / d b at
    TRUE_PARAMS) removed, so the gradient of the misfit vanishes exactly at TRUE_PARAMS.
    """
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 4.0, n_points)
    a, b = TRUE_PARAMS
    sensitivities = np.stack([np.exp(-b * t), -a * t * np.exp(-b * t)], axis=1)  # (n_points, 2)
    noise = rng.normal(0.0, NOISE_STD, n_points)
    noise -= sensitivities @ np.linalg.lstsq(sensitivities, noise, rcond=None)[0]
    return t, curve(TRUE_PARAMS, t) + noise


def optimum_rmse(t: np.ndarray, y: np.ndarray) -> float:
    """The known minimum of the misfit: its value at TRUE_PARAMS."""
    return float(rmse(np.asarray(TRUE_PARAMS), t, y))


def rmse_and_grad(params: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The misfit and its analytic gradient, for SciPy (`jac=True`)."""
    decay = np.exp(-params[1] * t)
    residual = params[0] * decay - y
    value = np.sqrt(np.mean(residual * residual))
    sensitivities = np.stack([decay, -params[0] * t * decay])  # (2, n_points)
    return value, sensitivities @ residual / (residual.size * value)
