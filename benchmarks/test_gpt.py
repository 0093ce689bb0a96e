"""A character-level GPT (nanoGPT's model, configs `tiny` and `seed`): one AdamW training step, one
forward pass, and a real training run on a text corpus (docs/gpt.md).

The size word of an id is the config name (`--gpt-configs`, default tiny): test_gpt_train_step[jax-jit-cpu-tiny-steady].
Batches come from the corpus (`--text PATH`, default the King James Bible), drawn once in NumPy.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchmarks import frameworks, harness
from benchmarks.plugin.session import Settings, settings
from benchmarks.spec import tolerance
from models import costs, text

MODES = [("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile")]
# The training run: each framework's everyday mode (as test_convergence). jax-eager dispatches every
# op of forward, backward and AdamW from Python (several times the jitted step), torch-compile adds a long
# cold compile to a run whose steps test_gpt_train_step already times.
TRAINING_MODES = [("jax", "jit"), ("torch", "eager")]
FIRSTCALL_ROUNDS = 1  # at most (--firstcall-rounds caps it): a cold torch.compile of a GPT step is long on a small CPU
TRACKING_RTOL = 0.05  # the frameworks' final losses (mean of the last tenth of the run) agree within 5%
BELOW_ENTROPY = 0.85  # the run's final loss is under 85% of the corpus's unigram entropy
SAMPLE_CHARS = 200
_final_losses: dict[tuple, dict[str, float]] = {}  # (config, steps, corpus) -> {case id: final loss}


def gpt_sizes(run: Settings) -> list[tuple[str, int]]:
    """The cases' sizes: each config of --gpt-configs, valued at its tokens per step."""
    names = run.gpt_configs
    return [(name, text.CONFIGS[name].batch_size * text.CONFIGS[name].block_size) for name in names]


@pytest.mark.cases(modes=MODES, sizes=gpt_sizes)
def test_gpt_train_step(benchmark, spec, request):
    config, weights, x, y = _inputs(spec, settings(request.config).gpt_text, steps=1)
    harness.run(benchmark, _cold(spec), train_step_workload(spec, settings(request.config).gpt_text))
    harness.check_training_loss(spec, benchmark.extra_info["loss"], text.reference_loss(weights, x[0], y[0], config))


def train_step_workload(spec, gpt_text: str | None) -> harness.Workload:
    """One AdamW step of the spec's config (also what a warm-start child measures: test_warmstart.py)."""
    gpt = harness.model("gpt", spec)
    config, weights, x, y = _inputs(spec, gpt_text, steps=1)
    return _case("gpt_train_step", config, lambda be: gpt.train_step(weights, config, x, y, be), train=True)


@pytest.mark.cases(modes=MODES, sizes=gpt_sizes)
def test_gpt_forward(benchmark, spec, request):
    gpt = harness.model("gpt", spec)
    config, weights, x, _ = _inputs(spec, settings(request.config).gpt_text, steps=1)
    logits = harness.run(benchmark, _cold(spec), _case(
        "gpt_forward", config, lambda be: gpt.predict_step(weights, config, x[0], be), train=False))
    tol = tolerance("logits", spec.matmul_precision)
    np.testing.assert_allclose(harness.as_numpy(logits), text.reference_logits(weights, x[0], config), rtol=tol, atol=tol)


@pytest.mark.cases(modes=TRAINING_MODES, sizes=gpt_sizes, phases=("steady",))
def test_gpt_char_training(benchmark, spec, request):
    """`--gpt-steps` AdamW steps from the shared initial weights over the shared batch order
    (harness.run_training: the warm-up steps compile, one timed call runs the rest)."""
    run = settings(request.config)
    steps = run.gpt_steps
    config, weights, x, y = _inputs(spec, run.gpt_text, steps=steps)
    corpus = text.corpus(run.gpt_text, config.vocab_size)
    gpt = harness.model("gpt", spec)
    case = _case("gpt_char_training", config, lambda be: gpt.train_step(weights, config, x, y, be), train=True,
                 repeat=steps - harness.WARMUP_STEPS)
    state, curve = harness.run_training(benchmark, spec, case, steps)
    every = max(1, steps // 100)
    final = float(np.mean(curve[-max(1, steps // 10):]))
    entropy = text.unigram_entropy_nats(corpus.ids)
    prompt = corpus.ids[:config.block_size]
    sample = text.sample(_next_logits(gpt, state, config, spec), prompt, SAMPLE_CHARS, config.block_size, seed=0)
    benchmark.extra_info.update({
        "corpus": corpus.name, "corpus_chars": len(corpus.ids), "vocab": corpus.vocab.chars,
        "unigram_entropy_nats": entropy, "loss_curve_every": every, "loss_curve": curve[::every],
        "final_loss": final, "sample_prompt": corpus.vocab.decode(prompt), "sample": corpus.vocab.decode(sample)})
    assert all(map(math.isfinite, curve))
    assert final < BELOW_ENTROPY * entropy, f"final loss {final:.3f} not below {BELOW_ENTROPY} x {entropy:.3f} nats"
    others_final = _final_losses.setdefault((config, steps, corpus.name), {})
    for other, value in others_final.items():  # the other frameworks' runs of this session, same batches
        assert final == pytest.approx(value, rel=TRACKING_RTOL), f"{spec.id} vs {other}"
    others_final[spec.id] = final


def _inputs(spec, gpt_text: str | None, steps: int):
    """The config of the case's size, the initial weights, and `steps` batches x, y (steps, B, T)."""
    config = text.CONFIGS[spec.size]
    corpus = text.corpus(gpt_text, config.vocab_size)
    return (config, text.gpt_weights(config, seed=0), *text.batches(corpus.ids, steps, config, seed=1))


def _case(workload, config, build, train: bool, repeat: int = 1) -> harness.Workload:
    tokens = config.batch_size * config.block_size
    return harness.Workload(workload, build, items_per_call=repeat * tokens, training=train,
                        flops_per_call=repeat * costs.gpt_flops(config, train=train),
                        memory_floor_bytes=costs.gpt_memory_floor(config, train=train),
                        extra={"gpt_config": dataclasses.asdict(config)})


def _cold(spec):
    """The spec with at most FIRSTCALL_ROUNDS cold rounds."""
    return dataclasses.replace(spec, firstcall_rounds=min(spec.firstcall_rounds, FIRSTCALL_ROUNDS))


def _next_logits(gpt, state, config, spec):
    """Logits of the trained state for text.sample, in the case's own mode (generation is not
    measured): jax-jit compiles its fixed (1, block_size) window once, where eager JAX would
    dispatch every op of 200 forward passes from Python."""
    be = frameworks.backend(spec)
    forward = gpt.predict_fn(state, config, be)
    return lambda ids: harness.as_numpy(forward(gpt.tokens(be, ids)))
