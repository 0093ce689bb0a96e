"""The MNIST-shaped MLP in PyTorch: 784-512-512-10 (or any sizes), ReLU, softmax cross-entropy, plain SGD.

A plain nn.Module and torch.optim.SGD, in nanoGPT's style; the builders at the bottom take a
backend `be` (put on the device, compile as the mode says) and return a ready step. Same names
as models/mlp_jax.py, so the pair reads as a diff.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

LEARNING_RATE = 0.01


class MLP(nn.Module):
    def __init__(self, sizes=(784, 512, 512, 10)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=False))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))  # (B, hidden)
        return self.layers[-1](x)  # (B, 10) logits


def init_params(weights, device="cpu") -> MLP:
    """weights: [(W (in, out), b (out,)), ...] float32 NumPy arrays from models.data.mlp_weights."""
    model = MLP([w.shape[0] for w, _ in weights] + [weights[-1][0].shape[1]])
    with torch.no_grad():
        for layer, (w, b) in zip(model.layers, weights, strict=False):
            layer.weight.copy_(torch.from_numpy(w.T))  # nn.Linear keeps W as (out, in)
            layer.bias.copy_(torch.from_numpy(b))
    return model.to(device)


def predict(model, x):
    return model(x)


def loss(model, x, y):
    return F.cross_entropy(model(x), y)  # mean over the batch


def update(model, optimizer, x, y, loss=loss):
    """One optimiser step on `loss` (this MLP's by default); returns the loss before the step."""
    optimizer.zero_grad(set_to_none=True)
    value = loss(model, x, y)
    value.backward()
    optimizer.step()
    return value.detach()


def optimizer(model, lr=LEARNING_RATE, momentum=0.0):
    """With momentum: v = mu*v + g, p -= lr*v (dampening 0), as optax.sgd(momentum=mu)."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def indexed_update(model, optimizer, x, y, idx):
    """One SGD step on the batch x[idx], y[idx]; returns the loss before the step."""
    return update(model, optimizer, x[idx], y[idx])


def evaluate(model, x, y):
    """(mean cross-entropy, accuracy) of the model on (x, y)."""
    with torch.no_grad():
        logits, y = model(x), y.long()
        return F.cross_entropy(logits, y), (logits.argmax(dim=1) == y).float().mean()


def first_layer(model):
    """The first layer's weights as NumPy (in, hidden), the JAX layout."""
    return model.layers[0].weight.detach().cpu().numpy().T


# --- builders: a ready step on a backend ----------------------------------------------------------

def train_step(weights, x, y, be):
    """Each call does one SGD step on (x, y) and returns (model, loss); the model is updated in place."""
    model, x, y = init_params(weights, be.device), be.put(x), be.put(y).long()
    opt, step_fn = optimizer(model), be.compile(update)
    return lambda: (model, step_fn(model, opt, x, y))


def predict_step(weights, x, be):
    """Each call is one inference forward pass over x (no autograd graph); returns the logits."""
    model, x = init_params(weights, be.device).eval(), be.put(x)
    forward = be.compile(model)

    def step():
        with torch.no_grad():
            return forward(x)

    return step


def epoch_step(weights, x, y, orders, be, lr=LEARNING_RATE, momentum=0.0):
    """Each call trains one epoch over (x, y), all on the device, in the batches of the next
    `orders` entry ((steps, batch) sample indices, cyclically), and returns (model, mean loss)."""
    model, x, y = init_params(weights, be.device), be.put(x), be.put(y).long()
    opt, step_fn = optimizer(model, lr, momentum), be.compile(indexed_update)
    orders = [list(be.put(order).long()) for order in orders]  # one index tensor per step
    epochs = 0

    def epoch():
        nonlocal epochs
        losses = [step_fn(model, opt, x, y, idx) for idx in orders[epochs % len(orders)]]
        epochs += 1
        return model, torch.stack(losses).mean()

    return epoch
