"""Training: time to accuracy of the convergence runs and the one-epoch benchmarks' steady and first
epochs (the tables and figures of reporting/training.py); benchmark_results.csv, training_curves.png,
first_layer_weights.png, shown on the page as images. Nothing at all without a training benchmark."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reporting import training
from reporting.escape import for_html, for_markdown
from reporting.machine import BUSY_SHARE
from reporting.sections.base import Context, File, Png, Section

if TYPE_CHECKING:
    from reporting.model import Report

IMAGES = ("training_curves.png", "first_layer_weights.png")


@dataclass(frozen=True)
class Runs:
    convergence: list[dict]  # benchmarks with a per-epoch training log (test_convergence*)
    epochs: list[dict]  # one-epoch benchmarks with timing stats (test_mlp_epoch*)

    @classmethod
    def of(cls, benchmarks: list[dict]) -> Runs:
        """From benchmark dicts shaped as pytest-benchmark stores them."""
        return cls(training.convergence_runs(benchmarks), training.epoch_runs(benchmarks))


def as_dicts(ctx: Context) -> list[dict]:
    return [{"name": b.name, "fullname": b.fullname, "extra_info": b.info,
             "stats": {"median": b.median, "min": b.min_s, "iqr": b.iqr, "rounds": b.rounds}}
            for b in ctx.current.values()]


def _about(runs: list[dict]) -> list[str]:
    """The heading, the data sets, and whether other processes shared the CPU."""
    names = sorted({str(b["extra_info"].get("dataset")) for b in runs})
    parts = [f"## Training on {for_markdown(', '.join(training.DATASET_TITLES.get(n, n) for n in names))}", ""]
    datasets = sorted({f"{b['extra_info'].get('dataset')} ({b['extra_info'].get('dataset_path')})" for b in runs})
    if any(b["extra_info"].get("dataset_fallback") for b in runs):
        parts += ["**No MNIST/Fashion-MNIST IDX files were found: these runs trained on scikit-learn's 8x8 "
                  "digits (64 input features), see docs/data.md.**", ""]
    parts += [f"Data set(s): {for_markdown(', '.join(datasets))}.", ""]
    busy = [b["extra_info"]["other_cpu_share"] for b in runs if (b["extra_info"].get("other_cpu_share") or 0) > BUSY_SHARE]
    if busy:
        parts += [f"Other processes used up to {max(busy):.0%} of the CPU during {len(busy)} of these "
                  f"benchmarks: their times are upper bounds.", ""]
    return parts


def text(t: Runs) -> str:
    """The section's Markdown ("" when there is no training benchmark)."""
    if not t.convergence and not t.epochs:
        return ""
    parts = _about(t.convergence + t.epochs)
    if t.convergence:
        parts += ["### Convergence and time to accuracy", "",
                  "Time to target: training seconds from a cold start (compile included, evaluation "
                  "excluded) until the validation accuracy first reached the target.", "",
                  training.accuracy_table(t.convergence), "",
                  "Per-epoch figures: benchmark_results.csv; curves: training_curves.png."]
        if any(b["extra_info"].get("first_layer_weights") for b in t.convergence):
            parts += ["First-layer weights of the trained models (16 hidden units each, JAX and PyTorch "
                      "side by side): first_layer_weights.png."]
        parts.append("")
    if t.epochs:
        parts += ["### One epoch: steady (later epochs, median) / first (compile included)", "",
                  "jax-scan compiles the whole epoch as one lax.scan; jax-jit loops over jitted steps in Python.",
                  "", training.epoch_table(t.epochs), ""]
    return "\n".join(parts)


class Training(Section):
    name = "training"
    title = "Training"
    order = 120

    def rows(self, ctx: Context) -> Runs:
        return Runs.of(as_dicts(ctx))

    def markdown(self, r: Report) -> list[str]:
        said = text(r.rows[self.name])
        return ["", *said.split("\n")] if said else []

    def pngs(self, r: Report) -> list[Png]:
        runs = r.rows[self.name].convergence
        if not runs:
            return []
        code = Path(training.__file__).read_bytes()
        return [("training_curves.png", lambda plt, p, m: training.plot_curves(runs, p, m), (runs, code)),
                ("first_layer_weights.png", lambda plt, p, m: training.plot_first_layers(runs, p, m), (runs, code))]

    def files(self, r: Report) -> list[File]:
        runs = r.rows[self.name].convergence
        return [("benchmark_results.csv", lambda path: training.write_csv(runs, path))] if runs else []

    def html(self, r: Report, folder: Path) -> str:
        """Its PNGs on the page (its tables are among report.md's)."""
        images = "".join(f'<figure><img alt="{for_html(p.name)}" src="data:image/png;base64,'
                         f'{base64.b64encode(p.read_bytes()).decode()}"><figcaption>{for_html(p.name)}</figcaption>'
                         "</figure>" for name in IMAGES if (p := folder / name).is_file())
        return f'<section id="training"><h2>{self.title}</h2>{images}</section>' if images else ""
