"""Measuring memory (lesson 04): the peak that one call really allocates.

Counting bytes from a formula (shape times 4 bytes) only repeats the formula. To *measure*, we
ask torch's profiler to record every allocation and every release of torch's CPU allocator during
one call, replay them in time order, and keep the highest running total: the call's **peak**
memory above what was allocated before it. That includes everything the call holds at once:
the output, the scores and weights, and the scratch buffers of the kernels inside it.

:func:`peak_rss_of_fresh_process` measures the same thing the operating system's way (the peak
resident size of a new Python process, minus its size just before the call); the tests check
that the two agree.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import torch
from torch.autograd.profiler import profile

from course_lib.locality.costs import METHODS, make_layer


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence, during one measurement, what the profiler's C++ side writes straight to file
    descriptor 2 (a notebook shows it as red text). A notebook captures Python's own messages
    separately, so its warnings and errors still show; an exception is re-raised after."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):      # no real file descriptor (some embedded consoles)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_memory(fn) -> int:
    """Peak bytes that ``fn()`` allocates through torch's CPU allocator, freed or not.

    The profiler lists every allocation (+bytes) and release (-bytes) with a time stamp; the
    peak is the largest running sum. Its result is dropped inside, so an output counts too.
    """
    # torch.autograd.profiler rather than torch.profiler: the latter imports torch's compiler
    # (about 70 MB of Python modules) on its first use, which would dwarf what we measure.
    with _quiet_native_stderr(), profile(use_cpu=True, use_kineto=True, profile_memory=True) as prof:
        result = fn()
        del result
    events = prof.kineto_results.events()
    changes = sorted((e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]")
    running = peak = 0
    for _, nbytes in changes:
        running += nbytes
        peak = max(peak, running)
    return peak


def memory_sweep(sides, methods=METHODS, max_side=None, channels: int = 16, window: int = 8,
                 threads: int | None = 1, seed: int = 0) -> dict:
    """:func:`peak_memory` of each layer of :mod:`course_lib.locality.costs` on ``side x side`` maps.

    The input exists before the call, so it is not counted. ``threads``: torch threads during
    the sweep (restored afterwards); the fused attention keeps one scratch buffer per thread.

    Returns ``{"sides": (S,), method: (S,) bytes}`` (NaN beyond ``max_side[method]``).
    """
    max_side = dict(max_side or {})
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    result = {m: np.full(len(sides), np.nan) for m in methods}
    try:
        with torch.no_grad():
            for m in methods:
                layer = make_layer(m, channels, window, seed=seed)
                for i, side in enumerate(sides):
                    if side <= max_side.get(m, side):
                        x = torch.randn(1, channels, side, side,
                                        generator=torch.Generator().manual_seed(seed))
                        result[m][i] = peak_memory(lambda: layer(x))
    finally:
        torch.set_num_threads(previous)
    return {"sides": np.asarray(sides), **result}


_FRESH_PROCESS = """
import resource, sys, torch
from course_lib.locality.costs import make_layer

def peak_rss():
    # Linux: VmHWM belongs to this process image alone. (ru_maxrss can start at the size of
    # the parent that spawned us: the kernel carries it over through exec.)
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM"))
    except OSError:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss if sys.platform == "darwin" else rss * 1024   # bytes on macOS, KiB elsewhere

torch.set_num_threads(1)
layer = make_layer({method!r}, {channels})
with torch.no_grad():
    layer(torch.randn(1, {channels}, 8, 8))             # warm up on a tiny map
    x = torch.randn(1, {channels}, {side}, {side})
    before = peak_rss()
    layer(x)
    after = peak_rss()
print(after - before)
"""


def peak_rss_of_fresh_process(method: str, side: int, channels: int = 16) -> int:
    """The operating system's view: how far one call raises the peak resident size of a fresh
    Python process (``resource.getrusage``), in bytes. Slow (it starts Python and torch)."""
    code = _FRESH_PROCESS.format(method=method, channels=channels, side=side)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=300)
    return int(done.stdout.strip().splitlines()[-1])


__all__ = ["memory_sweep", "peak_memory", "peak_rss_of_fresh_process"]
