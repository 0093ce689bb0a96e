"""A character-level GPT in JAX: pure functions over a params pytree, the same network as
models/gpt_torch.py (nanoGPT's model.py): LayerNorm with bias, causal self-attention, a GELU MLP,
no dropout, the output head tied to the token embedding; AdamW from optax.

Attention is jax.nn.dot_product_attention(is_causal=True): JAX's counterpart of
F.scaled_dot_product_attention, so each side calls its library's own attention entry point with
the same scale 1/sqrt(head size) and causal mask. On the CPU both lower to the plain
softmax(q k^T / sqrt(hs) + mask) v form (XLA's implementation here; no cuDNN kernel), so the
comparison is between the libraries, not between a hand-written loop and a fused kernel.

Weights come from models.text.gpt_weights (NumPy, made once); the params pytree is that nested
dict as jax arrays, Linear weights (in, out). The builders at the bottom take a backend `be` and
return a ready step. Same names as models/gpt_torch.py, so the pair reads as a diff.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

from models.text import BETAS, EPS, LAYER_NORM_EPS, WEIGHT_DECAY, GPTConfig, decays


def unsupported(spec) -> str | None:
    """The cases this model does not run (benchmarks.harness.model skips them), and why."""
    if spec.mode == "eager" and spec.size != "tiny":
        return "jax-eager beyond the tiny config: op-by-op dispatch of a 6-layer step takes minutes per case"
    return None


def init_params(weights: dict, put=jnp.asarray) -> dict:
    """weights: models.text.gpt_weights, float32 NumPy arrays."""
    return jax.tree.map(put, weights)


def layer_norm(p, x):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)  # biased, as torch.nn.LayerNorm
    return (x - mean) * jax.lax.rsqrt(var + LAYER_NORM_EPS) * p["weight"] + p["bias"]


def linear(p, x):
    return x @ p["weight"] + p["bias"]


def causal_self_attention(p, x, config: GPTConfig):
    B, T, C = x.shape  # batch, sequence length, embedding width
    q, k, v = jnp.split(linear(p["c_attn"], x), 3, axis=2)  # key, query, value for all heads
    q, k, v = (t.reshape(B, T, config.n_head, C // config.n_head) for t in (q, k, v))  # (B, T, nh, hs)
    y = jax.nn.dot_product_attention(q, k, v, is_causal=True)  # (B, T, nh, hs)
    return linear(p["c_proj"], y.reshape(B, T, C))  # heads side by side, output projection


def mlp(p, x):
    return linear(p["c_proj"], jax.nn.gelu(linear(p["c_fc"], x), approximate=False))  # exact (erf) GELU


def block(p, x, config: GPTConfig):
    x = x + causal_self_attention(p["attn"], layer_norm(p["ln_1"], x), config)
    return x + mlp(p["mlp"], layer_norm(p["ln_2"], x))


def gpt(params, idx, config: GPTConfig):
    """Logits at every position, (B, T, vocab)."""
    b, t = idx.shape
    x = params["wte"][idx] + params["wpe"][:t]  # (b, t, n_embd)
    for p in params["h"]:
        x = block(p, x, config)
    return layer_norm(params["ln_f"], x) @ params["wte"].T  # (b, t, vocab_size): the head is wte


def predict(params, idx, config: GPTConfig):
    return gpt(params, idx, config)


def loss(params, idx, targets, config: GPTConfig):
    logp = jax.nn.log_softmax(gpt(params, idx, config))  # (B, T, vocab)
    return -jnp.mean(jnp.take_along_axis(logp, targets[..., None], axis=-1))  # mean over B * T


def update(params, opt_state, x, y, config: GPTConfig):
    """One AdamW step; returns (new params, new optimiser state, loss before the step)."""
    value, grads = jax.value_and_grad(loss)(params, x, y, config)
    updates, opt_state = optimizer(config).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value


def optimizer(config: GPTConfig):
    """optax.adamw with nanoGPT's two groups: 2-D weights decay, biases and LayerNorms do not."""
    return optax.adamw(config.learning_rate, b1=BETAS[0], b2=BETAS[1], eps=EPS, weight_decay=WEIGHT_DECAY,
                       mask=lambda params: jax.tree.map(decays, params))


# --- builders: a ready step on a backend ----------------------------------------------------------

def train_step(weights, config, x, y, be):
    """Each call does one AdamW step on the next of the batches x, y ((steps, B, T), cycled) and
    returns (params, loss); params and optimiser state thread through the calls and are donated
    to the jitted update (updated in place, as a training loop would)."""
    params = init_params(weights, be.put)
    opt_state = optimizer(config).init(params)
    step_fn = be.compile(partial(update, config=config), donate_argnums=(0, 1))
    batches = [(tokens(be, xi), tokens(be, yi)) for xi, yi in zip(x, y, strict=False)]
    calls = 0

    def step():
        nonlocal params, opt_state, calls
        xi, yi = batches[calls % len(batches)]
        calls += 1
        params, opt_state, value = step_fn(params, opt_state, xi, yi)
        return params, value

    return step


def tokens(be, ids):
    """Token ids (NumPy int32) on the device."""
    return be.put(ids)


def predict_fn(params, config, be):
    """The inference forward pass over `params`: token ids on the device -> logits."""
    forward = be.compile(partial(predict, config=config))
    return lambda idx: forward(params, idx)


def predict_step(weights, config, idx, be):
    """Each call is one forward pass over idx (B, T); returns the (B, T, vocab) logits."""
    call, idx = predict_fn(init_params(weights, be.put), config, be), tokens(be, idx)
    return lambda: call(idx)
