"""The MNIST-shaped MLP (784-512-512-10, SGD): one training step and one inference forward pass."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks import harness
from benchmarks.spec import tolerance
from models import costs, data

# torch-cudagraphs (torch.compile mode="reduce-overhead") exists on CUDA only, where XLA uses CUDA graphs too
MODES = [("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile"), ("torch", "cudagraphs")]


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes="batch")
def test_mlp_train_step(benchmark, spec):
    weights, x, y = _inputs(spec.size_value)
    harness.run(benchmark, spec, train_step_workload(spec))
    harness.check_training_loss(spec, benchmark.extra_info["loss"], data.reference_loss(weights, x, y))


def train_step_workload(spec) -> harness.Workload:
    """One SGD step at the spec's batch (also what a warm-start child measures: test_warmstart.py)."""
    weights, x, y = _inputs(spec.size_value)
    mlp = harness.model("mlp", spec)
    return harness.Workload(
        "mlp_train_step", lambda be: mlp.train_step(weights, x, y, be), items_per_call=spec.size_value,
        flops_per_call=costs.mlp_flops(spec.size_value, train=True), count_framework_flops=True, training=True,
        bytes_per_call=costs.mlp_bytes(spec.size_value, train=True),
        memory_floor_bytes=costs.mlp_memory_floor(spec.size_value, train=True))


@pytest.mark.quick
@pytest.mark.cases(modes=MODES, sizes="batch")
def test_mlp_predict(benchmark, spec):
    weights, x, _ = _inputs(spec.size_value)
    mlp = harness.model("mlp", spec)
    logits = harness.run(benchmark, spec, harness.Workload(
        "mlp_predict", lambda be: mlp.predict_step(weights, x, be), items_per_call=spec.size_value,
        flops_per_call=costs.mlp_flops(spec.size_value, train=False), count_framework_flops=True,
        bytes_per_call=costs.mlp_bytes(spec.size_value, train=False),
        memory_floor_bytes=costs.mlp_memory_floor(spec.size_value, train=False)))
    tol = tolerance("logits", spec.matmul_precision)
    np.testing.assert_allclose(harness.as_numpy(logits), data.reference_logits(weights, x), rtol=tol, atol=tol)


def _inputs(batch: int):
    return data.mlp_weights(seed=0), *data.synthetic_batch(batch, seed=1)
