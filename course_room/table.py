"""Count a room's check results, exercise by exercise: a pure function of the learners' progress.

Each learner's checks keep ``.course_progress.json`` (course_lib/checks/progress.py; this module
reads that format and never changes it)::

    {"scaled_dot": {"state": "failed", "cases": "2/4", "when": "2026-12-07 09:41",
                    "hint": "np.dot does not broadcast batch dimensions ..."}, ...}

A check runs its cases in order and stops at the first one the learner's function gets wrong, so a
failed entry's ``cases`` ("2/4": two cases passed) says *where* it stopped: at case 3 of 4; its
``hint`` is the hint line the check printed then. The room's table counts both: the hint most of
the failures got is what the instructor reads aloud. (Files written before checks kept the hint
have none; their failures still count at the case where they stopped.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# What a check's name looks like (course_lib registers names like "scaled_dot"). The progress file
# sits in the learner's home, where the learner can write anything: entries whose name or fields do
# not look like the checks' are ignored, never shown.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
CASES = re.compile(r"(\d{1,4})/(\d{1,4})")
HINT_CHARS = 300  # what the checks keep of a hint (course_lib/checks/progress.py): longer is not theirs
STATES = ("passed", "failed")


@dataclass
class Exercise:
    """One exercise's row of the room's table."""

    name: str
    passed: list = field(default_factory=list)   # learners whose last attempt passed
    failed: list = field(default_factory=list)   # learners whose last attempt failed
    stops: dict = field(default_factory=dict)  # "2/4" -> the learners whose failure stopped there
    hints: dict = field(default_factory=dict)  # hint -> the learners whose failure printed it
    first_when: str = ""  # the earliest attempt in the room ("YYYY-MM-DD HH:MM")

    @property
    def tried(self) -> int:
        return len(self.passed) + len(self.failed)

    def common_stop(self) -> tuple[str, list] | None:
        """(where most failures stopped, e.g. "case 3 of 4", the learners who stopped there);
        None if nobody failed. Ties go to the earlier case: the one a learner meets first."""
        if not self.stops:
            return None

        def key(item):
            done, total = (int(x) for x in item[0].split("/"))
            return (-len(item[1]), done, total)

        cases, learners = min(self.stops.items(), key=key)
        done, total = (int(x) for x in cases.split("/"))
        return f"case {done + 1} of {total}", sorted(learners)

    def common_hint(self) -> tuple[str, list] | None:
        """(the hint most failures printed, the learners who got it); None if no failure kept one.
        Ties go to the hint first met in alphabetical order of its learners (stable on refresh)."""
        if not self.hints:
            return None
        hint, learners = min(self.hints.items(), key=lambda item: (-len(item[1]), sorted(item[1])))
        return hint, sorted(learners)

    def as_dict(self) -> dict:
        stop, hint = self.common_stop(), self.common_hint()
        return {"name": self.name, "tried": self.tried, "passed": len(self.passed),
                "failed": len(self.failed), "passed_by": sorted(self.passed),
                "failed_by": sorted(self.failed),
                "common_stop": stop[0] if stop else None,
                "common_stop_count": len(stop[1]) if stop else 0,
                # who to ask to read their hint aloud
                "common_stop_by": stop[1] if stop else [],
                "common_hint": hint[0] if hint else None,
                "common_hint_count": len(hint[1]) if hint else 0,
                "common_hint_by": hint[1] if hint else []}


def valid_entry(name, entry) -> bool:
    """True for an entry the checks could have written (see the module's docstring)."""
    return (isinstance(name, str) and NAME.fullmatch(name) is not None
            and isinstance(entry, dict) and entry.get("state") in STATES
            and (entry["state"] == "passed" or
                 (isinstance(entry.get("cases"), str) and CASES.fullmatch(entry["cases"]) is not None
                  and int(entry["cases"].split("/")[0]) < int(entry["cases"].split("/")[1]))))


def tally(progress: dict) -> list[Exercise]:
    """``progress``: {learner: their progress file's dict}. Returns the exercises anyone tried, in
    the order the room met them: by the earliest attempt (to the minute, as the file keeps it),
    then by how many tried (the exercise more learners reached comes first), then by name."""
    if not isinstance(progress, dict):
        raise TypeError(f"progress must be a dict {{learner: progress dict}}, got {type(progress).__name__}")
    rows: dict[str, Exercise] = {}
    for learner, entries in progress.items():
        if not isinstance(entries, dict):
            raise TypeError(f"progress[{learner!r}] must be a dict (a progress file's content), "
                            f"got {type(entries).__name__}")
        for name, entry in entries.items():
            if not valid_entry(name, entry):
                continue
            row = rows.setdefault(name, Exercise(name))
            when = entry.get("when") if isinstance(entry.get("when"), str) else ""
            if when and (not row.first_when or when < row.first_when):
                row.first_when = when
            if entry["state"] == "passed":
                row.passed.append(learner)
            else:
                row.failed.append(learner)
                row.stops.setdefault(entry["cases"], []).append(learner)
                hint = entry.get("hint")
                if isinstance(hint, str) and 0 < len(hint.strip()) <= HINT_CHARS:
                    row.hints.setdefault(hint.strip(), []).append(learner)
    return sorted(rows.values(), key=lambda r: (r.first_when or "~", -r.tried, r.name))
