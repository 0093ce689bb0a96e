"""Data and initial weights shared by both frameworks: made once in NumPy, copied into each.

- `mlp_weights(seed, sizes)`: PyTorch's nn.Linear default init (uniform +-1/sqrt(fan_in)), as
  float32 NumPy arrays, W stored (fan_in, fan_out) so both sides compute x @ W + b.
- `synthetic_batch(batch, seed)`: MNIST-shaped inputs in [0, 1) and integer labels 0..9.
- `TRAIN_CONFIGS`: the training benchmarks' two models (real data: models/datasets.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MLP_SIZES = (784, 512, 512, 10)


def mlp_weights(seed: int = 0, sizes: tuple[int, ...] = MLP_SIZES) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=False):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32)
        b = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
        params.append((w, b))
    return params


def synthetic_batch(batch: int, seed: int = 1, features: int = MLP_SIZES[0],
                    classes: int = MLP_SIZES[-1]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((batch, features), dtype=np.float32)  # (B, 784)
    y = rng.integers(0, classes, size=batch).astype(np.int32)  # (B,)
    return x, y


def reference_logits(weights, x: np.ndarray) -> np.ndarray:
    """The MLP's forward pass in float64 NumPy: the yardstick both frameworks are checked against."""
    h = x.astype(np.float64)
    for w, b in weights[:-1]:
        h = np.maximum(h @ w + b, 0.0)  # (B, hidden)
    w, b = weights[-1]
    return h @ w + b  # (B, 10)


def reference_loss(weights, x: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy of the initial weights, in float64."""
    logits = reference_logits(weights, x)
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


# --- the training benchmarks' two reference models (benchmarks/test_epoch.py, test_convergence.py) --

@dataclass(frozen=True)
class TrainConfig:
    """A model and its optimiser: hidden layer widths, SGD learning rate and momentum (0: plain SGD).

    Momentum follows PyTorch's convention, which optax.sgd(momentum=mu) shares: v = mu*v + g,
    p -= lr*v, with v = g on the first step.
    """

    name: str  # the test-name word: mlp, momentum
    hidden: tuple[int, ...]
    lr: float
    momentum: float = 0.0

    def sizes(self, features: int = MLP_SIZES[0], classes: int = MLP_SIZES[-1]) -> tuple[int, ...]:
        return (features, *self.hidden, classes)

    def describe(self, features: int = MLP_SIZES[0]) -> str:
        optimiser = f"SGD momentum {self.momentum}" if self.momentum else "SGD"
        return f"{'-'.join(map(str, self.sizes(features)))}, {optimiser}, lr {self.lr}"


TRAIN_CONFIGS = {
    "mlp": TrainConfig("mlp", MLP_SIZES[1:-1], lr=0.01),  # 784-512-512-10, plain SGD
    "momentum": TrainConfig("momentum", (128,), lr=0.001, momentum=0.9),  # 784-128-10
}
