"""The MLP training step of models/mlp_jax.py, data-parallel over N devices of one process.

A 1-D `jax.sharding.Mesh` over the first N devices, the batch axis of (x, y) sharded over it
and the parameters replicated (`NamedSharding`); `jax.jit` with those in/out shardings compiles
`mlp_jax.update` unchanged, and XLA inserts the all-reduce of the gradients (and of the loss).
On the CPU the N devices are simulated: XLA_FLAGS=--xla_force_host_platform_device_count=N
must be set before jax is imported (benchmarks/dp_runner.py starts such a process).
"""
from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from models import mlp_jax

AXIS = "batch"


def mesh(n: int, platform: str = "cpu") -> Mesh:
    """A 1-D mesh over the first n devices of `platform` ("cpu" or "gpu")."""
    devices = jax.devices(platform)
    if len(devices) < n:
        raise RuntimeError(f"{n} {platform} devices wanted, jax sees {len(devices)}")
    return Mesh(np.array(devices[:n]), (AXIS,))


def train_step(weights, x, y, mesh: Mesh):
    """Each call does one SGD step on the global batch (x, y), split over the mesh, and returns
    (params, loss); params are replicated, thread through the calls and are donated."""
    replicated, sharded = NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec(AXIS))
    params = mlp_jax.init_params(weights, lambda a: jax.device_put(a, replicated))
    x, y = jax.device_put(x, sharded), jax.device_put(y, sharded)
    step_fn = jax.jit(mlp_jax.update, in_shardings=(replicated, sharded, sharded),
                      out_shardings=(replicated, replicated), donate_argnums=0)

    def step():
        nonlocal params
        params, value = step_fn(params, x, y)
        return params, value

    return step


def host_params(params) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W (in, out), b), ...] as NumPy."""
    return [(np.asarray(w), np.asarray(b)) for w, b in params]
