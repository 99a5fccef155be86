"""The workshop room on a JupyterHub: who may sign in, and the instructor's view of the room.

Two parts, both used by the hub test (tests/system/test_hub.py) and by the recipes of the instructor
guide (tools/hub_sizing.py renders them), so that the guide shows the configuration the test runs:

- :mod:`course_room.config`: the lines of ``jupyterhub_config.py`` for a room (shared-password
  sign-in with a separate admin password, the instructor's view as a hub-managed service with the
  narrowest scopes that work), and the Zero to JupyterHub values around them;
- :mod:`course_room.view`: the instructor's view itself (``python -m course_room``), a JupyterHub
  service only admins can open, which reads each running learner's ``.course_progress.json``
  (written by the checks, course_lib/checks/progress.py) and shows, exercise by exercise, how many
  learners tried, passed and failed, where most failures stop and the hint most of them got;
- :mod:`course_room.table`: the counting, a pure function of the progress files.

The view needs only what JupyterHub itself needs (tornado); it never imports course_lib, numpy or
torch, so it installs into a hub's own environment with ``pip install --no-deps``.
"""
