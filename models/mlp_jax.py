"""The MNIST-shaped MLP in JAX: 784-512-512-10 (or any sizes), ReLU, softmax cross-entropy, plain SGD.

Pure functions over a params pytree, as in jax's mnist_classifier_fromscratch example; the
builders at the bottom take a backend `be` (put on the device, compile as the mode says) and
return a ready step. Same names as models/mlp_torch.py, so the pair reads as a diff.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

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


def optimizer(lr=LEARNING_RATE, momentum=0.0):
    """optax SGD; with momentum v = mu*v + g, p -= lr*v (torch.optim.SGD's convention, dampening 0)."""
    return optax.sgd(lr, momentum=momentum or None)


def optax_update(tx, state, x, y, idx):
    """One optimiser step on the batch x[idx], y[idx]; state = (params, opt_state). Returns
    (new state, loss before the step)."""
    params, opt_state = state
    value, grads = jax.value_and_grad(loss)(params, x[idx], y[idx])
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), value


def train_epoch(tx, state, x, y, order):
    """A whole epoch as one lax.scan over the rows of `order` (steps, batch): (state, mean loss)."""
    state, losses = jax.lax.scan(lambda s, idx: optax_update(tx, s, x, y, idx), state, order)
    return state, jnp.mean(losses)


@jax.jit
def evaluate(params, x, y):
    """(mean cross-entropy, accuracy) of params on (x, y)."""
    logits = predict(params, x)
    logp = jax.nn.log_softmax(logits)
    return (-jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1)),
            jnp.mean(jnp.argmax(logits, axis=1) == y))


def first_layer(params):
    """The first layer's weights as NumPy (in, hidden)."""
    return jax.device_get(params[0][0])


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


def epoch_step(weights, x, y, orders, be, lr=LEARNING_RATE, momentum=0.0):
    """Each call trains one epoch over (x, y), all on the device, in the batches of the next
    `orders` entry ((steps, batch) sample indices, cyclically), and returns (params, mean loss).
    Mode scan: the whole epoch is one compiled lax.scan; otherwise a Python loop of steps
    (jitted in mode jit). State is donated."""
    tx = optimizer(lr, momentum)
    params = init_params(weights, be.put)
    state, x, y, epochs = (params, tx.init(params)), be.put(x), be.put(y), 0
    if be.spec.mode == "scan":
        orders = [be.put(order) for order in orders]
        epoch_fn = be.compile(partial(train_epoch, tx), donate_argnums=0)

        def run(state, order):
            return epoch_fn(state, x, y, order)
    else:
        orders = [[be.put(row) for row in order] for order in orders]  # one device array per step
        update_fn = be.compile(partial(optax_update, tx), donate_argnums=0)

        def run(state, order):
            losses = []
            for idx in order:
                state, value = update_fn(state, x, y, idx)
                losses.append(value)
            return state, jnp.mean(jnp.stack(losses))

    def epoch():
        nonlocal state, epochs
        state, value = run(state, orders[epochs % len(orders)])
        epochs += 1
        return state[0], value

    return epoch
