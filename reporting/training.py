"""The training benchmarks' tables and figures (benchmarks/test_epoch.py, benchmarks/test_convergence.py),
which reporting/sections/training.py puts in the report: time to accuracy, lax.scan vs Python-loop
epochs, first vs steady epochs; training_curves.png, first_layer_weights.png, benchmark_results.csv.
Pure functions of pytest-benchmark's benchmark dicts: no framework imported.
"""
from __future__ import annotations

import base64
import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from reporting.drawing import pyplot
from reporting.escape import for_markdown

CSV_FIELDS = ("framework", "mode", "model", "dataset", "batch_size", "epoch", "epoch_seconds", "train_loss",
              "validation_loss", "validation_accuracy", "test_accuracy")


DATASET_TITLES = {"fashion": "Fashion-MNIST", "mnist": "MNIST", "digits": "the digits fallback (8x8, 64 features)"}


def convergence_runs(benchmarks: list[dict]) -> list[dict]:
    """The benchmarks that carry a per-epoch training log (test_convergence*)."""
    return [b for b in benchmarks if (b.get("extra_info") or {}).get("epoch_log")]


def epoch_runs(benchmarks: list[dict]) -> list[dict]:
    """The one-epoch benchmarks (test_mlp_epoch*) with timing stats."""
    return [b for b in benchmarks if (b.get("extra_info") or {}).get("steps_per_epoch")
            and not (b.get("extra_info") or {}).get("epoch_log") and b.get("stats")]


def label(b: dict) -> str:
    e = b["extra_info"]
    return f"{e['framework']}-{e['mode']}"


def panel(b: dict) -> str:
    """What one plot panel / table block is about: model, data set and batch size."""
    e = b["extra_info"]
    return f"{e.get('model_config', e.get('model'))} on {e.get('dataset')}, batch {e.get('batch_size')}"


def write_csv(runs: list[dict], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, CSV_FIELDS)
        writer.writeheader()
        for b in runs:
            e = b["extra_info"]
            for row in e["epoch_log"]:
                writer.writerow({"framework": e["framework"], "mode": e["mode"], "model": e.get("model"),
                                 "dataset": e.get("dataset"), "batch_size": e.get("batch_size"),
                                 "epoch": row["epoch"], "epoch_seconds": f"{row['seconds']:.4f}",
                                 "train_loss": f"{row['train_loss']:.6f}",
                                 "validation_loss": f"{row['validation_loss']:.6f}",
                                 "validation_accuracy": f"{row['validation_accuracy']:.4f}",
                                 "test_accuracy": f"{e['test_accuracy']:.4f}" if row is e["epoch_log"][-1] else ""})


def by_panel(runs: list[dict]) -> dict[str, list[dict]]:
    panels: dict[str, list[dict]] = defaultdict(list)
    for b in runs:
        panels[panel(b)].append(b)
    return dict(sorted(panels.items()))


def plot_curves(runs: list[dict], path: Path, metadata: dict | None = None) -> None:
    """Loss (train solid, validation dashed) and validation accuracy per epoch, one row per panel."""
    plt = pyplot()
    panels = by_panel(runs)
    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for (title, group), (loss_ax, acc_ax) in zip(panels.items(), axes, strict=False):
        for width, b in enumerate(sorted(group, key=label)):  # runs that agree draw on top of each other:
            log = b["extra_info"]["epoch_log"]  # the first drawn is the widest, so both stay visible
            style = {"linewidth": 4.0 / (1 + width), "alpha": 0.8}
            epochs = [row["epoch"] for row in log]
            line, = loss_ax.plot(epochs, [row["train_loss"] for row in log], marker="o", label=f"{label(b)} train",
                                 **style)
            loss_ax.plot(epochs, [row["validation_loss"] for row in log], marker="x", linestyle="--",
                         color=line.get_color(), label=f"{label(b)} validation", **style)
            acc_ax.plot(epochs, [row["validation_accuracy"] for row in log], marker="o", color=line.get_color(),
                        label=f"{label(b)} validation", **style)
        loss_ax.set(xlabel="epoch", ylabel="cross-entropy")
        acc_ax.set(xlabel="epoch", ylabel="validation accuracy")
        loss_ax.set_title(f"loss\n{title}", fontsize=9)
        acc_ax.set_title(f"accuracy\n{title}", fontsize=9)
        for ax in (loss_ax, acc_ax):
            ax.xaxis.get_major_locator().set_params(integer=True)
        loss_ax.legend(fontsize=7)
        acc_ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata=metadata)
    plt.close(fig)


def first_layer(b: dict) -> np.ndarray | None:
    """The stored first-layer units (units, features) of a convergence benchmark, or None."""
    blob = b["extra_info"].get("first_layer_weights")
    if not blob:
        return None
    return np.frombuffer(base64.b64decode(blob["b64"]), dtype="<f2").reshape(blob["shape"]).astype(np.float32)


def mosaic(weights: np.ndarray, side: int) -> np.ndarray:
    """Units (units, side*side) as one image: a near-square grid of tiles, each scaled to [-1, 1],
    NaN between tiles."""
    columns = int(np.ceil(np.sqrt(len(weights))))
    rows = int(np.ceil(len(weights) / columns))
    image = np.full((rows * (side + 1) - 1, columns * (side + 1) - 1), np.nan)
    for i, unit in enumerate(weights):
        r, c = divmod(i, columns)
        image[r * (side + 1):r * (side + 1) + side, c * (side + 1):c * (side + 1) + side] = \
            unit.reshape(side, side) / (np.abs(unit).max() or 1.0)
    return image


def plot_first_layers(runs: list[dict], path: Path, metadata: dict | None = None) -> bool:
    """Each trained model's first-layer units as image tiles: one row per model / data / batch,
    its runs (JAX and PyTorch) side by side."""
    plt = pyplot()
    panels = {title: [b for b in sorted(group, key=label) if first_layer(b) is not None]
              for title, group in by_panel(runs).items()}
    panels = {title: group for title, group in panels.items() if group}
    if not panels:
        return False
    columns = max(len(group) for group in panels.values())
    fig, axes = plt.subplots(len(panels), columns, figsize=(3.2 * columns, 3.4 * len(panels)), squeeze=False)
    for (title, group), row_axes in zip(panels.items(), axes, strict=False):
        for ax in row_axes:
            ax.axis("off")
        for b, ax in zip(group, row_axes, strict=False):
            weights = first_layer(b)
            assert weights is not None  # panels keep only the benchmarks that have a first layer
            side = int(b["extra_info"].get("image_side") or round(weights.shape[1] ** 0.5))
            ax.imshow(mosaic(weights, side), cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_title(f"{label(b)}\n{title.replace(' on ', chr(10) + 'on ')}", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata=metadata)
    plt.close(fig)
    return True


def seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


def learned(e: dict) -> bool:
    """The run reached its data set's test-accuracy floor (no floor recorded: not shown as learned)."""
    floor, acc = e.get("accuracy_floor"), e.get("test_accuracy")
    return isinstance(floor, (int, float)) and isinstance(acc, (int, float)) and acc >= floor


def time_to_target(e: dict) -> str:
    """The time-to-accuracy cell: a figure only for a model that learned."""
    if not learned(e):
        return f"none: test accuracy {e.get('test_accuracy')} below the floor {e.get('accuracy_floor')}"
    epoch = f" ({e['time_to_accuracy_epoch']})" if e.get("time_to_accuracy_epoch") else ""
    return seconds(e.get("time_to_accuracy_s")) + epoch


def row(cells: list) -> str:
    """A Markdown table row; the cells (names and figures from the runs) escaped."""
    return "| " + " | ".join(for_markdown(str(c)) for c in cells) + " |"


def accuracy_table(runs: list[dict]) -> str:
    lines = ["| model / data / batch | run | epochs | test accuracy | floor | target | time to target (epoch) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for title, group in by_panel(runs).items():
        for b in sorted(group, key=label):
            e = b["extra_info"]
            lines.append(row([title, label(b), len(e["epoch_log"]), f"{e['test_accuracy']:.4f}",
                              e.get("accuracy_floor"), e.get("time_to_accuracy_target"), time_to_target(e)]))
    return "\n".join(lines)


def epoch_table(runs: list[dict]) -> str:
    """Median epoch seconds per mode (steady) and the first epoch (firstcall), side by side, with
    lax.scan against the Python loop of jitted steps."""
    cells: dict[tuple, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for b in runs:
        e = b["extra_info"]
        cells[(e["model"], e["dataset"], e["batch_size"], e["steps_per_epoch"])][label(b)][e["phase"]] = \
            b["stats"]["median"]
    modes = sorted({m for per_mode in cells.values() for m in per_mode})
    lines = ["| model | data | batch | steps | " + " | ".join(f"{for_markdown(m)} steady / first" for m in modes)
             + " | scan vs loop (steady) |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in modes) + " | --- |"]
    for (model, dataset, batch, steps), per_mode in sorted(cells.items()):
        times = [" / ".join(f"{v:.3f}" if v is not None else "-" for v in (
            per_mode.get(m, {}).get("steady"), per_mode.get(m, {}).get("firstcall"))) + " s" for m in modes]
        scan, loop = per_mode.get("jax-scan", {}).get("steady"), per_mode.get("jax-jit", {}).get("steady")
        ratio = f"{loop / scan:.2f}x faster" if scan and loop and scan < loop else (
            f"{scan / loop:.2f}x slower" if scan and loop else "n/a")
        lines.append(row([model, dataset, batch, steps, *times, ratio]))
    return "\n".join(lines)
