"""``dojo grade`` against bad input: a hostile or broken kata never earns a point.

Every grading test uses a copy of the fixture kit with a second ordinary kata, ``good2``
(good1's manifest entry, module, solution and test under a new name), and grades a
submission holding only ``katas/good1.py`` and ``katas/good2.py``: the other fixture katas
are then ``missing``, which costs nothing. ``good2`` is always the solved module, so
"the rest are graded normally" is checked on every run; ``good1`` carries the bad input.

Each grade runs good1 on every start method in force (fork, spawn, forkserver), and each
test then checks that:

- good1 earns 0 points, every one of its cells failed, and the reason names the problem;
- good2 earns its full points;
- the grader returned (it never raises for what a submission does) and its results
  files were written;
- nothing of ours is left running (no process whose command line or working folder is
  in the test's scratch folder or the kit copy), no job cgroup is left, and /dev/shm
  has no new entries.

The workspaces and the judge's results files are put in a per-test scratch folder
(``tempfile.tempdir`` for in-process grades, ``TMPDIR`` for the CLI), so "a process of
ours" is one that mentions it. Fork bombs and escapees are bounded by the tests
themselves (CI runs as root, where RLIMIT_NPROC binds nothing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from dojo import procs
from dojo.grading import export, model, sandbox, seal
from dojo.grading import grade as grading
from selftest.helpers import KIT, kill_own_processes, own_processes, own_shm_left

LINUX = sys.platform.startswith("linux")
REPO = Path(__file__).resolve().parent.parent
WALL = 30.0  # seconds per kata run
CLI_TIMEOUT = 240  # seconds for a whole `dojo grade` subprocess
HANG_SCALE = "0.3"  # DOJO_TIMEOUT_SCALE for the hang cases: the kit's 10 s test timeout -> 3 s

SOLVED = (KIT / "solutions" / "good1.py").read_text(encoding="utf-8")
UNSOLVED = (KIT / "katas" / "good1.py").read_text(encoding="utf-8")

pytestmark = pytest.mark.skipif(not LINUX, reason="grading's sandbox and /proc tricks are Linux-only")


# --- the kit, submissions, and a clean-room around each grade -----------------------------------


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """The fixture kit plus ``good2``, an ordinary kata like good1."""
    return make_kit(tmp_path_factory.mktemp("grade-kit"))


def make_kit(where: Path) -> Path:
    dest = where / "kit"
    shutil.copytree(KIT, dest, ignore=shutil.ignore_patterns("__pycache__", "seal.json", ".dojo"))
    toml = (dest / "katas.toml").read_text(encoding="utf-8")
    start = toml.index('[[kata]]\nname = "good1"')
    end = toml.index("[[kata]]", start + 1)
    entry = toml[start:end].replace('name = "good1"', 'name = "good2"')
    (dest / "katas.toml").write_text(toml.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    for folder, pattern in (("katas", "{}.py"), ("solutions", "{}.py"), ("tests", "test_{}.py")):
        shutil.copyfile(dest / folder / pattern.format("good1"), dest / folder / pattern.format("good2"))
    return dest


class Arena:
    """One test's scratch folder; every workspace and results file of its grades is in it."""

    def __init__(self, kit: Path, scratch: Path, out: Path, ledger: str):
        self.kit = kit
        self.scratch = scratch
        self.out = out
        self.ledger = ledger  # this test's tree ledger (selftest/conftest.py)

    def submission(self, good1: str | None, *, good2: str = SOLVED, extra: dict | None = None) -> Path:
        sub = self.scratch / "student"
        (sub / "katas").mkdir(parents=True)
        if good1 is not None:
            (sub / "katas" / "good1.py").write_text(good1, encoding="utf-8")
        (sub / "katas" / "good2.py").write_text(good2, encoding="utf-8")
        for rel, text in (extra or {}).items():
            (sub / rel).parent.mkdir(parents=True, exist_ok=True)
            (sub / rel).write_text(text, encoding="utf-8")
        return sub

    def settings(self, wall: float = WALL, methods: tuple = ()) -> grading.Settings:
        return grading.Settings(kit=self.kit, start_methods=methods, wall=wall, limits=sandbox.Limits(wall=wall))

    def grade(self, sub: Path, wall: float = WALL, methods: tuple = ()) -> model.Grade:
        """Grade in this process (it only starts subprocesses), then write the results."""
        result = grading.grade(sub, self.settings(wall, methods), student="student")
        paths = export.write(result, self.out, ["json", "gradescope"])
        for path in paths.values():
            assert path.is_file(), f"the grade's {path.name} was not written; every grade must leave its results"
        assert model.Grade.from_json((self.out / export.FILES["model"]).read_text(encoding="utf-8")) == result
        return result

    def cli(self, sub, *extra_args) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "dojo", "--root", str(self.kit), "grade", str(sub), "--out", str(self.out),
               "--format", "json", "--format", "gradescope", *extra_args]  # fmt: skip
        env = dict(os.environ, TMPDIR=str(self.scratch))
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT)

    def leftovers(self) -> list[str]:
        """Processes of this test's tree still running, job cgroups still there, /dev/shm
        objects that the grade's trackers saw created and nobody removed."""
        found = [f"process {d}" for d in own_processes()]
        found += [f"job cgroup {p} still exists" for p in sandbox.cgroup_paths(0) if p.exists()]
        found += [f"/dev/shm/{name} is left" for name in own_shm_left(self.ledger)]
        return found

    def assert_clean(self) -> None:
        left = self.leftovers()
        assert not left, (
            "the grade left these behind; a graded submission must leave nothing running:\n  " + "\n  ".join(left)
        )


@pytest.fixture
def arena(kit, tmp_path, monkeypatch, tree_ledger):
    # world-readable, so a host that dropped to the job's uid can still read its workspace
    scratch = Path(tempfile.mkdtemp(prefix="dojo-selftest-grade-"))
    scratch.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield Arena(kit, scratch, tmp_path / "out", tree_ledger)
    kill_own_processes()  # a failed test must not leave its grade's processes to the next
    shutil.rmtree(scratch, ignore_errors=True)


def kata(result: model.Grade, name: str) -> model.KataGrade:
    return next(k for k in result.katas if k.kata == name)


def why(k: model.KataGrade) -> str:
    """Everything the grade says about a kata: its reason and each cell's."""
    return "\n".join([k.reason, *(f"[{c.start_method}] {c.reason}" for c in k.cells)])


def board(result: model.Grade) -> str:
    """good1 and good2 as the grade has them, for assertion messages."""
    lines = []
    for name in ("good1", "good2"):
        k = kata(result, name)
        lines.append(f"{name}: {k.status}, {k.points}/{k.max_points} points; reason {k.reason!r}")
        for c in k.cells:
            lines.append(f"  [{c.start_method}] {'passed' if c.passed else 'failed'} {c.points}: {c.reason[:300]}")
    return "\n".join(lines)


def assert_good2_graded_normally(result: model.Grade) -> None:
    good2 = kata(result, "good2")
    assert good2.status == "passed" and good2.points == good2.max_points == 1.0, (
        "good2 is solved and must earn its full point whatever good1 did; the grade says:\n" + board(result)
    )


def assert_good1_earned_nothing(result: model.Grade, *, allowed=("failed", "void", "missing"), methods=()):
    good1 = kata(result, "good1")
    wanted = grading.Settings(kit=KIT, start_methods=methods).methods()
    assert result.start_methods == wanted, f"the grade ran on {result.start_methods}; it must cover {wanted}"
    cells = {c.start_method: c for c in good1.cells}
    assert set(cells) == set(result.start_methods), f"good1 has cells {sorted(cells)}; one per start method expected"
    passed = [m for m, c in cells.items() if c.passed or c.points]
    assert not passed and good1.points == 0, (
        f"good1 carries bad input yet earned points on {passed or 'no cell but the kata total'}: "
        "a hostile submission must never score what it did not earn. The grade says:\n" + board(result)
    )
    assert good1.status in allowed, (
        f"good1's status is {good1.status!r}; expected one of {allowed}:\n" + board(result)
    )
    assert result.score == 1.0, f"the total is {result.score}; only good2's 1 point was earned:\n" + board(result)
    return good1


def assert_names(pattern: str, good1: model.KataGrade, *, every_cell: bool, result: model.Grade) -> None:
    """The reason names the problem: in every cell, or at least somewhere for the kata."""
    texts = [f"{good1.reason}\n{c.reason}" for c in good1.cells] if every_cell else [why(good1)]
    unnamed = [t for t in texts if not re.search(pattern, t, re.S)]
    assert not unnamed, (
        f"the reason must name the problem (/{pattern}/) so the student can fix it; the grade says:\n" + board(result)
    )


def assert_graded(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, (
        f"dojo grade exited {done.returncode}; it must exit 0 whenever grading ran, whatever the submission did:\n"
        + done.stderr[-2000:]
    )


# --- hostile and broken katas -------------------------------------------------------------------


@dataclass
class Case:
    id: str  # a sentence: what the submission does and what must happen
    source: str  # katas/good1.py
    names: str  # a regex the reason must match
    every_cell: bool = True  # each start method's cell names the problem (else: the kata does)
    allowed: tuple = ("failed",)  # good1's status
    hang: bool = False  # relies on the test timeout: shorter timeouts, marked slow
    slow: bool = False  # over 10 s for other reasons

    def param(self):
        marks = [pytest.mark.slow] if self.hang or self.slow else []
        return pytest.param(self, id=self.id, marks=marks)


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


FORGE = '''
import json
import os
import signal


def _forged(methods=("fork", "spawn", "forkserver")):
    out = []
    for method in methods:
        nodeid = "tests/test_good1.py::test_every_number_comes_back_doubled[" + method + "]"
        out.append({"schema": 1, "type": "result", "nodeid": nodeid, "kata": "good1",
                    "test": "test_every_number_comes_back_doubled",
                    "case": "test_every_number_comes_back_doubled", "start_method": method,
                    "python": "%d.%d" % os.sys.version_info[:2], "target": "katas", "outcome": "passed",
                    "message": "", "where": "", "stack": "", "leaks": [], "duration": 0.1})
    return "".join(json.dumps(r) + "\\n" for r in out).encode()


def _ancestors():
    """Ancestors in this session only: the judge leads it (the controller starts the judge
    in a session of its own), so the grader and the tests beyond it are never touched."""
    pid, session = os.getpid(), os.getsid(0)
    while pid > 1:
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
            if os.getsid(pid) != session:
                return
        except (OSError, ValueError, IndexError):
            return
        yield pid


def _judge():
    """The nearest ancestor holding a results file (.jsonl): (pid, /proc path, target)."""
    for pid in _ancestors():
        try:
            names = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for name in names:
            path = "/proc/%d/fd/%s" % (pid, name)
            try:
                target = os.readlink(path)
            except OSError:
                continue
            if target.endswith(".jsonl"):
                return pid, path, target
    return None, None, None


def _every_fd():
    pids = ["self", *[str(pid) for pid in list(_ancestors())[:1]]]
    judge, _, _ = _judge()
    if judge:
        pids.append(str(judge))
    for pid in pids:
        try:
            names = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for name in names:
            yield "/proc/%s/fd/%s" % (pid, name)


def _forge_everywhere(data):
    """Append the forged lines to every file this process, its parent and the judge have open."""
    for path in _every_fd():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            os.write(fd, data)
        except OSError:
            pass
        finally:
            os.close(fd)


def _kill_judge():
    judge, _, _ = _judge()
    if judge:
        os.kill(judge, signal.SIGKILL)
'''


LEAVE_CGROUPS = '''
def _leave_cgroups():
    """As root, move this process to the root of every cgroup hierarchy it is in."""
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, names, _ = line.split(":", 2)
        for name in names.split(","):
            for base in ("/sys/fs/cgroup/" + name.replace("name=", ""), "/sys/fs/cgroup"):
                try:
                    with open(base + "/cgroup.procs", "w") as f:
                        f.write(str(os.getpid()))
                except OSError:
                    pass
'''


CASES = [
    Case(
        "a syntax error fails the kata with the file and line",
        src('''
            """Doubles, computed in a pool."""


            def doubles(ctx, numbers)
                return [n * 2 for n in numbers]
        '''),
        r"katas/good1\.py line 4: SyntaxError",
    ),
    Case(
        "a fork bomb is stopped before it exhausts the machine and fails the kata",
        # Bounded here: at most 200 forks from one process, each child gone within 3 s.
        src('''
            import os
            import time


            def doubles(ctx, numbers):
                for _ in range(200):
                    if os.fork() == 0:
                        time.sleep(3)
                        os._exit(0)
                return list(numbers)
        '''),
        r"BlockingIOError|Resource temporarily unavailable|returned \[1, 2, 3\]|running",
    ),
    Case(
        "allocating 10 GB raises MemoryError and fails the kata",
        src('''
            def doubles(ctx, numbers):
                block = bytearray(10 * 10**9)
                return [n * 2 for n in numbers] + [len(block)]
        '''),
        r"MemoryError",
    ),
    Case(
        "a kata that never returns times out naming its line",
        src('''
            def doubles(ctx, numbers):
                while True:
                    numbers = list(numbers)
        '''),
        r"timeout.*katas/good1\.py:[23]",  # the loop's either line, wherever the dump caught it
        hang=True,
    ),
    Case(
        "a deadlock on two locks times out naming the kata line that waits",
        src('''
            def take(first, second, barrier):
                with first:
                    barrier.wait()
                    with second:
                        pass


            def doubles(ctx, numbers):
                a, b = ctx.Lock(), ctx.Lock()
                barrier = ctx.Barrier(2)
                workers = [ctx.Process(target=take, args=(a, b, barrier)),
                           ctx.Process(target=take, args=(b, a, barrier))]
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                return [n * 2 for n in numbers]
        '''),
        r"timeout.*katas/good1\.py:\d+",
        hang=True,
    ),
    Case(
        "os._exit(0) at import never answers and fails the kata",
        src('''
            import os

            os._exit(0)


            def doubles(ctx, numbers):
                return [n * 2 for n in numbers]
        '''),
        r"never answered.*exit status 0",
    ),
    Case(
        "sys.exit(0) at import fails the kata as an import failure",
        src('''
            import sys

            sys.exit(0)


            def doubles(ctx, numbers):
                return [n * 2 for n in numbers]
        '''),
        r"katas/good1\.py failed while being imported: SystemExit",
    ),
    Case(
        "os._exit(0) inside the kata function never answers and does not pass",
        src('''
            import os


            def doubles(ctx, numbers):
                os._exit(0)
        '''),
        r"never answered.*exit status 0",
    ),
    Case(
        "a segfault in the kata fails it as killed by SIGSEGV",
        src('''
            import ctypes


            def doubles(ctx, numbers):
                ctypes.string_at(0)
                return [n * 2 for n in numbers]
        '''),
        r"never answered.*SIGSEGV",
    ),
    Case(
        "the tests-pass-by-exiting trick: every reachable process exits 0 and nothing passes",
        # The host, its children and the judge's whole process group: that is the judge
        # and its hosts (the controller started it in a session of its own), nothing else.
        src('''
            import os
            import signal


            def bye():
                os._exit(0)


            def doubles(ctx, numbers):
                children = [ctx.Process(target=bye) for _ in range(2)]
                for c in children:
                    c.start()
                for c in children:
                    c.join()
                try:
                    # only inside the judge's own session (it leads it and its group)
                    if os.getsid(os.getppid()) == os.getsid(0) == os.getpgid(0):
                        os.kill(os.getppid(), signal.SIGTERM)
                        os.killpg(os.getpgid(0), signal.SIGTERM)
                finally:
                    os._exit(0)
        '''),
        r"never answered|ended before|did not finish|crashed|missing",
        every_cell=False,
        allowed=("failed", "void"),
    ),
    Case(
        "the exit trick at import: every process that imports the kata exits 0 and nothing passes",
        src('''
            import atexit
            import os
            import sys

            atexit.register(os._exit, 0)
            sys.exit(0)


            def doubles(ctx, numbers):
                return [n * 2 for n in numbers]
        '''),
        r"SystemExit|never answered",
    ),
    Case(
        "rewriting tests/test_good1.py at import voids the kata",
        src('''
            import os

            _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            try:
                with open(os.path.join(_root, "tests", "test_good1.py"), "w") as f:
                    f.write("def test_every_number_comes_back_doubled(mp_context):\\n    pass\\n")
            except OSError:
                pass


            def doubles(ctx, numbers):
                return list(numbers)
        '''),
        r"changed the grader's files.*tests/test_good1\.py|returned \[1, 2, 3\]",
        every_cell=False,
        allowed=("void", "failed"),
    ),
    Case(
        "rewriting conftest.py at import to force passes voids the kata",
        src('''
            import os

            _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            _FORCE = (
                "import pytest\\n"
                "pytest_plugins = ['dojo.plugin']\\n"
                "@pytest.hookimpl(wrapper=True)\\n"
                "def pytest_runtest_makereport(item, call):\\n"
                "    report = yield\\n"
                "    report.outcome = 'passed'\\n"
                "    return report\\n"
            )
            try:
                with open(os.path.join(_root, "conftest.py"), "w") as f:
                    f.write(_FORCE)
            except OSError:
                pass


            def doubles(ctx, numbers):
                return list(numbers)
        '''),
        r"changed the grader's files.*conftest\.py|returned \[1, 2, 3\]",
        every_cell=False,
        allowed=("void", "failed"),
    ),
    Case(
        "forcing pytest's TestReport outcome to passed at import changes nothing in the judge",
        src('''
            import _pytest.reports

            _pytest.reports.TestReport.outcome = property(lambda self: "passed", lambda self, value: None)
            _pytest.reports.TestReport.failed = property(lambda self: False)


            def doubles(ctx, numbers):
                return list(numbers)
        '''),
        # a fork host still has pytest in memory; a spawn or forkserver host cannot import it
        r"returned \[1, 2, 3\]|No module named '_pytest'",
    ),
    Case(
        "replacing the plugin's result writer at import changes nothing in the judge",
        src('''
            import dojo.plugin

            _real = dojo.plugin._write_result
            dojo.plugin._write_result = lambda item, *args, **kwargs: _real(item, "passed", "", "")


            def doubles(ctx, numbers):
                return list(numbers)
        '''),
        # a fork host still has the plugin in memory; a spawn or forkserver host cannot import it
        r"returned \[1, 2, 3\]|No module named 'dojo\.plugin'",
    ),
    Case(
        "replacing builtins.AssertionError at import changes nothing in the judge",
        src('''
            import builtins


            class Never(Exception):
                pass


            builtins.AssertionError = Never


            def doubles(ctx, numbers):
                return list(numbers)
        '''),
        r"returned \[1, 2, 3\]",
    ),
    Case(
        "forged passed results written to every open file voids or fails the kata",
        FORGE + src('''
            def doubles(ctx, numbers):
                _forge_everywhere(_forged())
                return list(numbers)
        '''),
        r"recorded twice|returned \[1, 2, 3\]",
        every_cell=False,
        allowed=("void", "failed"),
        slow=True,  # the forged bytes also land in multiprocessing's pipes: a test may time out
    ),
    Case(
        "forged passed results and then killing the judge earn nothing",
        FORGE + src('''
            def doubles(ctx, numbers):
                _forge_everywhere(_forged())
                _kill_judge()
                return list(numbers)
        '''),
        # the attack fails in the host (results travel in a pipe it cannot find), or the
        # session is void: either way nothing is earned
        r"judge|crashed|missing|cannot be trusted|The kata raised|returned \[1, 2, 3\]|never answered|not an answer",
        every_cell=False,
        allowed=("void", "failed"),
    ),
    Case(
        "a whole forged session (canary failed, finished) and then killing the judge earn nothing",
        # The results file's own "collected" record names every test and the canary.
        FORGE + src('''
            def doubles(ctx, numbers):
                _, path, _ = _judge()
                with open(path) as f:
                    records = [json.loads(line) for line in f if line.strip()]
                collected = [r for r in records if r.get("type") == "collected"][-1]["tests"]
                lines = []
                for t in collected:
                    outcome = "failed" if t["kata"] == "canary" else "passed"
                    lines.append({"schema": 1, "type": "result", **t, "outcome": outcome, "message": "",
                                  "where": "", "stack": "", "leaks": [], "duration": 0.1})
                lines.append({"schema": 1, "type": "finished", "exitstatus": 1})
                kept = [r for r in records if r.get("type") in ("session", "collected")]
                with open(path, "w") as f:
                    f.write("".join(json.dumps(r) + "\\n" for r in kept + lines))
                _kill_judge()
                return list(numbers)
        '''),
        # the attack fails in the host (results travel in a pipe it cannot find), or the
        # session is void: either way nothing is earned
        r"judge|crashed|missing|cannot be trusted|The kata raised|returned \[1, 2, 3\]|never answered|not an answer",
        every_cell=False,
        allowed=("void", "failed"),
    ),
    Case(
        "deleting the judge's results file fails the kata and the grader survives",
        FORGE + src('''
            def doubles(ctx, numbers):
                _, _, target = _judge()
                try:
                    os.unlink(target)
                except (OSError, TypeError):
                    pass
                return list(numbers)
        '''),
        r"collected|no result|missing|judge|returned \[1, 2, 3\]",
        every_cell=False,
        allowed=("void", "failed"),
    ),
    Case(
        "deleting tests/ and katas.toml in the workspace voids the kata",
        src('''
            import os
            import shutil

            _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


            def doubles(ctx, numbers):
                shutil.rmtree(os.path.join(_root, "tests"), ignore_errors=True)
                try:
                    os.unlink(os.path.join(_root, "katas.toml"))
                except OSError:
                    pass
                return list(numbers)
        '''),
        r"changed the grader's files.*(katas\.toml|tests/test_good1\.py)|returned \[1, 2, 3\]",
        every_cell=False,
        allowed=("void", "failed"),
    ),
    Case(
        "a connection to a non-loopback address fails and the kata fails on its merits",
        # good1 returns whether it connected: the teaching message shows what came back.
        src('''
            import socket


            def doubles(ctx, numbers):
                try:
                    socket.create_connection(("1.1.1.1", 80), timeout=3).close()
                    return ["connected"]
                except OSError as exc:
                    return ["unreachable: %s" % (exc.errno,)]
        '''),
        r"returned \['unreachable: \d+'\]",
    ),
    Case(
        "a grandchild that leaves the job's cgroup and session is killed and fails the kata",
        # As root a host may move itself out of the job's cgroup; the escapee is bounded
        # here (it sleeps 8 s at most), and the test checks nothing of it is left.
        src('''
            import os
            import time
        ''') + LEAVE_CGROUPS + src('''
            def doubles(ctx, numbers):
                if os.fork() == 0:
                    _leave_cgroups()
                    os.setsid()
                    if os.fork() == 0:
                        time.sleep(8)
                    os._exit(0)
                os.wait()
                return list(numbers)
        '''),
        r"returned \[1, 2, 3\]|running",
    ),
    Case(
        "a fork bomb that first leaves the job's cgroup is still stopped",
        # Bounded here: at most 200 forks, each child gone within 3 s.
        src('''
            import os
            import time
        ''') + LEAVE_CGROUPS + src('''


            def doubles(ctx, numbers):
                _leave_cgroups()
                for _ in range(200):
                    if os.fork() == 0:
                        time.sleep(3)
                        os._exit(0)
                return list(numbers)
        '''),
        r"BlockingIOError|Resource temporarily unavailable",
    ),
]


@pytest.mark.slow  # the whole attack matrix: deep tiers only (about 150 s); quick tiers keep the survival tests
@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_hostile_or_broken_kata_earns_nothing_and_the_rest_are_graded_normally(arena, case, monkeypatch):
    if case.hang:
        monkeypatch.setenv("DOJO_TIMEOUT_SCALE", HANG_SCALE)
    result = arena.grade(arena.submission(case.source))
    good1 = assert_good1_earned_nothing(result, allowed=case.allowed)
    assert_names(case.names, good1, every_cell=case.every_cell, result=result)
    assert_good2_graded_normally(result)
    arena.assert_clean()


@pytest.mark.slow  # every judge attack on every start method: deep tiers only
@pytest.mark.parametrize("method", grading.Settings(kit=KIT).methods())
@pytest.mark.parametrize(
    "case", [c.param() for c in CASES if "killing the judge" in c.id or "results file" in c.id]
)
def test_a_judge_attack_earns_nothing_when_it_runs_on_one_start_method_alone(arena, case, method):
    """Every attack above strikes first on fork; graded on one start method alone, the
    spawn and forkserver hosts (whose parent is the fork server) strike too."""
    result = arena.grade(arena.submission(case.source), methods=(method,))
    good1 = assert_good1_earned_nothing(result, allowed=case.allowed, methods=(method,))
    assert_names(case.names, good1, every_cell=case.every_cell, result=result)
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_a_fork_bomb_is_stopped_by_the_job_pids_limit_where_it_is_in_force(arena):
    """Where the cgroup holds (root, pids controller), fork fails long before 200."""
    if not sandbox.detect(sandbox.Limits(wall=WALL))["processes"].startswith("on: cgroup"):
        pytest.skip("no pids cgroup here: " + sandbox.detect(sandbox.Limits(wall=WALL))["processes"])
    bomb = next(c for c in CASES if "fork bomb" in c.id)
    result = arena.grade(arena.submission(bomb.source))
    good1 = assert_good1_earned_nothing(result)
    assert_names(r"BlockingIOError", good1, every_cell=True, result=result)
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_a_missing_kata_is_missing_with_a_reason_and_the_rest_are_graded(arena):
    result = arena.grade(arena.submission(None))
    good1 = assert_good1_earned_nothing(result, allowed=("missing",))
    assert_names(r"no good1\.py", good1, every_cell=True, result=result)
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_extra_files_are_listed_in_the_notes_and_never_run(arena):
    marker = arena.scratch / "ran"
    touch = f"open({str(marker)!r} + '-' + __name__, 'w').close()\n"
    sub = arena.submission(
        "from katas import helper\n\n" + SOLVED,  # a kata leaning on a module the grade never takes
        extra={
            "helper.py": touch + "def doubles(ctx, numbers):\n    return [n * 2 for n in numbers]\n",
            "katas/helper.py": touch,
            "notes.txt": "read me\n",
            "pytest.ini": "[pytest]\naddopts = -p helper\n",
            "tests/test_extra.py": touch + "def test_extra():\n    assert True\n",
        },
    )
    result = arena.grade(sub)
    good1 = assert_good1_earned_nothing(result)
    assert_names(r"katas/good1\.py failed while being imported: (ModuleNotFoundError|ImportError)", good1,
                 every_cell=True, result=result)
    notes = "\n".join(result.notes)
    for rel in ("helper.py", "katas/helper.py", "pytest.ini", "tests/test_extra.py"):
        assert re.search(rf"ignored {re.escape(rel)}\b", notes), (
            f"the notes must list the ignored extra file {rel}; they say:\n{notes}"
        )
    ran = sorted(p.name for p in arena.scratch.glob("ran-*"))
    assert not ran, f"submission files other than kata modules were executed ({ran}); they must never run"
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_the_submissions_own_tests_and_a_conftest_forcing_passes_are_ignored_noted_and_never_run(arena):
    marker = arena.scratch / "ran"
    touch = f"open({str(marker)!r} + '-' + __name__.replace('.', '-'), 'w').close()\n"
    force = touch + textwrap.dedent("""
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            report = yield
            report.outcome = "passed"
            return report
    """)
    sub = arena.submission(
        UNSOLVED,
        extra={
            "tests/test_good1.py": touch + "def test_every_number_comes_back_doubled():\n    assert True\n",
            "conftest.py": force,
            "katas/conftest.py": force,
            "tests/conftest.py": force,
        },
    )
    result = arena.grade(sub)
    good1 = assert_good1_earned_nothing(result)
    assert_names(r"returned \[1, 2, 3\]", good1, every_cell=True, result=result)
    notes = "\n".join(result.notes)
    for rel in ("tests/test_good1.py", "conftest.py", "tests/conftest.py", "katas/conftest.py"):
        assert re.search(rf"ignored {re.escape(rel)}\b", notes), (
            f"the notes must say {rel} was ignored; they say:\n{notes}"
        )
    ran = sorted(p.name for p in arena.scratch.glob("ran-*"))
    assert not ran, f"the submission's own tests or conftest were executed ({ran}); they must never run"
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_a_hostile_kata_cannot_rewrite_the_kit_to_pass_the_katas_graded_after_it(arena, tmp_path):
    """good1 finds the kit through the controller's command line (``--root KIT``) and
    rewrites the kit's tests/test_good2.py; good2 is submitted unsolved and must earn 0."""
    arena.kit = make_kit(tmp_path / "own")  # a kit of its own: this attack may change it
    target = str(arena.kit)
    hostile = src(f'''
        import os

        KIT = {target!r}  # only this test's kit copy is ever touched


        def doubles(ctx, numbers):
            for pid in os.listdir("/proc"):
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        argv = f.read().decode(errors="replace").split("\\0")
                except OSError:
                    continue
                if "--root" in argv and argv.index("--root") + 1 < len(argv):
                    root = argv[argv.index("--root") + 1]
                    if root == KIT:
                        try:
                            with open(os.path.join(root, "tests", "test_good2.py"), "w") as f:
                                f.write("def test_every_number_comes_back_doubled(mp_context):\\n    pass\\n")
                        except OSError:
                            pass
            return list(numbers)
    ''')
    before = (arena.kit / "tests" / "test_good2.py").read_bytes()
    done = arena.cli(arena.submission(hostile, good2=UNSOLVED))
    assert_graded(done)
    result = model.Grade.from_json((arena.out / export.FILES["model"]).read_text(encoding="utf-8"))
    earned = {k.kata: k.points for k in result.katas if k.kata in ("good1", "good2")}
    changed = (arena.kit / "tests" / "test_good2.py").read_bytes() != before
    assert earned == {"good1": 0.0, "good2": 0.0}, (
        f"neither kata is solved, yet the grade awards {earned}: good1 rewrote the kit's tests/test_good2.py "
        f"(changed: {changed}) and good2 was graded against it. The grade says:\n" + board(result)
    )
    arena.assert_clean()


@pytest.mark.slow
def test_after_a_hang_the_kata_runs_no_more_tests_on_that_start_method(arena, tmp_path, monkeypatch):
    """good1 gets a hidden second test; its module never returns. On each start method the
    first test to run times out and the other is failed unrun, naming it: a hanging kata
    costs one timeout per start method, not one per test."""
    arena.kit = make_kit(tmp_path / "own")
    (arena.kit / "hidden").mkdir()
    (arena.kit / "hidden" / "test_good1.py").write_text(src('''
        def test_an_empty_list_comes_back_empty(kata, mp_context):
            assert kata.doubles(mp_context, []) == []
    '''), encoding="utf-8")
    never = next(c for c in CASES if c.id.startswith("a kata that never returns"))
    monkeypatch.setenv("DOJO_TIMEOUT_SCALE", HANG_SCALE)
    result = arena.grade(arena.submission(never.source))
    good1 = assert_good1_earned_nothing(result)
    for cell in good1.cells:
        tests = [t for t in result.tests if t.kata == "good1" and t.start_method == cell.start_method]
        outcomes = sorted(t.outcome for t in tests)
        assert outcomes == ["failed", "timeout"], (
            f"on {cell.start_method} good1's tests ended {[(t.name, t.outcome) for t in tests]}; one timeout and "
            "one test failed unrun were expected:\n" + board(result)
        )
        hung = next(t for t in tests if t.outcome == "timeout")
        unrun = next(t for t in tests if t is not hung)
        assert unrun.message.startswith("not run") and hung.name.split("[")[0] in unrun.message, (
            f"on {cell.start_method} the unrun test's message is {unrun.message!r}; it must say it was not run "
            f"and name {hung.name}, the test that hung"
        )
    assert_good2_graded_normally(result)
    arena.assert_clean()


# --- zips ---------------------------------------------------------------------------------------


def _symlink_member(archive: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: external_attr carries the mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def test_a_zip_with_dotdot_absolute_and_symlink_members_is_refused_with_notes_and_writes_nothing_outside(arena):
    outside = arena.scratch / "outside"
    outside.mkdir()
    absolute = outside / "abs" / "katas" / "good1.py"
    zpath = outside / "zips" / "student.zip"
    zpath.parent.mkdir()
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("../evil.py", "open('/tmp/dojo-evil', 'w').close()\n")
        z.writestr("../katas/good1.py", SOLVED)
        z.writestr(str(absolute), SOLVED)
        _symlink_member(z, "katas/good1.py", str(KIT / "solutions" / "good1.py"))
        z.writestr("katas/good2.py", SOLVED)
    result = arena.grade(zpath)
    good1 = assert_good1_earned_nothing(result, allowed=("missing",))
    assert_names(r"no good1\.py", good1, every_cell=True, result=result)
    notes = "\n".join(result.notes)
    for member, why_refused in (("../evil.py", "outside"), ("../katas/good1.py", "outside"),
                                (str(absolute), "outside"), ("katas/good1.py", "symbolic link")):
        assert re.search(rf"refused {re.escape(member)}: .*{why_refused}", notes), (
            f"the notes must say the member {member} was refused ({why_refused}); they say:\n{notes}"
        )
    written = [str(p) for p in (outside / "zips" / "evil.py", outside / "evil.py", outside / "katas", absolute,
                                Path("/tmp/dojo-evil")) if p.exists()]  # fmt: skip
    assert not written, f"grading the zip wrote {written} outside the submission; nothing may be written there"
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_a_folder_submission_with_a_symlinked_kata_is_refused_with_a_note(arena):
    sub = arena.submission(None)
    (sub / "katas" / "good1.py").symlink_to(KIT / "solutions" / "good1.py")
    result = arena.grade(sub)
    good1 = assert_good1_earned_nothing(result, allowed=("missing",))
    assert_names(r"no good1\.py", good1, every_cell=True, result=result)
    assert any(re.search(r"refused katas/good1\.py: a symbolic link", n) for n in result.notes), (
        f"the notes must say the symlinked katas/good1.py was refused; they say: {result.notes}"
    )
    assert_good2_graded_normally(result)
    arena.assert_clean()


# --- end to end: the CLI ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good1, good2, score",
    [
        pytest.param(SOLVED, SOLVED, 2.0, id="a solved submission scores full points"),
        pytest.param(UNSOLVED, UNSOLVED, 0.0, id="an unsolved submission scores nothing"),
    ],
)
def test_dojo_grade_scores_a_submission_and_writes_its_results(arena, good1, good2, score):
    done = arena.cli(arena.submission(good1, good2=good2))
    assert_graded(done)
    for fmt in ("model", "json", "gradescope"):
        assert (arena.out / export.FILES[fmt]).is_file(), f"dojo grade wrote no {export.FILES[fmt]} to --out"
    result = model.Grade.from_json((arena.out / export.FILES["model"]).read_text(encoding="utf-8"))
    earned = {k.kata: (k.status, k.points) for k in result.katas if k.kata in ("good1", "good2")}
    want = "passed" if score else "failed"
    assert earned == {"good1": (want, score / 2), "good2": (want, score / 2)}, (
        f"the grade says {earned}; expected both katas {want}:\n" + board(result)
    )
    assert result.score == score, f"the total is {result.score}, expected {score}"
    others = [k for k in result.katas if k.kata not in ("good1", "good2")]
    assert others and all(k.status == "missing" and k.points == 0 for k in others), (
        "katas the submission lacks must be missing and worth nothing: " + str([(k.kata, k.status) for k in others])
    )
    gradescope = json.loads((arena.out / export.FILES["gradescope"]).read_text(encoding="utf-8"))
    assert gradescope["score"] == score, f"gradescope.json gives {gradescope['score']}; the grade is {score}"
    exercism = json.loads((arena.out / export.FILES["json"]).read_text(encoding="utf-8"))
    codes = {t["name"]: t["test_code"] for t in exercism["tests"] if t["kata"] == "good1"}
    assert codes and all(code.startswith("def test_") for code in codes.values()), codes  # the visible tests' source
    arena.assert_clean()


def test_a_kata_that_never_finishes_importing_costs_one_import_budget_on_every_start_method(arena):
    """An endless loop at import: the first host that imports the module gives up after
    the import budget, naming the line; every other test of the kata, on every start
    method, is not run (the import is the same everywhere), instead of each costing a test
    timeout."""
    forever = "import time\n\nwhile True:\n    time.sleep(0.01)\n\n" + SOLVED
    result = arena.grade(arena.submission(forever))
    good1 = assert_good1_earned_nothing(result, allowed=("failed",))
    tests = [t for t in result.tests if t.kata == "good1"]
    hung = [t for t in tests if t.outcome == "timeout"]
    assert len(hung) == 1, board(result)
    assert "did not finish importing" in hung[0].message and "katas/good1.py:4" in hung[0].message, hung[0].message
    rest = [t for t in tests if t is not hung[0]]
    assert rest and all(t.outcome == "failed" and "never finished importing" in t.message for t in rest), board(result)
    assert {t.start_method for t in tests} == set(arena.settings().methods())  # every cell is decided
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_a_kata_that_rewrites_itself_into_the_solution_is_void_even_without_the_sandbox(arena):
    """Without the sandbox (not root, no namespaces) the workspace is writable: a kata that
    rewrites its own module at import would have spawn hosts import the rewritten one.
    The modules graded are checked against the ones submitted, by hash."""
    rewriter = (
        "import pathlib\n"
        f"pathlib.Path(__file__).write_text({SOLVED!r})\n"
        + UNSOLVED
    )
    settings = dataclasses.replace(arena.settings(), sandboxed=False)
    result = grading.grade(arena.submission(rewriter), settings, student="student")
    good1 = kata(result, "good1")
    assert (good1.status, good1.points) == ("void", 0), board(result)
    assert "not the ones submitted" in good1.reason and "katas/good1.py" in good1.reason, good1.reason
    assert_good2_graded_normally(result)
    arena.assert_clean()


# good2's call never returns (its hosts outlive a dead grader unless something ends them)
GOOD2_HANGS_IN_THE_CALL = "import time\n\n\ndef doubles(ctx, numbers):\n    while True:\n        time.sleep(0.05)\n"


def test_a_grader_killed_midway_leaves_the_katas_it_finished_marked_incomplete(arena):
    """Results are written after every kata: a grader killed during good2 (whose call
    never returns) has already written good1's verdict, and every format says the results
    are incomplete and awards nothing. Its job's watchdog ends the judge and hosts it left."""
    import signal
    import time

    sub = arena.submission(SOLVED, good2=GOOD2_HANGS_IN_THE_CALL)
    cmd = [sys.executable, "-m", "dojo", "--root", str(arena.kit), "grade", str(sub), "--out", str(arena.out),
           "--format", "json", "--format", "gradescope"]  # fmt: skip
    grader = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ, TMPDIR=str(arena.scratch)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    model_file = arena.out / export.FILES["model"]
    seen = None
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while time.monotonic() < deadline and grader.poll() is None:
            try:
                seen = model.Grade.from_json(model_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                seen = None
            if seen and any(k.kata == "good1" for k in seen.katas):
                break
            time.sleep(0.05)  # polls for a file; the verdict does not depend on when it appears
        assert grader.poll() is None, "the grader finished before it could be killed: good2 must hang"
        os.kill(grader.pid, signal.SIGKILL)  # the grader alone: its judge and hosts are the watchdog's
        grader.wait()
        left = own_processes(grace=10.0)
        assert not left, (
            "a grader killed outright must leave nothing of its grade running (each job's watchdog ends it):\n  "
            + "\n  ".join(left)
        )

        def folders() -> list[str]:  # the grader's temporary folder held its workspaces and run folders
            return sorted(p.name for p in arena.scratch.iterdir() if p != sub)

        procs.wait_until(lambda: not folders(), 10.0, step=0.05)
        assert not folders(), (
            "a grader killed outright must leave nothing of its grade in its temporary folder (each job's "
            f"watchdog removes the job's workspace and run folder); left: {folders()}"
        )
    finally:
        if grader.poll() is None:
            os.killpg(grader.pid, signal.SIGKILL)
            grader.wait()
        kill_own_processes()  # a failed test must not leave its processes to the next one
        sandbox.stale_cleanup()
    result = model.Grade.from_json(model_file.read_text(encoding="utf-8"))
    assert result.error.startswith("incomplete:"), f"the results do not say they are incomplete: {result.error!r}"
    good1 = kata(result, "good1")
    assert (good1.status, good1.points) == ("passed", 1.0), board(result)
    assert "good2" not in [k.kata for k in result.katas]
    gradescope = json.loads((arena.out / export.FILES["gradescope"]).read_text(encoding="utf-8"))
    assert gradescope["score"] == 0 and "incomplete" in gradescope["output"]
    assert [t["name"] for t in gradescope["tests"] if t["name"].startswith("good1")], "good1's cells are not listed"
    exercism = json.loads((arena.out / export.FILES["json"]).read_text(encoding="utf-8"))
    assert exercism["status"] == "error" and "incomplete" in exercism["message"]


@pytest.mark.parametrize(
    "case",
    [c.param() for c in CASES
     if any(w in c.id for w in ("segfault", "exiting trick", "killing the judge", "results file"))],
)
def test_dojo_grade_survives_a_hostile_kata_and_still_writes_its_results(arena, case):
    done = arena.cli(arena.submission(case.source))
    assert_graded(done)
    result = model.Grade.from_json((arena.out / export.FILES["model"]).read_text(encoding="utf-8"))
    assert_good1_earned_nothing(result, allowed=case.allowed)
    assert_good2_graded_normally(result)
    gradescope = json.loads((arena.out / export.FILES["gradescope"]).read_text(encoding="utf-8"))
    assert gradescope["score"] == 1.0, f"gradescope.json gives {gradescope['score']}; only good2's point was earned"
    arena.assert_clean()


def test_dojo_grade_on_a_path_that_does_not_exist_exits_2(arena):
    done = arena.cli(arena.scratch / "no-such-submission")
    assert done.returncode == 2, (
        f"dojo grade exited {done.returncode} for a missing submission; 2 (bad arguments) expected:\n{done.stderr}"
    )
    assert "does not exist" in done.stderr, f"stderr must say the submission does not exist: {done.stderr!r}"


def test_dojo_grade_against_a_kit_that_no_longer_matches_its_seal_exits_3(arena, tmp_path):
    kit = make_kit(tmp_path / "sealed")
    seal.write(kit, kit / seal.SEAL_FILE)
    arena.kit = kit
    sub = arena.submission(SOLVED)
    done = arena.cli(sub)
    assert done.returncode == 0, (
        f"a freshly sealed kit must grade (exit 0), got {done.returncode}:\n{done.stderr[-2000:]}"
    )
    test_file = kit / "tests" / "test_good1.py"
    test_file.write_text(test_file.read_text(encoding="utf-8") + "\n\ndef test_extra():\n    pass\n",
                         encoding="utf-8")
    shutil.rmtree(arena.out)
    done = arena.cli(sub)
    assert done.returncode == 3, (
        f"dojo grade exited {done.returncode} against a changed kit; 3 (grader failed) expected:\n{done.stderr}"
    )
    assert "tests/test_good1.py" in done.stderr and "seal" in done.stderr, (
        f"stderr must name the changed file and the seal: {done.stderr!r}"
    )
    assert not arena.out.exists() or not any(arena.out.iterdir()), "nothing may be graded against a changed kit"


def test_katas_graded_side_by_side_run_at_once_each_in_a_slot_of_its_own_and_keep_the_manifest_order(arena, monkeypatch):
    """With ``slots``, a submission's katas run side by side: good1 and good2 must be
    running at the same time (a barrier both wait at; one after the other, it breaks),
    each in a different job slot (its own cgroup and uid), and the rows and checkpoints
    keep the manifest's order whatever order the katas finish in."""
    import threading

    barrier = threading.Barrier(2, timeout=30)
    running = []
    finish_first = threading.Event()

    def fake_run_kata(kata, sub, settings, methods, limits, slot, closed=False):
        running.append((kata.name, slot))
        barrier.wait()  # BrokenBarrierError after 30 s unless the other kata runs now too
        if kata.name == "good1":
            finish_first.wait(30)  # good2 finishes first
        else:
            finish_first.set()
        return [], ""

    monkeypatch.setattr(grading, "_run_kata", fake_run_kata)
    checkpoints = []
    result = grading.grade(arena.submission(SOLVED), arena.settings(), student="student", slots=[3, 5],
                           checkpoint=lambda partial: checkpoints.append([k.kata for k in partial.katas]))
    assert sorted(name for name, _ in running) == ["good1", "good2"], running
    assert sorted(slot for _, slot in running) == [3, 5], f"each kata needs a slot of its own: {running}"
    order = [k.name for k in grading.check_kit(arena.settings())[0].katas]
    assert [k.kata for k in result.katas] == order, "the rows must follow the manifest"
    assert checkpoints[-1] == order and all(c == [n for n in order if n in c] for c in checkpoints), checkpoints
    assert "good1" not in checkpoints[-2] and "good2" in checkpoints[-2], (
        f"good2 finished first, so the checkpoint before the last holds it without good1: {checkpoints[-2:]}"
    )
