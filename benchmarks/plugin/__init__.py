"""The suite's pytest plugin: options, cases, machine_info and the run's own figures, data, memory pass.

conftest.py only registers it (`pytest_plugins = ["benchmarks.plugin"]`). Each concern is one module:

  options.py       the suite's command-line options, each typed and checked as it is parsed
  session.py       one SuiteSession per run (the options read once, what the run measured about
                   itself), kept in config.stash; pytest_configure builds it
  cases.py         @pytest.mark.cases -> parametrised `spec` ids `<framework>-<mode>-<device>-<size>-
                   <phase>` (benchmarks/spec.py), skips, --shuffle
  machine_info.py  pytest-benchmark's machine_info (what describes machine and install) and the JSON's
                   "suite" key (what this run measured: reference probes, load, options)
  data.py          the `dataset` fixture (real training data, loaded once)
  memory_pass.py   the working set of each queued steady case, each in a fresh child, after timing
  instructions.py  --count-instructions: instructions per steady step under callgrind
"""
from __future__ import annotations

import os

# JAX must not grab 75% of a GPU at start-up: PyTorch shares the process. Set before jax is imported.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

pytest_plugins = [f"benchmarks.plugin.{name}"
                  for name in ("options", "session", "cases", "machine_info", "data", "memory_pass", "instructions")]
