"""Measured memory: the profiler's peak equals what the tensors need, and the operating system
agrees."""
import sys

import numpy as np
import pytest
import torch

from course_lib.locality import costs, memory


def test_peak_memory_counts_what_a_call_holds_at_once():
    def two_buffers():
        a = torch.empty(1000, dtype=torch.float32)        # 4,000 bytes
        b = torch.empty(2000, dtype=torch.float32)        # 8,000 bytes, both alive
        del a
        c = torch.empty(500, dtype=torch.float32)         # after a is gone
        return b, c

    assert memory.peak_memory(two_buffers) == 12_000
    assert memory.peak_memory(lambda: None) == 0


def test_naive_global_attention_holds_two_n_by_n_matrices_and_fused_does_not():
    side, c = 32, 16
    n = side * side
    sweep = memory.memory_sweep((side,), methods=("global", "global_fused", "conv"), channels=c)
    n_by_n = n * n * 4                                   # float32
    assert 2 * n_by_n <= sweep["global"][0] < 2 * n_by_n + 3 * n * c * 4 + 4096
    assert sweep["global_fused"][0] < n_by_n / 4         # it streams over the keys
    output = n * c * 4
    assert sweep["conv"][0] >= output                     # a conv's output is memory too


def test_memory_sweep_is_deterministic_restores_threads_and_skips_large_sizes():
    before = torch.get_num_threads()
    kwargs = dict(sides=(16, 32), max_side={"global": 16})
    a, b = memory.memory_sweep(**kwargs), memory.memory_sweep(**kwargs)
    assert torch.get_num_threads() == before
    for method in costs.METHODS:
        np.testing.assert_array_equal(a[method], b[method])
    assert np.isnan(a["global"][1]) and np.isfinite(a["global_fused"][1])


@pytest.mark.skipif(sys.platform == "win32", reason="the resource module is POSIX only")
def test_the_operating_system_sees_the_same_peak():
    """A fresh process's peak resident size rises by what the profiler measured (+-15%)."""
    profiled = memory.memory_sweep((48,), methods=("global",))["global"][0]
    seen = memory.peak_rss_of_fresh_process("global", 48)
    assert 0.85 * profiled < seen < 1.15 * profiled + 2e6, (profiled, seen)
