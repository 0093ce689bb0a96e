"""The seed MLP in PyTorch: 784-512-512-10, ReLU, softmax cross-entropy, plain SGD.

A plain nn.Module and torch.optim.SGD, in nanoGPT's style. Same function names as
models/mlp_jax.py, so the pair reads as a diff.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

LEARNING_RATE = 0.01


class MLP(nn.Module):
    def __init__(self, sizes=(784, 512, 512, 10)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))  # (B, hidden)
        return self.layers[-1](x)  # (B, 10) logits


def init_params(weights, device="cpu") -> MLP:
    """weights: [(W (in, out), b (out,)), ...] float32 NumPy arrays from models.data.mlp_weights."""
    model = MLP([w.shape[0] for w, _ in weights] + [weights[-1][0].shape[1]])
    with torch.no_grad():
        for layer, (w, b) in zip(model.layers, weights):
            layer.weight.copy_(torch.from_numpy(w.T))  # nn.Linear keeps W as (out, in)
            layer.bias.copy_(torch.from_numpy(b))
    return model.to(device)


def loss(model, x, y):
    return F.cross_entropy(model(x), y)  # mean over the batch


def update(model, optimizer, x, y):
    """One SGD step; returns the loss before the step."""
    optimizer.zero_grad(set_to_none=True)
    value = loss(model, x, y)
    value.backward()
    optimizer.step()
    return value.detach()


def optimizer(model, lr=LEARNING_RATE):
    return torch.optim.SGD(model.parameters(), lr=lr)


def train_step(compile: bool = False):
    """A fresh step function (model, optimizer, x, y) -> loss: torch.compile'd or eager.

    dynamic=False: specialised to the batch shape, as jax.jit is.
    """
    return torch.compile(update, dynamic=False) if compile else update


def predict_fn(model, compile: bool = False):
    return torch.compile(model, dynamic=False) if compile else model
