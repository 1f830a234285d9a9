"""The kata manifest (``katas.toml``): loading and validation.

Every error names the field that is wrong (``kata[3] 'pools2'.hints[0].ko: missing``), so
a maintainer who adds a kata is told exactly what to fix. The schema is documented in
MANIFEST.md at the top of the kit.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dojo import _toml, system

SCHEMA_VERSION = 1
LANGS = ("en", "ko")
START_METHODS = ("fork", "spawn", "forkserver")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PY_KEY_RE = re.compile(r"^3\.\d+$")


class ManifestError(ValueError):
    """katas.toml is missing, is not TOML, or does not follow the schema."""

    def __init__(self, problems: list[str], path: Path | None = None):
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(problems))


@dataclass(frozen=True)
class Kata:
    name: str
    track: str
    title: dict
    lesson: dict
    hints: list
    points: int
    processes: bool
    fails_on: dict  # python "3.N" or "default" -> tuple of start methods
    messages: dict = field(default_factory=dict)
    timeout: float | None = None
    clauses: dict = field(default_factory=dict)  # id -> what the docstring or lesson promises
    # means (dojo.system.MEANS) -> (start methods it fails on without that means, why {en, ko})
    without: dict = field(default_factory=dict)

    def fails_on_for(self, python: str | None = None) -> tuple[str, ...]:
        """Start methods on which the unsolved kata must fail, for this Python on this
        system: a ``[kata.without.<means>]`` entry whose means this system lacks wins."""
        for means, (methods, _why) in self.without.items():
            if not system.has(means):
                return methods
        if python is None:
            python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        return self.fails_on.get(python, self.fails_on["default"])

    def notes_here(self) -> list[dict]:
        """What differs for this kata on this system ({en, ko} each): the reason of every
        ``[kata.without.<means>]`` entry whose means is missing here."""
        return [why for means, (_methods, why) in self.without.items() if not system.has(means)]

    @property
    def module(self) -> str:
        return f"{self.name}.py"

    @property
    def test_file(self) -> str:
        return f"test_{self.name}.py"


@dataclass(frozen=True)
class Track:
    id: str
    title: dict


@dataclass(frozen=True)
class Manifest:
    path: Path
    tracks: list
    katas: list

    @property
    def root(self) -> Path:
        return self.path.parent

    def get(self, name: str) -> Kata:
        for kata in self.katas:
            if kata.name == name:
                return kata
        raise KeyError(name)

    def names(self) -> list[str]:
        return [k.name for k in self.katas]


def find(start: Path | None = None) -> Path:
    """The katas.toml of the kit that holds ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "katas.toml"
        if candidate.is_file():
            return candidate
    raise ManifestError(["no katas.toml here or in any parent folder"], None)


# The last manifest read, with the file's identity then: parsing katas.toml (both
# languages) costs more than a kata's quick check on fork, so the warm runner reads it
# once, between runs, and each forked run finds it here. Any change to the file (its
# time, size or inode) reads it again.
_cache: dict[Path, tuple[tuple, Manifest]] = {}


def load(path: Path | str | None = None) -> Manifest:
    path = Path(path) if path else find()
    try:
        st = path.stat()
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = _cache.get(Path(os.path.realpath(path)))
        if cached and cached[0] == key:
            return cached[1]
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError([f"cannot read: {exc.strerror}"], path) from None
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ManifestError([f"not valid TOML: {exc}"], path) from None
    manifest = parse(data, path)
    _cache.clear()
    _cache[Path(os.path.realpath(path))] = (key, manifest)
    return manifest


def parse(data: dict, path: Path) -> Manifest:
    problems: list[str] = []
    if data.get("schema") != SCHEMA_VERSION:
        problems.append(f"schema: must be {SCHEMA_VERSION}, found {data.get('schema')!r}")
    unknown = set(data) - {"schema", "track", "kata"}
    for key in sorted(unknown):
        problems.append(f"{key}: unknown top-level field")

    tracks = []
    for i, raw in enumerate(_list_of_tables(data, "track", problems)):
        where = f"track[{i}]"
        tid = _string(raw, "id", where, problems)
        if tid and not NAME_RE.match(tid):
            problems.append(f"{where}.id: {tid!r} must be lower-case letters, digits and _")
        title = _text(raw, "title", where, problems)
        _unknown(raw, {"id", "title"}, where, problems)
        if tid:
            tracks.append(Track(tid, title))
    track_ids = [t.id for t in tracks]
    if len(set(track_ids)) != len(track_ids):
        problems.append("track: ids must be unique")

    katas = []
    seen = set()
    for i, raw in enumerate(_list_of_tables(data, "kata", problems)):
        name = raw.get("name") if isinstance(raw.get("name"), str) else None
        where = f"kata[{i}]" + (f" {name!r}" if name else "")
        name = _string(raw, "name", where, problems)
        if name:
            if not NAME_RE.match(name):
                problems.append(
                    f"{where}.name: must be an importable module name "
                    "(lower-case letters, digits, _; no leading digit)"
                )
            if name in seen:
                problems.append(f"{where}.name: {name!r} is used twice")
            seen.add(name)
        track = _string(raw, "track", where, problems)
        if track and track not in track_ids:
            problems.append(f"{where}.track: {track!r} is not a declared [[track]] id")
        title = _text(raw, "title", where, problems)
        lesson = _text(raw, "lesson", where, problems)
        hints = raw.get("hints")
        if not isinstance(hints, list) or len(hints) < 2:
            problems.append(f"{where}.hints: needs at least two tiered hints")
            hints = []
        hints = [_text({"h": h}, "h", f"{where}.hints[{j}]", problems, bare=True) for j, h in enumerate(hints)]
        points = raw.get("points")
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            problems.append(f"{where}.points: must be a whole number >= 0, found {points!r}")
            points = 0
        processes = raw.get("processes", True)
        if not isinstance(processes, bool):
            problems.append(f"{where}.processes: must be true or false")
            processes = True
        fails_on = _fails_on(raw.get("fails_on"), where, processes, problems)
        messages = {}
        raw_messages = raw.get("messages", {})
        if not isinstance(raw_messages, dict):
            problems.append(f"{where}.messages: must be a table of {{en, ko}} texts")
            raw_messages = {}
        for key, value in raw_messages.items():
            messages[key] = _text(raw_messages, key, f"{where}.messages", problems)
        timeout = raw.get("timeout")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            problems.append(f"{where}.timeout: must be a positive number of seconds")
            timeout = None
        clauses = _clauses(raw.get("clauses", {}), where, problems)
        without = _without(raw.get("without", {}), where, problems)
        _unknown(
            raw,
            {"name", "track", "title", "lesson", "hints", "points", "processes", "fails_on", "messages", "timeout",
             "clauses", "without"},
            where,
            problems,
        )
        if name:
            katas.append(
                Kata(name, track or "", title, lesson, hints, points, processes, fails_on, messages, timeout, clauses,
                     without)
            )
    if problems:
        raise ManifestError(problems, path)
    return Manifest(path, tracks, katas)


def _list_of_tables(data, key, problems):
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{key}: must be an array of tables ([[{key}]])")
        return []
    if key == "kata" and not value:
        problems.append("kata: the manifest lists no kata")
    return value


def _string(raw, key, where, problems):
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}.{key}: missing (a non-empty string)")
        return None
    return value


def _without(value, where, problems) -> dict:
    """``[kata.without.<means>]``: on a system that lacks a means of the platform layer
    (``dojo.system.MEANS``: no CPU affinity on macOS and Windows, no fork on Windows), the
    start methods the unsolved kata fails on there, and why, in every language."""
    label = f"{where}.without"
    if not isinstance(value, dict):
        problems.append(f"{label}: must be a table of [kata.without.<means>] tables")
        return {}
    found = {}
    for means, entry in value.items():
        if means not in system.MEANS:
            problems.append(f"{label}.{means}: unknown means (known: {', '.join(system.MEANS)})")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{label}.{means}: must be a table with fails_on and why")
            continue
        methods = _methods(entry.get("fails_on"), f"{label}.{means}.fails_on", problems)
        why = _text(entry, "why", f"{label}.{means}", problems)
        _unknown(entry, {"fails_on", "why"}, f"{label}.{means}", problems)
        found[means] = (methods, why)
    return found


def _clauses(value, where, problems) -> dict:
    """``[kata.clauses]``: one id per promise the kata's docstring or lesson makes, each with
    one line saying it. Tests name the clauses they check (``@pytest.mark.clause(id)``);
    fixes name the clause they break (``# breaks: id``)."""
    if not isinstance(value, dict):
        problems.append(f"{where}.clauses: must be a table of id = \"what the kata promises\"")
        return {}
    clauses = {}
    for cid, text in value.items():
        if not NAME_RE.match(cid):
            problems.append(f"{where}.clauses.{cid}: ids are lower-case letters, digits and _")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"{where}.clauses.{cid}: must be a one-line description")
        else:
            clauses[cid] = text
    return clauses


def _text(raw, key, where, problems, bare=False):
    """A text in every language: ``{ en = "...", ko = "..." }``."""
    value = raw.get(key)
    label = where if bare else f"{where}.{key}"
    if not isinstance(value, dict):
        problems.append(f"{label}: missing (a table with {', '.join(LANGS)})")
        return {lang: "" for lang in LANGS}
    for lang in LANGS:
        if not isinstance(value.get(lang), str) or not value[lang].strip():
            problems.append(f"{label}.{lang}: missing")
    for extra in sorted(set(value) - set(LANGS)):
        problems.append(f"{label}.{extra}: unknown language (known: {', '.join(LANGS)})")
    return {lang: value.get(lang, "") for lang in LANGS}


def _methods(value, label, problems):
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        problems.append(f"{label}: must be a list of start methods")
        return ()
    for m in value:
        if m not in START_METHODS:
            problems.append(f"{label}: {m!r} is not a start method ({', '.join(START_METHODS)})")
    if len(set(value)) != len(value):
        problems.append(f"{label}: lists a start method twice")
    return tuple(m for m in START_METHODS if m in value)


def _fails_on(value, where, processes, problems):
    label = f"{where}.fails_on"
    if value is None:
        problems.append(f"{label}: missing (the start methods on which the unsolved kata must fail)")
        return {"default": ()}
    if isinstance(value, list):
        table = {"default": value}
    elif isinstance(value, dict):
        table = value
        if "default" not in table:
            problems.append(f"{label}.default: missing")
    else:
        problems.append(f"{label}: must be a list, or a table of lists keyed by 'default' and '3.N'")
        return {"default": ()}
    result = {}
    for key, methods in table.items():
        if key != "default" and not PY_KEY_RE.match(key):
            problems.append(f"{label}.{key}: keys are 'default' or a Python version like '3.10'")
            continue
        result[key] = _methods(methods, f"{label}.{key}" if isinstance(value, dict) else label, problems)
    if not processes:
        # A kata that starts no process runs once; it either fails or it does not.
        for key, methods in result.items():
            if methods and set(methods) != set(START_METHODS):
                problems.append(f"{label}: a kata with processes = false fails everywhere or nowhere")
    result.setdefault("default", ())
    return result


def _unknown(raw, known, where, problems):
    for key in sorted(set(raw) - known):
        problems.append(f"{where}.{key}: unknown field")
