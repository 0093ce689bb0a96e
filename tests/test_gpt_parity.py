"""Both frameworks compute the same GPT: same weights and batch in, same logits, loss and gradients
out; K AdamW steps (torch.optim.AdamW and optax.adamw, weight decay on 2-D weights only) land on the
same parameters; causal masking holds on both sides.

Tolerance: float32 with true-fp32 matmuls ("highest") on both sides; the differences are summation
order (matmuls, attention, LayerNorm), measured at about 4e-7 on logits of size ~1, so: logits and
loss rtol 1e-5 (atol 1e-5 for logits), gradients atol 1e-5 (they are ~1e-2), parameters after 10
AdamW steps atol 1e-5 (each step moves a weight by at most lr = 1e-3, a rounding difference in a
gradient changes that by far less).
"""
from __future__ import annotations

import numpy as np
import pytest

from models import costs, text

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")
pytest.importorskip("optax")

from models import gpt_jax, gpt_torch  # noqa: E402
from tests.test_mlp_parity import highest_precision  # noqa: E402, F401 (autouse: true fp32 matmuls on both sides)

CONFIG = text.CONFIGS["tiny"]
RTOL, ATOL, ATOL_GRAD, ATOL_STEPS, STEPS = 1e-5, 1e-5, 1e-5, 1e-5, 10


def _setup(steps=1):
    weights = text.gpt_weights(CONFIG, seed=0)
    x, y = text.batches(text.corpus(None, CONFIG.vocab_size).ids, steps, CONFIG, seed=1)
    return weights, x, y


def _torch_logits(model, idx):
    with torch.no_grad():
        return model(torch.from_numpy(idx).long()).numpy()


def test_same_logits():
    weights, x, _ = _setup()
    jlogits = np.asarray(gpt_jax.predict(gpt_jax.init_params(weights), x[0], CONFIG))
    tlogits = _torch_logits(gpt_torch.init_params(weights, CONFIG), x[0])
    np.testing.assert_allclose(jlogits, tlogits, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(jlogits, text.reference_logits(weights, x[0], CONFIG), rtol=RTOL, atol=ATOL)


def test_same_loss_and_gradients():
    weights, x, y = _setup()
    jloss, jgrads = jax.value_and_grad(gpt_jax.loss)(gpt_jax.init_params(weights), x[0], y[0], CONFIG)
    model = gpt_torch.init_params(weights, CONFIG)
    tloss = gpt_torch.loss(model, torch.from_numpy(x[0]).long(), torch.from_numpy(y[0]).long())
    tloss.backward()
    np.testing.assert_allclose(float(jloss), tloss.item(), rtol=RTOL)
    np.testing.assert_allclose(float(jloss), text.reference_loss(weights, x[0], y[0], CONFIG), rtol=RTOL)
    jgrads, tgrads = text.named(jgrads), gpt_torch.as_weights(model, grads=True)
    assert jgrads.keys() == tgrads.keys() == text.named(weights).keys()
    for name, grad in jgrads.items():  # the tied wte sums the embedding's and the head's gradient on both sides
        np.testing.assert_allclose(np.asarray(grad), tgrads[name], rtol=RTOL, atol=ATOL_GRAD, err_msg=name)
    assert np.abs(tgrads["wte"]).max() > 1e-3, "the gradients must be non-trivial"


@pytest.mark.parametrize("jit", [True, False], ids=["jit", "eager"])
def test_adamw_steps_give_same_parameters(jit):
    weights, x, y = _setup(steps=STEPS)
    update = jax.jit(gpt_jax.update, static_argnums=4) if jit else gpt_jax.update
    params = gpt_jax.init_params(weights)
    opt_state = gpt_jax.optimizer(CONFIG).init(params)
    model = gpt_torch.init_params(weights, CONFIG)
    optimizer = gpt_torch.optimizer(model)
    for xi, yi in zip(x, y, strict=False):
        params, opt_state, jloss = update(params, opt_state, xi, yi, CONFIG)
        tloss = gpt_torch.update(model, optimizer, torch.from_numpy(xi).long(), torch.from_numpy(yi).long())
        np.testing.assert_allclose(float(jloss), tloss.item(), rtol=RTOL)
    tparams = gpt_torch.as_weights(model)
    for name, value in text.named(params).items():
        np.testing.assert_allclose(np.asarray(value), tparams[name], atol=ATOL_STEPS, err_msg=name)
    moved = text.named(params)
    assert not np.allclose(np.asarray(moved["wte"]), weights["wte"]), "AdamW must have moved the weights"


def test_causal_masking():
    """Changing the tokens from position t on never changes the logits before t (and does change them at t)."""
    weights, x, _ = _setup()
    idx, t = x[0][:4], CONFIG.block_size // 2
    changed = idx.copy()
    changed[:, t:] = (changed[:, t:] + 7) % CONFIG.vocab_size
    jparams, model = gpt_jax.init_params(weights), gpt_torch.init_params(weights, CONFIG)
    for logits in (lambda i: np.asarray(gpt_jax.predict(jparams, i, CONFIG)), lambda i: _torch_logits(model, i)):
        before, after = logits(idx), logits(changed)
        np.testing.assert_array_equal(before[:, :t], after[:, :t])
        assert np.abs(before[:, t:] - after[:, t:]).max() > 1e-3


def test_analytic_flops_close_to_torchs_own_count():
    """nanoGPT's estimate against FlopCounterMode's matmul count of one AdamW step. The counter has
    no formula for the CPU attention kernel that F.scaled_dot_product_attention runs here, so it
    sees the 6N part alone (N also counts biases and LayerNorm gains, which do no matmul: 2%)."""
    from torch.utils.flop_counter import FlopCounterMode

    weights, x, y = _setup()
    model = gpt_torch.init_params(weights, CONFIG)
    with FlopCounterMode(display=False) as counter:
        gpt_torch.update(model, gpt_torch.optimizer(model), torch.from_numpy(x[0]).long(), torch.from_numpy(y[0]).long())
    tokens = CONFIG.batch_size * CONFIG.block_size
    assert counter.get_total_flops() == pytest.approx(6 * text.n_params(CONFIG) * tokens, rel=0.03)
    assert counter.get_total_flops() < costs.gpt_flops(CONFIG, train=True)
