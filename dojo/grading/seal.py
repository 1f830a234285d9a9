"""The instructor's sealed kit: which files grading takes from it, and their hashes.

    sealed: katas.toml, conftest.py, pyproject.toml, tox.ini, tests/*.py, hidden/*.py
            and dojo itself (the installed package's .py and .toml files)
    seal file (``seal.json``): {"schema": 1, "files": {path: sha256}, "dojo": {path: sha256}}

``dojo release`` records the seal; ``dojo grade`` checks the kit against it before it
grades (a mismatch is a grader failure: nothing is graded against a changed kit) and
checks the workspace again after every kata run (a sealed file changed by learner code
voids that kata). ``hidden/`` holds instructor-only tests, ``hidden/test_<kata>.py``,
which ``release`` leaves out and ``grade`` runs with the visible ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dojo

SCHEMA = 1
TOP = ("katas.toml", "conftest.py", "pyproject.toml", "tox.ini")
FOLDERS = ("tests", "hidden")
HIDDEN = "hidden"
SEAL_FILE = "seal.json"


class SealError(Exception):
    """The kit does not match its seal, or cannot be read."""


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def kit_files(kit: Path, hidden: bool = True) -> dict[str, str]:
    """Relative path -> sha256 of every sealed file of the kit."""
    kit = Path(kit)
    out = {}
    for name in TOP:
        if (kit / name).is_file():
            out[name] = sha256(kit / name)
    for folder in FOLDERS:
        if folder == HIDDEN and not hidden:
            continue
        for path in sorted((kit / folder).glob("*.py")) if (kit / folder).is_dir() else []:
            out[f"{folder}/{path.name}"] = sha256(path)
    return out


def dojo_files() -> dict[str, str]:
    """Relative path -> sha256 of the dojo package that will judge."""
    root = Path(dojo.__file__).parent
    return {
        p.relative_to(root).as_posix(): sha256(p)
        for p in sorted(root.rglob("*"))
        if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts
    }


def record(kit: Path, hidden: bool = True) -> dict:
    return {"schema": SCHEMA, "version": dojo.__version__, "files": kit_files(kit, hidden), "dojo": dojo_files()}


def write(kit: Path, out: Path, hidden: bool = True) -> dict:
    seal = record(kit, hidden)
    Path(out).write_text(json.dumps(seal, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return seal


def read(path: Path) -> dict:
    try:
        seal = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SealError(f"{path}: cannot read the seal: {exc}") from None
    if not isinstance(seal, dict) or seal.get("schema") != SCHEMA:
        raise SealError(f"{path}: not a dojo seal (schema {SCHEMA})")
    return seal


def check(kit: Path, seal: dict) -> list[str]:
    """What differs between the kit (and the dojo that runs) and the seal; [] if nothing."""
    problems = []
    now = kit_files(kit)
    for name, digest in sorted(seal.get("files", {}).items()):
        if name.startswith(f"{HIDDEN}/") and name not in now:
            continue  # a release seal may name hidden tests the instructor keeps elsewhere
        if now.get(name) != digest:
            problems.append(f"{name}: {'missing' if name not in now else 'changed'} since the kit was sealed")
    for name in sorted(set(now) - set(seal.get("files", {}))):
        if not name.startswith(f"{HIDDEN}/"):
            problems.append(f"{name}: not in the seal")
    running = dojo_files()
    for name, digest in sorted(seal.get("dojo", {}).items()):
        if running.get(name) != digest:
            problems.append(f"dojo/{name}: the installed dojo differs from the sealed one")
    return problems


def snapshot(kit: Path) -> dict[str, bytes]:
    """The kit's sealed files, read once: every workspace of a grading run is built from
    this copy, so nothing a submission does on disk can change what grades the next."""
    return {name: (Path(kit) / name).read_bytes() for name in kit_files(kit)}


def build_workspace(kit, dest: Path, katas: dict[str, bytes]) -> dict[str, str]:
    """A fresh grading folder: the kit's sealed files (not its katas, not its solutions)
    and the submission's kata modules. ``kit`` is a folder or a ``snapshot``. Returns the
    sealed files' hashes as written."""
    files = kit if isinstance(kit, dict) else snapshot(Path(kit))
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes(data)
    (dest / "katas").mkdir(exist_ok=True)
    (dest / "katas" / "__init__.py").write_bytes(b"")
    for kata, source in katas.items():
        (dest / "katas" / f"{kata}.py").write_bytes(source)
    _readable(dest)
    return kit_files(dest)


def _readable(root: Path) -> None:
    """World-readable, writable by the grader only: a host running as its own uid can
    read the workspace and the kata modules but change nothing in it."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
