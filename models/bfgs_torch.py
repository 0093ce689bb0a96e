"""L-BFGS on the calibration problem of models/functions.py with torch.optim.LBFGS: float32, autograd.

PyTorch has no plain BFGS: L-BFGS with a strong-Wolfe line search is its closest. Same builder name
as models/bfgs_scipy.py and bfgs_jax.py.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from models.functions import GTOL, START, rmse

DTYPE = "float32"


def solve(start, t, y, max_iter: int = 100) -> SimpleNamespace:
    """L-BFGS from a copy of `start` (on y's device). Returns SciPy-style fields: x, fun, nit, nfev,
    and success (stopped on its tolerances rather than on `max_iter`)."""
    params = start.clone().requires_grad_(True)  # a device-side copy: no host-to-device transfer
    optimizer = torch.optim.LBFGS([params], lr=1.0, max_iter=max_iter, tolerance_grad=GTOL,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = rmse(params, t, y, torch)
        loss.backward()
        return loss

    optimizer.step(closure)
    state = optimizer.state[params]
    with torch.no_grad():
        value = rmse(params, t, y, torch)
    return SimpleNamespace(x=params.detach(), fun=value, nit=state["n_iter"], nfev=state["func_evals"],
                           success=state["n_iter"] < max_iter)


def solve_step(t: np.ndarray, y: np.ndarray, be):
    """Each call is one whole solve from START; start point and data are on the device beforehand."""
    start, t, y = (be.put(np.asarray(v, dtype=np.float32)) for v in (START, t, y))
    return lambda: solve(start, t, y)
