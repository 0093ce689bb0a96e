"""Gradients of the shared elementwise function (models/functions.py) with JAX's autodiff.

- grad_scalar: d f / d x at one point (`jax.grad`), a latency benchmark;
- grad_vmap: per-element gradients of n points by vectorising the scalar gradient (`jax.vmap`);
- grad_sum: the same n gradients as the gradient of sum(f(x)) (f is elementwise).
Same builder names as models/grad_torch.py; `be.compile` jits the gradient in jit mode.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from models.functions import elementwise


def f(x):
    return elementwise(x, jnp)


def _step(gradient, x, be):
    x, gradient = be.put(x), be.compile(gradient)
    return lambda: gradient(x)


def grad_scalar(x, be):
    return _step(jax.grad(f), x, be)


def grad_vmap(x, be):
    return _step(jax.vmap(jax.grad(f)), x, be)


def grad_sum(x, be):
    return _step(jax.grad(lambda v: f(v).sum()), x, be)
