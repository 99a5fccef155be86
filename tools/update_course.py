"""Bring a learner's copy of the course up to date without touching what they changed.

    python tools/update_course.py            # or: make update
    python tools/update_course.py --dry-run  # only say what would happen

It fetches the course's upstream (the branch this copy tracks, usually origin/main) and merges it.
Before that it looks at every file you changed since your last update:

- a notebook whose cells you edited (or any other file you edited) is kept exactly as you left it;
  if the course changed it too, the new version is written beside it as ``NAME.updated.ipynb``
  (``NAME.updated.py`` for other files), so you can compare and copy what you need; if that
  name is taken by a different file (you worked in the copy an earlier update wrote), the next
  free name ``NAME.2.updated.ipynb``, ``NAME.3.updated.ipynb``, ... is used: no file of yours
  is ever overwritten;
- a notebook you only ran (same cells, new outputs) is replaced by the new version when the course
  changed it, and left alone when it did not;
- a file of yours that the course now also ships is kept, and the course's file goes beside it.

Exercise notebooks record a fingerprint of their cells when they are generated, so "edited" means
"different from what was generated" (``tools/make_exercises.py``); for other notebooks it means
"different cells from the last version you received". Before anything changes, a copy of every
changed file is saved under ``.git/course-update-backup/<time>/``, so nothing can be lost.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_exercises import fingerprint, learner_changed, write_beside  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class UpdateError(RuntimeError):
    pass


class Git:
    def __init__(self, repo: Path):
        self.repo = repo

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True)
        if check and result.returncode != 0:
            raise UpdateError(f"git {' '.join(args)} failed:\n{result.stderr.decode(errors='replace').strip()}")
        return result

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.decode().strip()

    def blob(self, commit: str, path: str) -> bytes | None:
        """The file's content at ``commit``, or None if it does not exist there."""
        result = self.run("show", f"{commit}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None


def beside(path: Path) -> Path:
    """notebooks/01_x.ipynb -> notebooks/01_x.updated.ipynb"""
    return path.with_name(f"{path.stem}.updated{path.suffix}")


def cells_changed(path: Path, previous: bytes | None) -> bool:
    """Did the learner change the cells of this notebook (not just run it)?"""
    try:
        nb = nbformat.read(path, as_version=4)
        if "source_fingerprint" in nb.metadata.get("course", {}):
            return learner_changed(path)
        if previous is None:
            return True
        old = nbformat.reads(previous.decode("utf-8"), as_version=4)
        return fingerprint(nb) != fingerprint(old)
    except Exception:  # unreadable: treat as the learner's own work
        return True


def local_changes(git: Git) -> tuple[list[str], list[str], list[str]]:
    """(modified tracked files, deleted tracked files, untracked files), as repo-relative paths."""
    modified, deleted, untracked = [], [], []
    raw = git.run("status", "--porcelain=v1", "-z", "--untracked-files=all").stdout.decode()
    entries = raw.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":  # a rename/copy is followed by its source path
            i += 1
        if code == "??" or code[0] == "A":  # new files of the learner's own
            untracked.append(path)
        elif "D" in code:
            deleted.append(path)
        else:
            modified.append(path)
    return modified, deleted, untracked


def upstream_ref(git: Git, remote: str | None, branch: str | None) -> tuple[str, str]:
    """(remote, ref to merge), from the arguments or the branch's tracking branch."""
    if remote and branch:
        return remote, f"{remote}/{branch}"
    tracking = git.run("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", check=False)
    if tracking.returncode == 0 and not remote and not branch:
        ref = tracking.stdout.decode().strip()
        return ref.split("/", 1)[0], ref
    remote = remote or "origin"
    branch = branch or git.out("rev-parse", "--abbrev-ref", "HEAD")
    return remote, f"{remote}/{branch}"


def update(repo: Path, remote: str | None = None, branch: str | None = None,
           dry_run: bool = False, fetch: bool = True) -> list[str]:
    """Update ``repo``; returns the lines of the report."""
    git = Git(repo)
    if git.run("rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
        raise UpdateError(f"{repo} is not a git clone of the course; download a fresh copy instead")
    remote, ref = upstream_ref(git, remote, branch)
    if fetch:
        git.run("fetch", "--quiet", remote)
    old = git.out("rev-parse", "HEAD")
    new = git.out("rev-parse", ref)
    if old == new or git.run("merge-base", "--is-ancestor", new, old, check=False).returncode == 0:
        return [f"already up to date with {ref}"]

    modified, deleted, untracked = local_changes(git)
    incoming = set(git.out("diff", "--name-only", old, new).splitlines())
    plan: list[tuple[str, str]] = []  # (path, action)
    for path in modified:
        if path not in incoming:
            plan.append((path, "keep"))  # the course did not change it: leave it alone
        elif path.endswith(".ipynb") and not cells_changed(repo / path, git.blob(old, path)):
            plan.append((path, "replace"))  # only run: take the new version
        else:
            plan.append((path, "keep+beside"))
    for path in deleted:
        plan.append((path, "delete" if path not in incoming else "restore"))
    for path in untracked:
        if git.blob(new, path) is not None:
            plan.append((path, "keep+beside"))

    report = []
    for path, action in plan:
        report.append({
            "keep": f"{path}: yours, unchanged by the update",
            "replace": f"{path}: you had only run it; replaced by the new version",
            "keep+beside": (f"{path}: you changed it, so it was kept; "
                            f"the new version is {beside(Path(path)).as_posix()}"),
            "delete": f"{path}: you deleted it; it stays deleted",
            "restore": f"{path}: you deleted it; the course changed it, so the new version is back",
        }[action])
    if dry_run:
        return [f"would merge {ref} ({old[:7]} -> {new[:7]})"] + report

    # 1. Save every changed file where git never looks, then clear the way for the merge.
    backup = repo / ".git" / "course-update-backup" / time.strftime("%Y%m%d-%H%M%S")
    saved: dict[str, bytes] = {}
    for path, _ in plan:
        source = repo / path
        if source.is_file():
            saved[path] = source.read_bytes()
            (backup / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, backup / path)
    tracked = [p for p in modified + deleted if p in incoming]  # only what the merge will touch
    if tracked:
        git.run("checkout", "HEAD", "--", *tracked)
    for path, action in plan:
        if path in untracked:
            (repo / path).unlink()

    # 2. Merge (fast-forward when the learner made no commits of their own).
    merged = git.run("merge", "--ff-only", "--quiet", new, check=False)
    if merged.returncode != 0:
        merged = git.run("-c", "user.name=course learner", "-c", "user.email=learner@localhost",
                         "merge", "--no-edit", "--quiet", new, check=False)
    if merged.returncode != 0:
        git.run("merge", "--abort", check=False)
        _restore(repo, saved)
        raise UpdateError("the update could not be merged with your own commits; nothing was changed "
                          f"(your files are as they were; a copy is in {backup}).\n"
                          + merged.stderr.decode(errors="replace"))

    # 3. Put the learner's versions back; the course's new versions go beside them.
    for index, (path, action) in enumerate(plan):
        if action != "keep+beside":  # "keep"/"delete": never touched; "replace"/"restore": new version
            continue
        target = repo / path
        content = git.blob(new, path)
        if content is not None:
            written = write_beside(target, content)
            if written != beside(target):
                report[index] = (f"{path}: you changed it, so it was kept; "
                                 f"{beside(Path(path)).as_posix()} holds other work of yours, so "
                                 f"the new version is {written.relative_to(repo).as_posix()}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(saved[path])
    if saved:
        report.append(f"a copy of your changed files from before the update: {backup.relative_to(repo)}")
    return [f"updated to {ref} ({old[:7]} -> {new[:7]})"] + report


def _restore(repo: Path, saved: dict[str, bytes]) -> None:
    for path, content in saved.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(content)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="the course folder (default: this one)")
    parser.add_argument("--remote", help="remote to fetch (default: the tracked one, or origin)")
    parser.add_argument("--branch", help="branch to merge (default: the tracked one)")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen, change nothing")
    args = parser.parse_args(argv)
    try:
        lines = update(args.repo.resolve(), args.remote, args.branch, args.dry_run)
    except UpdateError as error:
        print(f"update failed: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
