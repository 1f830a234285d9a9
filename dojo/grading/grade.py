"""Grade one submission, or a folder of them.

    grade(submission) ─ load the kata modules (submission.py)
      for each kata in the manifest (side by side with ``slots``, one job slot each):
        fresh workspace: the sealed kit + the submission's kata modules (seal.py)
        judge: python -m pytest tests/test_<kata>.py hidden/test_<kata>.py
               --dojo-isolate (learner code only in host processes) --dojo-canary=<random>
               inside the sandbox (sandbox.py), wall limit, tree kill
        read the results; integrity: the canary failed, no result twice, every collected
        test has a result, no sealed file changed -> else the kata is void
        score its cells (model.py)
      -> Grade -> exporters (export.py)

A kata the submission lacks is ``missing`` and not run; a kata whose run overran, crashed
or hung scores what its recorded tests earned and nothing for the rest. The grader never
imports learner code; it reads JSON written by the judge, which never imports it either.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import multiprocessing
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dojo
from dojo import hosting, runner
from dojo import manifest as manifest_mod
from dojo.grading import model, sandbox, seal, submission

METHODS = ("fork", "spawn", "forkserver")
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@dataclass
class Settings:
    kit: Path
    start_methods: tuple = ()
    wall: float = 90.0  # seconds per kata run (all its tests, every start method)
    limits: sandbox.Limits | None = None  # None: sandbox.Limits() defaults
    sandboxed: bool = True
    seal_file: Path | None = None
    lang: str = "en"
    snapshot: dict | None = None  # the kit's sealed files, read once (check_kit)

    def methods(self) -> list[str]:
        available = multiprocessing.get_all_start_methods()
        wanted = self.start_methods or METHODS
        return [m for m in METHODS if m in wanted and m in available]


class GraderError(Exception):
    """The grader itself cannot work (kit changed since sealed, manifest invalid)."""


def check_kit(settings: Settings) -> tuple[manifest_mod.Manifest, dict]:
    """The manifest and the kit's hashes; raises GraderError if the kit is not fit."""
    try:
        manifest = manifest_mod.load(settings.kit / "katas.toml")
    except manifest_mod.ManifestError as exc:
        raise GraderError(f"the kit's katas.toml is invalid: {exc}") from None
    seal_path = settings.seal_file or (settings.kit / seal.SEAL_FILE)
    if settings.seal_file or seal_path.is_file():
        problems = seal.check(settings.kit, seal.read(seal_path))
        if problems:
            raise GraderError("the kit does not match its seal:\n  " + "\n  ".join(problems))
    if settings.snapshot is None:
        settings.snapshot = seal.snapshot(settings.kit)
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in settings.snapshot.items()}
    return manifest, hashes


def grade(
    path: Path, settings: Settings, *, student: str | None = None, slot: int = 0, progress=None, checkpoint=None,
    slots: list[int] | None = None,
) -> model.Grade:
    """Grade the submission at ``path``. Never raises for anything the submission does.

    Katas run one after another in job slot ``slot``, or side by side, one per slot of
    ``slots`` (each its own cgroup, uid and workspace): a kata that hangs then costs its
    timeouts beside the others, not after them. ``checkpoint(partial)``, if given, is called
    before the first kata and after each one with the grade so far, marked incomplete
    (``error``): whoever writes it leaves the finished rows behind if the grader is killed."""
    started = time.monotonic()
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    manifest, kit_hashes = check_kit(settings)
    methods = settings.methods()
    limits = settings.limits or sandbox.Limits(wall=settings.wall)
    result = model.Grade(
        submission=Path(path).name,
        student=student or Path(path).stem,
        python=PY,
        start_methods=methods,
        score=0.0,
        max_score=float(sum(k.points for k in manifest.katas)),
        limits=_limits_in_force(settings, limits),
        started=stamp,
        dojo_version=dojo.__version__,
    )
    try:
        sub = submission.load(Path(path), manifest.names(), kit_hashes)
    except submission.SubmissionError as exc:
        sub = submission.Submission(name=Path(path).name, problems={k: str(exc) for k in manifest.names()})
        result.notes.append(str(exc))
    result.student = student or sub.name
    result.notes.extend(sub.notes)
    if settings.sandboxed:
        limits = dataclasses.replace(limits, hidden=_hidden_from_hosts(settings.kit, Path(path), limits))
    closed = settings.sandboxed and result.limits.get("uid", "").startswith("on")
    total = len(manifest.katas)
    rows: dict[int, model.KataGrade] = {}
    lock = threading.Lock()

    def done(index: int, row: model.KataGrade) -> None:
        with lock:
            rows[index] = row
            result.katas = [rows[i] for i in sorted(rows)]
            _checkpoint(checkpoint, result, started, total)

    def run(index: int, kata, title: str, kata_slot: int) -> None:
        if progress:
            progress(kata.name, index, total)
        tests, void = _run_kata(kata, sub, settings, methods, limits, kata_slot, closed)
        done(index, model.score_kata(kata.name, title, kata.points, methods, tests, processes=kata.processes,
                                     status="void" if void else "", reason=void))

    waiting = []
    for index, kata in enumerate(manifest.katas):
        title = kata.title.get(settings.lang) or kata.title.get("en", kata.name)
        if kata.name in sub.problems:
            rows[index] = model.score_kata(kata.name, title, kata.points, methods, [], processes=kata.processes,
                                           status="missing", reason=sub.problems[kata.name])
        else:
            waiting.append((index, kata, title))
    result.katas = [rows[i] for i in sorted(rows)]
    _checkpoint(checkpoint, result, started, total)
    free = list(slots or [slot])
    if len(free) < 2 or len(waiting) < 2:
        for index, kata, title in waiting:
            run(index, kata, title, free[0])
    else:
        def in_a_slot(index, kata, title):
            with lock:
                kata_slot = free.pop(0)
            try:
                run(index, kata, title, kata_slot)
            finally:
                with lock:
                    free.append(kata_slot)

        with ThreadPoolExecutor(min(len(free), len(waiting)), thread_name_prefix="dojo-kata") as pool:
            for future in [pool.submit(in_a_slot, *item) for item in waiting]:
                future.result()
    result.katas = [rows[i] for i in sorted(rows)]
    result.score, _ = model.total(result.katas)
    result.duration = round(time.monotonic() - started, 3)
    return result


def _checkpoint(checkpoint, result: model.Grade, started: float, katas: int) -> None:
    if checkpoint is None:
        return
    partial = dataclasses.replace(
        result, katas=list(result.katas), notes=list(result.notes),
        duration=round(time.monotonic() - started, 3),
        error=f"incomplete: {len(result.katas)} of {katas} katas graded when these results were written",
    )
    partial.score, _ = model.total(partial.katas)
    checkpoint(partial)


def _limits_in_force(settings: Settings, limits: sandbox.Limits) -> dict:
    if not settings.sandboxed:
        return {"wall": f"on: {settings.wall:g} s per kata", "sandbox": "off: --no-sandbox"}
    found = dict(sandbox.detect(limits))
    found["wall"] = f"on: {settings.wall:g} s per kata run; every test also has its own timeout (10 s unless the manifest says otherwise)"
    found["isolation"] = "on: learner code runs only in host processes, never in the judge"
    return found


def _run_kata(kata, sub, settings: Settings, methods: list, limits: sandbox.Limits, slot: int, closed: bool = False):
    """Run one kata in a fresh workspace; return (tests, void reason or "").

    ``closed`` (the uid drop is in force): the workspace is open to this job's uid only,
    and its hidden tests to the judge only."""
    with sandbox.UidLease(limits, slot) as lease:  # a uid no other job on this machine uses
        return _run_kata_as(kata, sub, settings, methods, lease.limits, slot, closed)


def _run_kata_as(kata, sub, settings: Settings, methods: list, limits: sandbox.Limits, slot: int, closed: bool):
    canary = f"test_canary_{secrets.token_hex(6)}"
    workspace = Path(tempfile.mkdtemp(prefix=f"dojo-grade-{kata.name}-"))
    try:
        sealed = seal.build_workspace(settings.snapshot or settings.kit, workspace, sub.modules)
        copy_toolkit(workspace / hosting.TOOLKIT)
        if closed:
            _close_workspace(workspace, limits.slot_uid(slot))
        files = [f"tests/test_{kata.name}.py"]
        if (workspace / seal.HIDDEN / f"test_{kata.name}.py").is_file():
            files.append(f"{seal.HIDDEN}/test_{kata.name}.py")
        # importlib: hidden/test_<kata>.py and tests/test_<kata>.py share a module name
        args = ["--dojo-isolate", f"--dojo-canary={canary}", f"--lang={settings.lang}", "--import-mode=importlib"]
        # the workspace too is read-only in the job: nothing a host does can change it
        limits = dataclasses.replace(limits, readonly=(*limits.readonly, str(workspace)))
        prefix = sandbox.launch_prefix(slot, limits, leave_nothing=[workspace]) if settings.sandboxed else []
        env = {"DOJO_LIMITS": limits.to_json(), "DOJO_SLOT": str(slot)} if settings.sandboxed else {}
        try:
            run = runner.run_kata(
                workspace, kata.name, "katas", start_methods=methods, wall=settings.wall,
                env=env, test_files=files, args=args, prefix=prefix, results_pipe=True,
            )
        finally:
            if settings.sandboxed:
                sandbox.cleanup(slot)
        tests = _tests(kata.name, run, canary, methods, settings.kit)
        void = _integrity(run, canary, sealed, workspace, sub.modules)
        return tests, void
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


# What a host imports of dojo: the test-side toolkit, and the host's half of hosting with
# what it stands on. Copied into every workspace, so that a host never needs the grader's
# own dojo (nor the kit, when dojo is installed editable from it).
TOOLKIT_FILES = ("__init__.py", "system.py", "testing.py", "hosting.py", "i18n.py", "_toml.py", "messages.toml",
                 "grading/__init__.py", "grading/sandbox.py")


def copy_toolkit(dest: Path) -> None:
    """``dest/dojo/...``: the toolkit files of the running dojo (checked against the seal)."""
    source = Path(dojo.__file__).resolve().parent
    names = list(TOOLKIT_FILES) + [f"toolkit/{p.name}" for p in sorted((source / "toolkit").glob("*.py"))]
    for name in names:
        if (source / name).is_file():
            target = dest / "dojo" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((source / name).read_bytes())
    if sys.version_info < (3, 11):  # dojo._toml needs tomli there, which hosts cannot reach
        try:
            import tomli

            shutil.copytree(Path(tomli.__file__).parent, dest / "tomli",
                            ignore=shutil.ignore_patterns("__pycache__"))
        except ImportError:
            pass
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _close_workspace(workspace: Path, uid: int | None) -> None:
    """The workspace for this job's uid alone (owner root, group the job's gid, mode 750):
    no other job's host can enter it. Hidden tests for the judge (root) alone."""
    if uid is None:
        return
    os.chown(workspace, 0, uid)
    workspace.chmod(0o750)
    hidden = workspace / seal.HIDDEN
    if hidden.is_dir():
        for path in hidden.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
        hidden.chmod(0o700)


def _hidden_from_hosts(kit: Path, submission_path: Path, limits: sandbox.Limits) -> tuple:
    """Folders no host may see: the kit, the tree dojo is installed editable from, the
    submission (and the folder that holds it: a batch's other submissions), and what the
    grader keeps read-only (results), except the interpreter's own folders."""
    package = Path(dojo.__file__).resolve().parent
    found = [Path(kit), submission_path if submission_path.is_dir() else submission_path.parent,
             submission_path.parent]
    if not package.parent.name.endswith(("site-packages", "dist-packages")):
        found.append(package.parent)  # an editable install: a source tree, likely the kit
    prefixes = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix)]
    for entry in limits.readonly:
        path = Path(entry).resolve()
        if path == package or any(path == p or p in path.parents or path in p.parents for p in prefixes):
            continue  # the installed packages and the standard library: hosts run on them
        found.append(path)
    out = []
    for path in found:
        text = str(Path(path).resolve())
        if text != "/" and text not in out:
            out.append(text)
    return tuple(out)


def _tests(kata: str, run: runner.RunResult, canary: str, methods: list, kit: Path | None = None) -> list:
    """TestGrades from the judge's records; every collected test without one is a failure.
    A visible test carries its function's source, read from the kit (never a hidden one's)."""
    recorded = {c.nodeid: c for c in run.run.cells if c.kata == kata}
    expected = [t for t in run.run.collected if t.get("kata") == kata]
    why_missing = _why_missing(run)
    sources = _TestSources(kit)
    out = []
    for rec in expected:
        cell = recorded.pop(rec["nodeid"], None)
        hidden = rec["nodeid"].startswith(f"{seal.HIDDEN}/")
        if cell is None:
            out.append(model.TestGrade(kata, rec.get("case") or rec.get("test", ""), rec.get("start_method"),
                                       PY, "missing", why_missing, hidden=hidden,
                                       code="" if hidden else sources.of(rec["nodeid"])))
        else:
            grade_ = _test_grade(kata, cell, hidden)
            grade_.code = "" if hidden else sources.of(rec["nodeid"])
            out.append(grade_)
    for cell in recorded.values():  # recorded but never collected: the run is not trusted
        out.append(_test_grade(kata, cell, cell.nodeid.startswith(f"{seal.HIDDEN}/")))
    if not expected and not out:
        out = [model.TestGrade(kata, "collection", m, PY, "error", why_missing or _output_tail(run)) for m in methods]
    return out


class _TestSources:
    """The source of visible test functions, by node id (``tests/test_k.py::test_x[fork]``),
    read from the kit's own test files: the judge's records never carry code."""

    def __init__(self, kit: Path | None):
        self.kit = Path(kit) if kit else None
        self.files: dict = {}

    def of(self, nodeid: str) -> str:
        path, _, name = nodeid.partition("::")
        name = name.split("[", 1)[0].split("::")[-1]
        if self.kit is None or not path.startswith("tests/") or ".." in path.split("/"):
            return ""
        if path not in self.files:
            self.files[path] = _functions(self.kit / path)
        return self.files[path].get(name, "")


def _functions(path: Path) -> dict:
    import ast

    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            found.setdefault(node.name, ast.get_source_segment(text, node, padded=False) or "")
    return found


def _test_grade(kata: str, cell, hidden: bool) -> model.TestGrade:
    message = cell.message
    if cell.leaks and cell.outcome == "leaked":
        message = message or "; ".join(cell.leaks)
    return model.TestGrade(kata, cell.case or cell.test, cell.start_method, cell.python or PY, cell.outcome,
                           message, cell.where, round(cell.duration or 0.0, 3), hidden)


def _why_missing(run: runner.RunResult) -> str:
    if run.overran:
        return f"the kata's run passed its wall limit ({run.seconds:.0f} s) and was stopped; this test never finished"
    if run.run.finished is None:
        return f"the judge ended before this test had a result (exit status {run.returncode})"
    return "no result was recorded for this test"


def _output_tail(run: runner.RunResult) -> str:
    lines = [line for line in run.output.splitlines() if line.strip()]
    return "the kata's tests could not be collected: " + " / ".join(lines[-3:])[:400]


def _integrity(run: runner.RunResult, canary: str, sealed: dict, workspace: Path, modules: dict | None = None) -> str:
    """Why this kata's session cannot be trusted, or "" if it can. ``modules``: the kata
    modules as submitted (kata -> bytes); the ones graded must still be exactly those."""
    canaries = [c for c in run.run.cells if c.test == canary or c.nodeid.endswith(canary)]
    if not canaries or any(c.outcome != "failed" for c in canaries):
        # The canary runs last: without its failure recorded, the session either lied or
        # never ended (killed, stopped past its wall), and nothing it recorded is trusted.
        if run.overran:
            return f"the kata's run did not end within its wall limit ({run.seconds:.0f} s) and was stopped"
        if run.run.finished is None:
            return f"the judge did not finish the session (exit status {run.returncode})"
        return "the session's canary test did not fail as it must: the judge's results cannot be trusted"
    if run.returncode != 1:  # the canary always fails: pytest's "some tests failed"
        return f"the judge ended with exit status {run.returncode}, not as a finished session does"
    if run.run.duplicates:
        return f"a result was recorded twice ({run.run.duplicates[0]}): the judge's results cannot be trusted"
    now = seal.kit_files(workspace)
    changed = sorted(name for name in set(sealed) | set(now) if sealed.get(name) != now.get(name))
    if changed:
        return f"learner code changed the grader's files during the run ({', '.join(changed[:3])})"
    rewritten = []
    for kata, source in sorted((modules or {}).items()):
        try:
            now_bytes = (workspace / "katas" / f"{kata}.py").read_bytes()
        except OSError:
            now_bytes = None
        if now_bytes is None or hashlib.sha256(now_bytes).digest() != hashlib.sha256(source).digest():
            rewritten.append(f"katas/{kata}.py")
    if rewritten:
        return (f"the kata modules graded are not the ones submitted: {', '.join(rewritten[:3])} changed during "
                "the run")
    return ""


# --- batch ------------------------------------------------------------------------------


def submissions_in(folder: Path) -> list[Path]:
    """Every submission in a batch folder: its sub-folders and zip files, sorted."""
    out = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith("."):
            continue
        if (entry.is_dir() and not entry.is_symlink()) or (entry.is_file() and entry.suffix.lower() == ".zip"):
            out.append(entry)
    return out


def error_grade(path: Path, settings: Settings, reason: str, manifest=None) -> model.Grade:
    """The row of a submission whose grading failed: zero, with the reason."""
    methods = settings.methods()
    max_score = float(sum(k.points for k in manifest.katas)) if manifest else 0.0
    return model.Grade(
        submission=Path(path).name,
        student=Path(path).stem,
        python=PY,
        start_methods=methods,
        score=0.0,
        max_score=max_score,
        error=reason,
        started=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        dojo_version=dojo.__version__,
    )

