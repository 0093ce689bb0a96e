"""An epoch's time per step against the step benchmark (reporting/consistency.py), both ways."""
from __future__ import annotations

import pytest

from reporting import consistency
from reporting.load import Bench


def bench(workload: str, framework: str, mode: str, seconds: float, **info) -> Bench:
    name = f"test_{workload}[{framework}-{mode}-cpu-batch64-steady]"
    info = {"workload": workload, "framework": framework, "mode": mode, "device": "cpu", "size": "batch64",
            "phase": "steady", **info}
    return Bench(name, name, "run.json", seconds, seconds, None, 5, None, info)


def agreement(framework: str, epoch_step_s: float, step_s: float = 1e-3, model: str = "mlp"):
    epoch = bench("mlp_epoch_fashion", framework, "jit" if framework == "jax" else "eager", 156 * epoch_step_s,
                  steps_per_epoch=156, model=model)
    step = bench("mlp_train_step", framework, epoch.get("mode"), step_s)
    return consistency.agreements({b.name: b for b in (epoch, step)})


@pytest.mark.parametrize(("framework", "epoch_step_s", "verdict", "why"), [
    ("torch", 1.05e-3, "agree", ""),
    ("jax", 0.93e-3, "agree", ""),
    ("torch", 1.2e-3, "gap", consistency.GATHER),
    ("jax", 0.8e-3, "gap", consistency.SYNC),
    ("torch", 0.8e-3, "gap: look", consistency.UNKNOWN),
    ("torch", 1.5e-3, "gap: look", consistency.GATHER),
])
def test_an_epoch_agrees_with_its_step_or_the_gap_is_named(framework, epoch_step_s, verdict, why):
    (a,) = agreement(framework, epoch_step_s)
    assert (a.verdict, a.why) == (verdict, why)
    assert a.change_pct == pytest.approx(100 * (epoch_step_s / 1e-3 - 1))


def test_an_epoch_of_another_model_has_no_step_to_agree_with():
    assert agreement("torch", 1e-3, model="momentum") == []
