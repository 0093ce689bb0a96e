"""Gradients of the shared elementwise function (models/functions.py) with PyTorch.

- grad_scalar: d f / d x at one point: `torch.autograd.grad` eager; compile mode compiles
  `torch.func.grad(f)`, which Dynamo traces as one graph;
- grad_vmap: per-element gradients of n points: `torch.func.vmap(torch.func.grad(f))`;
- grad_sum: the gradient of sum(f(x)) with autograd; compile mode compiles the forward and
  autograd runs its compiled backward.
Same builder names as models/grad_jax.py; `be.compile` is torch.compile in compile mode.
"""
from __future__ import annotations

import numpy as np
import torch

from models.functions import elementwise


def f(x):
    return elementwise(x, torch)


def _autograd(forward, x, be):
    x = be.put(np.array(x)).requires_grad_(True)
    return lambda: torch.autograd.grad(forward(x), x)[0]


def grad_scalar(x, be):
    if be.spec.compiled:
        gradient, x = be.compile(torch.func.grad(f)), be.put(np.array(x))
        return lambda: gradient(x)
    return _autograd(f, x, be)


def grad_vmap(x, be):
    gradient, x = be.compile(torch.func.vmap(torch.func.grad(f))), be.put(np.array(x))
    return lambda: gradient(x)


def grad_sum(x, be):
    return _autograd(be.compile(lambda v: f(v).sum()), x, be)
