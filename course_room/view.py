"""The instructor's view of the room: a JupyterHub service that only admins can open.

Started by the hub (``python -m course_room``, see course_room.config), it reads, when its page
asks and at most every few seconds, each learner's ``.course_progress.json`` through the hub:

1. the hub's REST API (``GET /hub/api/users``, scopes list:users and read:servers): who is in the
   room and whose server is running;
2. each running server's contents API (``GET /user/NAME/api/contents/FOLDER/.course_progress.json``,
   scope access:servers), through the hub's proxy as a browser would.

It sends only GET requests: it never writes to a learner's files. The page refreshes on its own and
shows, exercise by exercise, how many learners tried, passed and failed, and the case where most
failures stop (course_room.table); learners whose server is down are listed as such.

Who may open it: JupyterHub's OAuth with the service's default access scope
(``access:services!service=course-room``), which admins have and learners do not (a learner gets
403).
"""
from __future__ import annotations

import asyncio
import html
import json
import os
import secrets
import time
import urllib.parse
from dataclasses import dataclass

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError

from .table import tally, valid_entry

PROGRESS_FILE = ".course_progress.json"  # course_lib.checks.progress.FILE_NAME (not imported: no torch here)
MAX_PROGRESS_BYTES = 256 * 1024  # a real file is a few KiB; a learner's home can hold anything
REFRESH_SECONDS = float(os.environ.get("COURSE_ROOM_REFRESH", 10))
CONCURRENT_READS = 8
REQUEST_TIMEOUT = 15.0


@dataclass
class Learner:
    """What the view knows of one learner at the last refresh."""

    name: str
    server: str  # "running", "down" or "starting"
    progress: dict | None = None
    problem: str = ""  # why the progress could not be read ("" if it was, or there is none yet)


class Room:
    """Reads the room through the hub; ``snapshot()`` is what the page and api/room show."""

    def __init__(self, api_url: str, token: str, servers_origin: str, folder: str,
                 refresh_seconds: float = REFRESH_SECONDS):
        if not api_url or not token:
            raise ValueError("the hub's API URL and the service's token are needed "
                             "(JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN: start the view from the hub)")
        if not servers_origin.startswith(("http://", "https://")):
            raise ValueError(f"servers_origin must be the hub's public http(s) origin, got "
                             f"{servers_origin!r}: set c.JupyterHub.public_url")
        if not folder or folder.startswith("/") or ".." in folder.split("/"):
            raise ValueError(f"folder must be the course's folder relative to a learner's home "
                             f"(the nbgitpuller link's targetpath), got {folder!r}")
        self.api_url, self.token = api_url.rstrip("/"), token
        self.origin, self.folder = servers_origin.rstrip("/"), folder.strip("/")
        self.refresh_seconds = refresh_seconds
        self.learners: list[Learner] = []
        self.updated = 0.0  # time.time() of the last refresh
        self.error = ""  # why the last refresh failed ("" if it did not)
        self._lock = asyncio.Lock()
        # A body larger than a progress file can be is cut off, not read into memory.
        self._client = AsyncHTTPClient(force_instance=True, max_body_size=4 * MAX_PROGRESS_BYTES)

    async def _get(self, url: str) -> tuple[int, bytes]:
        """GET with the service's token; (status, body), status 0 when nothing answered. Never
        raises: a server that is stopping or unreachable is a fact about the room, not an error."""
        request = HTTPRequest(url, method="GET", headers={"Authorization": f"token {self.token}"},
                              request_timeout=REQUEST_TIMEOUT, connect_timeout=REQUEST_TIMEOUT,
                              follow_redirects=False)
        try:
            response = await self._client.fetch(request)
        except HTTPClientError as error:
            if error.code == 599:  # tornado's code for "no HTTP answer" (timeout, reset)
                return 0, b""
            return error.code, (error.response.body if error.response is not None else b"")
        except (OSError, StreamClosedError, asyncio.TimeoutError):
            return 0, b""
        return response.code, response.body

    async def users(self) -> list[dict]:
        """Every user of the hub, page by page (the hub's API pages long lists)."""
        found, offset = [], 0
        while True:
            status, body = await self._get(f"{self.api_url}/users?offset={offset}&limit=200")
            if status != 200:
                raise RuntimeError(f"the hub refused to list its users (HTTP {status}): does the "
                                   f"service's role have the scopes list:users and read:servers?")
            page = json.loads(body)
            found.extend(page)
            if len(page) < 200:
                return found
            offset += len(page)

    async def read_progress(self, name: str, server_url: str) -> tuple[dict | None, str]:
        """(the learner's progress dict or None, why not). Only a GET of one file."""
        path = urllib.parse.quote(f"{self.folder}/{PROGRESS_FILE}")
        url = f"{self.origin}{server_url.rstrip('/')}/api/contents/{path}?type=file&format=text&content=1"
        status, body = await self._get(url)
        if status == 404:
            return None, ""  # no check run yet (or the course is not cloned yet)
        if status == 0:
            return None, "the server did not answer"
        if status != 200:
            return None, f"HTTP {status} reading the progress file"
        if len(body) > 2 * MAX_PROGRESS_BYTES:
            return None, "the progress file is too large to be the checks'"
        try:
            data = json.loads(json.loads(body)["content"])
        except (ValueError, KeyError, TypeError):
            return None, "the progress file is not the checks' JSON"
        if not isinstance(data, dict):
            return None, "the progress file is not the checks' JSON"
        return data, ""

    async def refresh(self) -> None:
        users = await self.users()
        limit = asyncio.Semaphore(CONCURRENT_READS)

        async def one(user: dict) -> Learner:
            server = (user.get("servers") or {}).get("")
            if not server:
                return Learner(user["name"], "down")
            if not server.get("ready"):
                return Learner(user["name"], "starting")
            async with limit:
                progress, problem = await self.read_progress(user["name"], server["url"])
            return Learner(user["name"], "running", progress, problem)

        # The room is its learners: admins (the instructor) are not counted.
        room = [u for u in users if u.get("name") and not u.get("admin")]
        learners = await asyncio.gather(*(one(u) for u in room))
        self.learners = sorted(learners, key=lambda l: l.name)
        self.updated = time.time()

    async def fresh(self) -> None:
        """Refresh unless the last refresh is recent: many open pages cost the hub nothing more."""
        async with self._lock:
            if time.time() - self.updated >= self.refresh_seconds / 2:
                try:
                    await self.refresh()
                    self.error = ""
                except (RuntimeError, ValueError) as error:  # the hub refused, or sent no JSON
                    self.error = str(error)
                    self.updated = time.time()

    def snapshot(self) -> dict:
        """The table: only running servers' progress counts (a stopped server's file is unread)."""
        counted = {l.name: l.progress for l in self.learners
                   if l.server == "running" and l.progress is not None}
        return {
            "updated": time.strftime("%H:%M:%S", time.localtime(self.updated)) if self.updated else None,
            "refresh_seconds": self.refresh_seconds,
            "error": self.error,
            "exercises": [row.as_dict() for row in tally(counted)],
            "learners": [{"name": l.name, "server": l.server, "counted": l.name in counted,
                          "passed": sum(valid_entry(n, e) and e["state"] == "passed"
                                        for n, e in (l.progress or {}).items()),
                          "failed": sum(valid_entry(n, e) and e["state"] == "failed"
                                        for n, e in (l.progress or {}).items()),
                          "problem": l.problem} for l in self.learners],
        }


# --- the page ----------------------------------------------------------------------------------

def render_table(snapshot: dict) -> str:
    """The page's live part, as HTML (every name escaped: names come from learners)."""
    esc = html.escape
    learners = snapshot["learners"]
    running = [l for l in learners if l["server"] == "running"]
    down = [l for l in learners if l["server"] != "running"]
    counted = sum(l["counted"] for l in learners)
    parts = [f'<p class="error">The last refresh failed: {esc(snapshot["error"])}</p>'
             if snapshot.get("error") else ""]
    parts += [f'<p class="summary">{len(running)} learners with a running server, {counted} of them '
             f'with check results; {len(down)} server{"s" if len(down) != 1 else ""} down or '
             f'starting. Updated {esc(snapshot["updated"] or "never")}.</p>']
    if snapshot["exercises"]:
        rows = []
        for e in snapshot["exercises"]:
            most = max(e["common_stop_count"], e.get("common_hint_count", 0))
            half = e["failed"] and most * 2 >= max(1, counted)
            stop = (f'{esc(e["common_stop"])}: {e["common_stop_count"]} of {e["failed"]} '
                    f'failure{"s" if e["failed"] != 1 else ""} '
                    f'<span class="who">({esc(", ".join(e["common_stop_by"]))})</span>'
                    if e["common_stop"] else "–")
            hint = (f'<q>{esc(e["common_hint"])}</q>: {e["common_hint_count"]} of {e["failed"]} '
                    f'failure{"s" if e["failed"] != 1 else ""} '
                    f'<span class="who">({esc(", ".join(e["common_hint_by"]))})</span>'
                    if e.get("common_hint") else "–")
            share = e["passed"] / e["tried"] if e["tried"] else 0.0
            mark = ' class="stuck"' if half else ""
            rows.append(
                f'<tr{mark}><td><code>{esc(e["name"])}</code></td>'
                f'<td class="n">{e["tried"]}</td><td class="n">{e["passed"]}</td>'
                f'<td class="n">{e["failed"]}</td>'
                f'<td><span class="bar"><span style="width:{share:.0%}"></span></span></td>'
                f'<td>{stop}</td><td class="hint">{hint}</td></tr>')
        parts.append('<table class="room"><thead><tr><th>exercise</th><th>tried</th><th>passed</th>'
                     '<th>failed</th><th>passed of tried</th><th>where most failures stop</th>'
                     '<th>the hint most of them got</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")
    else:
        parts.append('<p>No check results yet: learners who run an exercise\'s check appear here.</p>')
    items = []
    for l in learners:
        state = {"running": "", "down": " down", "starting": " starting"}[l["server"]]
        detail = (f'{l["passed"]} passed, {l["failed"]} failed' if l["counted"] else
                  esc(l["problem"]) if l["problem"] else
                  "not counted" if l["server"] == "down" else
                  "server starting" if l["server"] == "starting" else "no check run yet")
        items.append(f'<li class="learner{state}"><b>{esc(l["name"])}</b>: {detail}</li>')
    parts.append('<h2>Learners</h2><ul class="learners">' + "".join(items) + "</ul>")
    return "\n".join(parts)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The room: where it is stuck</title>
<style>
body {{ font: 16px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table.room {{ border-collapse: collapse; margin: 1em 0; }}
.room th, .room td {{ padding: .35em .8em; border-bottom: 1px solid #ccc; text-align: left; }}
.room td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.room tr.stuck td {{ background: #fde9c8; }}
.bar {{ display: inline-block; width: 8em; height: .8em; background: #e66100; }}
.bar span {{ display: block; height: 100%; background: #5d3a9b; }}
li.down, li.starting {{ color: #777; }}
li.down b::after {{ content: " (server down)"; font-weight: normal; }}
li.starting b::after {{ content: " (server starting)"; font-weight: normal; }}
.note {{ color: #555; max-width: 48em; }}
.error {{ color: #a00; font-weight: bold; }}
.who {{ color: #555; }}
td.hint {{ max-width: 32em; }}
</style></head>
<body>
<h1>The room: where it is stuck</h1>
<p class="note">Each learner's last attempt at each exercise, read from their checks'
<code>.course_progress.json</code> (read only). Bars: purple passed, orange failed. A highlighted
row: at least half the learners with results got the same hint (or failed at the same case):
read that hint aloud and show the fix. Refreshes every
{refresh:g} s.</p>
<div id="room">{table}</div>
<script>
// A refresh is not a navigation: JupyterHub accepts its cookie only with the page's xsrf token.
const xsrf = {xsrf_json};
setInterval(async () => {{
  try {{
    const response = await fetch("table", {{credentials: "same-origin", redirect: "manual",
                                             headers: {{"X-XSRFToken": xsrf}}}});
    if (response.ok) document.getElementById("room").innerHTML = await response.text();
    else if (response.type === "opaqueredirect") location.reload();  // signed out: sign in again
  }} catch (error) {{}}  // the hub is restarting: the next refresh tries again
}}, {refresh_ms});
</script>
</body></html>
"""


def make_app(room: Room, prefix: str) -> web.Application:
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated

    class Base(HubOAuthenticated, web.RequestHandler):
        def set_default_headers(self):
            self.set_header("Cache-Control", "no-store")
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header("Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; "
                            "script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")

    class PageHandler(Base):
        @web.authenticated
        async def get(self):
            await room.fresh()
            token = self.xsrf_token
            token = token.decode() if isinstance(token, bytes) else token
            self.write(PAGE.format(table=render_table(room.snapshot()),
                                   xsrf_json=json.dumps(token).replace("<", "\\u003c"),
                                   refresh=room.refresh_seconds,
                                   refresh_ms=int(room.refresh_seconds * 1000)))

    class TableHandler(Base):
        @web.authenticated
        async def get(self):
            await room.fresh()
            self.write(render_table(room.snapshot()))

    class ApiHandler(Base):
        @web.authenticated
        async def get(self):
            await room.fresh()
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps(room.snapshot()))

    return web.Application([
        (prefix, PageHandler),
        (prefix + "table", TableHandler),
        (prefix + "api/room", ApiHandler),
        (prefix + "oauth_callback", HubOAuthCallbackHandler),
    ], cookie_secret=secrets.token_bytes(32))


def bind_address(host: str | None) -> str:
    """Listen on the service URL's address when it is one (127.0.0.1: the hub's machine only);
    on every interface of the hub's pod when it is a name (Zero to JupyterHub's ``hub``)."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(host or "127.0.0.1"))
    except ValueError:
        return "0.0.0.0"


def main() -> None:
    """Run as the hub starts it: everything from the environment the hub sets for a service."""
    from tornado.ioloop import IOLoop

    env = os.environ
    service_url = urllib.parse.urlparse(env.get("JUPYTERHUB_SERVICE_URL", ""))
    public = env.get("JUPYTERHUB_PUBLIC_HUB_URL", "")
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlparse(public)) if public else ""
    if not service_url.port:
        raise SystemExit("course_room: JUPYTERHUB_SERVICE_URL is not set: the hub starts this "
                         "service (see course_room.config), it is not run by hand")
    room = Room(env.get("JUPYTERHUB_API_URL", ""), env.get("JUPYTERHUB_API_TOKEN", ""), origin,
                env.get("COURSE_FOLDER", "attention-course"))
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "/services/course-room/")
    app = make_app(room, prefix)
    app.listen(service_url.port, address=bind_address(service_url.hostname), xheaders=True)
    IOLoop.current().start()
