"""Memory bandwidth: STREAM's triad a = b + s * c over 2^25 float32 elements (128 MiB an array,
larger than any cache here): NumPy, `jax.jit`, PyTorch eager and `torch.compile`.

bytes_per_call counts what the triad must move, two reads and one write per element (12 bytes;
a CPU's write-allocate may read the output's lines too, which this does not count), flops 2 per
element. The best GB/s of a run and device is the bandwidth roof of the report's roofline, as the
best matmul GFLOP/s is its compute roof. Steady state only; each call writes a new output, as a
step of a model does, so the roof includes the first touch of fresh pages (an in-place copy, as
the reference probes' copy_64MiB, reaches more).
"""
import numpy as np
import pytest

from benchmarks import harness
from models import functions

MODES = [("numpy", "plain"), ("jax", "jit"), ("torch", "eager"), ("torch", "compile")]
N = 1 << 25


@pytest.mark.cases(modes=MODES, sizes=[(f"n{N}", N)], phases=("steady",))
def test_stream_triad(benchmark, spec):
    b, c = functions.triad_inputs(spec.size_value)
    out = harness.run(benchmark, spec, harness.Workload(
        "stream_triad", lambda be: functions.triad_step(b, c, be), items_per_call=b.size,
        flops_per_call=2.0 * b.size, bytes_per_call=3.0 * b.nbytes, memory_floor_bytes=3.0 * b.nbytes))
    np.testing.assert_allclose(harness.as_numpy(out)[:4096], functions.triad(b[:4096], c[:4096]), rtol=1e-5, atol=1e-6)
