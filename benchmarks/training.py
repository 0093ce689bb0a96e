"""What the training benchmarks share (test_epoch.py, test_convergence.py): the Workload of an epoch of
training on a data set, what it ran on for extra_info, and the spec of a training benchmark."""
from __future__ import annotations

import dataclasses

import pytest

from benchmarks import harness
from models import costs, data, datasets


def data_info(ds: datasets.Dataset, cfg: data.TrainConfig, batch: int) -> dict:
    """What a training benchmark ran on, for extra_info."""
    return {"dataset": ds.name, "dataset_path": ds.path, "dataset_fallback": ds.fallback,
            "input_features": ds.features, "image_side": ds.image_side, "model": cfg.name,
            "model_config": cfg.describe(ds.features), "learning_rate": cfg.lr, "momentum": cfg.momentum,
            "batch_size": batch}


def epoch_case(spec, ds: datasets.Dataset, cfg: data.TrainConfig, samples: int, epochs: int,
               workload: str) -> tuple[harness.Workload, list]:
    """The Workload of training `cfg` on the first `samples` training samples, one epoch per call,
    with `epochs` distinct batch orders; also returns the initial weights."""
    samples = min(samples, len(ds.train.x))
    x, y, batch = ds.train.x[:samples], ds.train.y[:samples], spec.size_value
    if batch > samples:
        pytest.skip(f"batch {batch} is larger than the {samples} training samples of {ds.name}")
    orders = [datasets.epoch_order(samples, batch, e) for e in range(epochs)]
    weights, steps, sizes = data.mlp_weights(seed=0, sizes=cfg.sizes(ds.features)), len(orders[0]), cfg.sizes(ds.features)
    mlp = harness.model("mlp", spec)
    return harness.Workload(
        f"{workload}_{ds.name}", lambda be: mlp.epoch_step(weights, x, y, orders, be, cfg.lr, cfg.momentum),
        items_per_call=steps * batch, flops_per_call=steps * costs.mlp_flops(batch, sizes, train=True),
        training=True, extra={**data_info(ds, cfg, batch), "epoch_samples": steps * batch,
                              "steps_per_epoch": steps}), weights


def training_spec(spec, firstcall_rounds: int):
    """The spec of a training benchmark: at most `firstcall_rounds` cold rounds, and no memory pass
    (it would run one more epoch, and analyse every jitted step of a loop: an epoch needs the
    memory of its step, which test_mlp_train_step measures)."""
    return dataclasses.replace(spec, firstcall_rounds=min(spec.firstcall_rounds, firstcall_rounds), memory=False)
