"""BFGS on the two-parameter calibration problem of models/functions.py (models/bfgs_<framework>.py).

One timed call is one whole solve from functions.START: SciPy BFGS (float64, analytic gradient),
`jax.scipy.optimize.minimize` BFGS under `jax.jit` (float32, autodiff) and `torch.optim.LBFGS`
(strong Wolfe; PyTorch has no plain BFGS; float32). Iterations, function evaluations, final
value and success go to extra_info. Every mode also has a firstcall: the SciPy and PyTorch ones
are the no-compile reference for JAX's trace + compile.
"""
import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("scipy", "plain"), ("jax", "jit"), ("torch", "eager")]
N_POINTS = 200


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes=[("calib2", N_POINTS)])
def test_bfgs(benchmark, spec):
    t, y = functions.calibration_data(spec.size_value)
    bfgs = harness.model("bfgs", spec)
    out = harness.run(benchmark, spec, harness.Workload(
        "bfgs", lambda be: bfgs.solve_step(t, y, be), items_per_call=1, dtype=bfgs.DTYPE,
        extra={"n_points": t.size, "gtol": functions.GTOL}))
    fit = _summary(out)
    benchmark.extra_info.update(fit)
    assert fit["success"]
    np.testing.assert_allclose(fit["x"], functions.TRUE_PARAMS, rtol=0, atol=functions.PARAM_TOL[bfgs.DTYPE])
    assert abs(fit["final_value"] - functions.optimum_rmse(t, y)) < functions.RMSE_TOL[bfgs.DTYPE]


def _summary(result) -> dict:
    """Iterations, function evaluations, final value, success and the parameters, as plain Python."""
    return {"iterations": int(result.nit), "function_evaluations": int(result.nfev),
            "final_value": float(result.fun), "success": bool(result.success),
            "x": [float(v) for v in harness.as_numpy(result.x)]}
