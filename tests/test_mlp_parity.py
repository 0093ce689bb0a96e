"""Both frameworks compute the same MLP: same weights and batch in, same loss and gradients out.

Tolerance: float32 with true-fp32 matmuls ("highest") on both sides; the only differences are
summation order inside the matmuls, so values agree to rtol 1e-5 / atol 1e-6 (one step) and
atol 2e-5 after 10 SGD steps.
"""
from __future__ import annotations

import numpy as np
import pytest

from models import costs, data

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")

from models import mlp_jax, mlp_torch  # noqa: E402

RTOL, ATOL, ATOL_10_STEPS = 1e-5, 1e-6, 2e-5


@pytest.fixture(autouse=True)
def highest_precision():
    jax.config.update("jax_default_matmul_precision", "highest")
    torch.set_float32_matmul_precision("highest")


def _setup(batch=64):
    weights = data.mlp_weights(seed=0)
    x, y = data.synthetic_batch(batch, seed=1)
    return weights, x, y


def _torch_grads(model):
    # as (W (in, out), b) pairs, the JAX layout
    return [(layer.weight.grad.numpy().T, layer.bias.grad.numpy()) for layer in model.layers]


def test_same_loss_and_gradients():
    weights, x, y = _setup()
    jloss, jgrads = jax.value_and_grad(mlp_jax.loss)(mlp_jax.init_params(weights), x, y)
    model = mlp_torch.init_params(weights)
    tloss = mlp_torch.loss(model, torch.from_numpy(x), torch.from_numpy(y).long())
    tloss.backward()
    np.testing.assert_allclose(float(jloss), tloss.item(), rtol=RTOL)
    np.testing.assert_allclose(float(jloss), data.reference_loss(weights, x, y), rtol=RTOL)  # float64 NumPy
    for (jw, jb), (tw, tb) in zip(jgrads, _torch_grads(model), strict=False):
        np.testing.assert_allclose(np.asarray(jw), tw, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(np.asarray(jb), tb, rtol=RTOL, atol=ATOL)


def test_same_logits():
    weights, x, _ = _setup()
    jlogits = mlp_jax.predict(mlp_jax.init_params(weights), x)
    with torch.no_grad():
        tlogits = mlp_torch.init_params(weights)(torch.from_numpy(x))
    np.testing.assert_allclose(np.asarray(jlogits), tlogits.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("jit", [True, False], ids=["jit", "eager"])
def test_ten_sgd_steps_give_same_parameters(jit):
    weights, x, y = _setup()
    step, params = (jax.jit(mlp_jax.update) if jit else mlp_jax.update), mlp_jax.init_params(weights)
    model = mlp_torch.init_params(weights)
    optimizer = mlp_torch.optimizer(model)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y).long()
    for _ in range(10):
        params, jloss = step(params, x, y)
        tloss = mlp_torch.update(model, optimizer, tx, ty)
        np.testing.assert_allclose(float(jloss), tloss.item(), rtol=1e-5)
    for (jw, jb), layer in zip(params, model.layers, strict=False):
        np.testing.assert_allclose(np.asarray(jw), layer.weight.detach().numpy().T, atol=ATOL_10_STEPS)
        np.testing.assert_allclose(np.asarray(jb), layer.bias.detach().numpy(), atol=ATOL_10_STEPS)
    assert not np.allclose(np.asarray(params[0][0]), weights[0][0]), "SGD must have moved the weights"


def test_analytic_flops_match_the_frameworks_own_count():
    weights, x, y = _setup(batch=256)
    compiled = jax.jit(mlp_jax.update).lower(mlp_jax.init_params(weights), x, y).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    analytic = costs.mlp_flops(256, train=True)
    # XLA also counts the elementwise work (ReLU, softmax, SGD update): a few percent more
    assert analytic <= cost["flops"] <= 1.05 * analytic
    from torch.utils.flop_counter import FlopCounterMode

    model = mlp_torch.init_params(weights)
    with FlopCounterMode(display=False) as counter:
        mlp_torch.update(model, mlp_torch.optimizer(model), torch.from_numpy(x), torch.from_numpy(y).long())
    assert counter.get_total_flops() == analytic  # torch counts matmuls only
