"""BFGS on the two-parameter calibration problem of models/functions.py (issue 3).

One timed call is one whole solve from functions.START: `scipy.optimize.minimize` (BFGS, analytic
gradient; float64, as SciPy keeps its iterate and Hessian estimate in float64 whatever the
objective returns), `jax.scipy.optimize.minimize` (BFGS, autodiff gradient) under `jax.jit`, and
`torch.optim.LBFGS` (strong Wolfe; PyTorch has no plain BFGS) in float32. JAX stays float32 too, so no 64-bit setting exists to leak into other benchmarks.
Iterations, function evaluations, final value and success go to extra_info. Every mode also has a
firstcall: the SciPy and PyTorch ones are the no-compile reference for JAX's trace + compile.
"""
import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("scipy", "plain"), ("jax", "jit"), ("torch", "eager")]
N_POINTS = 200


@pytest.mark.cases(modes=MODES, sizes=[("calib2", N_POINTS)])
def test_bfgs(benchmark, spec):
    t, y = functions.calibration_data(spec.size_value)
    out = harness.run(benchmark, spec, _case(spec, t, y))
    fit = _summary(out)
    benchmark.extra_info.update(fit)
    assert fit["success"]
    np.testing.assert_allclose(fit["x"], functions.TRUE_PARAMS, rtol=0, atol=functions.PARAM_TOL[_dtype(spec)])
    assert abs(fit["final_value"] - functions.optimum_rmse(t, y)) < functions.RMSE_TOL[_dtype(spec)]


def _dtype(spec) -> str:
    return "float64" if spec.framework == "scipy" else "float32"


def _case(spec, t: np.ndarray, y: np.ndarray) -> harness.Case:
    return harness.Case(workload="bfgs", make_step=lambda: _step(spec, t, y), items_per_call=1,
                        dtype=_dtype(spec), extra={"n_points": t.size, "gtol": functions.GTOL})


def _step(spec, t: np.ndarray, y: np.ndarray):
    """A new callable solving from functions.START, with the data already on the device."""
    if spec.framework == "scipy":
        return lambda: functions.solve_scipy(t, y)
    if spec.framework == "jax":
        import jax

        t, y = jax.device_put((t.astype(np.float32), y.astype(np.float32)), harness.jax_device(spec))
        solve = jax.jit(functions.solve_jax)
        return lambda: solve(t, y)
    import torch

    t, y = (torch.tensor(v, dtype=torch.float32, device=harness.torch_device(spec)) for v in (t, y))
    return lambda: functions.solve_torch(t, y)


def _summary(result) -> dict:
    """Iterations, function evaluations, final value, success and the parameters, as plain Python."""
    return {"iterations": int(result.nit), "function_evaluations": int(result.nfev),
            "final_value": float(result.fun), "success": bool(result.success),
            "x": [float(v) for v in harness.as_numpy(result.x)]}
