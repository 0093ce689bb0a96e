"""Command-line options, parametrised cases, machine_info and skips for the JAX-vs-PyTorch suite.

Every benchmark asks for the `spec` fixture and declares what it covers with
`@pytest.mark.cases(modes=[("jax", "jit"), ...], sizes="batch")`; this file turns that into
ids `<framework>-<mode>-<device>-<size>-<phase>` (benchmarks/spec.py) so that `-k jax`,
`-k batch1024`, `-k firstcall` and `-k cuda` select what they say.
"""
from __future__ import annotations

import importlib
import os
import platform
import random
import re
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

# JAX must not grab 75% of a GPU at start-up: PyTorch shares the process. Set before jax is imported.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

from benchmarks import machine, memory, probes, progress  # noqa: E402
from benchmarks.spec import DEVICE_ONLY_MODES, PHASES, PRECISIONS, Spec  # noqa: E402

# option name -> (default list, id prefix, largest accepted value)
SIZE_KINDS = {
    "batch": ("64,256,1024", "batch", 1 << 16),
    "array": ("10000,100000,1000000", "n", 1 << 28),
    "matrix": ("256,1024,2048", "size", 1 << 14),
}
MAX_FIRSTCALL_ROUNDS = 100
MAX_EPOCHS = 100
MAX_EPOCH_SAMPLES = 50_000  # the training split
MAX_DEVICES = 64  # data-parallel devices / ranks
MIN_GPT_STEPS, MAX_GPT_STEPS = 10, 100_000


# The numeric options' parsers, given to argparse as type=: ASCII digits only. str.isdigit() and int()
# also take '²', '١٢', '1_0', ' 7' or '+7'. A bad value raises pytest.UsageError, not argparse's
# ArgumentTypeError: pytest prints that as its one line "ERROR: --option: ..." (exit 4), where an
# argparse error would add the usage line and the ini file and rootdir lines.
ASCII_DIGITS = re.compile(r"[0-9]+")
TOO_LONG = 19  # digits past every bound here (int() itself refuses over 4300 digits)


def _ascii_int(text: str) -> int | None:
    """The value of a run of ASCII digits (leading zeros allowed), else None."""
    if not ASCII_DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) < TOO_LONG else 10**TOO_LONG


def _shown(text: str) -> str:
    """A value as an error message quotes it: repr (control characters escaped), cut when long."""
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"


def _positive_ints(text: str, option: str, largest: int) -> list[int]:
    """Comma-separated integers in 1..largest, no empty parts, duplicates dropped; else a usage error."""
    parts = text.split(",")
    values = [v for v in map(_ascii_int, parts) if v is not None]
    if len(values) != len(parts):
        raise pytest.UsageError(f"{option}: expected comma-separated positive integers, got {_shown(text)}")
    if not all(1 <= v <= largest for v in values):
        raise pytest.UsageError(f"{option}: expected comma-separated positive integers up to {largest}, got {_shown(text)}")
    return list(dict.fromkeys(values))


def _int_in(text: str, option: str, largest: int, smallest: int = 1) -> int:
    """One integer in smallest..largest; else a usage error."""
    value = _ascii_int(text)
    if value is None or not smallest <= value <= largest:
        raise pytest.UsageError(f"{option}: expected one integer from {smallest} to {largest}, got {_shown(text)}")
    return value


def _ints_type(option: str, largest: int) -> Callable[[str], list[int]]:
    def parse(text: str) -> list[int]:
        return _positive_ints(text, option, largest)
    return parse


def _sizes_type(kind: str) -> Callable[[str], list[int]]:
    return _ints_type(f"--{kind}-sizes", SIZE_KINDS[kind][2])


def _int_type(option: str, largest: int, smallest: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        return _int_in(text, option, largest, smallest)
    return parse


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jax-vs-torch", "JAX vs PyTorch suite")
    group.addoption("--device", default="auto", choices=("auto", "cpu", "cuda", "all"),
                    help="auto: the CPU, and CUDA too where both frameworks see a GPU (default auto)")
    group.addoption("--batch-sizes", default=SIZE_KINDS["batch"][0], type=_sizes_type("batch"),
                    help="comma-separated MLP batch sizes (default %(default)s)")
    group.addoption("--array-sizes", default=SIZE_KINDS["array"][0], type=_sizes_type("array"),
                    help="comma-separated array lengths for grad/jit workloads (default %(default)s)")
    group.addoption("--matrix-sizes", default=SIZE_KINDS["matrix"][0], type=_sizes_type("matrix"),
                    help="comma-separated square matrix sizes for matmul (default %(default)s)")
    group.addoption("--firstcall-sizes", default="one", choices=("one", "all"),
                    help="firstcall cases at the smallest size of each sweep only (one: compile time barely "
                         "depends on the size, docs/measuring.md) or at every size (default one)")
    group.addoption("--firstcall-rounds", default="3", type=_int_type("--firstcall-rounds", MAX_FIRSTCALL_ROUNDS),
                    help="cold rounds per firstcall benchmark, each a fresh compile (default %(default)s)")
    group.addoption("--matmul-precision", default="highest", choices=PRECISIONS,
                    help="float32 matmul precision on both sides: highest (true fp32) or tf32 (default highest)")
    group.addoption("--gpt-configs", default="tiny", help="comma-separated GPT configs: tiny, seed (default %(default)s)")
    group.addoption("--gpt-steps", default="300", type=_int_type("--gpt-steps", MAX_GPT_STEPS, MIN_GPT_STEPS),
                    help="AdamW steps of the GPT training run (default %(default)s)")
    group.addoption("--text", default=None, metavar="PATH",
                    help="UTF-8 text to train the GPT on (default: the King James Bible, see docs/gpt.md)")
    group.addoption("--data-root", default=None,
                    help="folder of MNIST/Fashion-MNIST IDX files (default $DATA_ROOT, else <repo>/data; "
                         "Fashion-MNIST is also found in /usr/share/datasets/fashion-mnist; docs/data.md)")
    group.addoption("--dataset", default="auto", choices=("auto", "fashion", "mnist", "digits"),
                    help="training data: auto (Fashion-MNIST, else MNIST, else the digits fallback) or one of them; "
                         "a named IDX set that is missing skips the training benchmarks (default auto)")
    group.addoption("--download", action="store_true",
                    help="download Fashion-MNIST (MNIST with --dataset mnist) into the data root with torchvision "
                         "if it is missing (make data does this at set-up)")
    group.addoption("--epochs", default="3", type=_int_type("--epochs", MAX_EPOCHS),
                    help="training epochs of test_convergence (default %(default)s)")
    group.addoption("--epoch-samples", default="10000", type=_int_type("--epoch-samples", MAX_EPOCH_SAMPLES),
                    help="training samples per test_mlp_epoch epoch, up to the 50000 of the training split "
                         "(default %(default)s)")
    group.addoption("--devices", default="1,2", type=_ints_type("--devices", MAX_DEVICES),
                    help="comma-separated device / rank counts of the data-parallel benchmarks (default %(default)s)")
    group.addoption("--shuffle", default=None, type=_int_type("--shuffle", 2 ** 31), metavar="SEED",
                    help="run the steady cases in a random order drawn from SEED, frameworks and cases mixed "
                         "(make bench's repeated processes: each its own order); firstcall cases are refused")
    group.addoption("--memory", default="on", choices=("on", "off", "all"),
                    help="memory pass after timing, each case's working set in a fresh process: on = the steady "
                         "MLP, matmul and GPT cases, all = every steady case, off = none (default on)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cases(modes, sizes, phases): parametrise a benchmark over "
                            "framework-mode x device x size x phase")
    config.sizes = {kind: config.getoption(f"--{kind}-sizes") for kind in SIZE_KINDS}  # parsed: _sizes_type
    config.firstcall_rounds = config.getoption("--firstcall-rounds")
    config.epochs = config.getoption("--epochs")
    config.epoch_samples = config.getoption("--epoch-samples")
    config.devices = config.getoption("--devices")
    if config.getoption("--data-root") is not None and not os.path.isdir(config.getoption("--data-root")):
        raise pytest.UsageError(f"--data-root: not a folder: {config.getoption('--data-root')!r}")
    _set_precision(config.getoption("--matmul-precision"))
    _gpt_options(config)
    config.cpu_watch = machine.CpuWatch()  # other processes' CPU use over the whole run
    _storage_anywhere()
    progress.register(config)


def _storage_anywhere() -> None:
    """pytest-benchmark formats its storage path relative to the current folder when it warns that
    machine_info differs, which raises ValueError (INTERNALERROR) for a --benchmark-storage outside
    it (its open issue #217). Fall back to the absolute path there."""
    try:
        from pytest_benchmark.storage.file import FileStorage
    except ImportError:
        return

    def location(self) -> str:
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)
    FileStorage.location = property(location)


def _gpt_options(config: pytest.Config) -> None:
    from models import text

    names = config.getoption("--gpt-configs").split(",")
    if not all(name in text.CONFIGS for name in names):
        raise pytest.UsageError(f"--gpt-configs: expected comma-separated names from {', '.join(text.CONFIGS)}, "
                                f"got {config.getoption('--gpt-configs')!r}")
    config.gpt_configs = list(dict.fromkeys(names))
    config.gpt_steps = config.getoption("--gpt-steps")
    config.gpt_text = config.getoption("--text")
    if config.gpt_text is not None:
        try:
            text.load_corpus(config.gpt_text)
        except text.CorpusError as e:
            raise pytest.UsageError(f"--text: {e}") from None


def _set_precision(precision: str) -> None:
    """Same float32 matmul precision on both sides, before any benchmark is built."""
    if has_framework("jax"):
        import jax

        jax.config.update("jax_default_matmul_precision", "highest" if precision == "highest" else "tensorfloat32")
        jax.config.update("jax_enable_compilation_cache", False)  # firstcall must pay the compile
    if has_framework("torch"):
        import torch

        tf32 = precision == "tf32"
        torch.set_float32_matmul_precision("highest" if not tf32 else "high")
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32


@cache
def has_framework(name: str) -> bool:
    """Importable, not just present: a broken install counts as missing (and is skipped). A memory
    child imports only its case's framework: to it, the other one is absent."""
    only = os.environ.get(memory.CHILD_FRAMEWORK_ENV)
    if only and name in ("jax", "torch") and name != only:
        return False
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@cache
def gpu_reason() -> str | None:
    """None when both JAX and PyTorch can use a CUDA GPU (a memory child: its one framework), else why not."""
    only = os.environ.get(memory.CHILD_FRAMEWORK_ENV)
    wanted = [only] if only in ("jax", "torch") else ["jax", "torch"] if not only else []
    missing = [name for name in wanted if not has_framework(name)]
    if missing:
        return f"{', '.join(missing)} not installed"
    if "torch" in wanted:
        import torch

        if not torch.cuda.is_available():
            return "no CUDA GPU visible to PyTorch (torch.cuda.is_available() is False)"
    if "jax" in wanted:
        import jax

        try:
            jax.devices("gpu")
        except RuntimeError:
            return "no CUDA GPU visible to JAX (install jax[cuda13]; jax.devices('gpu') failed)"
    return None


def _devices(config: pytest.Config) -> list[str]:
    choice = config.getoption("--device")
    if choice == "auto":  # a GPU machine still shows the CPU column, for comparison with CPU-only runs
        return ["cpu", "cuda"] if gpu_reason() is None else ["cpu"]
    return ["cpu", "cuda"] if choice == "all" else [choice]


def _sizes(config: pytest.Config, sizes) -> list[tuple[str, int]]:
    if callable(sizes):  # a function of the run's options: [(word, value), ...]
        return list(sizes(config))
    if isinstance(sizes, str):
        prefix = SIZE_KINDS[sizes][1]
        return [(f"{prefix}{n}", n) for n in config.sizes[sizes]]
    return list(sizes)  # explicit [(word, value), ...]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spec" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("cases")
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: a benchmark using `spec` needs @pytest.mark.cases")
    modes = marker.kwargs["modes"]
    sizes = _sizes(metafunc.config, marker.kwargs.get("sizes", "batch"))
    phases = marker.kwargs.get("phases", PHASES)
    config = metafunc.config
    params = []
    for framework, mode in modes:
        for device in _devices(config):
            if DEVICE_ONLY_MODES.get(mode, device) != device:
                continue  # e.g. CUDA graphs: no such case on the CPU
            for word, value in sizes:
                for phase in sorted(phases, key=lambda phase: phase != "firstcall"):  # firstcall first: its
                    # caches cleared, it pays the cold compile; the steady case after it may reuse what it built
                    if phase == "firstcall" and config.getoption("--firstcall-sizes") == "one" and (word, value) != sizes[0]:
                        continue  # one size per sweep: the first call's compile does not grow with it
                    spec = Spec(framework, mode, device, word, value, phase, config.firstcall_rounds,
                                config.getoption("--matmul-precision"), _memory_pass(config, metafunc))
                    params.append(pytest.param(spec, id=spec.id, marks=_skips(spec)))
    metafunc.parametrize("spec", params)


# the default memory set (--memory on): every CPU and CUDA MLP train step, matmul and GPT (train step and
# forward) steady case; MLP predict and the rest with --memory all (predict's children would lengthen every pass)
MEMORY_DEFAULT = ("test_mlp_train_step", "test_matmul", "test_gpt_train_step", "test_gpt_forward")


def _memory_pass(config: pytest.Config, metafunc: pytest.Metafunc) -> bool:
    choice = config.getoption("--memory")
    return choice == "all" or (choice == "on" and metafunc.function.__name__ in MEMORY_DEFAULT)


def _skips(spec: Spec) -> list:
    if not has_framework(spec.framework):
        return [pytest.mark.skip(reason=f"{spec.framework} is not installed (or fails to import)")]
    if spec.device == "cuda" and gpu_reason() is not None:
        return [pytest.mark.skip(reason=f"cuda: {gpu_reason()}")]
    if spec.device == "cuda" and spec.framework in ("numpy", "scipy"):
        return [pytest.mark.skip(reason=f"{spec.framework} runs on the CPU only")]
    return []


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Versions, devices, threads and precision: what a reader needs to trust a comparison."""
    """Only what describes the machine and the install, the same in every run on one machine:
    pytest-benchmark warns on any difference. What one run measured goes to the JSON's "suite" key."""
    cpu = machine_info.get("cpu")
    if isinstance(cpu, dict):  # a reading of this moment, not a description of the machine
        config.cpu_hz_actual = cpu.pop("hz_actual", None)
        cpu.pop("hz_actual_friendly", None)
    machine_info["suite"] = {
        "matmul_precision": config.getoption("--matmul-precision"),
        "env": {k: os.environ.get(k) for k in ("XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                                                "CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS",
                                                "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION",
                                                "TORCHINDUCTOR_FORCE_DISABLE_CACHES")},
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
    }
    import numpy

    machine_info["numpy"] = numpy.__version__
    if has_framework("jax"):
        import jax
        import jaxlib

        machine_info["jax"] = jax.__version__
        machine_info["jaxlib"] = jaxlib.__version__
        machine_info["jax_devices"] = [f"{d.platform}:{d.device_kind}" for d in jax.devices()]
        machine_info["jax_default_matmul_precision"] = str(jax.config.jax_default_matmul_precision)
    if has_framework("torch"):
        import torch

        machine_info["torch"] = torch.__version__
        machine_info["torch_threads"] = torch.get_num_threads()
        machine_info["torch_interop_threads"] = torch.get_num_interop_threads()
        machine_info["torch_float32_matmul_precision"] = torch.get_float32_matmul_precision()
        machine_info["torch_cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            machine_info["gpu"] = {"name": props.name, "memory_bytes": props.total_memory,
                                   "capability": f"{props.major}.{props.minor}",
                                   "driver": _nvidia_driver()}
    if has_framework("scipy"):
        import scipy

        machine_info["scipy"] = scipy.__version__


@pytest.hookimpl(trylast=True)  # after -m / -k have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shuffle SEED: the steady cases in a seeded random order. A firstcall case is refused: its
    steady twin relies on running after it (JAX's caches, Inductor's first compile)."""
    seed = config.getoption("shuffle")
    if seed is None:
        return
    if any("-firstcall]" in item.nodeid for item in items):
        raise pytest.UsageError("--shuffle: select steady cases only (add -k steady)")
    random.Random(seed).shuffle(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The reference probes' first half, before the first benchmark of a run whose figures are kept."""
    config = session.config
    saved = any(config.getoption(name, None) for name in ("benchmark_autosave", "benchmark_save", "benchmark_json"))
    timed = any("benchmark" in getattr(item, "fixturenames", ()) for item in session.items)
    if saved and timed and not config.getoption("benchmark_disable", False) and not config.getoption("collectonly"):
        config.probes = probes.Probes()


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict) -> None:
    """The run's own figures, beside machine_info: reference probes (start and end), other
    processes' CPU share, the options that shape what was measured."""
    probe = getattr(config, "probes", None)
    _working_sets(config, output_json["benchmarks"])
    output_json["suite"] = {
        "probes": probe.finish() if probe is not None else None,
        "load": machine.run_load(config.cpu_watch.share()),
        "firstcall_rounds": config.firstcall_rounds,
        "memory_pass": config.getoption("--memory"),
        "memory_pass_s": getattr(config, "memory_pass_s", None),
        "cpu_hz_actual": getattr(config, "cpu_hz_actual", None),
    }


@pytest.fixture(scope="session")
def dataset(pytestconfig: pytest.Config):
    """The run's training data set (--dataset), loaded once. A bad IDX file fails with its one line;
    a named data set that is missing skips with where it was looked for; auto's digits fallback
    says so in a warning."""
    import warnings

    from models import datasets

    root, choice = datasets.data_root(pytestconfig.getoption("--data-root")), pytestconfig.getoption("--dataset")
    if pytestconfig.getoption("--download") and choice in ("auto", "fashion", "mnist"):
        _download(root, "mnist" if choice == "mnist" else "fashion")
    try:
        if choice == "digits":
            return datasets.load_digits()
        if choice != "auto":
            return datasets.load_idx(choice, root)
        found = datasets.load(root)
    except datasets.DatasetMissing as err:
        pytest.skip(f"--dataset {choice}: {err} (make data, or --download)")
    except datasets.IDXError as err:
        pytest.fail(str(err), pytrace=False)
    if found.fallback:
        warnings.warn(datasets.FallbackWarning(
            f"no MNIST/Fashion-MNIST IDX files ({datasets.missing_reason(root)}): training on scikit-learn's "
            f"8x8 digits instead (64 input features, {len(found.train.x)} training samples); see docs/data.md"), stacklevel=2)
    return found


def _download(root: Path, name: str) -> None:
    """--download: the data set into the data root when it is not there; a failure is one line."""
    from models import datasets

    try:
        datasets.locate(name, root)
        return
    except datasets.DatasetMissing:
        pass
    try:
        datasets.download(name, root)
    except Exception as err:  # noqa: BLE001 - network, disk, checksum: whatever torchvision raises
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        pytest.fail(f"--download: {datasets.IDX_SETS[name]} into {root} failed: {reason}", pytrace=False)
    datasets.load.cache_clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """In a memory child: the working set's baseline, after the framework's start-up and before the
    test body makes its inputs (so inputs count for every framework alike)."""
    spec = getattr(item, "callspec", None) and item.callspec.params.get("spec")
    if memory.in_child() and isinstance(spec, Spec) and spec.phase == "steady":
        from benchmarks import frameworks

        memory.CHILD["set"] = memory.WorkingSet(spec)
        memory.CHILD["set"].start(frameworks.backend(spec))
    return (yield)


MEMORY_CHILD_TIMEOUT_S = 600


def _child_args(config: pytest.Config, device: str) -> list[str]:
    """The options a memory child needs to collect the same case as this run."""
    args = ["--benchmark-disable", "-q", "-p", "no:cacheprovider", "--device", device, "--memory", "all",
            "--matmul-precision", config.getoption("--matmul-precision"), "--gpt-configs", ",".join(config.gpt_configs)]
    for kind in SIZE_KINDS:
        args += [f"--{kind}-sizes", ",".join(map(str, config.sizes[kind]))]
    for option in ("--text", "--data-root"):
        if config.getoption(option):
            args += [option, config.getoption(option)]
    return args


def _measure_in_child(config: pytest.Config, case: dict, servers: _Servers) -> dict:
    import json
    import tempfile

    from benchmarks.forkserver import ServerError

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memory-child-") as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "child.log"
        env = {memory.CHILD_ENV: str(out), memory.CHILD_FRAMEWORK_ENV: case["framework"]}
        try:
            status = servers.get(case["framework"]).run([case["fullname"], *_child_args(config, case["device"])],
                                                        env, str(log), MEMORY_CHILD_TIMEOUT_S)
        except ServerError as err:
            return {"memory_note": f"working set not measured: {err}"}
        if status != 0 or not out.is_file():
            text = log.read_text(errors="replace") if log.is_file() else ""
            tail = text.strip().splitlines()[-1:] or ["no output"]
            return {"memory_note": f"working set not measured: its child failed (exit {status}: {tail[0]})"}
        return {**json.loads(out.read_text()), "memory_child_s": round(time.perf_counter() - started, 2)}


class _Servers:
    """The fork servers (benchmarks/forkserver.py) of the memory pass's worker threads: one per
    thread and framework (JAX, PyTorch, or neither for NumPy and SciPy cases), started on first use."""

    def __init__(self, config: pytest.Config):
        import threading

        self.cwd, self.local, self.started = str(config.rootpath), threading.local(), []

    def get(self, framework: str):
        from benchmarks.forkserver import PRELOAD, Server

        kind = framework if framework in PRELOAD else "numpy"
        if not hasattr(self.local, "servers"):
            self.local.servers = {}
        mine = self.local.servers
        if kind not in mine or not mine[kind].alive:
            mine[kind] = Server(kind, self.cwd, {**os.environ, memory.CHILD_FRAMEWORK_ENV: kind})
            self.started.append(mine[kind])
        return mine[kind]

    def close(self) -> None:
        for server in self.started:
            server.close()


def _child_cost(case: dict) -> int:
    """A memory child's rough cost rank: GPT steps, then torch.compile (Inductor's start-up), then
    PyTorch's import, then JAX's eager op-by-op first steps; the rest take about a second."""
    name = case["fullname"]
    return (2 * ("test_gpt" in name) + 2 * ("-compile-" in name) + (case["framework"] == "torch")
            + (case["framework"] == "jax" and "-eager-" in name))


def _working_sets(config: pytest.Config, benchmarks: list[dict]) -> None:
    """Each queued steady case's working set, measured in a fresh child, two at a time, after every
    benchmark of this run has been timed; a figure below 0.9 x its analytic floor fails the run."""
    from concurrent.futures import ThreadPoolExecutor

    cases, memory.PENDING[:] = list(memory.PENDING), []
    if cases:  # measured once; pytest-benchmark builds its JSON once per output (--benchmark-json, the storage)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"memory: the working set of {len(cases)} steady cases, each in a fresh process")
        started = time.perf_counter()
        cases.sort(key=_child_cost, reverse=True)  # longest first: no long child left alone at the end
        servers = _Servers(config)
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                config.working_sets = dict(zip([c["fullname"] for c in cases], pool.map(
                    lambda c: _measure_in_child(config, c, servers), cases), strict=True))
        finally:
            servers.close()
        config.memory_pass_s = time.perf_counter() - started
        if reporter is not None:
            reporter.write_line(f"memory: {len(cases)} working sets measured in {config.memory_pass_s:.0f} s")
    results = getattr(config, "working_sets", {})
    failures = config.memory_failures = []
    for bench in benchmarks:
        result = results.get(bench.get("fullname"))
        if result is None:
            continue
        info = bench.setdefault("extra_info", {})
        info.update(result)
        peak, floor = info.get("peak_memory_bytes"), info.get("memory_floor_bytes")
        if peak is not None and floor:
            info["memory_floor_ok"] = peak >= memory.FLOOR_SHARE * floor
            if not info["memory_floor_ok"]:
                failures.append(f"{bench['fullname']}: working set {peak / 2**20:.1f} MiB is below "
                                              f"{memory.FLOOR_SHARE} x its analytic floor {floor / 2**20:.1f} MiB")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    failures = getattr(session.config, "memory_failures", [])
    for line in failures:
        print(f"\nMEMORY FLOOR FAILED: {line}")
    if failures:
        session.exitstatus = 1


def _nvidia_driver() -> str | None:
    try:
        with open("/proc/driver/nvidia/version") as f:
            return f.readline().strip()
    except OSError:
        return None

