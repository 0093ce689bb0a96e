"""The MNIST-shaped MLP in JAX: 784-512-512-10 (or any sizes), ReLU, softmax cross-entropy, plain SGD.

Pure functions over a params pytree, as in jax's mnist_classifier_fromscratch example; the
builders at the bottom take a backend `be` (put on the device, compile as the mode says) and
return a ready step. Same names as models/mlp_torch.py, so the pair reads as a diff.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

LEARNING_RATE = 0.01


def init_params(weights, put=jnp.asarray):
    """weights: [(W (in, out), b (out,)), ...] float32 NumPy arrays from models.data.mlp_weights."""
    return [(put(w), put(b)) for w, b in weights]


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


# --- builders: a ready step on a backend ----------------------------------------------------------

def train_step(weights, x, y, be):
    """Each call does one SGD step on (x, y) and returns (params, loss); params thread through the
    calls and are donated to the jitted update (updated in place, as a training loop would)."""
    params, x, y = init_params(weights, be.put), be.put(x), be.put(y)
    step_fn = be.compile(update, donate_argnums=0)

    def step():
        nonlocal params
        params, value = step_fn(params, x, y)
        return params, value

    return step


def predict_step(weights, x, be):
    """Each call is one inference forward pass over x; returns the logits."""
    params, x = init_params(weights, be.put), be.put(x)
    forward = be.compile(predict)
    return lambda: forward(params, x)
