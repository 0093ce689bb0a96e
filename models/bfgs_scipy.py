"""BFGS on the calibration problem of models/functions.py with SciPy: float64, analytic gradient.

SciPy keeps its iterate and Hessian estimate in float64 whatever the objective returns, so this is
the float64 reference column. Same builder name as models/bfgs_jax.py and bfgs_torch.py.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from models.functions import GTOL, START, rmse_and_grad

DTYPE = "float64"


def solve(t: np.ndarray, y: np.ndarray):
    """BFGS from START; returns SciPy's OptimizeResult (x, fun, nit, nfev, success)."""
    return minimize(rmse_and_grad, np.asarray(START), args=(t, y), jac=True, method="BFGS",
                    options={"gtol": GTOL})


def solve_step(t: np.ndarray, y: np.ndarray, be):
    """Each call is one whole solve from START."""
    return lambda: solve(t, y)
