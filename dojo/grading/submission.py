"""A student's submission: a folder, a zip or a git checkout; only its kata modules count.

Kata modules are found under ``katas/`` (a copy of the kit) or flat (``pools1.py`` at the
top, as Gradescope uploads often are), also one folder down (a zip of ``repo-main/``).
Nothing else is ever taken: a submission's tests, conftest, plugins or manifest are
reported as ignored, never run. Zips are read member by member without extracting: links,
absolute or ``..`` paths, and anything over the size caps are refused with a reason.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_MODULE = 256 * 1024  # bytes: a kata module is a page or two of code
MAX_ZIP_TOTAL = 50 * 1024 * 1024  # bytes, all members uncompressed
MAX_ZIP_MEMBERS = 5000
MAX_WALK = 20000  # entries looked at in a folder submission


class SubmissionError(Exception):
    """The submission cannot be read at all (not a folder or zip, a broken zip)."""


@dataclass
class Submission:
    name: str  # the folder's or zip's name: the default student id
    modules: dict = field(default_factory=dict)  # kata -> source bytes
    found_at: dict = field(default_factory=dict)  # kata -> path inside the submission
    problems: dict = field(default_factory=dict)  # kata -> why its module was not taken
    notes: list = field(default_factory=list)  # ignored files, refused members


def load(path: Path, katas: list[str], kit_files: dict | None = None) -> Submission:
    """Read the kata modules named in ``katas`` from the submission at ``path``.

    ``kit_files`` (relative path -> sha256 of the kit's sealed files) lets the notes say
    which of the kit's tests or conftest the submission changed (they are ignored)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        entries = _folder_entries(path)
    elif path.is_file() and zipfile.is_zipfile(path):
        entries = _zip_entries(path)
    else:
        raise SubmissionError(f"{path} is neither a folder nor a zip file")
    name = path.stem if path.is_file() else path.name
    sub = Submission(name=name)
    for rel, problem in entries.refused:
        sub.notes.append(f"refused {rel}: {problem}")
    _pick_modules(sub, entries, katas)
    _note_ignored(sub, entries, katas, kit_files or {})
    return sub


@dataclass
class _Entries:
    files: dict = field(default_factory=dict)  # posix relative path -> reader() -> bytes
    sizes: dict = field(default_factory=dict)
    refused: list = field(default_factory=list)  # (path, why)


def _folder_entries(root: Path) -> _Entries:
    out = _Entries()
    seen = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        for entry in sorted(folder.iterdir()):
            seen += 1
            if seen > MAX_WALK:
                out.refused.append((".", f"more than {MAX_WALK} files; the rest were not looked at"))
                return out
            rel = entry.relative_to(root).as_posix()
            if rel.split("/")[0] in (".git", ".dojo", ".venv", ".tox", "__pycache__"):
                continue
            mode = entry.lstat().st_mode
            if stat.S_ISLNK(mode):
                out.refused.append((rel, "a symbolic link (only regular files are graded)"))
            elif stat.S_ISDIR(mode):
                stack.append(entry)
            elif stat.S_ISREG(mode):
                out.files[rel] = entry.read_bytes
                out.sizes[rel] = entry.lstat().st_size
    return out


def _zip_entries(path: Path) -> _Entries:
    out = _Entries()
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip file: {exc}") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SubmissionError(f"{path.name} has {len(infos)} members; at most {MAX_ZIP_MEMBERS}")
    if sum(i.file_size for i in infos) > MAX_ZIP_TOTAL:
        raise SubmissionError(f"{path.name} unpacks to more than {MAX_ZIP_TOTAL // (1024 * 1024)} MB")
    for info in infos:
        name = info.filename
        if info.is_dir():
            continue
        posix = PurePosixPath(name.replace("\\", "/"))
        unix_mode = info.external_attr >> 16
        if stat.S_ISLNK(unix_mode):
            out.refused.append((name, "a symbolic link (only regular files are graded)"))
        elif posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
            out.refused.append((name, "a path outside the submission"))
        else:
            rel = posix.as_posix()
            if rel.split("/")[0] in ("__MACOSX",):
                continue
            out.files[rel] = lambda info=info: archive.read(info)
            out.sizes[rel] = info.file_size
    return out


def _pick_modules(sub: Submission, entries: _Entries, katas: list[str]) -> None:
    for kata in katas:
        wanted = f"{kata}.py"
        candidates = [rel for rel in entries.files if rel.split("/")[-1] == wanted and rel.count("/") <= 2]
        # katas/<kata>.py beats a flat <kata>.py; shallower beats deeper
        candidates.sort(key=lambda rel: (not rel.endswith(f"katas/{wanted}"), rel.count("/"), rel))
        candidates = [rel for rel in candidates if not rel.startswith(("solutions/", "tests/")) and "/solutions/" not in rel]
        if not candidates:
            sub.problems[kata] = f"the submission has no {wanted} (looked for katas/{wanted} and {wanted})"
            continue
        rel = candidates[0]
        if len(candidates) > 1:
            sub.notes.append(f"{kata}: several {wanted} found ({', '.join(candidates)}); graded {rel}")
        if entries.sizes[rel] > MAX_MODULE:
            sub.problems[kata] = f"{rel} is {entries.sizes[rel]} bytes; a kata module may have at most {MAX_MODULE}"
            continue
        try:
            data = entries.files[rel]()
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            sub.problems[kata] = f"{rel} could not be read: {exc}"
            continue
        sub.modules[kata] = data
        sub.found_at[kata] = rel


def _note_ignored(sub: Submission, entries: _Entries, katas: list[str], kit_files: dict) -> None:
    taken = set(sub.found_at.values())
    for rel in sorted(entries.files):
        if rel in taken:
            continue
        base = _kit_relative(rel)
        if base in kit_files:
            if entries.sizes[rel] <= MAX_MODULE and hashlib.sha256(entries.files[rel]()).hexdigest() != kit_files[base]:
                sub.notes.append(f"ignored {rel}: changed from the kit's {base}; the kit's own copy was used")
        elif base.startswith("tests/") or base.split("/")[-1] in ("conftest.py", "pytest.ini", "tox.ini", "setup.cfg"):
            sub.notes.append(f"ignored {rel}: tests, conftest and settings come from the kit, never the submission")
        elif base.startswith("katas/") and base.endswith(".py") and base[6:-3] not in (*katas, "__init__"):
            sub.notes.append(f"ignored {rel}: not a kata of this assignment (only its kata modules are graded)")
        elif base.endswith(".py") and not base.startswith(("katas/", "solutions/")) and "/" not in base and base[:-3] not in katas:
            sub.notes.append(f"ignored {rel}: not a kata of this assignment")


def _kit_relative(rel: str) -> str:
    """``repo-main/tests/test_x.py`` -> ``tests/test_x.py`` (a zip of a whole repository)."""
    parts = rel.split("/")
    for i, part in enumerate(parts):
        if part in ("tests", "katas", "hidden", "solutions", "dojo"):
            return "/".join(parts[i:])
    return parts[-1] if len(parts) > 1 and parts[-1] in ("conftest.py", "katas.toml", "tox.ini", "pyproject.toml") else rel
