"""What a framework reports about one step, beside the time: its own operation and FLOP counts, and
JAX's compile events (the steady guard counts them; a firstcall sums their trace / lower / compile
stages). benchmarks/frameworks.py's backends read them.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def jaxpr_ops(step: Callable[[], Any]) -> int | None:
    """The primitives one eager call of `step` dispatches: the equations of its jaxpr (every op is
    staged out, constants included). None where the step cannot be traced (it reads a value)."""
    import jax

    try:
        return len(jax.make_jaxpr(step)().jaxpr.eqns)
    except Exception:  # noqa: BLE001 - a concrete value read inside the step: no count, not a failure
        return None


def torch_ops(step: Callable[[], Any]) -> int:
    """The ATen operators one eager call of `step` dispatches (TorchDispatchMode sees each one)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.calls += 1
            return func(*args, **(kwargs or {}))

    with Count() as counter:
        step()
    return counter.calls


def xla_flops(cost) -> float | None:
    """The 'flops' of Compiled.cost_analysis(): a dict (a list of one dict in older jax)."""
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    value = (cost or {}).get("flops")
    return float(value) if value is not None and value == value and value > 0 else None


# --- JAX's compile events: the steady guard counts them, firstcall sums their stages -------------

class _JaxEvents:
    BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
    STAGES = {"/jax/core/compile/jaxpr_trace_duration": "trace_s",
              "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
              BACKEND_COMPILE: "compile_s"}

    def __init__(self):
        self._compiles = 0
        self._listening = False
        self._rounds: list[list[dict]] = []  # open stage recorders, each a list of per-round sums

    @property
    def compiles(self) -> int:
        self._listen()
        return self._compiles

    def _listen(self) -> None:
        if not self._listening:
            import jax

            jax.monitoring.register_event_duration_secs_listener(self._on_event)
            self._listening = True

    def _on_event(self, event: str, duration_secs: float, **kwargs) -> None:
        if event == self.BACKEND_COMPILE:
            self._compiles += 1
        stage = self.STAGES.get(event)
        for rounds in self._rounds:
            if stage and rounds:
                rounds[-1][stage] = rounds[-1].get(stage, 0.0) + duration_secs

    @contextlib.contextmanager
    def stages(self) -> Iterator[list[dict]]:
        self._listen()
        rounds: list[dict] = []
        self._rounds.append(rounds)
        try:
            yield rounds
        finally:
            self._rounds.remove(rounds)

    def medians(self, rounds: list[dict]) -> dict[str, float]:
        import statistics

        return {name: statistics.median(r.get(name, 0.0) for r in rounds) for name in self.STAGES.values()} \
            if rounds else {}


jax_events = _JaxEvents()
