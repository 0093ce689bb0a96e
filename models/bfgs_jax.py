"""BFGS on the calibration problem of models/functions.py with jax.scipy.optimize: float32, autodiff.

JAX stays float32 (no x64 setting exists to leak into other benchmarks). Same builder name as
models/bfgs_scipy.py and bfgs_torch.py.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.optimize import minimize

from models.functions import GTOL, START, rmse

DTYPE = "float32"


def solve(start, t, y):
    """BFGS from `start` with JAX's autodiff gradient; jit-able. Returns OptimizeResults."""
    return minimize(rmse, start, args=(t, y, jnp), method="BFGS", options={"gtol": GTOL})


def solve_step(t: np.ndarray, y: np.ndarray, be):
    """Each call is one whole solve from START; start point and data are on the device beforehand."""
    start, t, y = (be.put(np.asarray(v, dtype=np.float32)) for v in (START, t, y))
    solve_fn = be.compile(solve)
    return lambda: solve_fn(start, t, y)
