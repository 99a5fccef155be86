"""Size a JupyterHub for a workshop from measurements: the admin's recipe in the instructor guide.

    python tools/lesson_times.py --hub    # print the recipe (make guide writes it into the guide)

This module only computes and writes the recipe from the lessons it is given
(``lesson_times.Lesson``); tools/lesson_times.py reads the lessons from the notebooks and calls
it. (It never imports lesson_times: the guide's writer sits on top, the recipe below it.)

Two measurements, both in the repository:
- each notebook's kernel peak memory and CPU time (``metadata.course``, written by
  tools/execute.py on every execution);
- a real hub with simulated learners (tests/system/test_hub.py writes build/hub/measurements.json;
  ``make guide`` copies the newest into docs/hub_measurements.json, which is committed): the memory
  of a learner's Jupyter server, and the check that a learner's server + kernels add up as the
  per-notebook figures say.

The room's part of both recipes (sign-in, HTTPS, the instructor's view) is rendered by
course_room.config, which also renders the configuration of the hub the test runs.

The rule (stated in the guide next to the numbers): a learner keeps a lesson and its exercises
open, so a learner needs the server plus the two kernels of the heaviest lesson; the limit is that
rounded up to half a GiB, the guarantee the same for the median of the lesson-and-exercises pairs
(00_start_here has no exercises, so it is no pair). CPU: one thread per learner
(cpu_limit 1; the course's thread rule follows it), and enough cores that everyone's Run All of the
heaviest lesson, started at the same moment, is through within two minutes.
"""
from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from course_room import config as room  # the room's part: the hub test runs the same

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "build" / "hub" / "measurements.json"
COMMITTED = ROOT / "docs" / "hub_measurements.json"
ROOM = 30
RUN_ALL_WITHIN_S = 120
OS_HEADROOM_GIB = 2.0


def refresh_committed(measured: Path = MEASURED, committed: Path = COMMITTED) -> bool:
    """Copy the newest hub measurements (if the hub test ran since) to the committed file."""
    if measured.exists() and (not committed.exists() or
                              measured.stat().st_mtime > committed.stat().st_mtime):
        report = json.loads(measured.read_text(encoding="utf-8"))
        old = json.loads(committed.read_text(encoding="utf-8")) if committed.exists() else {}
        if "recommended" in old:
            report["recommended"] = old["recommended"]
        committed.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        return True
    return False


def _half_gib_up(mib: float) -> float:
    return math.ceil(mib / 512) / 2


def sizing(lessons: list, hub: dict | None) -> dict | None:
    """The numbers of the recipe from the lessons (lesson_times.Lesson) and the hub report."""
    # a pair is a lesson and its exercises; 00_start_here has no exercises, so it is no pair
    pairs = [(l.stem, l.peak_mib + l.exercise_peak_mib, lesson_cpu(l)[0])
             for l in lessons if l.peak_mib and l.exercise_peak_mib]
    if not pairs or not hub:
        return None
    server = max(u["server_mib"] for u in hub["users"])
    heaviest = max(pairs, key=lambda p: p[1])
    median_pair = statistics.median(p[1] for p in pairs)
    cpu_heaviest = max(pairs, key=lambda p: p[2])
    limit = _half_gib_up(server + heaviest[1])
    guarantee = _half_gib_up(server + median_pair)
    cores = math.ceil(ROOM * cpu_heaviest[2] / RUN_ALL_WITHIN_S)
    return {
        "server_mib": server, "heaviest": heaviest, "median_pair_mib": median_pair, "pairs": len(pairs),
        "cpu_heaviest": cpu_heaviest, "mem_limit_gib": limit, "mem_guarantee_gib": guarantee,
        "cpu_limit": 1, "cpu_guarantee": round(min(1.0, max(0.1, cores / ROOM)), 2),
        # whole GiB, rounded up: the RAM a server needs, said the same way in the table and the text
        "room_guaranteed_gib": math.ceil(ROOM * guarantee + OS_HEADROOM_GIB + hub["hub_and_proxy_mib"] / 1024),
        "room_worst_gib": math.ceil(ROOM * limit + OS_HEADROOM_GIB + hub["hub_and_proxy_mib"] / 1024),
        "cores": max(2, cores),
    }


def lesson_cpu(lesson) -> tuple[float, bool]:
    """(CPU seconds of a Run All, measured?). Where the kernel's CPU time was not recorded, two
    threads busy for the whole measured run is the upper bound used instead."""
    if lesson.cpu_s is not None:
        return lesson.cpu_s, True
    return 2 * (lesson.run_s or 0), False


def hub_summary(hub: dict) -> str:
    users = hub["users"]
    peaks = [u["peak_mib"] for u in users]
    walls = [u["wall_seconds"] for u in users]
    kernels = {run["notebook"].rsplit("/", 1)[-1]: run["kernel_peak_mib"]
               for run in users[0]["runs"]}
    # measured with the room's configuration, the hub also runs the instructor's view
    hub_services = (" with the instructor's view" if room.SERVICE in hub.get("services", []) else "")
    return (f"Measured on {hub['date']} by `tests/system/test_hub.py`: {hub['what']}, on {hub['cpus']} CPU "
            f"cores (load average {hub['load_average_before']} before it started). Every run "
            f"finished; per learner: peak memory {min(peaks):.0f}–{max(peaks):.0f} MiB (Jupyter "
            f"server {max(u['server_mib'] for u in users):.0f} MiB + kernels "
            + ", ".join(f"{k} {v:.0f} MiB" for k, v in kernels.items())
            + f"), from login to both notebooks run {min(walls):.0f}–{max(walls):.0f} s; the hub "
            f"and its proxy{hub_services} {hub['hub_and_proxy_mib']:.0f} MiB. The limits configured there "
            f"({hub['limits']['mem_limit_gib']:g} GiB, {hub['limits']['cpu_limit']:g} CPU) were "
            f"exported to each server but not enforced (a local-process spawner cannot): the test "
            f"measured each learner's memory and asserted it stayed under the limit, and that every "
            f"kernel ran with the thread count the CPU limit allows.")


def recipe(lessons: list, hub: dict | None) -> str:
    numbers = sizing(lessons, hub)
    if numbers is None:
        return ("*No measurements yet: execute the lessons with `tools/execute.py` and run "
                "`pytest tests/system/test_hub.py`, then `make guide`.*")
    n = numbers
    heavy_stem, heavy_mib, _ = n["heaviest"]
    cpu_stem, _, cpu_s = n["cpu_heaviest"]
    measured_cpu = lesson_cpu(next(l for l in lessons if l.stem == cpu_stem))[1]
    cpu_note = "" if measured_cpu else (" (estimated as two threads busy for its whole measured "
                                        "run: its kernel CPU time is not recorded yet)")
    table = "\n".join([
        "| | per learner | a room of 30 |",
        "|---|---|---|",
        f"| memory guarantee (what the scheduler reserves) | {n['mem_guarantee_gib']:g} GiB | "
        f"{n['room_guaranteed_gib']} GiB of RAM with the hub and {OS_HEADROOM_GIB:g} GiB for the system |",
        f"| memory limit (a kernel above it is restarted) | {n['mem_limit_gib']:g} GiB | "
        f"{n['room_worst_gib']} GiB if every learner reached the limit at once |",
        f"| CPU limit | {n['cpu_limit']} (one torch thread) | – |",
        f"| CPU guarantee | {n['cpu_guarantee']:g} | {n['cores']} cores |",
    ])
    config = f'''```python
# /opt/tljh/config/jupyterhub_config.d/course.py (or a plain jupyterhub_config.py): one server for
# a room of {ROOM} (sizes from the measurements above).
# SystemdSpawner (pip install jupyterhub-systemdspawner; what The Littlest JupyterHub uses)
# enforces the limits with cgroups; the plain LocalProcessSpawner would only announce them.
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.JupyterHub.public_url = "https://HUB.example.org"  # the view reaches the servers through it
c.Spawner.mem_limit = "{n['mem_limit_gib']:g}G"        # the heaviest lesson + its exercises open
c.Spawner.mem_guarantee = "{n['mem_guarantee_gib']:g}G"    # advisory here; the room's RAM total
c.Spawner.cpu_limit = {n['cpu_limit']:.1f}              # exported as CPU_LIMIT: one torch thread
c.Spawner.default_url = "/lab"
c.Spawner.environment = {{"OMP_NUM_THREADS": "{n['cpu_limit']}"}}  # = the CPU limit, also for code that does not call use_course_threads
c.JupyterHub.concurrent_spawn_limit = 10     # a room logging in at 9:00 sharp
c.Spawner.start_timeout = 120
# Stop servers idle for an hour (pip install jupyterhub-idle-culler).
c.JupyterHub.services = [{{"name": "idle-culler",
                          "command": ["python3", "-m", "jupyterhub_idle_culler", "--timeout=3600"]}}]
c.JupyterHub.load_roles = [{{"name": "idle-culler", "services": ["idle-culler"],
                            "scopes": ["list:users", "read:users:activity", "read:servers",
                                       "delete:servers"]}}]

{room.room_config()}```'''
    values = f'''```yaml
# Zero to JupyterHub (helm chart jupyterhub/jupyterhub) values for rooms that outgrow one server.
# The user image: repo2docker --no-run --image-name REGISTRY/attention-course:TAG .  (reads binder/)
singleuser:
  image:
    name: REGISTRY/attention-course
    tag: TAG
  defaultUrl: /lab
  memory:
    guarantee: {n['mem_guarantee_gib']:g}G
    limit: {n['mem_limit_gib']:g}G
  cpu:
    guarantee: {n['cpu_guarantee']:g}
    limit: {n['cpu_limit']}
  startTimeout: 300
prePuller:
  hook:
    enabled: true        # the image is on every node before the room logs in
scheduling:
  userScheduler:
    enabled: true        # pack learners onto few nodes
  userPlaceholder:
    enabled: true
    replicas: 5          # room for late arrivals without waiting for a new node
cull:
  enabled: true
  timeout: 3600
{room.z2jh_values()}
```'''
    return "\n\n".join([
        "### Sizing a JupyterHub from the measurements",
        hub_summary(hub),
        f"How the sizes follow. A learner keeps a lesson and its exercises open (one kernel each) "
        f"next to their Jupyter server ({n['server_mib']:.0f} MiB). The heaviest pair is "
        f"`{heavy_stem}` with its exercises, {heavy_mib:.0f} MiB of kernels: with the server, "
        f"rounded up to half a GiB, that is the limit. The median of the {n['pairs']} pairs, "
        f"{n['median_pair_mib']:.0f} MiB of kernels, gives the guarantee the same way. CPU: the course runs one torch "
        f"thread per learner when the limit is one CPU; the most CPU-hungry lesson, "
        f"`{cpu_stem}`, takes {cpu_s:.0f} CPU-seconds for Run All{cpu_note}, so {ROOM} learners pressing "
        f"Run All together are through within {RUN_ALL_WITHIN_S // 60} minutes on "
        f"{n['cores']} cores. Rerun `tests/system/test_hub.py` and `make guide` after the lessons change.",
        table,
        "**One server** (up to about 30 learners: "
        f"{n['room_guaranteed_gib']} GiB of RAM and {n['cores']} cores or more), with "
        "The Littlest JupyterHub: HTTPS, the room's secrets, then the configuration. The room's "
        "part of it (from `# --- The room`) is the one `tests/system/test_hub.py` runs, rendered by the "
        "same code (`course_room/config.py`):",
        "```bash\n" + room.tljh_setup() + "\n```",
        config,
        "Named accounts instead of a room password, for a course that needs them (its learners "
        "sign in with GitHub or the institution's single sign-on):",
        "```python\n" + room.oauth_config() + "```",
        "**Kubernetes** (Zero to JupyterHub), for larger rooms or several rooms:",
        values,
    ])


def store_recommended(lessons: list, committed: Path = COMMITTED) -> None:
    """Write the recommended per-learner limits into the committed report: the hub test configures
    its hub with them, so the next measurement checks the sizes the guide gives."""
    if not committed.exists():
        return
    report = json.loads(committed.read_text(encoding="utf-8"))
    numbers = sizing(lessons, report)
    if numbers is None:
        return
    recommended = {"mem_limit_gib": numbers["mem_limit_gib"], "cpu_limit": numbers["cpu_limit"],
                   "mem_guarantee_gib": numbers["mem_guarantee_gib"]}
    if report.get("recommended") != recommended:
        report["recommended"] = recommended
        committed.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def committed_report(committed: Path = COMMITTED) -> dict | None:
    """The committed hub measurements (docs/hub_measurements.json), None before the first."""
    return json.loads(committed.read_text(encoding="utf-8")) if committed.exists() else None
