"""The learner's progress and the kit's pristine katas, in ``.dojo/`` (git-ignored).

    .dojo/state.json          {"schema": 1, "done": {kata: iso time}, "hints": {kata: n},
                               "current": kata}
    .dojo/pristine/<kata>.py  each kata as first seen, so `dojo reset` can restore it
    .dojo/backup/<kata>.py    the learner's version before the last reset (`reset --undo`)

A missing or corrupt state file is never a crash: the corrupt one is kept aside as
state.json.corrupt and progress starts again from what the file still told.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = 1


@dataclass
class State:
    path: Path
    done: dict = field(default_factory=dict)
    hints: dict = field(default_factory=dict)
    current: str | None = None
    recovered: str = ""  # why the file could not be read, if it could not

    @classmethod
    def load(cls, root: Path) -> "State":
        path = root / ".dojo" / "state.json"
        state = cls(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return state
        except OSError as exc:
            state.recovered = str(exc)
            return state
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError("not a dojo state file")
            done = data.get("done", {})
            hints = data.get("hints", {})
            state.done = {str(k): str(v) for k, v in done.items()} if isinstance(done, dict) else {}
            state.hints = {str(k): int(v) for k, v in hints.items() if isinstance(v, int)} if isinstance(hints, dict) else {}
            current = data.get("current")
            state.current = current if isinstance(current, str) else None
        except (ValueError, AttributeError, TypeError) as exc:
            state.recovered = str(exc)
            try:
                shutil.copyfile(path, path.with_suffix(".json.corrupt"))
            except OSError:
                pass
        return state

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"schema": SCHEMA, "done": self.done, "hints": self.hints, "current": self.current}
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a file

    def mark_done(self, kata: str) -> None:
        self.done[kata] = time.strftime("%Y-%m-%dT%H:%M:%S")

    def first_unsolved(self, names: list[str]) -> str | None:
        for name in names:
            if name not in self.done:
                return name
        return None


def dojo_dir(root: Path) -> Path:
    return root / ".dojo"


def snapshot_pristine(root: Path, names: list[str]) -> None:
    """Keep each kata as first seen (from git's HEAD when the kit is a checkout)."""
    folder = dojo_dir(root) / "pristine"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = folder / f"{name}.py"
        if target.exists():
            continue
        text = _from_git(root, f"katas/{name}.py")
        if text is None:
            source = root / "katas" / f"{name}.py"
            if not source.is_file():
                continue
            text = source.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")


def _from_git(root: Path, rel: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "show", f"HEAD:./{rel}"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def reset(root: Path, name: str) -> Path:
    """Restore the pristine kata; the learner's version goes to .dojo/backup/ first."""
    pristine = dojo_dir(root) / "pristine" / f"{name}.py"
    if not pristine.exists():
        snapshot_pristine(root, [name])
    if not pristine.exists():
        raise FileNotFoundError(pristine)
    current = root / "katas" / f"{name}.py"
    backup = dojo_dir(root) / "backup" / f"{name}.py"
    if current.exists():
        backup.parent.mkdir(parents=True, exist_ok=True)
        if backup.exists():  # keep every earlier backup too, numbered
            backup.rename(backup.with_name(f"{name}.{int(time.time())}.py"))
        shutil.copyfile(current, backup)
    shutil.copyfile(pristine, current)
    return backup


def undo_reset(root: Path, name: str) -> Path:
    backup = dojo_dir(root) / "backup" / f"{name}.py"
    if not backup.exists():
        raise FileNotFoundError(backup)
    current = root / "katas" / f"{name}.py"
    swap = dojo_dir(root) / "backup" / f"{name}.undone.py"
    if current.exists():
        shutil.copyfile(current, swap)
    shutil.copyfile(backup, current)
    return current
