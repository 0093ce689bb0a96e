"""The MLP training step of models/mlp_jax.py, data-parallel over the devices of a global mesh.

A 1-D `jax.sharding.Mesh` over N devices, the batch axis of (x, y) sharded over it and the
parameters replicated (`NamedSharding`); `jax.jit` with those in/out shardings compiles
`mlp_jax.update` unchanged, and XLA inserts the all-reduce of the gradients (and of the loss).
The same code serves both layouts (benchmarks/dp_rank.py starts the processes):

- one process with N devices (jax-jit): on the CPU N simulated devices, which need
  XLA_FLAGS=--xla_force_host_platform_device_count=N set before jax is imported;
- N processes with one device each (jax-spmd, multi-controller): `initialize` joins them with
  `jax.distributed` (Gloo collectives on the CPU, NCCL on GPUs) and the mesh spans every process's
  devices. Each process feeds only the rows of the global batch its own devices hold.
"""
from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from models import mlp_jax

AXIS = "batch"


def initialize(coordinator: str, processes: int, process_id: int, local_device: int | None,
               timeout_s: int) -> None:
    """Join the `processes` JAX processes whose coordinator (process 0) serves on `coordinator`
    (host:port); local_device: the GPU this process drives (None on the CPU)."""
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, processes, process_id,
                               local_device_ids=None if local_device is None else [local_device],
                               initialization_timeout=timeout_s, heartbeat_timeout_seconds=timeout_s,
                               shutdown_timeout_seconds=30)


def mesh(n: int, platform: str = "cpu") -> Mesh:
    """A 1-D mesh over the first n devices of `platform` ("cpu" or "gpu"), every process's."""
    devices = jax.devices(platform)
    if len(devices) < n:
        raise RuntimeError(f"{n} {platform} devices wanted, jax sees {len(devices)}")
    return Mesh(np.array(devices[:n]), (AXIS,))


def place(array: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """The global array `array` under `sharding`, built from the rows this process's devices hold."""
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def train_step(weights, x, y, mesh: Mesh):
    """Each call does one SGD step on the global batch (x, y), split over the mesh, and returns
    (params, loss); params are replicated, thread through the calls and are donated."""
    replicated, sharded = NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec(AXIS))
    params = mlp_jax.init_params(weights, lambda a: place(a, replicated))
    x, y = place(x, sharded), place(y, sharded)
    step_fn = jax.jit(mlp_jax.update, in_shardings=(replicated, sharded, sharded),
                      out_shardings=(replicated, replicated), donate_argnums=0)

    def step():
        nonlocal params
        params, value = step_fn(params, x, y)
        return params, value

    return step


def host_params(params) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W (in, out), b), ...] as NumPy: this process's copy of the replicated parameters."""
    return [(np.asarray(w.addressable_data(0)), np.asarray(b.addressable_data(0))) for w, b in params]


def close() -> None:
    """Leave the distributed run, if this process joined one."""
    if jax.distributed.is_initialized():
        jax.distributed.shutdown()
