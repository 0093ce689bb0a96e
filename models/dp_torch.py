"""The MLP training step of models/mlp_torch.py, data-parallel over N ranks with DistributedDataParallel.

One process per rank (benchmarks/dp_rank.py; started like torchrun starts them); rank r holds rows
[r*B/N, (r+1)*B/N) of the global batch, DDP all-reduces (averages) the gradients during
backward, and `mlp_torch.update` does the SGD step unchanged. Gloo on the CPU, NCCL on CUDA
(LOCAL_RANK r on cuda:r).
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from models import mlp_torch


def init(coordinator: str, rank: int, world: int, local_rank: int, device: str, timeout_s: float) -> torch.device:
    """Join the process group whose rendezvous (rank 0's TCP store) is `coordinator` (host:port),
    bounded by timeout_s; this rank's device (cuda:local_rank on CUDA)."""
    cuda = device == "cuda"
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://{coordinator}",
                            rank=rank, world_size=world, timeout=timedelta(seconds=timeout_s))
    return torch.device("cuda", local_rank) if cuda else torch.device("cpu")


def shard(array: np.ndarray, rank: int, world: int) -> np.ndarray:
    """This rank's contiguous rows of the global batch."""
    rows = len(array) // world
    return array[rank * rows:(rank + 1) * rows]


def train_step(weights, x, y, device: torch.device):
    """Each call does one SGD step on this rank's shard of the global batch (x, y) and returns
    (model, loss of the global batch). The loss all-reduce comes after optimizer.step(), so when
    it returns on a rank every rank has finished the step: it is the collective that ends the step."""
    rank, world = dist.get_rank(), dist.get_world_size()
    model = mlp_torch.init_params(weights, device)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = mlp_torch.optimizer(model)
    xs = torch.from_numpy(shard(x, rank, world)).to(device)
    ys = torch.from_numpy(shard(y, rank, world)).to(device).long()

    def step():
        value = mlp_torch.update(ddp, opt, xs, ys)  # mean over the shard
        dist.all_reduce(value)  # sum of the shard means (Gloo has no AVG)
        return model, value / world

    return step


def host_params(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W (in, out), b), ...] as NumPy, the JAX layout."""
    return [(layer.weight.detach().cpu().numpy().T, layer.bias.detach().cpu().numpy()) for layer in model.layers]


def barrier() -> None:
    """Every rank has finished its steps: a rank that tears the group down while another is still in
    its last collective can abort the other ("terminate called without an active exception")."""
    if dist.is_initialized():
        dist.barrier()


def close() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
