"""Both frameworks train the same: same initial weights and batch order in, same losses and
accuracies out, for both training models (plain SGD and SGD momentum 0.9); and the momentum
convention is the one both libraries document: v = mu*v + g, p -= lr*v.

A short run on 512 training samples of the run's data set (Fashion-MNIST, MNIST or the digits:
models/datasets.py), batch 64, 3 epochs (24 steps). Tolerance: true-fp32 matmuls on both sides, so
only summation order differs: per-epoch losses to rtol 1e-4, validation accuracy to one sample.
"""
from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")

from benchmarks import frameworks  # noqa: E402
from benchmarks.spec import Spec  # noqa: E402
from models import data, datasets, mlp_jax, mlp_torch  # noqa: E402

SAMPLES, VALIDATION, BATCH, EPOCHS = 512, 256, 64, 3
RTOL = 1e-4


@pytest.fixture(autouse=True)
def highest_precision():
    jax.config.update("jax_default_matmul_precision", "highest")
    torch.set_float32_matmul_precision("highest")


@pytest.fixture(scope="module")
def small():
    return datasets.load(datasets.data_root())


def run(framework: str, mode: str, ds: datasets.Dataset, cfg: data.TrainConfig) -> list[tuple[float, float, float]]:
    """(train loss, validation loss, validation accuracy) per epoch."""
    be = frameworks.backend(Spec(framework, mode, "cpu", f"batch{BATCH}", BATCH, "steady"))
    mlp = mlp_jax if framework == "jax" else mlp_torch
    orders = [datasets.epoch_order(SAMPLES, BATCH, e) for e in range(EPOCHS)]
    weights = data.mlp_weights(seed=0, sizes=cfg.sizes(ds.features))
    epoch = mlp.epoch_step(weights, ds.train.x[:SAMPLES], ds.train.y[:SAMPLES], orders, be, cfg.lr, cfg.momentum)
    xv, yv = be.put(ds.validation.x[:VALIDATION]), be.put(ds.validation.y[:VALIDATION])
    log = []
    for _ in range(EPOCHS):
        params, loss = epoch()
        val_loss, val_acc = mlp.evaluate(params, xv, yv)
        log.append((float(loss), float(val_loss), float(val_acc)))
    return log


@pytest.mark.parametrize("model", ["mlp", "momentum"])
@pytest.mark.parametrize("jax_mode", ["jit", "scan"])
def test_both_frameworks_train_the_same(small, model, jax_mode):
    cfg = data.TRAIN_CONFIGS[model]
    jax_log, torch_log = run("jax", jax_mode, small, cfg), run("torch", "eager", small, cfg)
    jax_log, torch_log = np.array(jax_log), np.array(torch_log)
    np.testing.assert_allclose(jax_log[:, :2], torch_log[:, :2], rtol=RTOL)
    np.testing.assert_allclose(jax_log[:, 2], torch_log[:, 2], atol=1.0 / VALIDATION + 1e-9)
    assert jax_log[-1, 0] < jax_log[0, 0], "training must lower the loss"


def test_momentum_convention_matches_the_formula():
    """Three steps of optax.sgd(momentum) and torch.optim.SGD(momentum) against v = mu*v + g,
    p -= lr*v written out with JAX's gradients."""
    cfg = data.TRAIN_CONFIGS["momentum"]
    weights = data.mlp_weights(seed=0, sizes=cfg.sizes())
    x, y = data.synthetic_batch(32, seed=1)
    idx = np.arange(32, dtype=np.int32)
    tx = mlp_jax.optimizer(cfg.lr, cfg.momentum)
    params = mlp_jax.init_params(weights)
    state = (params, tx.init(params))
    manual, velocity = params, jax.tree.map(np.zeros_like, params)
    model = mlp_torch.init_params(weights)
    opt = mlp_torch.optimizer(model, cfg.lr, cfg.momentum)
    for _ in range(3):
        grads = jax.grad(mlp_jax.loss)(manual, x, y)
        velocity = jax.tree.map(lambda v, g: cfg.momentum * v + g, velocity, grads)
        manual = jax.tree.map(lambda p, v: p - cfg.lr * v, manual, velocity)
        state, _ = mlp_jax.optax_update(tx, state, x, y, idx)
        mlp_torch.indexed_update(model, opt, torch.from_numpy(x), torch.from_numpy(y).long(), torch.from_numpy(idx).long())
    for (mw, mb), (jw, _jb), layer in zip(manual, state[0], model.layers, strict=False):
        np.testing.assert_allclose(np.asarray(jw), np.asarray(mw), atol=1e-6)
        np.testing.assert_allclose(layer.weight.detach().numpy().T, np.asarray(mw), atol=1e-6)
        np.testing.assert_allclose(layer.bias.detach().numpy(), np.asarray(mb), atol=1e-6)
    assert not np.allclose(np.asarray(state[0][0][0]), weights[0][0]), "the steps must move the weights"
