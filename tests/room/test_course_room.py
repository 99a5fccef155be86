"""course_room: the room's hub configuration and the instructor's view, without a hub (fast).

The real hub runs them in tests/system/test_hub.py; here: the counting, the page (escaped: names come from
learners), the view's reading against a stand-in hub (only GETs, servers down, pagination), and
that the guide's recipes hold the very text the hub test runs.
"""
from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from course_room import config, table, view  # noqa: E402


def entry(state, cases="4/4", when="2026-12-07 09:00"):
    return {"state": state, "cases": cases, "when": when}


def test_the_table_counts_each_exercise_and_where_failures_stop():
    rows = table.tally({
        "ada": {"scaled_dot": entry("passed"), "cosine": entry("failed", "0/5", "2026-12-07 09:20")},
        "bo": {"scaled_dot": entry("failed", "2/4", "2026-12-07 09:05")},
        "cy": {"scaled_dot": entry("failed", "2/4"), "cosine": entry("passed", "5/5", "2026-12-07 09:30")},
        "di": {"scaled_dot": entry("failed", "0/4")},
    })
    assert [r.name for r in rows] == ["scaled_dot", "cosine"], "in the order the room met them"
    dot, cos = (r.as_dict() for r in rows)
    assert (dot["tried"], dot["passed"], dot["failed"]) == (4, 1, 3)
    assert (dot["common_stop"], dot["common_stop_count"]) == ("case 3 of 4", 2)
    assert dot["failed_by"] == ["bo", "cy", "di"] and dot["common_stop_by"] == ["bo", "cy"]
    assert (cos["tried"], cos["passed"], cos["failed"], cos["common_stop"]) == (2, 1, 1, "case 1 of 5")


def test_a_tie_goes_to_the_case_learners_meet_first_and_passes_have_no_stop():
    rows = table.tally({"a": {"x": entry("failed", "3/4")}, "b": {"x": entry("failed", "1/4")},
                        "c": {"y": entry("passed"), "x": entry("passed")}})
    # same minute: the exercise more learners tried comes first
    x, y = (r.as_dict() for r in rows)
    assert x["common_stop"] == "case 2 of 4" and x["common_stop_count"] == 1
    assert y["common_stop"] is None and y["common_stop_count"] == 0


def test_the_table_names_the_hint_most_failures_got():
    hinted = lambda cases, hint: dict(entry("failed", cases), hint=hint)
    rows = table.tally({
        "ada": {"scaled_dot": hinted("2/4", "np.dot does not broadcast")},
        "bo": {"scaled_dot": hinted("2/4", "np.dot does not broadcast")},
        "cy": {"scaled_dot": hinted("1/4", "divide by sqrt(d), not d")},
        "di": {"scaled_dot": entry("failed", "0/4")},          # a file from before hints: no hint
        "ed": {"scaled_dot": hinted("0/4", "x" * 301)},         # longer than a check keeps: not theirs
        "fy": {"scaled_dot": entry("passed")},
    })
    dot = rows[0].as_dict()
    assert (dot["failed"], dot["passed"]) == (5, 1), "entries with odd hints still count as failures"
    assert (dot["common_hint"], dot["common_hint_count"], dot["common_hint_by"]) == \
        ("np.dot does not broadcast", 2, ["ada", "bo"])
    page = view.render_table({"updated": "09:41:00", "refresh_seconds": 10, "error": "",
                              "exercises": [dict(dot, common_hint="<b>x</b>")],
                              "learners": [{"name": n, "server": "running", "counted": True,
                                            "passed": 0, "failed": 1, "problem": ""}
                                           for n in ("ada", "bo", "cy", "di")]})
    assert "<q>&lt;b&gt;x&lt;/b&gt;</q>: 2 of 5 failures" in page and "<b>x</b>" not in page
    assert '<tr class="stuck">' in page, "2 of the 4 counted learners got the same hint"


def test_a_failed_check_keeps_its_hint_in_the_progress_file(tmp_path, monkeypatch):
    from course_lib.checks import check, progress

    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    import numpy as np

    def scaled_dot(q, k):  # the classic mistake: np.dot does not broadcast batch dimensions
        return np.dot(q, k.T) / np.sqrt(q.shape[-1])

    result = check("scaled_dot", scaled_dot, verbose=False)
    kept = progress.load()["scaled_dot"]
    assert not result.passed and kept["state"] == "failed"
    assert kept["hint"] == result.hint[:progress.HINT_CHARS] and len(kept["hint"]) > 20
    assert kept["hint"] in result.message, "the hint kept is the one the learner read"
    assert table.valid_entry("scaled_dot", kept)


@pytest.mark.parametrize("name, bad", [
    ("<script>", entry("passed")), ("ok", {"state": "won"}), ("ok", entry("failed", "5/4")),
    ("ok", entry("failed", "lots")), ("ok", "passed"), ("x" * 65, entry("passed"))])
def test_entries_a_check_could_not_have_written_are_ignored(name, bad):
    assert table.tally({"a": {name: bad}}) == []


def test_the_table_names_a_wrong_argument():
    with pytest.raises(TypeError, match="progress must be a dict"):
        table.tally([])
    with pytest.raises(TypeError, match=r"progress\['a'\] must be a dict"):
        table.tally({"a": "passed"})


def test_the_page_escapes_learner_names_and_marks_down_servers():
    snapshot = {"updated": "09:41:00", "refresh_seconds": 10, "error": "",
                "exercises": [{"name": "scaled_dot", "tried": 2, "passed": 0, "failed": 2,
                               "common_stop": "case 3 of 4", "common_stop_count": 2,
                               "common_stop_by": ["bo", "<b>"]}],
                "learners": [{"name": "<img src=x onerror=alert(1)>", "server": "running",
                              "counted": True, "passed": 0, "failed": 1, "problem": ""},
                             {"name": "bo", "server": "running", "counted": True, "passed": 0,
                              "failed": 1, "problem": ""},
                             {"name": "cy", "server": "down", "counted": False, "passed": 0,
                              "failed": 0, "problem": ""}]}
    page = view.render_table(snapshot)
    assert "<img" not in page and "&lt;img src=x" in page
    assert 'class="learner down"><b>cy</b>: not counted' in page
    assert '<tr class="stuck">' in page, "both learners with results failed at case 3: highlighted"
    assert "case 3 of 4: 2 of 2 failures" in page and "2 learners with a running server" in page
    assert "(bo, &lt;b&gt;)" in page


class StandInHub:
    """The two things the view asks a hub for: the users, and a file through a learner's server.
    Records every request, to prove the view only reads."""

    def __init__(self, users, files):
        self.users, self.files, self.requests = users, files, []

    def app(self, token):
        from tornado import web

        hub = self

        class Users(web.RequestHandler):
            def get(self):
                hub.requests.append((self.request.method, self.request.uri))
                if self.request.headers.get("Authorization") != f"token {token}":
                    raise web.HTTPError(403)
                offset, limit = int(self.get_argument("offset")), int(self.get_argument("limit"))
                self.write(json.dumps(hub.users[offset:offset + limit]))

        class Contents(web.RequestHandler):
            def get(self, name, path):
                hub.requests.append((self.request.method, self.request.uri))
                if (name, path) not in hub.files:
                    raise web.HTTPError(404)
                self.write({"type": "file", "format": "text", "content": hub.files[(name, path)]})

        return web.Application([(r"/hub/api/users", Users),
                                (r"/user/([^/]+)/api/contents/(.*)", Contents)])


def test_the_view_reads_the_room_through_the_hub_and_only_reads():
    from tornado.testing import bind_unused_port

    running = {"": {"ready": True, "url": "/user/{}/"}}
    users = ([{"name": f"l{i:03d}", "servers": {"": {"ready": True, "url": f"/user/l{i:03d}/"}}}
              for i in range(203)]  # more than one page of the hub's API
             + [{"name": "down1", "servers": {}}, {"name": "soon", "servers": {"": {"ready": False}}},
                {"name": "teacher", "admin": True, "servers": running}])
    files = {(f"l{i:03d}", "course/.course_progress.json"):
             json.dumps({"scaled_dot": entry("passed" if i % 2 else "failed", "2/4")})
             for i in range(200)}
    files[("l200", "course/.course_progress.json")] = "not json"
    hub = StandInHub(users, files)

    async def run():
        socket, port = bind_unused_port()
        from tornado.httpserver import HTTPServer

        server = HTTPServer(hub.app("secret"))
        server.add_sockets([socket])
        try:
            base = f"http://127.0.0.1:{port}"
            room = view.Room(base + "/hub/api", "secret", base, "course")
            await room.fresh()
            return room.snapshot()
        finally:
            server.stop()

    snapshot = asyncio.run(run())
    (row,) = snapshot["exercises"]
    assert (row["tried"], row["passed"], row["failed"]) == (200, 100, 100)
    learners = {l["name"]: l for l in snapshot["learners"]}
    assert "teacher" not in learners and len(learners) == 205
    assert learners["down1"]["server"] == "down" and learners["soon"]["server"] == "starting"
    assert learners["l200"]["problem"] == "the progress file is not the checks' JSON"
    assert learners["l201"]["problem"] == "" and not learners["l201"]["counted"]  # no check run yet
    assert {method for method, _ in hub.requests} == {"GET"}, "the view only reads"


def test_the_view_refuses_a_configuration_it_cannot_work_with():
    with pytest.raises(ValueError, match="JUPYTERHUB_API_TOKEN"):
        view.Room("http://hub/api", "", "https://hub", "course")
    with pytest.raises(ValueError, match="public_url"):
        view.Room("http://hub/api", "t", "", "course")
    with pytest.raises(ValueError, match="targetpath"):
        view.Room("http://hub/api", "t", "https://hub", "../etc")
    assert view.bind_address("127.0.0.1") == "127.0.0.1" and view.bind_address("hub") == "0.0.0.0"


# --- the configuration: what the hub test runs is what the guide shows ---------------------------

SECRETS = {"COURSE_ROOM_PASSWORD": "room-pass-123", "COURSE_ADMIN_PASSWORD": "a" * 40,
           "COURSE_INSTRUCTOR": "teacher"}


def load_config(text: str, monkeypatch):
    from traitlets.config import Config

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    c = Config()
    exec(compile(text, "jupyterhub_config.py", "exec"), {"c": c, "get_config": lambda: c})
    return c


def test_the_room_config_signs_in_with_passwords_from_the_environment(monkeypatch):
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

    c = load_config(config.room_config(), monkeypatch)
    assert c.JupyterHub.authenticator_class == "shared-password"
    authenticator = SharedPasswordAuthenticator(config=c)  # validates the lengths and the difference
    assert authenticator.user_password == SECRETS["COURSE_ROOM_PASSWORD"]
    assert authenticator.admin_password == SECRETS["COURSE_ADMIN_PASSWORD"]
    assert authenticator.admin_users == {"teacher"}
    (service,) = c.JupyterHub.services.get_value([])
    (role,) = c.JupyterHub.load_roles.get_value([])
    assert service["url"] == config.DEFAULT_URL and service["command"][1:] == ["-m", "course_room"]
    assert role == {"name": "course-room", "services": ["course-room"], "scopes": config.SCOPES}
    assert c.Spawner.args.get_value([]) == ["--ContentsManager.allow_hidden=True"]
    # no password is written anywhere: every secret is read from the environment
    for text in (config.room_config(), config.oauth_config(), config.z2jh_values(), config.tljh_setup()):
        assert not re.search(r"(password|secret)\s*=\s*[\"']", text, re.IGNORECASE), text


def test_the_oauth_alternative_names_real_settings(monkeypatch):
    oauthenticator = pytest.importorskip("oauthenticator")  # in the dev extras
    from oauthenticator.github import GitHubOAuthenticator

    monkeypatch.setenv("OAUTH_CLIENT_ID", "id")
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", "secret")
    c = load_config("import os\n" + config.oauth_config(), monkeypatch)  # follows the room block
    assert c.JupyterHub.authenticator_class == "github"
    known = set(GitHubOAuthenticator.class_traits(config=True))
    assert set(c.GitHubOAuthenticator) <= known, set(c.GitHubOAuthenticator) - known
    generic = "import os\n" + "\n".join(line[2:] for line in config.oauth_config().splitlines()
                        if line.startswith("# c.GenericOAuthenticator"))
    from oauthenticator.generic import GenericOAuthenticator

    c = load_config(generic, monkeypatch)
    known = set(GenericOAuthenticator.class_traits(config=True))
    assert c.GenericOAuthenticator and set(c.GenericOAuthenticator) <= known, \
        set(c.GenericOAuthenticator) - known
    assert oauthenticator.__version__


def test_the_guides_recipes_are_the_configuration_the_hub_test_runs():
    """Generated from course_room.config (by tools/hub_sizing.py, `make guide`): the guide holds
    the very text test_hub.py writes into its hub's configuration, in both recipes."""
    guide = (ROOT / "docs" / "instructor_guide.md").read_text(encoding="utf-8")
    assert config.room_config() in guide, "run `make guide`: the one-server recipe is out of date"
    assert config.z2jh_values() in guide, "run `make guide`: the Zero to JupyterHub values are out of date"
    assert config.tljh_setup() in guide and config.oauth_config() in guide, "run `make guide`"
    hub_test = (ROOT / "tests" / "system" / "test_hub.py").read_text(encoding="utf-8")
    assert "room_config.room_config()" in hub_test, "the hub test runs the same configuration"


def test_the_view_says_so_when_the_hub_does_not_answer():
    from tornado.testing import bind_unused_port

    socket, port = bind_unused_port()
    socket.close()  # nothing listens there
    base = f"http://127.0.0.1:{port}"

    async def run():
        room = view.Room(base + "/hub/api", "secret", base, "course")
        await room.fresh()
        return room.snapshot()

    snapshot = asyncio.run(run())
    assert "the hub refused to list its users (HTTP 0)" in snapshot["error"]
    assert "The last refresh failed" in view.render_table(snapshot)
