"""Related benchmarks agree, or the report says why: an epoch's time per step against the step benchmark.

`test_mlp_epoch` trains the same 784-512-512-10 MLP with the same SGD step as `test_mlp_train_step`,
so at the same framework, mode, device and batch size one epoch's steady median divided by its
steps should be close to one step's steady median. They differ by design in two ways, named in
the report when they show:

- every epoch step gathers a random batch from the whole training set (x[idx], cache-cold rows),
  which the step benchmark's fixed, cache-warm batch does not: the epoch is slower per step;
- the step benchmark waits for the device after every step, the epoch once at its end: JAX, which
  dispatches asynchronously, overlaps the next step's dispatch with the current step's work there,
  so its epoch is faster per step.

A gap within +/- AGREE_PCT is "agree"; a larger one is named with these causes, and beyond
SUSPECT_PCT it is "gap: look" (neither cause accounts for so much: the machine's noise between the
two measurements, or a fault).
"""
from __future__ import annotations

from dataclasses import dataclass

from reporting.load import Bench, number

AGREE_PCT = 10.0
SUSPECT_PCT = 30.0
NOISE = "; the rest: the noise between two single passes"
GATHER = ("known difference: each epoch step gathers a random batch from the whole training set, the step benchmark "
          "reuses one cache-warm batch" + NOISE)
SYNC = ("known difference: the step benchmark waits for every step, the epoch only at its end (JAX overlaps "
        "dispatch with work)" + NOISE)
UNKNOWN = "no known difference makes the epoch faster per step"


@dataclass(frozen=True)
class Agreement:
    framework: str
    mode: str
    device: str
    size: str
    epoch_step_s: float  # the epoch's steady median / its steps
    step_s: float  # the step benchmark's steady median
    verdict: str  # agree | gap | gap: look
    why: str

    @property
    def change_pct(self) -> float:
        return 100 * (self.epoch_step_s / self.step_s - 1)


def _key(b: Bench) -> tuple:
    return (b.get("framework"), b.get("mode"), b.get("device"), b.get("size"))


def _judge(change_pct: float, framework: str) -> tuple[str, str]:
    if abs(change_pct) <= AGREE_PCT:
        return "agree", ""
    why = GATHER if change_pct > 0 else (SYNC if framework == "jax" else UNKNOWN)
    return ("gap" if abs(change_pct) <= SUSPECT_PCT and why != UNKNOWN else "gap: look"), why


def agreements(benches: dict[str, Bench]) -> list[Agreement]:
    """One row per steady MLP epoch that has a steady step benchmark of the same case."""
    steps = {_key(b): b for b in benches.values() if b.get("workload") == "mlp_train_step" and b.get("phase") == "steady"}
    out = []
    for b in benches.values():
        per_epoch = number(b.get("steps_per_epoch"))
        step = steps.get(_key(b))
        if b.get("model") != "mlp" or b.get("phase") != "steady" or not per_epoch or step is None:
            continue
        epoch_step = b.median / per_epoch
        verdict, why = _judge(100 * (epoch_step / step.median - 1), str(b.get("framework")))
        framework, mode, device, size = (str(v) for v in _key(b))
        out.append(Agreement(framework, mode, device, size, epoch_step, step.median, verdict, why))
    return sorted(out, key=lambda a: (a.framework, a.mode, a.device, len(a.size), a.size))
