"""The thread budget follows the CPUs a process may really use: affinity, cgroup quota, override."""
from pathlib import Path

import torch

import course_lib as cl
from course_lib.basics.threads import MAX_THREADS, cgroup_cpu_quota, cpu_budget


def _fake_v2(tmp_path: Path, cpu_max: str, nested: str | None = None) -> tuple[Path, Path]:
    """A cgroup v2 tree: the process sits in /kubepods/pod1 (or ``nested`` below it)."""
    root = tmp_path / "cgroup"
    pod = root / "kubepods" / "pod1"
    pod.mkdir(parents=True)
    (pod / "cpu.max").write_text(cpu_max + "\n", encoding="ascii")
    (root / "cpu.max").write_text("max 100000\n", encoding="ascii")  # the root: no limit
    place = "/kubepods/pod1"
    if nested:
        (pod / nested).mkdir()
        (pod / nested / "cpu.max").write_text("max 100000\n", encoding="ascii")
        place += "/" + nested
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text(f"0::{place}\n", encoding="ascii")
    return root, proc


def _fake_v1(tmp_path: Path, quota: int, period: int = 100000, mount="cpu,cpuacct"):
    root = tmp_path / "cgroup"
    folder = root / mount / "docker" / "abc"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text(f"{quota}\n", encoding="ascii")
    (folder / "cpu.cfs_period_us").write_text(f"{period}\n", encoding="ascii")
    (root / mount / "cpu.cfs_quota_us").write_text("-1\n", encoding="ascii")
    (root / mount / "cpu.cfs_period_us").write_text("100000\n", encoding="ascii")
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text(f"5:memory:/docker/abc\n4:{mount}:/docker/abc\n0::/\n", encoding="ascii")
    return root, proc


def test_cgroup_v2_quota_limits_threads_on_a_big_host(tmp_path):
    root, proc = _fake_v2(tmp_path, "200000 100000")
    assert cgroup_cpu_quota(root, proc) == 2.0
    budget = cpu_budget(environ={}, cgroup_root=root, proc_cgroup=proc, affinity=64)
    assert budget.threads == 2 and budget.quota == 2.0 and budget.affinity == 64
    assert "quota of 2" in str(budget)


def test_a_parent_cgroup_limit_applies_to_a_child(tmp_path):
    root, proc = _fake_v2(tmp_path, "150000 100000", nested="session-7")
    assert cgroup_cpu_quota(root, proc) == 1.5
    assert cpu_budget(environ={}, cgroup_root=root, proc_cgroup=proc, affinity=8).threads == 1


def test_no_quota_uses_affinity_capped(tmp_path):
    root, proc = _fake_v2(tmp_path, "max 100000")
    assert cgroup_cpu_quota(root, proc) is None
    assert cpu_budget(environ={}, cgroup_root=root, proc_cgroup=proc, affinity=2).threads == 2
    assert cpu_budget(environ={}, cgroup_root=root, proc_cgroup=proc,
                      affinity=64).threads == MAX_THREADS


def test_a_quota_below_one_cpu_still_gives_one_thread(tmp_path):
    root, proc = _fake_v2(tmp_path, "50000 100000")
    assert cpu_budget(environ={}, cgroup_root=root, proc_cgroup=proc, affinity=16).threads == 1


def test_cgroup_v1_quota(tmp_path):
    root, proc = _fake_v1(tmp_path, quota=300000)
    assert cgroup_cpu_quota(root, proc) == 3.0
    assert cpu_budget(environ={}, cgroup_root=root, proc_cgroup=proc, affinity=32).threads == 3


def test_cgroup_v1_unlimited_and_separate_cpu_mount(tmp_path):
    root, proc = _fake_v1(tmp_path, quota=-1, mount="cpu")
    assert cgroup_cpu_quota(root, proc) is None


def test_missing_or_garbled_files_mean_no_limit(tmp_path):
    assert cgroup_cpu_quota(tmp_path / "nothing", tmp_path / "none") is None
    root, proc = _fake_v2(tmp_path, "garbage")
    assert cgroup_cpu_quota(root, proc) is None


def test_omp_num_threads_overrides_everything(tmp_path):
    root, proc = _fake_v2(tmp_path, "100000 100000")
    budget = cpu_budget(environ={"OMP_NUM_THREADS": "4"}, cgroup_root=root, proc_cgroup=proc,
                        affinity=2)
    assert budget.threads == 4 and budget.override == 4 and "OMP_NUM_THREADS" in str(budget)
    # a value that is not a positive integer is ignored, not obeyed
    for junk in ("0", "-2", "two", ""):
        assert cpu_budget(environ={"OMP_NUM_THREADS": junk}, cgroup_root=root,
                          proc_cgroup=proc, affinity=2).override is None


def test_a_jupyterhub_cpu_limit_caps_threads_where_no_cgroup_enforces_it(tmp_path):
    """JupyterHub's spawner exports CPU_LIMIT; a local-process spawner sets no cgroup quota."""
    root, proc = _fake_v2(tmp_path, "max 100000")
    budget = cpu_budget(environ={"CPU_LIMIT": "1.0"}, cgroup_root=root, proc_cgroup=proc,
                        affinity=8)
    assert budget.threads == 1 and budget.hub_limit == 1.0
    assert "JupyterHub CPU limit of 1" in str(budget)
    assert cpu_budget(environ={"CPU_LIMIT": "2.5"}, cgroup_root=root, proc_cgroup=proc,
                      affinity=8).threads == 2
    assert cpu_budget(environ={"CPU_LIMIT": "0.5"}, cgroup_root=root, proc_cgroup=proc,
                      affinity=8).threads == 1
    # the smaller of the quota and the hub's limit wins; OMP_NUM_THREADS still overrides both
    root, proc = _fake_v2(tmp_path / "q", "100000 100000")
    assert cpu_budget(environ={"CPU_LIMIT": "3"}, cgroup_root=root, proc_cgroup=proc,
                      affinity=8).threads == 1
    assert cpu_budget(environ={"CPU_LIMIT": "1", "OMP_NUM_THREADS": "3"}, cgroup_root=root,
                      proc_cgroup=proc, affinity=8).threads == 3
    for junk in ("", "0", "-1", "nan", "inf", "lots"):
        assert cpu_budget(environ={"CPU_LIMIT": junk}, cgroup_root=root, proc_cgroup=proc,
                          affinity=8).hub_limit is None


def test_use_course_threads_sets_torch(monkeypatch, capsys):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert cl.use_course_threads(verbose=True) == 1
        assert torch.get_num_threads() == 1
        assert "1 thread(s), set by OMP_NUM_THREADS" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)
