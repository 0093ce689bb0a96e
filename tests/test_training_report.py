"""The report's training section: the data set in its heading, no time to accuracy from a model
that stayed below its data set's floor. Hand-made benchmark dicts shaped like test_convergence's."""
from __future__ import annotations

from reporting.sections import training


def convergence(framework: str, dataset: str, accuracy: float, floor: float | None) -> dict:
    log = [{"epoch": 1, "seconds": 1.0, "train_loss": 0.5, "validation_loss": 0.5, "validation_accuracy": accuracy,
            "elapsed_s": 1.0}]
    return {"name": f"test_convergence[{framework}-x-cpu-batch64-firstcall]", "stats": {"median": 1.0},
            "extra_info": {"framework": framework, "mode": "jit" if framework == "jax" else "eager", "model": "mlp",
                           "model_config": "64-512-512-10", "dataset": dataset, "dataset_path": "somewhere",
                           "batch_size": 64, "phase": "firstcall", "epoch_log": log, "test_accuracy": accuracy,
                           "accuracy_floor": floor, "time_to_accuracy_target": 0.15, "time_to_accuracy_s": 0.7,
                           "time_to_accuracy_epoch": 1}}


def test_the_heading_names_the_data_set_and_a_model_that_learned_gets_its_time():
    md = training.text(training.Runs.of([convergence("jax", "fashion", 0.80, 0.75),
                                         convergence("torch", "fashion", 0.80, 0.75)]))
    assert md.startswith("## Training on Fashion-MNIST\n") and md.count("| 0.7 s (1) |") == 2


def test_no_time_to_accuracy_from_a_model_below_its_floor():
    md = training.text(training.Runs.of([convergence("jax", "digits", 0.17, 0.90),
                                         convergence("torch", "digits", 0.18, None)]))
    assert md.startswith("## Training on the digits fallback")
    assert "0.7 s" not in md and md.count("| none: test accuracy") == 2
