"""Analytic costs of every workload, in one place: FLOPs, compulsory bytes and memory floors.

What the math requires, written once and read by the benchmarks (flops_per_call, bytes_per_call,
memory_floor_bytes) and by the tests that check a framework's own counts against them:

- the MLP (models/data.py's sizes): `mlp_flops`, `mlp_bytes`, `mlp_memory_floor`;
- the GPT (models/text.py's GPTConfig): `gpt_flops` (nanoGPT's estimate_mfu), `gpt_memory_floor`.

Matmul FLOPs are 2*m*n*k; elementwise work is not counted; everything is float32 (4 bytes).
"""
from __future__ import annotations

from models.data import MLP_SIZES
from models.text import GPTConfig, n_params


def mlp_flops(batch: int, sizes: tuple[int, ...] = MLP_SIZES, train: bool = True) -> float:
    """Matmul FLOPs of one forward (train=False) or one SGD step (train=True).

    Forward: 2*B*in*out per layer. Backward: the weight gradient of every layer, and the input
    gradient of every layer but the first (the data needs none). Elementwise work is not counted.
    """
    layers = [2.0 * batch * i * o for i, o in zip(sizes[:-1], sizes[1:], strict=False)]
    if not train:
        return sum(layers)
    return 2 * sum(layers) + sum(layers[1:])


def mlp_bytes(batch: int, sizes: tuple[int, ...] = MLP_SIZES, train: bool = True) -> float:
    """The float32 bytes one call must move at least (its compulsory traffic), for the roofline.

    Forward: read the input batch and every weight and bias once, write every activation.
    SGD step on top: read the labels, read each activation back in the backward pass and write the
    new weights and biases (the gradients are assumed to stay in cache). A real step moves more.
    """
    params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:], strict=True))
    activations = batch * sum(sizes[1:])
    forward = 4.0 * (batch * sizes[0] + params + activations)
    return forward if not train else forward + 4.0 * (batch + activations + params)


def mlp_memory_floor(batch: int, sizes: tuple[int, ...] = MLP_SIZES, train: bool = True) -> float:
    """The least a call's working set can hold, float32: the input batch and the parameters, and the
    largest activation; a training step also its labels and one gradient per parameter."""
    params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:], strict=True))
    floor = 4.0 * (batch * sizes[0] + params + batch * max(sizes[1:]))
    return floor + 4.0 * (batch + params) if train else floor


def gpt_flops(config: GPTConfig, train: bool = True) -> float:
    """nanoGPT's estimate_mfu: 6N + 12 L H Q T FLOPs per token for forward + backward (PaLM,
    appendix B), a third of it for a forward pass alone; times B * T tokens per step."""
    L, H, Q, T = config.n_layer, config.n_head, config.n_embd // config.n_head, config.block_size
    per_token = 6 * n_params(config) + 12 * L * H * Q * T
    return float(per_token * T * config.batch_size) / (1 if train else 3)


def gpt_memory_floor(config: GPTConfig, train: bool = True) -> float:
    """The least a step's working set can hold, float32: the parameters, the token batch and the
    largest activation (the logits, or one layer's attention scores, or its 4C MLP hidden); a
    training step also a gradient and AdamW's two moments per parameter, and the targets."""
    B, T, C = config.batch_size, config.block_size, config.n_embd
    params = n_params(config, non_embedding=False)
    largest = max(B * T * config.vocab_size, B * config.n_head * T * T, B * T * 4 * C)
    floor = 4.0 * (params + B * T + largest)
    return floor + 4.0 * (3 * params + B * T) if train else floor
