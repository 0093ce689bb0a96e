"""The seed MLP (784-512-512-10, SGD): one training step and one inference forward pass."""
from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import harness
from models import data

MODES = [("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile")]


@pytest.mark.cases(modes=MODES, sizes="batch")
def test_mlp_train_step(benchmark, spec):
    harness.run(benchmark, spec, _train_case(spec))
    loss, initial = benchmark.extra_info["loss"], data.reference_loss(*_inputs(spec.size_value))
    assert math.isfinite(loss)
    if spec.phase == "firstcall":  # every round starts from the initial weights: its loss is theirs
        assert loss == pytest.approx(initial, rel=1e-5)
    else:  # the steps were real and threaded the parameters: SGD on one batch lowers its loss
        assert loss < initial


@pytest.mark.cases(modes=MODES, sizes="batch")
def test_mlp_predict(benchmark, spec):
    logits = harness.run(benchmark, spec, _predict_case(spec))
    weights, x, _ = _inputs(spec.size_value)
    np.testing.assert_allclose(harness.as_numpy(logits), data.reference_logits(weights, x), rtol=1e-4, atol=1e-4)


def _inputs(batch: int):
    return data.mlp_weights(seed=0), *data.synthetic_batch(batch, seed=1)


def _train_case(spec) -> harness.Case:
    weights, x, y = _inputs(spec.size_value)
    if spec.framework == "jax":
        import jax

        from models import mlp_jax as mlp

        dev = harness.jax_device(spec)
        x, y = jax.device_put(x, dev), jax.device_put(y, dev)

        def make_step():
            update, state = mlp.train_step(jit=spec.mode == "jit"), [mlp.init_params(weights, dev)]

            def step():
                state[0], loss = update(state[0], x, y)  # params thread through the calls
                return state[0], loss

            return step

        def framework_flops():
            cost = jax.jit(mlp.update).lower(mlp.init_params(weights, dev), x, y).compile().cost_analysis()
            return _flops(cost)

        loss = lambda out: out[1]
    else:
        import torch

        from models import mlp_torch as mlp

        dev = harness.torch_device(spec)
        x, y = torch.from_numpy(x).to(dev), torch.from_numpy(y).long().to(dev)

        def make_step():
            update, model = mlp.train_step(compile=spec.mode == "compile"), mlp.init_params(weights, dev)
            optimizer = mlp.optimizer(model)
            return lambda: update(model, optimizer, x, y)

        def framework_flops():
            from torch.utils.flop_counter import FlopCounterMode

            model = mlp.init_params(weights, dev)
            with FlopCounterMode(display=False) as counter:
                mlp.update(model, mlp.optimizer(model), x, y)
            return float(counter.get_total_flops())

        loss = lambda out: out
    return harness.Case("mlp_train_step", make_step, items_per_call=spec.size_value,
                        flops_per_call=data.mlp_flops(spec.size_value, train=True),
                        framework_flops=framework_flops, loss=lambda out: float(loss(out)))


def _predict_case(spec) -> harness.Case:
    weights, x, _ = _inputs(spec.size_value)
    if spec.framework == "jax":
        import jax

        from models import mlp_jax as mlp

        dev = harness.jax_device(spec)
        x, params = jax.device_put(x, dev), mlp.init_params(weights, dev)

        def make_step():
            predict = mlp.predict_fn(jit=spec.mode == "jit")
            return lambda: predict(params, x)

        def framework_flops():
            return _flops(jax.jit(mlp.predict).lower(params, x).compile().cost_analysis())
    else:
        import torch

        from models import mlp_torch as mlp

        dev = harness.torch_device(spec)
        x, model = torch.from_numpy(x).to(dev), mlp.init_params(weights, dev).eval()

        def make_step():
            predict = mlp.predict_fn(model, compile=spec.mode == "compile")

            def step():
                with torch.no_grad():
                    return predict(x)

            return step

        def framework_flops():
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as counter, torch.no_grad():
                model(x)
            return float(counter.get_total_flops())
    return harness.Case("mlp_predict", make_step, items_per_call=spec.size_value,
                        flops_per_call=data.mlp_flops(spec.size_value, train=False),
                        framework_flops=framework_flops)


def _flops(cost) -> float | None:
    """XLA's own FLOP count from Compiled.cost_analysis() (a dict, or a list of one in older jax)."""
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    value = (cost or {}).get("flops")
    return float(value) if value is not None and np.isfinite(value) and value > 0 else None
