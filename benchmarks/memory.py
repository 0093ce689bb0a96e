"""The memory pass: the peak memory one step needs beyond what its inputs and state already hold.

Never inside a timed region: the steady pass runs one extra step after pytest-benchmark has timed
its rounds; the firstcall pass reads the peak of the last cold round, whose reset happens in the
untimed setup. Measured the same way for both frameworks on one device:

- CPU: the process's resident-set high-water mark. Before the step, freed heap memory is handed
  back to the OS (glibc `malloc_trim`) and the kernel's peak counter is reset to the current RSS
  (`/proc/self/clear_refs` = 5); after it, peak = VmHWM - RSS at the reset. It sees every native
  allocation (XLA's and PyTorch's CPU allocators, NumPy, thread stacks), not just one allocator's.
- CUDA, PyTorch: `torch.cuda.reset_peak_memory_stats()`, then max_memory_allocated() - the
  memory allocated at the reset.
- CUDA, JAX: `peak_bytes_in_use` cannot be reset, so the figure is exact only when the step
  raised the process's peak (peak after - bytes in use before); otherwise null, and the note says so.
  Pre-allocation is off (XLA_PYTHON_CLIENT_PREALLOCATE=false, set in benchmarks/plugin/__init__.py), or every figure
  would be 75% of the GPU.
For JAX, XLA's own figures of every compiled program of the step (`Compiled.memory_analysis()`:
temporaries, outputs, arguments, generated code) are recorded beside it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

CPU_NOTE = ("CPU: peak resident memory during one step minus resident memory before it "
            "(malloc_trim, then VmHWM reset via /proc/self/clear_refs); includes all native allocations")


@cache
def _libc():
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def _status_kib(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return None
    return int(match[1]) if match else None


def resident_bytes() -> int | None:
    """This process's resident memory now, after handing freed heap pages back to the OS."""
    _trim()
    rss = _status_kib("VmRSS")
    return rss * 1024 if rss is not None else None


def _trim() -> None:
    gc.collect()  # objects in reference cycles would otherwise be freed in the middle of a measurement
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)  # freed heap pages back to the OS: they must not hide the next peak


class Probe:
    """One measurement: `reset()` just before the step (untimed), `peak()` after it."""

    def __init__(self, spec):
        self.spec = spec
        self.base: int | None = None
        self.note = ""

    def reset(self) -> None:
        if self.spec.device == "cuda":
            self._reset_cuda()
            return
        _trim()
        try:
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        except OSError:
            self.base, self.note = None, "CPU: not measurable here (no writable /proc/self/clear_refs)"
            return
        rss = _status_kib("VmRSS")
        self.base, self.note = (rss * 1024 if rss is not None else None), CPU_NOTE

    def peak(self) -> int | None:
        if self.base is None:
            return None
        if self.spec.device == "cuda":
            return self._peak_cuda()
        hwm = _status_kib("VmHWM")
        return max(0, hwm * 1024 - self.base) if hwm is not None else None

    def _reset_cuda(self) -> None:
        if self.spec.framework == "torch":
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base, self.note = torch.cuda.memory_allocated(), "CUDA: torch.cuda.max_memory_allocated() - allocated at reset"
        elif self.spec.framework == "jax":
            stats = _jax_gpu_stats()
            self.base, self.jax_peak_before = stats.get("bytes_in_use"), stats.get("peak_bytes_in_use", 0)
            self.note = "CUDA: JAX peak_bytes_in_use - bytes_in_use before the step (exact when the step raised the peak)"
        else:
            self.base, self.note = None, f"{self.spec.framework} runs on the CPU"

    def _peak_cuda(self) -> int | None:
        assert self.base is not None  # peak() calls this only once reset() measured a base
        if self.spec.framework == "torch":
            import torch

            return torch.cuda.max_memory_allocated() - self.base
        peak = _jax_gpu_stats().get("peak_bytes_in_use", 0)
        if peak <= self.jax_peak_before:
            self.note = ("CUDA: not measurable exactly: the step stayed below JAX's process-lifetime peak, "
                         "which cannot be reset (run this benchmark alone for the figure)")
            return None
        return peak - self.base


def _jax_gpu_stats() -> dict:
    import jax

    return jax.devices("gpu")[0].memory_stats() or {}


def measure_step(spec, synced_step: Callable[[], Any], resident_before_build: int | None) -> dict:
    """One extra, untimed step of a warmed steady case, measured; on the CPU also what the built and
    warmed case holds (inputs, state, compiled code, anything the framework keeps between steps)."""
    probe = Probe(spec)
    probe.reset()
    synced_step()
    held = None
    if spec.device == "cpu" and resident_before_build is not None and probe.base is not None:
        held = max(0, probe.base - resident_before_build)
    return {**result(probe), "held_memory_bytes": held}


def result(probe: Probe) -> dict:
    return {"peak_memory_bytes": probe.peak(), "memory_note": probe.note}


def xla_memory(compiled) -> dict[str, int]:
    """XLA's own sizes of one compiled program (Compiled.memory_analysis()), in bytes."""
    analysis = compiled.memory_analysis()
    if analysis is None:
        return {}
    fields = ("temp_size_in_bytes", "output_size_in_bytes", "argument_size_in_bytes",
              "generated_code_size_in_bytes", "alias_size_in_bytes")
    return {f: int(getattr(analysis, f)) for f in fields if getattr(analysis, f, None) is not None}


OFF = {"peak_memory_bytes": None, "memory_note": "no memory pass for this case (--memory off, or outside --memory "
                                                 "on's set: the MLP train step, matmul and GPT; --memory all "
                                                 "measures every steady case)"}
FIRSTCALL = {"peak_memory_bytes": None, "memory_note": "measured for steady cases only (the working set of a "
                                                       "fresh process; a first call adds the compiler's memory)"}


# --- the working set, each case in a fresh process ------------------------------------------------
#
# A figure taken inside one long process that ran other cases first is not comparable between
# frameworks: memory an earlier case left in an allocator's free lists is reused without raising
# RSS, and XLA keeps its buffers between calls. So the headline peak_memory_bytes of a steady case
# is measured as asv's peakmem is: in a fresh process that runs that one case (a pytest child with
# CHILD_ENV set), from a baseline taken after the framework is imported and initialised, over
# build, warm-up and steps: peak = VmHWM - that baseline (CPU), the allocator's peak over the same
# span (CUDA). The parent starts the children after every benchmark has been timed.

CHILD_ENV = "SUITE_MEMORY_CHILD"  # in a child: the file its one measurement is written to
# in a child: the one framework it may import (importing and initialising a framework costs seconds;
# a child imports only its case's, so that the pass costs what the cases cost)
CHILD_FRAMEWORK_ENV = "SUITE_MEMORY_CHILD_FRAMEWORK"
WORKING_SET_NOTE = ("working set: peak resident memory of a fresh process running only this case (forked from a "
                    "server that had imported the framework and started nothing), over its steps "
                    "after build and warm-up (the compiler's freed temporaries excluded), minus its resident memory "
                    "after the framework's import and initialisation and before the inputs were made, less the "
                    "library code pages first read meanwhile (RssFile)")
CHILD: dict = {}  # in a child: {"set": the WorkingSet started before the test body made its inputs}
PENDING: list[dict] = []  # steady cases of this process whose working set a child will measure
FLOOR_SHARE = 0.9  # a figure below 0.9 x the analytic floor cannot be right: the run fails


class WorkingSet:
    """In a memory child: `start()` before the case is built, `finish()` after its last step."""

    def __init__(self, spec):
        self.spec, self.probe = spec, Probe(spec)

    def start(self, be) -> None:
        be.init_runtime()  # the framework's start-up is not the case's memory
        # what the imports made stays for the child's life: out of the collector's way, so that each
        # gc.collect() below does not walk PyTorch's many modules again and again
        gc.freeze()
        if self.spec.device == "cpu":
            self.base = resident_bytes()
            self.file_base = _status_kib("RssFile")
            self.probe.reset()
        else:
            self.probe.reset()
            self.base = self.probe.base

    def after_warmup(self) -> None:
        """The build's and compiler's freed temporaries are not the step's: the high-water mark
        restarts from what the built, warmed case holds (its inputs, state, compiled code)."""
        if self.spec.device == "cpu" and self.base is not None:
            _trim()
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass

    def finish(self) -> dict:
        if self.spec.device == "cpu":
            hwm, files = _status_kib("VmHWM"), _status_kib("RssFile")
            if hwm is None or self.base is None:
                return {"peak_memory_bytes": None, "memory_note": "CPU: not measurable here (no /proc/self/status)"}
            code = max(0, (files or 0) - (self.file_base or 0)) * 1024  # shared-library pages, not data
            return {"peak_memory_bytes": max(0, hwm * 1024 - self.base - code), "memory_note": WORKING_SET_NOTE,
                    "memory_code_pages_bytes": code}
        return {"peak_memory_bytes": self.probe.peak(), "memory_note": f"{WORKING_SET_NOTE}; {self.probe.note}"}


def write_child_result(result: dict) -> None:
    Path(os.environ[CHILD_ENV]).write_text(json.dumps(result), encoding="utf8")


def in_child() -> bool:
    return bool(os.environ.get(CHILD_ENV))


def steady_pass(spec, synced_step, resident_before_build: int | None, fullname: str, floor: float | None) -> dict:
    """In the timing process: the per-step figures (step_peak_bytes: what one extra step allocates
    beyond what the case holds; held_memory_bytes), and the case queued for its working set,
    measured by a fresh child once every benchmark has been timed (benchmarks/plugin/memory_pass.py)."""
    step = measure_step(spec, synced_step, resident_before_build)
    PENDING.append({"fullname": fullname, "device": spec.device, "framework": spec.framework, "floor": floor})
    return {"step_peak_bytes": step["peak_memory_bytes"], "step_memory_note": step["memory_note"],
            "held_memory_bytes": step["held_memory_bytes"], "peak_memory_bytes": None,
            "memory_note": "working set not measured (the run saved no figures, or its child failed)"}
