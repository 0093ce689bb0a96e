"""The seed MLP in JAX: 784-512-512-10, ReLU, softmax cross-entropy, plain SGD.

Pure functions over a params pytree, as in jax's mnist_classifier_fromscratch example; the caller
decides about jit. Same function names as models/mlp_torch.py, so the pair reads as a diff.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

LEARNING_RATE = 0.01


def init_params(weights, device=None):
    """weights: [(W (in, out), b (out,)), ...] float32 NumPy arrays from models.data.mlp_weights."""
    return [(jax.device_put(w, device), jax.device_put(b, device)) for w, b in weights]


def predict(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)  # (B, hidden)
    w, b = params[-1]
    return x @ w + b  # (B, 10) logits


def loss(params, x, y):
    logp = jax.nn.log_softmax(predict(params, x))  # (B, 10)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def update(params, x, y, lr=LEARNING_RATE):
    """One SGD step; returns (new params, loss before the step)."""
    value, grads = jax.value_and_grad(loss)(params, x, y)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), value


def train_step(jit: bool = True):
    """A fresh step function: jitted with params donated (updated in place), or eager."""
    return jax.jit(update, donate_argnums=0) if jit else update


def predict_fn(jit: bool = True):
    return jax.jit(predict) if jit else predict
