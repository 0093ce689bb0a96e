"""JAX vs PyTorch with an interval: every ratio the report states, judged across fresh processes.

One process says little on a shared machine: its JAX/PyTorch ratio moves with the "mode" that
process landed in (memory layout, thread placement), and pairing both frameworks inside a process
does not cancel it. So the ratio of a pair of steady benchmarks is judged as `make compare` judges
two commits (reporting/sequential.py), with the frameworks in place of base and head: each fresh
process gives one value per benchmark, its fastest round; the ratio is the Hodges-Lehmann estimate
of log(JAX) - log(PyTorch) over all pairs of processes, its interval the distribution-free one that
inverts the Mann-Whitney test, at CONFIDENCE. Words:

- "JAX faster" / "PyTorch faster": the whole interval on one side of 1 and outside +/- SAME_PCT;
- "same": the whole interval within +/- SAME_PCT;
- "undecided": anything else (the interval says by how much it could have resolved);
- "one process: no interval": a pair measured in a single process (the main run of `make bench`
  for the sizes its repeated processes leave out): a figure, never a finding.

A geometric mean over sizes is judged the same way on each process's geometric mean over the sizes
every process measured.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from reporting.load import Bench, Run
from reporting.sequential import shift
from reporting.tables import framework_pairs

CONFIDENCE = 0.95  # two-sided; the interval of every ratio the report states
SAME_PCT = 5.0  # a ratio whose whole interval lies within +/- this is "same"
ONE_PROCESS = "one process: no interval"
WORDS = ("JAX faster", "PyTorch faster", "same", "undecided", ONE_PROCESS)


@dataclass(frozen=True)
class Ratio:
    """JAX time / PyTorch time of one pair (or a geometric mean over sizes), with its interval."""
    workload: str
    device: str
    pairing: str  # "jaxmode/torchmode"
    size: str  # a size, or "gmean of N sizes"
    ratio: float
    low: float | None  # CONFIDENCE interval of the ratio; None with one process
    high: float | None
    processes: int  # processes that measured both sides
    word: str  # one of WORDS
    jax_s: float | None = None  # the median over processes of JAX's fastest round (one run: its median)
    torch_s: float | None = None
    names: tuple[str, ...] = ()  # the JAX and PyTorch benchmark names

    @property
    def interval(self) -> str:
        if self.low is None or self.high is None:
            return ONE_PROCESS if self.processes <= 1 else "too few processes for an interval"
        return f"{self.low:.3g}-{self.high:.3g}"


def word(low: float | None, high: float | None, processes: int) -> str:
    if low is None or high is None:
        return ONE_PROCESS if processes <= 1 else "undecided"
    band = 1 + SAME_PCT / 100
    if 1 / band < low and high < band:
        return "same"
    if high < 1:
        return "JAX faster"
    if low > 1:
        return "PyTorch faster"
    return "undecided"


def judge(jax: list[float], torch: list[float]) -> tuple[float, float | None, float | None]:
    """(ratio, low, high) of JAX / PyTorch from one value per process on each side."""
    if len(jax) < 2 or len(torch) < 2:
        return float(np.exp(np.median(np.log(jax)) - np.median(np.log(torch)))), None, None
    estimate, low, high = shift(torch, jax, CONFIDENCE)
    return (math.exp(estimate), None if low is None else math.exp(low), None if high is None else math.exp(high))


def _per_process(processes: list[Run]) -> dict[tuple, dict[str, list]]:
    """(workload, device, pairing, size key) -> {"jax": [...], "torch": [...], "names": (..)} over processes."""
    values: dict[tuple, dict[str, list]] = defaultdict(lambda: {"jax": [], "torch": [], "names": []})
    for run in processes:
        for key, pairing, j, t in framework_pairs(run.benches):
            entry = values[(key[0], key[1], pairing, key[2:])]
            entry["jax"].append(j.min_s)
            entry["torch"].append(t.min_s)
            entry["names"] = [j.name, t.name]
    return values


def _ratio(key: tuple, jax: list[float], torch: list[float], names=()) -> Ratio:
    ratio, low, high = judge(jax, torch)
    n = min(len(jax), len(torch))
    return Ratio(key[0], key[1], key[2], key[3], ratio, low, high, n, word(low, high, n),
                 float(np.median(jax)), float(np.median(torch)), tuple(names))


def from_processes(processes: list[Run]) -> list[Ratio]:
    """One Ratio per pair measured in the processes, sizes in order."""
    values = _per_process(processes)
    return [_ratio((w, d, p, size[1]), v["jax"], v["torch"], v["names"])
            for (w, d, p, size), v in sorted(values.items(), key=lambda kv: kv[0])]


def from_one_run(benches: dict[str, Bench], measured: set[tuple]) -> list[Ratio]:
    """The pairs of a single run that no repeated process measured: a figure with no interval."""
    out = []
    for key, pairing, j, t in framework_pairs(benches):
        if (key[0], key[1], pairing, key[3]) not in measured:
            out.append(Ratio(key[0], key[1], pairing, key[3], j.median / t.median, None, None, 1, ONE_PROCESS,
                             j.median, t.median, (j.name, t.name)))
    return out


def gmeans(processes: list[Run], single: list[Ratio]) -> list[Ratio]:
    """Per (workload, device, pairing): the geometric mean over sizes, judged on each process's
    geometric mean over the sizes all processes measured; groups with no such process are a
    single-run figure."""
    per_process: dict[tuple, list[dict[str, tuple[float, float]]]] = defaultdict(list)
    for run in processes:
        group: dict[tuple, dict[str, tuple[float, float]]] = defaultdict(dict)
        for key, pairing, j, t in framework_pairs(run.benches):
            group[(key[0], key[1], pairing)][key[3]] = (j.min_s, t.min_s)
        for g, sizes in group.items():
            per_process[g].append(sizes)
    out = []
    for g, runs in sorted(per_process.items()):
        common = set.intersection(*(set(sizes) for sizes in runs))
        if not common:
            continue
        jax = [math.exp(np.mean([math.log(sizes[s][0]) for s in common])) for sizes in runs]
        torch = [math.exp(np.mean([math.log(sizes[s][1]) for s in common])) for sizes in runs]
        out.append(_ratio((*g, f"gmean of {len(common)}"), jax, torch))
    judged = {(x.workload, x.device, x.pairing) for x in out}
    lone: dict[tuple, list[float]] = defaultdict(list)
    for x in single:
        if (x.workload, x.device, x.pairing) not in judged:
            lone[(x.workload, x.device, x.pairing)].append(x.ratio)
    out += [Ratio(g[0], g[1], g[2], f"gmean of {len(v)}", math.exp(np.mean(np.log(v))), None, None, 1, ONE_PROCESS)
            for g, v in sorted(lone.items())]
    return out


WORKLOAD_ORDER = ("mlp_train_step", "mlp_epoch", "gpt_train_step", "mlp_predict", "matmul", "grad_sum", "grad_vmap",
                  "grad_scalar", "jit_elementwise", "bfgs")
PAIRING_WORDS = {"jit/compile": "compiled (jax.jit vs torch.compile)", "eager/eager": "eager (JAX vs PyTorch eager)",
                 "spmd/ddp": "multi-process data parallel (jax.distributed vs DDP)"}
MAX_SENTENCES = 6


def _times(ratio: float) -> str:
    return f"{ratio:.2f}x"


def _clause(x: Ratio) -> str:
    """How one ratio reads: the word, the factor and the interval, e.g. 'JAX 1.32x faster (1.21-1.45x)'."""
    if x.low is None or x.high is None:
        return f"{x.word} ({x.ratio:.3g})"
    if x.word == "JAX faster":
        return f"JAX {_times(1 / x.ratio)} faster ({1 / x.high:.2f}-{1 / x.low:.2f}x)"
    if x.word == "PyTorch faster":
        return f"PyTorch {_times(x.ratio)} faster ({x.low:.2f}-{x.high:.2f}x)"
    if x.word == "same":
        return f"the same within +/-{SAME_PCT:g}% (JAX/PyTorch {x.low:.2f}-{x.high:.2f})"
    return f"undecided (JAX/PyTorch {x.low:.2f}-{x.high:.2f})"


def _priority(x: Ratio) -> tuple:
    rank = WORKLOAD_ORDER.index(x.workload) if x.workload in WORKLOAD_ORDER else len(WORKLOAD_ORDER)
    return (x.device != "cuda", rank, x.workload, x.pairing != "jit/compile", x.device)


def sentences(ratios: list[Ratio]) -> list[str]:
    """The findings, one sentence per workload and pairing, decided ratios first, at most MAX_SENTENCES."""
    judged = [x for x in ratios if x.processes > 1 and not x.size.startswith("gmean")]
    groups: dict[tuple, list[Ratio]] = defaultdict(list)
    for x in sorted(judged, key=_priority):
        groups[(x.workload, x.pairing, x.device)].append(x)
    if not groups:
        return []
    n = max(x.processes for x in judged)
    out = [f"Steady time, JAX / PyTorch, judged across {n} fresh processes ({CONFIDENCE:.0%} intervals; first "
           "calls, training runs and memory are single passes):"]
    for (workload, pairing, device), rows in list(groups.items())[:MAX_SENTENCES - 1]:
        parts = "; ".join(f"{_clause(x)} at {x.size}" for x in rows)
        out.append(f"{PAIRING_WORDS.get(pairing, pairing)}, {workload} on {device}: {parts}.")
    if len(groups) > MAX_SENTENCES - 1:
        out.append(f"{len(groups) - (MAX_SENTENCES - 1)} more workload/pairing(s) in the JAX vs PyTorch table.")
    return out
