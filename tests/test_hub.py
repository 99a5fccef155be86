"""A room on a real JupyterHub: learners log in, open the course's nbgitpuller link and run lessons.

What runs, all on 127.0.0.1 and all stopped by the test (on failure too):
- JupyterHub from its PyPI package, with configurable-http-proxy from npm (installed once into
  build/npm/chp; never a global install), a dummy authenticator (one shared password) and
  SimpleLocalProcessSpawner: each learner's Jupyter server is a local process whose home is a
  temporary folder;
- the course as a git repository: a bare clone of this checkout named ``attention-course.git``,
  reached by a ``file://`` URL, as a hub reaches GitHub.

Each simulated learner (COURSE_HUB_LEARNERS, default 5, all at once) logs in through the REST API
(a token for username + password), starts their server, opens the nbgitpuller link (the hub's
``user-redirect`` link, then the pull its page runs), and runs the start notebook and one lesson
(COURSE_HUB_LESSON, default 01_similarity) cell by cell through their own kernels, over the
Jupyter server's REST API and the kernel websocket, as JupyterLab does. Both kernels stay open
until the end, as a learner keeps tabs open.

Limits. The hub's per-user limits are set from the committed measurements
(docs/hub_measurements.json): ``mem_limit`` and ``cpu_limit``. A local-process spawner enforces
neither: it only exports them to the learner's server as MEM_LIMIT and CPU_LIMIT. So the test
measures instead: it samples the resident memory of each learner's process tree (server and
kernels) and asserts the peak stays under ``mem_limit``; the course's thread rule reads
CPU_LIMIT, and the test asserts every kernel ran with ``floor(cpu_limit)`` torch threads.

The numbers go to build/hub/measurements.json; ``make guide`` copies them to
docs/hub_measurements.json and derives the instructor guide's sizing table from them.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import nbformat
import pytest

from _browser import REQUIRED, ROOT, free_port, log_tail, stop_process_tree

LEARNERS = int(os.environ.get("COURSE_HUB_LEARNERS", 5))
LESSON = os.environ.get("COURSE_HUB_LESSON", "01_similarity")
START = "00_start_here"
PASSWORD = "workshop-" + uuid.uuid4().hex[:8]
COURSE_DIR = "attention-course"  # where the link puts the course in each learner's home
OUT = Path(os.environ.get("COURSE_HUB_OUT", ROOT / "build" / "hub"))
COMMITTED = ROOT / "docs" / "hub_measurements.json"
CELL_TIMEOUT = 600.0
# Peak memory of the learner's process tree and threads, read in the kernel after a notebook ran.
PROBE = {
    "peak_mib": "(lambda r: round(r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024, 1))"
                "(__import__('resource'))",
    "threads": "__import__('torch').get_num_threads()",
}


def skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(f"the hub test is required (COURSE_REQUIRE_BROWSER=1) but: {reason}")
    pytest.skip(reason)


# --- set-up: the proxy, the course repository, the hub --------------------------------------------

def proxy_command() -> Path:
    """configurable-http-proxy from npm, installed once under build/npm/chp (a local folder)."""
    folder = ROOT / "build" / "npm" / "chp"
    binary = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    if binary.exists():
        return binary
    npm, node = shutil.which("npm"), shutil.which("node")
    if not (npm and node):
        skip_or_fail("node and npm are needed for configurable-http-proxy (apt-get install nodejs npm)")
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                             "--loglevel=error", "configurable-http-proxy@5"],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not binary.exists():
        skip_or_fail(f"npm could not install configurable-http-proxy:\n{result.stderr[-2000:]}")
    return binary


def course_remote(tmp: Path) -> tuple[str, str]:
    """A bare clone of this checkout's HEAD, as the hub would see GitHub. Returns (url, branch)."""
    bare = tmp / "remote" / f"{COURSE_DIR}.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(bare)], check=True,
                   capture_output=True, timeout=300)
    branch = subprocess.run(["git", "-C", str(bare), "symbolic-ref", "--short", "HEAD"],
                            check=True, capture_output=True, text=True).stdout.strip()
    return bare.as_uri(), branch


def limits() -> dict:
    """The per-user limits to configure, from the last committed measurements (see make guide)."""
    if COMMITTED.exists():
        recommended = json.loads(COMMITTED.read_text(encoding="utf-8")).get("recommended", {})
        if recommended.get("mem_limit_gib") and recommended.get("cpu_limit"):
            return {"mem_limit_gib": recommended["mem_limit_gib"], "cpu_limit": recommended["cpu_limit"]}
    return {"mem_limit_gib": 2.0, "cpu_limit": 1.0}


HUB_CONFIG = """
import sys
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/jupyterhub_cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({learners!r})
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{tmp}/homes/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {server_args!r}
c.Spawner.default_url = "/lab"
# Kernel sockets (IPC, below) live in the runtime folder; a Unix socket's path must stay under
# 108 bytes, which a home deep in pytest's temporary folder would exceed.
c.Spawner.environment = {{"JUPYTER_RUNTIME_DIR": lambda spawner: "{runtime}/" + spawner.user.name}}
c.Spawner.mem_limit = "{mem_limit}"
c.Spawner.cpu_limit = {cpu_limit}
# Five servers starting at once on two busy cores take longer than the defaults allow.
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.JupyterHub.services = [{{"name": "course-test", "api_token": {admin_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test", "services": ["course-test"],
                            "scopes": ["admin:users", "admin:servers", "list:users"]}}]
"""


def start_hub(tmp: Path, runtime: Path, learners: list[str], limit: dict, admin_token: str):
    port, hub_port, api_port = free_port(), free_port(), free_port()
    # Kernels talk to their server over Unix sockets in the learner's home, not TCP ports: with
    # many kernels starting at once on one machine, a TCP port that jupyter_client picked can be
    # taken before the kernel binds it ("Address already in use"), and the kernel dies.
    server_args = ["--KernelManager.transport=ipc"]
    if os.getuid() == 0:
        server_args.append("--ServerApp.allow_root=True")
    config = tmp / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(
        port=port, hub_port=hub_port, proxy_api_port=api_port, proxy=str(proxy_command()),
        tmp=tmp, runtime=runtime, password=PASSWORD, learners=learners,
        singleuser=str(Path(sys.executable).parent / "jupyterhub-singleuser"),
        server_args=server_args, mem_limit=f"{int(limit['mem_limit_gib'] * 1024)}M",
        cpu_limit=limit["cpu_limit"], admin_token=admin_token), encoding="utf-8")
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env.pop("OMP_NUM_THREADS", None)  # the hub's CPU_LIMIT is what the kernels should follow
    log = tmp / "jupyterhub.log"
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
                                   cwd=tmp, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return process, f"http://127.0.0.1:{port}", log


# --- talking to the hub and to a learner's server -------------------------------------------------

class Http:
    """Minimal async JSON-over-HTTP client (tornado, which Jupyter already depends on)."""

    def __init__(self, base: str, token: str | None = None):
        from tornado.httpclient import AsyncHTTPClient

        self.base, self.token = base, token
        self.client = AsyncHTTPClient(force_instance=True, defaults={"request_timeout": 300,
                                                                          "connect_timeout": 120})

    async def call(self, method: str, path: str, body=None, expect=(200, 201, 202, 204),
                   follow_redirects=True, raw=False):
        from tornado.httpclient import HTTPClientError

        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        data = None if body is None else json.dumps(body)
        if method in ("POST", "PUT", "PATCH") and data is None:
            data = ""
        try:
            response = await self.client.fetch(self.base + path, method=method, body=data,
                                               headers=headers, follow_redirects=follow_redirects,
                                               allow_nonstandard_methods=True)
        except HTTPClientError as error:
            response = error.response
            if response is None or response.code not in expect:
                detail = response.body.decode(errors="replace")[:500] if response is not None else ""
                raise AssertionError(f"{method} {path}: {error} {detail}") from None
        if response.code not in expect:
            raise AssertionError(f"{method} {path}: HTTP {response.code}")
        if raw:
            return response
        return json.loads(response.body) if response.body else None


async def run_notebook(http: Http, ws_base: str, path: str, user: str) -> dict:
    """Open ``path`` in a kernel of the learner's server and run its code cells in order.

    Returns {seconds, cells, errors, peak_mib, threads, kernel}. The kernel stays open."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    model = await http.call("GET", f"/api/contents/{urllib.parse.quote(path)}?content=1")
    nb = nbformat.from_dict(model["content"])
    session = await http.call("POST", "/api/sessions", {"path": path, "type": "notebook",
                                                        "name": Path(path).name,
                                                        "kernel": {"name": "python3"}})
    kernel = session["kernel"]["id"]
    request = HTTPRequest(f"{ws_base}/api/kernels/{kernel}/channels",
                          headers={"Authorization": f"token {http.token}"},
                          connect_timeout=120, request_timeout=120)
    socket = await websocket_connect(request)
    session_id = uuid.uuid4().hex

    async def execute(code: str, user_expressions=None) -> tuple[dict, list]:
        msg_id = uuid.uuid4().hex
        await socket.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session_id,
                       "username": user, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": user_expressions or {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        reply, errors, idle = None, [], False
        deadline = time.monotonic() + CELL_TIMEOUT
        while reply is None or not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{user}: a cell of {path} did not finish in {CELL_TIMEOUT:.0f} s")
            text = await asyncio.wait_for(socket.read_message(), remaining)
            if text is None:
                raise AssertionError(f"{user}: the kernel's websocket closed while running {path}")
            if isinstance(text, bytes):  # a binary frame (buffers of a widget message)
                continue
            msg = json.loads(text)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return reply, errors

    start = time.perf_counter()
    errors, cells = [], 0
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            reply, cell_errors = await execute(cell.source)
            cells += 1
            if "NBVAL_RAISES_EXCEPTION" in cell.source:
                continue
            if cell_errors or reply.get("status") != "ok":
                errors.append(f"cell {index}: {cell_errors or reply.get('status')}")
        seconds = time.perf_counter() - start
        reply, _ = await execute("", user_expressions=PROBE)
    finally:
        socket.close()
    found = {key: value.get("data", {}).get("text/plain") for key, value in
             reply.get("user_expressions", {}).items() if value.get("status") == "ok"}
    return {"notebook": path, "seconds": round(seconds, 1), "cells": cells, "errors": errors,
            "kernel_peak_mib": float(found["peak_mib"]) if "peak_mib" in found else None,
            "threads": int(found["threads"]) if "threads" in found else None}


async def learner(name: str, base: str, repo: str, branch: str) -> dict:
    """One learner, from logging in to two notebooks run."""
    start = time.perf_counter()
    hub = Http(base)
    login = await hub.call("POST", f"/hub/api/users/{name}/tokens",
                           {"auth": {"username": name, "password": PASSWORD},
                            "note": "workshop test", "expires_in": 3600})
    hub.token = login["token"]
    await hub.call("POST", f"/hub/api/users/{name}/server")
    deadline = time.monotonic() + 300
    while True:
        user = await hub.call("GET", f"/hub/api/users/{name}")
        server = user.get("servers", {}).get("", {})
        if server.get("ready"):
            break
        assert time.monotonic() < deadline, f"{name}: the server did not start within 300 s"
        await asyncio.sleep(1)
    started = time.perf_counter() - start
    me = Http(f"{base}/user/{name}", hub.token)

    # The link the instructor shares, opened as a browser would: the hub's login form, then the
    # hub sends the learner to their own server, whose nbgitpuller page runs the pull (its script
    # calls git-pull/api, which streams the progress).
    query = urllib.parse.urlencode({"repo": repo, "branch": branch, "targetpath": COURSE_DIR,
                                    "urlpath": f"lab/tree/{COURSE_DIR}/notebooks/{START}.ipynb"})
    link = f"/hub/user-redirect/git-pull?{query}"
    events = await asyncio.to_thread(open_link, base, name, link, f"/user/{name}/git-pull/api?{query}")
    assert events and events[-1].get("phase") == "finished", f"{name}: nbgitpuller said {events[-3:]}"
    pulled = time.perf_counter() - start

    ws_base = "ws" + base[len("http"):] + f"/user/{name}"
    runs = []
    for stem in (START, LESSON):
        runs.append(await run_notebook(me, ws_base, f"{COURSE_DIR}/notebooks/{stem}.ipynb", name))
    return {"name": name, "server_start_seconds": round(started, 1),
            "pull_seconds": round(pulled - started, 1),
            "wall_seconds": round(time.perf_counter() - start, 1), "runs": runs}


def open_link(base: str, name: str, link: str, api: str) -> list[dict]:
    """Log in through the hub's form, follow ``link`` to the learner's nbgitpuller page, then run
    the pull the page's script runs. Returns nbgitpuller's progress events."""
    import requests

    with requests.Session() as browser:
        browser.get(base + "/hub/login", timeout=60).raise_for_status()
        xsrf = next((c.value for c in browser.cookies if c.name == "_xsrf"), "")
        page = browser.post(f"{base}/hub/login?next={urllib.parse.quote(link)}", timeout=300,
                            data={"username": name, "password": PASSWORD, "_xsrf": xsrf})
        page.raise_for_status()
        assert page.url.startswith(f"{base}/user/{name}/git-pull?"), page.url
        assert f"{COURSE_DIR}/notebooks/{START}.ipynb" in page.text, "the page opens the start notebook"
        stream = browser.get(base + api, timeout=600)
        stream.raise_for_status()
    return [json.loads(line[len("data:"):]) for line in stream.text.splitlines()
            if line.startswith("data:")]


# --- measuring what the learners' processes hold -------------------------------------------------

class TreeSampler(threading.Thread):
    """Samples, every half second, the resident memory and CPU time of each learner's processes
    (their Jupyter server and its kernels, found under the hub by JUPYTERHUB_USER)."""

    def __init__(self, hub_pid: int):
        super().__init__(daemon=True)
        import psutil

        self.psutil, self.hub = psutil, psutil.Process(hub_pid)
        self.peak_mib: dict[str, float] = {}
        self.server_mib: dict[str, float] = {}
        self.cpu: dict[str, dict[int, float]] = {}
        self.hub_mib = 0.0
        self.stop = threading.Event()

    def sample(self):
        psutil = self.psutil
        totals: dict[str, float] = {}
        try:
            children = self.hub.children(recursive=True)
            hub_rss = self.hub.memory_info().rss
        except psutil.NoSuchProcess:
            return
        for process in children:
            try:
                user = process.environ().get("JUPYTERHUB_USER")
                if not user:  # the proxy
                    hub_rss += process.memory_info().rss
                    continue
                info = process.memory_info().rss / 2**20
                times = process.cpu_times()
                self.cpu.setdefault(user, {})[process.pid] = times.user + times.system
                totals[user] = totals.get(user, 0.0) + info
                if "singleuser" in " ".join(process.cmdline()):
                    self.server_mib[user] = max(self.server_mib.get(user, 0.0), info)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for user, mib in totals.items():
            self.peak_mib[user] = max(self.peak_mib.get(user, 0.0), mib)
        self.hub_mib = max(self.hub_mib, hub_rss / 2**20)

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.5)


async def stop_servers(base: str, token: str, names: list[str]):
    admin = Http(base, token)
    for name in names:
        try:
            await admin.call("DELETE", f"/hub/api/users/{name}/server", expect=(202, 204, 400, 404))
        except Exception:  # the hub's own shutdown stops them too; this is the polite way first
            pass


def test_a_room_of_learners_runs_the_course_on_a_real_jupyterhub(tmp_path):
    if not shutil.which("git"):
        skip_or_fail("git is needed")
    names = [f"learner{i + 1}" for i in range(LEARNERS)]
    limit = limits()
    repo, branch = course_remote(tmp_path)
    admin_token = uuid.uuid4().hex
    load = os.getloadavg()[0]
    runtime = Path(tempfile.mkdtemp(prefix="hub-"))  # short: see the config
    process, base, log = start_hub(tmp_path, runtime, names, limit, admin_token)
    sampler = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                import urllib.request

                with urllib.request.urlopen(base + "/hub/api/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterHub did not start:\n{log_tail(log)}")
            time.sleep(0.5)
        sampler = TreeSampler(process.pid)
        sampler.start()

        async def room():
            return await asyncio.gather(*(learner(n, base, repo, branch) for n in names),
                                        return_exceptions=True)

        started = time.perf_counter()
        results = asyncio.run(room())
        room_seconds = time.perf_counter() - started
        sampler.sample()
        failures = [f"{n}: {r!r}" for n, r in zip(names, results) if isinstance(r, BaseException)]
        assert not failures, "\n".join(failures) + f"\n\nhub log:\n{log_tail(log)}"
    finally:
        if sampler:
            sampler.stop.set()
        try:
            asyncio.run(stop_servers(base, admin_token, names))
        finally:
            stop_process_tree(process)
            shutil.rmtree(runtime, ignore_errors=True)

    for result in results:
        for run in result["runs"]:
            assert run["cells"] > 0 and not run["errors"], (result["name"], run)
            # the course's thread rule read the hub's CPU_LIMIT (no cgroup enforces it here)
            assert run["threads"] == max(1, math.floor(limit["cpu_limit"])), (result["name"], run)
    mem_limit_mib = limit["mem_limit_gib"] * 1024
    users = []
    for result in results:
        name = result["name"]
        result["peak_mib"] = round(sampler.peak_mib.get(name, 0.0), 1)
        result["server_mib"] = round(sampler.server_mib.get(name, 0.0), 1)
        result["cpu_seconds"] = round(sum(sampler.cpu.get(name, {}).values()), 1)
        assert 0 < result["peak_mib"] < mem_limit_mib, \
            f"{name}: peak {result['peak_mib']} MiB against a limit of {mem_limit_mib:.0f} MiB"
        users.append(result)

    report = {
        "what": (f"{LEARNERS} simulated learners at once on one JupyterHub (SimpleLocalProcessSpawner), "
                 f"each runs {START} then {LESSON}, both kernels open"),
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(), "load_average_before": round(load, 2),
        "limits": {"mem_limit_gib": limit["mem_limit_gib"], "cpu_limit": limit["cpu_limit"],
                   "enforced": False},
        "notebooks": [START, LESSON], "learners": LEARNERS,
        "room_seconds": round(room_seconds, 1),
        "hub_and_proxy_mib": round(sampler.hub_mib, 1),
        "users": users,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "measurements.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"{LEARNERS} learners in {room_seconds:.0f} s; per user peak "
          f"{max(u['peak_mib'] for u in users):.0f} MiB, wall "
          f"{max(u['wall_seconds'] for u in users):.0f} s; report in {OUT / 'measurements.json'}")
