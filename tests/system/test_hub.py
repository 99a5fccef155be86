"""A room on a real JupyterHub: learners sign in, open the course's nbgitpuller link, run lessons and
exercises; the walls between them hold; the instructor's view shows where the room is stuck.

What runs, all on 127.0.0.1 and all stopped by the test however it ends (see "Stopping"):
- JupyterHub from its PyPI package, with configurable-http-proxy from npm (installed once into
  build/npm/chp; never a global install) and SimpleLocalProcessSpawner: each learner's Jupyter
  server is a local process whose home is a temporary folder;
- the room's configuration exactly as the instructor guide's recipes give it
  (course_room.config.room_config: the shared-password sign-in with a separate admin password,
  the instructor's view as a hub-managed service), its secrets in the hub's environment;
- the course as a git repository: a bare clone of this checkout named ``attention-course.git``,
  reached by a ``file://`` URL, as a hub reaches GitHub.

Each simulated learner (COURSE_HUB_LEARNERS, default 5, all at once) signs in through the hub's
form with the room password, gets a token, starts their server, opens the nbgitpuller link and
runs the start notebook and one lesson (COURSE_HUB_LESSON, default 01_similarity) cell by cell
through their own kernels, over the Jupyter server's REST API and the kernel websocket, as
JupyterLab does; then they try two exercises' checks (some right, some with a classic mistake).
Both kernels stay open until the end, as a learner keeps tabs open.

The walls (test_the_walls_between_learners_hold): a wrong password, a learner's token and cookie
against another learner's server, files and the hub's API, and the view's own token against
everything it must not do; every attempt and its HTTP status go to build/hub/walls.json.

The instructor's view (test_the_instructors_view_...): one learner stops their server; the view's
numbers must be the ones the learners' checks returned, only admins may open it (a learner gets
403), it never changes a learner's file, and a real browser (Debian's chromium) shows them
(build/screenshots/hub_instructor_view.png).

Limits. The hub's per-user limits are set from the committed measurements
(docs/hub_measurements.json): ``mem_limit`` and ``cpu_limit``. A local-process spawner enforces
neither: it only exports them to the learner's server as MEM_LIMIT and CPU_LIMIT. So the test
measures instead: it samples the resident memory of each learner's process tree (server and
kernels) and asserts the peak stays under ``mem_limit``; the course's thread rule reads
CPU_LIMIT, and the test asserts every kernel ran with ``floor(cpu_limit)`` torch threads.
The numbers go to build/hub/measurements.json; ``make guide`` copies them to
docs/hub_measurements.json and derives the instructor guide's sizing table from them.

Stopping. A run stopped from outside (a time limit's SIGTERM) once left the hub, the proxy, five
servers and five kernels running for 40 minutes. Now every process the hub test starts is
recorded by id (and start time, so a reused id is never hit) while it runs, and stopped by
``Reaper.stop_all``: in the fixture's ``finally``, in a SIGTERM handler (which then interrupts the
run), and at exit; the hub also gets SIGTERM if the test's process dies (PR_SET_PDEATHSIG), which
makes it stop its proxy and servers. test_a_terminated_hub_run_leaves_no_process proves it.
"""
from __future__ import annotations

import ast
import asyncio
import atexit
import contextlib
import ctypes
import hashlib
import json
import math
import os
import secrets
import shutil
import signal
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

from helpers.browser import REQUIRED, ROOT, free_port, log_tail, screenshot_path

sys.path.insert(0, str(ROOT))
from course_room import config as room_config  # noqa: E402  (the package, from this checkout)

LEARNERS = int(os.environ.get("COURSE_HUB_LEARNERS", 5))
LESSON = os.environ.get("COURSE_HUB_LESSON", "01_similarity")
START = "00_start_here"
# Fresh secrets for every run, as the guide asks for every workshop; they go to the hub's
# environment only (the configuration reads them there).
ROOM_PASSWORD = "room-" + secrets.token_hex(6)
ADMIN_PASSWORD = secrets.token_urlsafe(32)  # 43 characters: the authenticator wants 32 or more
INSTRUCTOR = "instructor"
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


SITE_CONFIG = """
c = get_config()  # noqa
# What differs from a workshop's hub: addresses on this machine, local-process servers whose
# homes are temporary folders, no HTTPS (nothing leaves 127.0.0.1).
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.public_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/jupyterhub_cookie_secret"
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
"""


def hub_config(tmp: Path, runtime: Path, limit: dict, ports: dict) -> str:
    """This machine's settings, then the room's, rendered by the code that renders the guide's."""
    # Kernels talk to their server over Unix sockets in the learner's home, not TCP ports: with
    # many kernels starting at once on one machine, a TCP port that jupyter_client picked can be
    # taken before the kernel binds it ("Address already in use"), and the kernel dies.
    server_args = ["--KernelManager.transport=ipc"]
    if os.getuid() == 0:
        server_args.append("--ServerApp.allow_root=True")
    site = SITE_CONFIG.format(
        port=ports["public"], hub_port=ports["hub"], proxy_api_port=ports["proxy_api"],
        proxy=str(proxy_command()), tmp=tmp, runtime=runtime,
        singleuser=str(Path(sys.executable).parent / "jupyterhub-singleuser"),
        server_args=server_args, mem_limit=f"{int(limit['mem_limit_gib'] * 1024)}M",
        cpu_limit=limit["cpu_limit"])
    return site + "\n" + room_config.room_config()


def hub_environment(view_port: int) -> dict:
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env.pop("OMP_NUM_THREADS", None)  # the hub's CPU_LIMIT is what the kernels should follow
    env.update({"COURSE_ROOM_PASSWORD": ROOM_PASSWORD, "COURSE_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "COURSE_INSTRUCTOR": INSTRUCTOR, room_config.FOLDER_VARIABLE: COURSE_DIR,
                room_config.URL_VARIABLE: f"http://127.0.0.1:{view_port}"})
    return env


# --- stopping everything the test started, however it ends ----------------------------------------

def still_alive(seen) -> list:
    """The processes of ``seen`` ({(pid, create_time)}) still running: the same pid with the same
    start time (a pid reused by another process does not count), and not a zombie."""
    import psutil

    alive = []
    for pid, created in seen:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
    return alive


def _die_with_parent():
    """preexec_fn of the hub: SIGTERM to it when the process that started it dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Reaper:
    """Every process of a hub run, recorded by (id, start time) while it runs: the hub, and every
    process below it (the proxy, the servers, the view, the kernels), stopped by ``stop_all``.

    A server started by the hub runs in its own session, and one whose hub died is re-parented,
    so neither a process group nor a walk of the tree at the end finds them all: the record does.
    """

    def __init__(self):
        import psutil

        self.psutil = psutil
        self.seen: set[tuple[int, float]] = set()  # (id, start time): an id can be reused
        self.roots: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def add_root(self, pid: int):
        self.roots.append(pid)
        self.record()
        if not self._thread.is_alive():
            self._thread.start()

    def record(self):
        psutil = self.psutil
        for root in self.roots:
            try:
                process = psutil.Process(root)
                found = [process, *process.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            with self._lock:
                for p in found:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        self.seen.add((p.pid, p.create_time()))

    def _watch(self):
        while not self._stop.wait(0.25):
            self.record()

    def alive(self) -> list:
        with self._lock:
            seen = set(self.seen)
        return still_alive(seen)

    def stop_all(self, grace: float = 15.0):
        """SIGTERM to every recorded process still alive, SIGKILL to what is left after ``grace``
        seconds. Safe to call twice."""
        psutil = self.psutil
        self.record()
        self._stop.set()
        processes = self.alive()
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        _, left = psutil.wait_procs(processes, timeout=grace)
        for process in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(left, timeout=grace)


@contextlib.contextmanager
def stopped_however_it_ends(reaper: Reaper):
    """Run the block with ``reaper.stop_all`` in its ``finally``, on SIGTERM and at exit."""
    previous = None

    def on_sigterm(signum, frame):
        reaper.stop_all()  # first, and here: the code the signal interrupts may be stuck
        raise KeyboardInterrupt("SIGTERM: every process of the hub run was stopped")

    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    atexit.register(reaper.stop_all)
    try:
        yield reaper
    finally:
        try:
            reaper.stop_all()
        finally:
            atexit.unregister(reaper.stop_all)
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def start_hub(tmp: Path, runtime: Path, limit: dict, reaper: Reaper):
    ports = {"public": free_port(), "hub": free_port(), "proxy_api": free_port(), "view": free_port()}
    config = tmp / "jupyterhub_config.py"
    config.write_text(hub_config(tmp, runtime, limit, ports), encoding="utf-8")
    log = tmp / "jupyterhub.log"
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
                                   cwd=tmp, env=hub_environment(ports["view"]), stdout=handle,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, preexec_fn=_die_with_parent)
    reaper.add_root(process.pid)
    base = f"http://127.0.0.1:{ports['public']}"
    deadline = time.monotonic() + 180
    while True:
        try:
            import urllib.request

            with urllib.request.urlopen(base + "/hub/api/", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"JupyterHub did not start:\n{log_tail(log)}")
        time.sleep(0.5)
    return process, base, log


def login_session(base: str, name: str, password: str):
    """A browser-like session signed in through the hub's form: (requests.Session, response of
    the form's POST, not followed: 302 when signed in, 403 when refused)."""
    import requests

    browser = requests.Session()
    browser.get(base + "/hub/login", timeout=60).raise_for_status()
    xsrf = next((c.value for c in browser.cookies if c.name == "_xsrf"), "")
    response = browser.post(base + "/hub/login", allow_redirects=False, timeout=300,
                            data={"username": name, "password": password, "_xsrf": xsrf})
    return browser, response


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


class Kernel:
    """A websocket to one kernel of a learner's server, as JupyterLab opens it."""

    def __init__(self, socket, user: str, label: str):
        self.socket, self.user, self.label = socket, user, label
        self.session = uuid.uuid4().hex

    @classmethod
    async def connect(cls, http: Http, ws_base: str, kernel: str, user: str, label: str):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        request = HTTPRequest(f"{ws_base}/api/kernels/{kernel}/channels",
                              headers={"Authorization": f"token {http.token}"},
                              connect_timeout=120, request_timeout=120)
        return cls(await websocket_connect(request), user, label)

    async def execute(self, code: str, user_expressions=None) -> tuple[dict, list, str]:
        """(the execute_reply's content, the errors raised, what the cell printed)."""
        msg_id = uuid.uuid4().hex
        await self.socket.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": self.user, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": user_expressions or {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        reply, errors, printed, idle = None, [], [], False
        deadline = time.monotonic() + CELL_TIMEOUT
        while reply is None or not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.user}: a cell of {self.label} did not finish in "
                                     f"{CELL_TIMEOUT:.0f} s")
            text = await asyncio.wait_for(self.socket.read_message(), remaining)
            if text is None:
                raise AssertionError(f"{self.user}: the kernel's websocket closed while running {self.label}")
            if isinstance(text, bytes):  # a binary frame (buffers of a widget message)
                continue
            msg = json.loads(text)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "stream":
                printed.append(msg["content"]["text"])
            elif kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return reply, errors, "".join(printed)

    def close(self):
        self.socket.close()


def expressions(reply: dict) -> dict:
    return {key: value.get("data", {}).get("text/plain") for key, value in
            reply.get("user_expressions", {}).items() if value.get("status") == "ok"}


async def run_notebook(http: Http, ws_base: str, path: str, user: str) -> dict:
    """Open ``path`` in a kernel of the learner's server and run its code cells in order.

    Returns {seconds, cells, errors, peak_mib, threads, kernel}. The kernel stays open."""
    model = await http.call("GET", f"/api/contents/{urllib.parse.quote(path)}?content=1")
    nb = nbformat.from_dict(model["content"])
    session = await http.call("POST", "/api/sessions", {"path": path, "type": "notebook",
                                                        "name": Path(path).name,
                                                        "kernel": {"name": "python3"}})
    kernel_id = session["kernel"]["id"]
    kernel = await Kernel.connect(http, ws_base, kernel_id, user, path)
    start = time.perf_counter()
    errors, cells = [], 0
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            reply, cell_errors, _ = await kernel.execute(cell.source)
            cells += 1
            if "NBVAL_RAISES_EXCEPTION" in cell.source:
                continue
            if cell_errors or reply.get("status") != "ok":
                errors.append(f"cell {index}: {cell_errors or reply.get('status')}")
        seconds = time.perf_counter() - start
        reply, _, _ = await kernel.execute("", user_expressions=PROBE)
    finally:
        kernel.close()
    found = expressions(reply)
    return {"notebook": path, "seconds": round(seconds, 1), "cells": cells, "errors": errors,
            "kernel_peak_mib": float(found["peak_mib"]) if "peak_mib" in found else None,
            "threads": int(found["threads"]) if "threads" in found else None,
            "kernel": kernel_id}


# --- the exercises the learners try: what learners write, right or with a classic mistake ----------

SOLUTIONS = {
    ("scaled_dot", "right"): "def scaled_dot(q, k):\n"
                             "    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])",
    # np.dot passes the 2-D cases and fails on the first batch: the lesson's classic mistake
    ("scaled_dot", "np.dot"): "def scaled_dot(q, k):\n"
                              "    return np.dot(q, np.swapaxes(k, -1, -2)) / np.sqrt(q.shape[-1])",
    ("scaled_dot", "divided by d"): "def scaled_dot(q, k):\n"
                                    "    return q @ np.swapaxes(k, -1, -2) / q.shape[-1]",
    ("cosine", "right"): "def cosine(q, k):\n"
                         "    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)\n"
                         "    return unit(q) @ np.swapaxes(unit(k), -1, -2)",
    ("cosine", "queries only"): "def cosine(q, k):\n"
                                "    return q / np.linalg.norm(q, axis=-1, keepdims=True) @ np.swapaxes(k, -1, -2)",
}
# Learner i tries PLAN[i % len(PLAN)], in this order; the learner marked "stop" then stops their
# server (their results must then not count, and the view must say the server is down).
PLAN = [
    {"try": [("scaled_dot", "right"), ("cosine", "right")]},
    {"try": [("scaled_dot", "np.dot"), ("cosine", "right")]},
    {"try": [("scaled_dot", "np.dot"), ("cosine", "queries only")]},
    {"try": [("scaled_dot", "right")], "stop": True},
    {"try": [("scaled_dot", "divided by d")]},
]


async def try_exercises(http: Http, ws_base: str, kernel_id: str, name: str, plan: dict) -> dict:
    """Run the plan's attempts in the learner's lesson kernel (its folder is the course's
    notebooks/, so the checks write the course's .course_progress.json, as in the exercises).
    Returns {check name: (passed, cases passed, cases total, hint)} as the checks returned them."""
    kernel = await Kernel.connect(http, ws_base, kernel_id, name, "the exercises")
    results = {}
    try:
        for check, variant in plan["try"]:
            code = ("import numpy as np\nfrom course_lib.checks import check\n"
                    + SOLUTIONS[(check, variant)] + f"\nresult = check({check!r}, {check})")
            reply, errors, printed = await kernel.execute(
                code, {"verdict": "(result.passed, result.cases_passed, result.cases_total, result.hint)"})
            assert not errors and reply.get("status") == "ok", (name, check, errors, printed)
            results[check] = tuple(ast.literal_eval(expressions(reply)["verdict"]))
    finally:
        kernel.close()
    return results


async def learner(index: int, name: str, base: str, repo: str, branch: str) -> dict:
    """One learner, from signing in to two notebooks run and the exercises tried."""
    start = time.perf_counter()
    browser, signed_in = await asyncio.to_thread(login_session, base, name, ROOM_PASSWORD)
    assert signed_in.status_code == 302, f"{name}: the room password was refused ({signed_in.status_code})"
    hub = Http(base)
    login = await hub.call("POST", f"/hub/api/users/{name}/tokens",
                           {"auth": {"username": name, "password": ROOM_PASSWORD},
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

    # The link the instructor shares, opened as a browser would: the hub sends the signed-in
    # learner to their own server, whose nbgitpuller page runs the pull (its script calls
    # git-pull/api, which streams the progress).
    query = urllib.parse.urlencode({"repo": repo, "branch": branch, "targetpath": COURSE_DIR,
                                    "urlpath": f"lab/tree/{COURSE_DIR}/notebooks/{START}.ipynb"})
    link = f"/hub/user-redirect/git-pull?{query}"
    events = await asyncio.to_thread(open_link, browser, base, name, link,
                                     f"/user/{name}/git-pull/api?{query}")
    assert events and events[-1].get("phase") == "finished", f"{name}: nbgitpuller said {events[-3:]}"
    pulled = time.perf_counter() - start

    ws_base = "ws" + base[len("http"):] + f"/user/{name}"
    runs = []
    for stem in (START, LESSON):
        runs.append(await run_notebook(me, ws_base, f"{COURSE_DIR}/notebooks/{stem}.ipynb", name))
    wall = time.perf_counter() - start
    plan = PLAN[index % len(PLAN)]
    verdicts = await try_exercises(me, ws_base, runs[-1]["kernel"], name, plan)
    return {"name": name, "server_start_seconds": round(started, 1),
            "pull_seconds": round(pulled - started, 1), "wall_seconds": round(wall, 1),
            "runs": runs, "verdicts": verdicts, "stops": bool(plan.get("stop")),
            "token": hub.token, "browser": browser}


def open_link(browser, base: str, name: str, link: str, api: str) -> list[dict]:
    """Follow ``link`` in the signed-in session to the learner's nbgitpuller page, then run the
    pull the page's script runs. Returns nbgitpuller's progress events."""
    page = browser.get(base + link, timeout=300)
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


# --- the room, once for the module's tests ---------------------------------------------------------

class RoomRun:
    """What the fixture ran: the hub's address, the learners' results, the measurements."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    if not shutil.which("git"):
        skip_or_fail("git is needed")
    tmp = tmp_path_factory.mktemp("hub")
    names = [f"learner{i + 1}" for i in range(LEARNERS)]
    limit = limits()
    repo, branch = course_remote(tmp)
    load = os.getloadavg()[0]
    runtime = Path(tempfile.mkdtemp(prefix="hub-"))  # short: see the config
    reaper = Reaper()
    results = []
    try:
        with stopped_however_it_ends(reaper):
            process, base, log = start_hub(tmp, runtime, limit, reaper)
            sampler = TreeSampler(process.pid)
            sampler.start()

            async def everyone():
                return await asyncio.gather(*(learner(i, n, base, repo, branch)
                                              for i, n in enumerate(names)), return_exceptions=True)

            started = time.perf_counter()
            results = asyncio.run(everyone())
            room_seconds = time.perf_counter() - started
            sampler.sample()
            sampler.stop.set()
            failures = [f"{n}: {r!r}" for n, r in zip(names, results) if isinstance(r, BaseException)]
            assert not failures, "\n".join(failures) + f"\n\nhub log:\n{log_tail(log)}"
            yield RoomRun(base=base, log=log, tmp=tmp, names=names, results=results, limit=limit,
                          sampler=sampler, room_seconds=room_seconds, load=load, reaper=reaper)
    finally:
        for result in results:
            if isinstance(result, dict):
                result["browser"].close()
        shutil.rmtree(runtime, ignore_errors=True)


def test_a_room_of_learners_runs_the_course_on_a_real_jupyterhub(room):
    limit, sampler = room.limit, room.sampler
    for result in room.results:
        for run in result["runs"]:
            assert run["cells"] > 0 and not run["errors"], (result["name"], run)
            # the course's thread rule read the hub's CPU_LIMIT (no cgroup enforces it here)
            assert run["threads"] == max(1, math.floor(limit["cpu_limit"])), (result["name"], run)
    mem_limit_mib = limit["mem_limit_gib"] * 1024
    users = []
    for result in room.results:
        name = result["name"]
        user = {key: result[key] for key in ("name", "server_start_seconds", "pull_seconds",
                                             "wall_seconds")}
        user["runs"] = [{k: v for k, v in run.items() if k != "kernel"} for run in result["runs"]]
        user["peak_mib"] = round(sampler.peak_mib.get(name, 0.0), 1)
        user["server_mib"] = round(sampler.server_mib.get(name, 0.0), 1)
        user["cpu_seconds"] = round(sum(sampler.cpu.get(name, {}).values()), 1)
        assert 0 < user["peak_mib"] < mem_limit_mib, \
            f"{name}: peak {user['peak_mib']} MiB against a limit of {mem_limit_mib:.0f} MiB"
        users.append(user)

    report = {
        "what": (f"{LEARNERS} simulated learners at once on one JupyterHub (SimpleLocalProcessSpawner), "
                 f"each runs {START} then {LESSON}, both kernels open"),
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(), "load_average_before": round(room.load, 2),
        "limits": {"mem_limit_gib": limit["mem_limit_gib"], "cpu_limit": limit["cpu_limit"],
                   "enforced": False},
        "notebooks": [START, LESSON], "learners": LEARNERS,
        "room_seconds": round(room.room_seconds, 1),
        "hub_and_proxy_mib": round(sampler.hub_mib, 1),  # with the services the hub started
        "services": [room_config.SERVICE],
        "users": users,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "measurements.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"{LEARNERS} learners in {room.room_seconds:.0f} s; per user peak "
          f"{max(u['peak_mib'] for u in users):.0f} MiB, wall "
          f"{max(u['wall_seconds'] for u in users):.0f} s; report in {OUT / 'measurements.json'}")


# --- the walls ---------------------------------------------------------------------------------

def view_token(reaper: Reaper) -> str:
    """The token the hub gave the instructor's view (read from its process, as an attacker who
    took over the view would hold it)."""
    for process in reaper.alive():
        with contextlib.suppress(Exception):
            if "course_room" in " ".join(process.cmdline()):
                return process.environ()["JUPYTERHUB_API_TOKEN"]
    raise AssertionError("the instructor's view (python -m course_room) is not running")


async def attempt(walls: list, who: str, what: str, http: Http, method: str, path: str,
                  expected: int, body=None) -> int:
    """Try one request; note (who, what, method, path, status, expected). Never follows redirects:
    a 302 to a login page is not a success either, and is noted as 302."""
    response = await http.call(method, path, body, expect=range(100, 600), follow_redirects=False,
                               raw=True)
    walls.append({"who": who, "what": what, "request": f"{method} {path}",
                  "status": response.code, "expected": expected})
    return response.code


def browser_status(session, url: str) -> int:
    """Status at the end of a browser's redirects (cookies only, as a tab would)."""
    return session.get(url, timeout=120).status_code


def test_the_walls_between_learners_hold(room):
    a, b = room.results[0], room.results[1]
    base, progress = room.base, f"{COURSE_DIR}/.course_progress.json"
    walls: list[dict] = []

    def note(who, what, request, status, expected):
        walls.append({"who": who, "what": what, "request": request, "status": status,
                      "expected": expected})

    # Signing in: the form and the token API, with wrong passwords and crossed ones.
    for who, name, password, what in [
            ("stranger", a["name"], "not-the-room-password", "a wrong password"),
            ("learner", INSTRUCTOR, ROOM_PASSWORD, "the instructor's name with the room password"),
            ("learner", "newcomer", ADMIN_PASSWORD[:-1], "the admin password, one character off"),
            ("learner", a["name"], ADMIN_PASSWORD, "a learner's name with the admin password")]:
        session, response = login_session(base, name, password)
        session.close()
        note(who, f"sign in through the form: {what}", f"POST /hub/login as {name}",
             response.status_code, 403)

    async def attacks():
        stranger = Http(base)
        await attempt(walls, "stranger", "a token for a learner with a wrong password", stranger,
                      "POST", f"/hub/api/users/{a['name']}/tokens", 403,
                      {"auth": {"username": a["name"], "password": "not-the-room-password"}})
        await attempt(walls, "stranger", "another learner's files without any credentials",
                      stranger, "GET", f"/user/{b['name']}/api/contents/{progress}", 403)

        hub = Http(base, a["token"])  # learner a's token, at the hub's API ...
        other = Http(f"{base}/user/{b['name']}", a["token"])  # ... and at learner b's server
        learner_attacks = [
            (hub, "list the hub's users", "GET", "/hub/api/users", 403, None),
            # the hub answers 404, not 403, for users a token may not see: it does not even say
            # whether they exist
            (hub, "read another learner's record", "GET", f"/hub/api/users/{b['name']}", 404, None),
            (hub, "stop another learner's server", "DELETE", f"/hub/api/users/{b['name']}/server", 404, None),
            (hub, "start another learner's server", "POST", f"/hub/api/users/{b['name']}/server", 404, None),
            (hub, "make a token for another learner", "POST", f"/hub/api/users/{b['name']}/tokens", 403, {}),
            (hub, "make oneself admin", "PATCH", f"/hub/api/users/{a['name']}", 403, {"admin": True}),
            (other, "list another learner's files (contents API)", "GET", "/api/contents/", 403, None),
            (other, "read another learner's progress file", "GET", f"/api/contents/{progress}", 403, None),
            (other, "write into another learner's course", "PUT", f"/api/contents/{COURSE_DIR}/x.txt",
             403, {"type": "file", "format": "text", "content": "x"}),
            (other, "list another learner's kernels", "GET", "/api/kernels", 403, None),
            (hub, "open the instructor's view with a token", "GET", "/services/course-room/api/room",
             403, None),
        ]
        # controls: the same requests on the learner's own server succeed (a 403 above is the
        # wall, not a malformed request)
        own = Http(f"{base}/user/{a['name']}", a["token"])
        learner_attacks += [
            (own, "(control) read one's own progress file", "GET", f"/api/contents/{progress}", 200, None),
            (own, "(control) list one's own kernels", "GET", "/api/kernels", 200, None),
        ]
        for http, what, method, path, expected, body in learner_attacks:
            await attempt(walls, "learner", what, http, method, path, expected, body)

        view = Http(base, view_token(room.reaper))
        target = b["name"]
        needed = [
            ("list the room's users (needed)", "GET", "/hub/api/users", 200, None),
            ("read a learner's progress file (needed)", "GET",
             f"/user/{target}/api/contents/{progress}?type=file&format=text&content=1", 200, None),
        ]
        forbidden = [
            ("start a learner's server", "POST", f"/hub/api/users/{target}/server", 403, None),
            ("stop a learner's server", "DELETE", f"/hub/api/users/{target}/server", 403, None),
            ("make a learner admin", "PATCH", f"/hub/api/users/{target}", 403, {"admin": True}),
            ("create a user", "POST", "/hub/api/users", 403, {"usernames": ["intruder"]}),
            ("delete a user", "DELETE", f"/hub/api/users/{target}", 403, None),
            ("make a token for a learner", "POST", f"/hub/api/users/{target}/tokens", 403, {}),
            ("read a learner's tokens", "GET", f"/hub/api/users/{target}/tokens", 403, None),
            ("read the proxy's routes", "GET", "/hub/api/proxy", 403, None),
            ("shut the hub down", "POST", "/hub/api/shutdown", 403, None),
        ]
        for what, method, path, expected, body in needed + forbidden:
            await attempt(walls, "the view's token", what, view, method, path, expected, body)
        listing = await view.call("GET", "/hub/api/users")
        return listing

    listing = asyncio.run(attacks())
    # Through the proxy with the learner's cookies, as a browser tab: the other learner's
    # JupyterLab and the instructor's view.
    for what, path in [("open another learner's JupyterLab (cookies)", f"/user/{b['name']}/lab"),
                       ("open another learner's file (cookies)",
                        f"/user/{b['name']}/files/{COURSE_DIR}/notebooks/{START}.ipynb"),
                       ("open the instructor's view (cookies)", "/services/course-room/"),
                       ("(control) open one's own JupyterLab (cookies)", f"/user/{a['name']}/lab")]:
        expected = 200 if what.startswith("(control)") else 403
        note("learner", what, f"GET {path}", browser_status(a["browser"], base + path), expected)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "walls.json").write_text(json.dumps(walls, indent=1), encoding="utf-8")
    broken = [w for w in walls if w["status"] != w["expected"]]
    assert not broken, "walls that did not hold as expected:\n" + "\n".join(map(str, broken))
    assert {u["name"] for u in listing} >= set(room.names), "the view sees the whole room"
    # read:users:name gives kind, name, admin and user_info; read:servers the servers; nothing
    # else (no activity, roles, groups, tokens or auth state)
    assert all(set(u) <= {"kind", "name", "admin", "user_info", "servers"} for u in listing), \
        f"the view's token reads more than names and servers: {sorted(set().union(*listing))}"


# --- the instructor's view ---------------------------------------------------------------------

def expected_view(results: list) -> tuple[list, set]:
    """The table the view must show, from what the learners' checks returned (not assumed):
    rows {name, tried, passed, failed, common_stop, common_stop_count, common_hint, ...} of the
    learners whose server runs, and the names whose server is down."""
    rows, stops, hints = {}, {}, {}
    for result in results:
        if result["stops"]:
            continue
        for check, (passed, done, total, hint) in result["verdicts"].items():
            row = rows.setdefault(check, {"name": check, "tried": 0, "passed": 0, "failed": 0})
            row["tried"] += 1
            row["passed" if passed else "failed"] += 1
            if not passed:
                stops.setdefault(check, {}).setdefault((done, total), []).append(result["name"])
                hints.setdefault(check, {}).setdefault(hint[:300], []).append(result["name"])
    for check, row in rows.items():
        if check in stops:
            (done, total), who = min(stops[check].items(), key=lambda s: (-len(s[1]), s[0]))
            row.update(common_stop=f"case {done + 1} of {total}", common_stop_count=len(who),
                       common_stop_by=sorted(who))
        else:
            row.update(common_stop=None, common_stop_count=0, common_stop_by=[])
        if check in hints:
            hint, who = min(hints[check].items(), key=lambda h: (-len(h[1]), sorted(h[1])))
            row.update(common_hint=hint, common_hint_count=len(who), common_hint_by=sorted(who))
        else:
            row.update(common_hint=None, common_hint_count=0, common_hint_by=[])
    return sorted(rows.values(), key=lambda r: r["name"]), {r["name"] for r in results if r["stops"]}


def progress_files(room) -> dict:
    """{learner: (sha256, mtime_ns)} of each learner's progress file, on disk."""
    found = {}
    for name in room.names:
        path = room.tmp / "homes" / name / COURSE_DIR / ".course_progress.json"
        if path.exists():
            found[name] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def instructor(room):
    """The instructor, signed in with the admin password, with the learners' planned servers
    stopped; returns (requests session, API token, the view's last JSON)."""
    session, response = login_session(room.base, INSTRUCTOR, ADMIN_PASSWORD)
    assert response.status_code == 302, f"the admin password was refused ({response.status_code})"

    async def prepare():
        hub = Http(room.base)
        login = await hub.call("POST", f"/hub/api/users/{INSTRUCTOR}/tokens",
                               {"auth": {"username": INSTRUCTOR, "password": ADMIN_PASSWORD},
                                "note": "the instructor", "expires_in": 3600})
        for result in room.results:
            if result["stops"]:  # the learner stops their own server (File > Hub Control Panel)
                await Http(room.base, result["token"]).call(
                    "DELETE", f"/hub/api/users/{result['name']}/server")
        return login["token"]

    token = asyncio.run(prepare())
    try:
        yield session, token
    finally:
        session.close()


def view_snapshot(base: str, token: str) -> dict:
    return asyncio.run(Http(base, token).call("GET", "/services/course-room/api/room"))


def test_the_instructors_view_counts_the_rooms_true_results(room, instructor):
    session, token = instructor
    rows, down = expected_view(room.results)
    assert any(r["failed"] for r in rows) and any(r["passed"] for r in rows), \
        f"the plan must give passes and failures: {rows}"
    before = progress_files(room)
    assert set(before) == set(room.names), f"every learner's checks wrote their file: {sorted(before)}"

    keys = ("name", "tried", "passed", "failed", "common_stop", "common_stop_count", "common_stop_by",
            "common_hint", "common_hint_count", "common_hint_by")
    deadline, updates, snapshot = time.monotonic() + 180, set(), None
    while time.monotonic() < deadline:  # the stopped servers' state reaches the hub, then the view
        snapshot = view_snapshot(room.base, token)
        updates.add(snapshot["updated"])
        got = sorted(({k: e[k] for k in keys} for e in snapshot["exercises"]), key=lambda r: r["name"])
        shown_down = {l["name"] for l in snapshot["learners"] if l["server"] == "down"}
        if got == rows and shown_down == down and len(updates) >= 2:
            break
        time.sleep(1)
    assert got == rows, f"the view shows {got}\nthe learners' checks returned {rows}"
    assert shown_down == down, f"servers shown down: {shown_down}, stopped: {down}"
    counted = {l["name"] for l in snapshot["learners"] if l["counted"]}
    assert counted == set(room.names) - down
    assert INSTRUCTOR not in {l["name"] for l in snapshot["learners"]}
    assert len(updates) >= 2, "the view refreshed while it was watched"
    assert progress_files(room) == before, "the view changed a learner's progress file"
    (OUT / "view.json").write_text(json.dumps(snapshot, indent=1), encoding="utf-8")


def test_the_instructors_view_shows_the_room_in_a_browser(room, instructor):
    from helpers.browser import chromium_page

    rows, down = expected_view(room.results)
    with chromium_page(width=1100, height=900) as page:
        # the instructor signs in and goes straight to the view (not to their own server)
        page.goto(room.base + "/hub/login?next=" + urllib.parse.quote("/services/course-room/"))
        page.fill("#username_input", INSTRUCTOR)
        page.fill("#password_input", ADMIN_PASSWORD)
        page.click("#login_submit")
        page.wait_for_selector("table.room")
        first = page.inner_text(".summary")
        # it refreshes on its own: the summary's time changes without a reload
        page.wait_for_function("t => document.querySelector('.summary').innerText !== t", arg=first,
                               timeout=120_000)
        shown = [[cell.inner_text().strip() for cell in row.query_selector_all("td")]
                 for row in page.query_selector_all("table.room tbody tr")]
        learners = {li.query_selector("b").inner_text(): li.get_attribute("class")
                    for li in page.query_selector_all("li.learner")}
        page.screenshot(path=str(screenshot_path("hub_instructor_view.png")), full_page=True)
    table = sorted(shown, key=lambda cells: cells[0])
    assert [cells[0] for cells in table] == [r["name"] for r in rows]
    for cells, row in zip(table, rows):
        assert cells[1:4] == [str(row["tried"]), str(row["passed"]), str(row["failed"])], (cells, row)
        if row["common_stop"]:
            assert cells[5].startswith(f"{row['common_stop']}: {row['common_stop_count']} of "
                                       f"{row['failed']}"), (cells, row)
            assert cells[5].endswith(f"({', '.join(row['common_stop_by'])})"), (cells, row)
        else:
            assert cells[5] == "–", (cells, row)
        if row["common_hint"]:  # the hint the learners read, word for word
            assert row["common_hint"] in cells[6], (cells, row)
            assert f": {row['common_hint_count']} of {row['failed']} failure" in cells[6], (cells, row)
            assert cells[6].endswith(f"({', '.join(row['common_hint_by'])})"), (cells, row)
        else:
            assert cells[6] == "–", (cells, row)
    assert {name for name, cls in learners.items() if "down" in cls.split()} == down
    assert set(learners) == set(room.names)


# --- stopping: a run terminated from outside leaves nothing behind ------------------------------

async def one_learner_with_a_kernel(base: str, name: str):
    """Sign in, start the server, start a kernel: one of each kind of process a room runs."""
    _, response = await asyncio.to_thread(login_session, base, name, ROOM_PASSWORD)
    assert response.status_code == 302, response.status_code
    hub = Http(base)
    login = await hub.call("POST", f"/hub/api/users/{name}/tokens",
                           {"auth": {"username": name, "password": ROOM_PASSWORD}})
    hub.token = login["token"]
    await hub.call("POST", f"/hub/api/users/{name}/server")
    deadline = time.monotonic() + 300
    while not (await hub.call("GET", f"/hub/api/users/{name}"))["servers"].get("", {}).get("ready"):
        assert time.monotonic() < deadline, f"{name}: the server did not start within 300 s"
        await asyncio.sleep(1)
    await Http(f"{base}/user/{name}", hub.token).call("POST", "/api/kernels", {"name": "python3"})


CHILD = """
import asyncio, json, sys, tempfile, time
from pathlib import Path
sys.path[:0] = [sys.argv[1], str(Path(sys.argv[1]).parent)]  # test_hub; tests/ for helpers/
import test_hub as t
tmp = Path(sys.argv[2])
reaper = t.Reaper()
with t.stopped_however_it_ends(reaper):
    process, base, log = t.start_hub(tmp, Path(tempfile.mkdtemp(prefix="hub-")), t.limits(), reaper)
    asyncio.run(t.one_learner_with_a_kernel(base, "learner1"))
    time.sleep(2)  # the reaper's watch sees the kernel
    reaper.record()
    (tmp / "pids.json").write_text(json.dumps(sorted(reaper.seen)))
    print("READY", flush=True)
    while True:
        time.sleep(1)
"""


def test_a_terminated_hub_run_leaves_no_process(tmp_path):
    """A hub run stopped by SIGTERM (a time limit) stops every process it started, by id."""
    import psutil

    proxy_command()  # installs it now (or skips), not inside the child
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(Path(__file__).parent), str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    started: set = set()
    try:
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 600
        while not any("READY" in line for line in lines):
            assert child.poll() is None, "the hub run ended early:\n" + "".join(lines)[-4000:]
            assert time.monotonic() < deadline, "the hub run did not get ready:\n" + "".join(lines)[-4000:]
            time.sleep(0.5)
        started = {(int(pid), created) for pid, created in
                   json.loads((tmp_path / "pids.json").read_text())}
        commands = []
        for pid, _ in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                commands.append(" ".join(psutil.Process(pid).cmdline()))
        for kind in ("jupyterhub", "configurable-http-proxy", "jupyterhub-singleuser",
                     "ipykernel", "course_room"):
            assert any(kind in c for c in commands), f"no {kind} process among {commands}"

        child.send_signal(signal.SIGTERM)
        child.wait(timeout=300)

        def survivors():
            return still_alive(started)

        deadline = time.monotonic() + 60  # processes a SIGKILL reached may take a moment to go
        while survivors() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = [f"{p.pid} {' '.join(p.cmdline())}" for p in survivors()]
        assert not left, "processes the hub run started survived its SIGTERM:\n" + "\n".join(left)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid, created in started:  # never leave them, even when the test fails
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                if process.create_time() == created:
                    process.kill()
