"""How many CPU threads torch should use here, and setting it: one call at the top of every lesson.

    import course_lib as cl
    cl.use_course_threads()        # -> 2 on a 2-CPU laptop; 1 on a hub slot limited to 1 CPU

Why this exists: torch starts one thread per *host* core. It does not look at the CPU quota of a
container or a JupyterHub slot (the cgroup's ``cpu.max``), so a kernel limited to 2 CPUs on a
64-core server runs 64 threads that take turns on 2 CPUs. They wait for each other at every
matrix product: a cell that takes 12 s with the right number of threads took 93 s that way. Thirty
such kernels on one hub are worse still.

The budget is the smallest of
  * the CPUs this process may run on (its CPU affinity, ``os.sched_getaffinity``),
  * the cgroup's CPU quota (cgroup v2 ``cpu.max``; v1 ``cpu.cfs_quota_us / cpu.cfs_period_us``),
    rounded down, at least 1,
  * a JupyterHub's CPU limit for this learner (the spawner exports ``CPU_LIMIT``, e.g. ``1.0``):
    a hub whose spawner cannot enforce its limit (a local-process spawner) still gets kernels
    that keep to it, rounded down, at least 1,
  * ``max_threads`` (4): the course's models are small, more threads only add waiting.
``OMP_NUM_THREADS`` (the usual knob of an admin or of a test) overrides all three.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch

MAX_THREADS = 4


@dataclass
class CpuBudget:
    """What limits the threads: each field is a CPU count, or None where there is no limit."""

    affinity: int | None
    quota: float | None
    override: int | None
    threads: int
    hub_limit: float | None = None

    def __str__(self) -> str:
        if self.override is not None:
            return f"{self.threads} thread(s), set by OMP_NUM_THREADS"
        quota = "no CPU quota" if self.quota is None else f"a CPU quota of {self.quota:g}"
        hub = "" if self.hub_limit is None else f", a JupyterHub CPU limit of {self.hub_limit:g}"
        return (f"{self.threads} thread(s): {self.affinity} CPU(s) available to this process, "
                f"{quota}{hub}, at most {MAX_THREADS}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_dirs(cgroup_root: Path, proc_cgroup: Path, controller: str | None) -> list[Path]:
    """This process's cgroup folder and its parents (a limit on any of them applies).

    ``controller`` None reads the cgroup v2 line ``0::/path``; otherwise the v1 line whose
    controller list holds ``controller`` (e.g. ``4:cpu,cpuacct:/path``).
    """
    text = _read(proc_cgroup) or ""
    relative = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if controller is None and parts[0] == "0" and parts[1] == "":
            relative = parts[2]
        elif controller is not None and controller in parts[1].split(","):
            relative = parts[2]
    if relative is None:
        return []
    base = cgroup_root if controller is None else cgroup_root / _v1_mount(cgroup_root, controller)
    here = base / relative.lstrip("/")
    dirs = [here, *here.parents]
    return [d for d in dirs if d == base or base in d.parents]


def _v1_mount(cgroup_root: Path, controller: str) -> str:
    """cgroup v1 mounts the cpu controller as ``cpu``, ``cpu,cpuacct`` or ``cpuacct,cpu``."""
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        if (cgroup_root / name / "cpu.cfs_quota_us").exists():
            return name
    return controller


def cgroup_cpu_quota(cgroup_root: Path = Path("/sys/fs/cgroup"),
                     proc_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (e.g. 1.5), or None when there is none."""
    limits = []
    for folder in _cgroup_dirs(cgroup_root, proc_cgroup, None):         # cgroup v2
        fields = (_read(folder / "cpu.max") or "").split()
        if len(fields) == 2 and fields[0] != "max":
            try:
                limits.append(int(fields[0]) / int(fields[1]))
            except (ValueError, ZeroDivisionError):
                pass
    for folder in _cgroup_dirs(cgroup_root, proc_cgroup, "cpu"):        # cgroup v1
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        try:
            if quota is not None and period is not None and int(quota) > 0:
                limits.append(int(quota) / int(period))
        except (ValueError, ZeroDivisionError):
            pass
    return min(limits) if limits else None


def cpu_budget(max_threads: int = MAX_THREADS, environ=None,
               cgroup_root: Path = Path("/sys/fs/cgroup"),
               proc_cgroup: Path = Path("/proc/self/cgroup"),
               affinity: int | None = None) -> CpuBudget:
    """Work out how many threads this process should use (see the module's docstring).

    The keyword arguments exist so that tests can fake a machine: an environment, cgroup files
    in a temporary folder, an affinity count.
    """
    environ = os.environ if environ is None else environ
    if affinity is None:
        try:
            affinity = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # macOS and Windows have no affinity call
            affinity = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root, proc_cgroup)
    override = None
    text = str(environ.get("OMP_NUM_THREADS", "")).strip()
    if text.isdigit() and int(text) > 0:
        override = int(text)
    hub_limit = _positive_float(environ.get("CPU_LIMIT"))
    if override is not None:
        threads = override
    else:
        threads = min(affinity, max_threads)
        for limit in (quota, hub_limit):
            if limit is not None:
                threads = min(threads, max(1, math.floor(limit)))
    return CpuBudget(affinity=affinity, quota=quota, override=override, threads=max(1, threads),
                     hub_limit=hub_limit)


def _positive_float(text) -> float | None:
    """'1.5' -> 1.5; anything that is not a positive finite number -> None (no limit)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def use_course_threads(max_threads: int = MAX_THREADS, verbose: bool = False) -> int:
    """Set torch's thread count from :func:`cpu_budget` and return it.

    Call it once at the top of a notebook. ``verbose=True`` prints what limited the number.
    """
    budget = cpu_budget(max_threads)
    torch.set_num_threads(budget.threads)
    if verbose:
        print(f"torch will use {budget}")
    return budget.threads
