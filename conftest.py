"""Registers the suite's pytest plugin (benchmarks/plugin/: options, cases, machine_info, data, memory pass)."""
pytest_plugins = ["benchmarks.plugin"]
