"""A progress line with the time left, every PERIOD seconds of a long benchmark run.

pytest's dots sit on one line for minutes while benchmarks calibrate; this prints
`[progress] 41/121 benchmarks, 1m20s elapsed, about 2m40s left` now and then (the estimate is
the mean time per finished benchmark so far, times those left). Quiet runs (-q), collection-only
runs and --benchmark-disable runs get nothing.
"""
from __future__ import annotations

import time

import pytest

PERIOD = 30.0  # seconds between progress lines


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.total = 0
        self.done = 0
        self.start = self.last = time.monotonic()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self.start = self.last = time.monotonic()

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last < PERIOD or self.done >= self.total:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"[progress] {self.done}/{self.total} tests, {_clock(elapsed)} elapsed, "
                                f"about {_clock(left)} left")


def register(config: pytest.Config) -> None:
    quiet = config.getoption("verbose") < 0 or config.getoption("collectonly")
    if not quiet and not config.getoption("benchmark_disable", False):
        config.pluginmanager.register(Progress(config), "jax-vs-torch-progress")
