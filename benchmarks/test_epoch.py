"""One training epoch on real images (Fashion-MNIST, MNIST, or the digits fallback: models/datasets.py).

Two models (models/data.py TRAIN_CONFIGS): test_mlp_epoch trains the 784-512-512-10 MLP with plain
SGD (lr 0.01), test_mlp_epoch_momentum the 784-128-10 MLP with SGD momentum 0.9 (lr 0.001).
Modes: jax-jit (a Python loop of jitted steps), jax-scan (the epoch as one compiled lax.scan),
torch-eager, torch-compile. The training data and every epoch's batch order (one seeded NumPy
permutation per epoch, shared by both frameworks) are on the device before timing; one call is
one epoch over the first --epoch-samples training samples (default 10000; 50000 = the whole
training split). firstcall: the first epoch of a fresh model, compile included (EPOCH_FIRSTCALL_ROUNDS
rounds at most); steady: later epochs. The id's size word is the batch size (batch64); the data set
is in extra_info (dataset, dataset_path) and in the group name.
"""
from __future__ import annotations

import math

import pytest

from benchmarks import harness
from benchmarks.plugin.session import settings
from benchmarks.training import epoch_case, training_spec
from models import data, datasets

MODES = [("jax", "jit"), ("jax", "scan"), ("torch", "eager"), ("torch", "compile")]
ORDER_EPOCHS = 4  # distinct batch orders made before timing; the steady calls cycle through them
EPOCH_FIRSTCALL_ROUNDS = 1  # an epoch is long and a cold torch.compile is the longest first call here: one cold round
STEADY = pytest.mark.benchmark(min_rounds=3, max_time=0.5)  # 3 timed epochs after the harness's warm-up


def run_epoch(benchmark, spec, ds: datasets.Dataset, cfg: data.TrainConfig, samples: int, workload: str) -> None:
    case, weights = epoch_case(spec, ds, cfg, samples, ORDER_EPOCHS, workload)
    spec = training_spec(spec, EPOCH_FIRSTCALL_ROUNDS)
    harness.run(benchmark, spec, case)
    samples = case.extra["epoch_samples"]
    loss = benchmark.extra_info["loss"]  # the mean training loss over the (last) timed epoch, first call too
    initial = data.reference_loss(weights, ds.train.x[:samples], ds.train.y[:samples])
    assert math.isfinite(loss)
    assert loss < initial, f"an epoch of {cfg.describe(ds.features)} must lower the loss below the initial {initial:.4f}"


@STEADY
@pytest.mark.cases(modes=MODES, sizes="batch")
def test_mlp_epoch(benchmark, spec, dataset, pytestconfig):
    run_epoch(benchmark, spec, dataset, data.TRAIN_CONFIGS["mlp"], settings(pytestconfig).epoch_samples, "mlp_epoch")


@STEADY
@pytest.mark.cases(modes=MODES, sizes="batch")
def test_mlp_epoch_momentum(benchmark, spec, dataset, pytestconfig):
    run_epoch(benchmark, spec, dataset, data.TRAIN_CONFIGS["momentum"], settings(pytestconfig).epoch_samples,
              "mlp_epoch_momentum")
