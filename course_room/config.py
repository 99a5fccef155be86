"""The room's part of a hub's configuration: one source for the hub test and the guide's recipes.

tests/system/test_hub.py writes :func:`room_config` into the ``jupyterhub_config.py`` of the hub it runs;
tools/hub_sizing.py puts the same text into the instructor guide's recipes (one server, and the
``hub.extraConfig`` of the Zero to JupyterHub values). What differs between them is only what
differs between a laptop and a workshop: ports, the spawner, the address, HTTPS.

Secrets never go into a file: the configuration reads them from the environment of the hub's
process (:data:`SECRETS`), which the recipes fill from a file outside any repository (one server)
or from a Kubernetes secret (Zero to JupyterHub).
"""
from __future__ import annotations

SERVICE = "course-room"
# Where the view listens and the proxy reaches it: the hub's own machine by default; in Zero to
# JupyterHub the hub's Kubernetes service (the values set COURSE_ROOM_URL).
URL_VARIABLE = "COURSE_ROOM_URL"
DEFAULT_URL = "http://127.0.0.1:10101"
# The narrowest scopes that work for the view, on JupyterHub 5 and 6:
#   list:users     the names of the hub's users (the room);
#   read:servers   whether each learner's server is running, and its URL;
#   access:servers to read the progress file through the learner's server (its contents API).
# JupyterHub has no read-only form of access:servers (jupyterhub-singleuser's authorizer checks
# the scope, not the action), so "never writes" is the view's own promise: it sends only GETs.
SCOPES = ["list:users", "read:servers", "access:servers"]
SECRETS = {
    "COURSE_ROOM_PASSWORD": "the room password learners sign in with (8 characters or more)",
    "COURSE_ADMIN_PASSWORD": "the instructor's password (32 characters or more, not the room's)",
    "COURSE_INSTRUCTOR": "the instructor's user name (the only one that signs in as admin)",
}
FOLDER_VARIABLE = "COURSE_FOLDER"  # the nbgitpuller link's targetpath: where each learner's course is
DEFAULT_FOLDER = "attention-course"


def room_config() -> str:
    """Lines of ``jupyterhub_config.py``: the sign-in and the instructor's view. Additive (they
    append to ``Spawner.args``, ``JupyterHub.services`` and ``load_roles``), so they go after the
    rest of a configuration and keep what it set. The same text everywhere: what differs between
    hubs comes from the environment."""
    return f'''\
# --- The room: who may sign in, and the instructor's view (the course's course_room package) ---
# Secrets come from the hub's environment, never from a file of the course's repository.
import os
import sys

c.JupyterHub.authenticator_class = "shared-password"
# Learners sign in under a name they choose with the room password. Whoever has it can sign in
# under any learner's name (and so open that learner's server): say it in the room only, and
# change it for every workshop. Courses that need named accounts use OAuth instead (below).
c.SharedPasswordAuthenticator.user_password = os.environ["COURSE_ROOM_PASSWORD"]
# The instructor signs in with their own name and the admin password; no other name can be admin,
# and the room password never opens the instructor's account.
c.SharedPasswordAuthenticator.admin_password = os.environ["COURSE_ADMIN_PASSWORD"]
c.Authenticator.admin_users = {{os.environ["COURSE_INSTRUCTOR"]}}
c.Authenticator.allow_all = True  # any name, with the room password: the password is the wall
# The view reads each learner's .course_progress.json through their server; jupyter-server
# refuses any hidden file (a name starting with a dot) to every client unless this is set.
c.Spawner.args.append("--ContentsManager.allow_hidden=True")
c.JupyterHub.services.append({{
    "name": "{SERVICE}",                 # the instructor's view: HUB/services/{SERVICE}/
    "url": os.environ.get("{URL_VARIABLE}", "{DEFAULT_URL}"),
    "command": [sys.executable, "-m", "course_room"],
    "display": True,                      # listed in the instructor's Services menu
    "oauth_no_confirm": True,
    "environment": {{"{FOLDER_VARIABLE}": os.environ.get("{FOLDER_VARIABLE}", "{DEFAULT_FOLDER}")}},
}})
c.JupyterHub.load_roles.append({{
    "name": "{SERVICE}",
    "services": ["{SERVICE}"],
    "scopes": {SCOPES!r},  # no more: it cannot start, stop or change anyone
}})
'''


def oauth_config() -> str:
    """The alternative for named accounts (pip install oauthenticator), for the guide."""
    return '''\
# Named accounts instead of a room password (pip install oauthenticator): replace the three
# SharedPasswordAuthenticator lines and allow_all above with one of these.
# GitHub: register an OAuth app whose callback is https://HUB.example.org/hub/oauth_callback.
c.JupyterHub.authenticator_class = "github"
c.GitHubOAuthenticator.oauth_callback_url = "https://HUB.example.org/hub/oauth_callback"
c.GitHubOAuthenticator.client_id = os.environ["OAUTH_CLIENT_ID"]
c.GitHubOAuthenticator.client_secret = os.environ["OAUTH_CLIENT_SECRET"]
c.GitHubOAuthenticator.allowed_organizations = {"YOUR-COURSE-ORG"}  # or allowed_users = {...}
# An institution's provider (OpenID Connect), e.g. a university's single sign-on:
# c.JupyterHub.authenticator_class = "generic-oauth"
# c.GenericOAuthenticator.oauth_callback_url = "https://HUB.example.org/hub/oauth_callback"
# c.GenericOAuthenticator.client_id = os.environ["OAUTH_CLIENT_ID"]
# c.GenericOAuthenticator.client_secret = os.environ["OAUTH_CLIENT_SECRET"]
# c.GenericOAuthenticator.authorize_url = "https://SSO.example.org/oauth2/authorize"
# c.GenericOAuthenticator.token_url = "https://SSO.example.org/oauth2/token"
# c.GenericOAuthenticator.userdata_url = "https://SSO.example.org/oauth2/userinfo"
# c.GenericOAuthenticator.scope = ["openid", "profile"]
# c.GenericOAuthenticator.username_claim = "preferred_username"
# c.GenericOAuthenticator.allowed_groups = {"course-attention"}  # with claim_groups_key
# Either way the instructor is an admin by name, and the view works unchanged:
c.Authenticator.admin_users = {os.environ["COURSE_INSTRUCTOR"]}
'''


def tljh_setup() -> str:
    """Shell commands for one server with The Littlest JupyterHub: HTTPS, secrets, the view."""
    lines = ["# The Littlest JupyterHub: HTTPS from Let's Encrypt (ports 80 and 443 open, the DNS",
             "# name pointing at the server), then the room's secrets in a root-only file.",
             "sudo tljh-config set https.enabled true",
             "sudo tljh-config set https.letsencrypt.email YOU@example.org",
             "sudo tljh-config add-item https.letsencrypt.domains HUB.example.org",
             "sudo tljh-config reload proxy",
             "sudo install -m 600 /dev/null /etc/course-room.env   # outside any repository:"]
    lines += [f"#   {name}=...   {what}" for name, what in SECRETS.items()]
    lines += [f"#   {FOLDER_VARIABLE}=REPO   the targetpath of the nbgitpuller link",
              "sudoedit /etc/course-room.env   # the lines above, one NAME=value a line",
              "sudo systemctl edit jupyterhub   # add: [Service] EnvironmentFile=/etc/course-room.env",
              "# The view in the hub's environment (it needs only what JupyterHub needs):",
              "sudo /opt/tljh/hub/bin/python3 -m pip install --no-deps "
              "git+https://github.com/OWNER/REPO",
              "# The configuration below goes to /opt/tljh/config/jupyterhub_config.d/course.py",
              "sudo systemctl daemon-reload && sudo tljh-config reload hub"]
    return "\n".join(lines)


def z2jh_values() -> str:
    """The room's part of the Zero to JupyterHub values: HTTPS, secrets, the same configuration."""
    indented = "\n".join(("      " + line) if line else "" for line in room_config().splitlines())
    env = "\n".join(f"    {name}:\n      valueFrom:\n        secretKeyRef:\n"
                    f"          name: course-room\n          key: {name}"
                    for name in SECRETS)
    return f'''\
# The room: HTTPS, sign-in and the instructor's view. The secrets live in a Kubernetes secret:
#   kubectl create secret generic course-room --from-literal=COURSE_ROOM_PASSWORD=... \\
#     --from-literal=COURSE_ADMIN_PASSWORD=... --from-literal=COURSE_INSTRUCTOR=...
# The hub image needs the view: FROM quay.io/jupyterhub/k8s-hub:VERSION, then
#   RUN pip install --no-deps git+https://github.com/OWNER/REPO
# The view runs in the hub's pod; the proxy reaches it through the hub's service.
proxy:
  https:
    enabled: true
    hosts: [HUB.example.org]
    letsencrypt:
      contactEmail: YOU@example.org
hub:
  image:
    name: REGISTRY/attention-course-hub
    tag: TAG
  config:
    JupyterHub:
      public_url: https://HUB.example.org
  service:
    extraPorts:
      - {{name: course-room, port: 10101, targetPort: 10101}}
  networkPolicy:
    ingress:
      - ports: [{{port: 10101}}]
        from:
          - podSelector:
              matchLabels:
                hub.jupyter.org/network-access-hub: "true"
  extraEnv:
{env}
    {FOLDER_VARIABLE}: REPO
    {URL_VARIABLE}: http://hub:10101
  extraConfig:
    course-room: |
{indented}'''
