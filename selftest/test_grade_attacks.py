"""Learner code sees only its own kata: attacks on what a host can read, as root.

Each attack is graded as root with the interpreter where this machine has it (pyenv under
/root, mode 700) and dojo installed editable from this very repository, on every start
method, and must score 0 while the solved ``good2`` keeps its point (the arena of
``test_grade.py``). The attacks know every path an attacker could learn (the kit, the
repository dojo is installed from, the fixture kit's solutions in it) and try them all:

- finding ``solutions/`` through dojo's install path (``dojo.__file__``) and importing it;
- finding the kit through ``/proc/self/mountinfo``, and through other processes'
  ``/proc/*/cmdline`` (the controller's ``--root KIT``);
- reading ``hidden/test_*.py`` or a solution and raising an exception that carries its
  text: no output of any format may contain it;
- in a ``--batch`` run, rewriting and copying another job's workspace.

What keeps them out (``dojo/grading/sandbox.py``): each host covers, in a mount namespace
of its own, the kit, dojo's source tree, the submissions and the temporary folder (only
its own workspace and run folder are bound back), mounts a /proc that shows its own uid
only, and runs as the job's own uid, which the job's mount namespace lets reach the
interpreter under /root. Hidden tests are the judge's alone (mode 600, root).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dojo.grading import export, model, sandbox
from selftest.helpers import KIT, copy_kit, keep_katas, own_processes
from selftest.test_grade import (  # noqa: F401 - fixtures
    REPO,
    SOLVED,
    arena,
    assert_good1_earned_nothing,
    assert_good2_graded_normally,
    assert_graded,
    board,
    kata,
    kit,
    make_kit,
    src,
)

LINUX = sys.platform.startswith("linux")
SOLUTION_MARK = "map sends each number to a worker"  # a comment in the fixture's solutions/good1.py
HIDDEN_MARK = "hidden-marker-5f1c0e77"  # a comment in the hidden test these tests add

pytestmark = [
    pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="the attacks are graded as root on Linux"),
]

# Shared by every attacking kata: try a file that should hold good1's reference solution;
# if it can be read, run it (the attack succeeded and would score).
FIND = '''
import os
import sys

TRIED = []


def _reference(path):
    """Read and import the file as a module of its own (importable by this host's children)."""
    import importlib
    import tempfile

    try:
        with open(path, encoding="utf-8") as f:
            code = f.read()
    except OSError as exc:
        TRIED.append("%s: %s" % (path, exc.strerror))
        return None
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o755)
    with open(os.path.join(folder, "stolen_good1.py"), "w", encoding="utf-8") as f:
        f.write(code)
    sys.path.insert(0, folder)
    os.environ["PYTHONPATH"] = folder + os.pathsep + os.environ.get("PYTHONPATH", "")
    return importlib.import_module("stolen_good1").doubles


def _walk(top, depth, budget):
    """Every solutions/good1.py at most ``depth`` folders below ``top``."""
    found, stack = [], [(top, 0)]
    while stack and budget[0] > 0:
        folder, level = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            budget[0] -= 1
            try:
                if not entry.is_dir(follow_symlinks=False) or entry.path in ("/proc", "/sys", "/dev"):
                    continue
            except OSError:
                continue
            if entry.name == "solutions" and os.path.exists(os.path.join(entry.path, "good1.py")):
                found.append(os.path.join(entry.path, "good1.py"))
            elif level < depth:
                stack.append((entry.path, level + 1))
    return found


def _steal(candidates, ctx, numbers):
    for path in candidates:
        ref = _reference(path)
        if ref is not None:
            return ref(ctx, numbers)
    return ["nothing stolen"] + TRIED[:4]
'''


def attacker(body: str, **constants) -> str:
    head = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    return FIND + head + src(body)


def assert_no_secret_anywhere(out: Path, *marks: str) -> None:
    """No file of any format (base64 included) holds any of ``marks``."""
    seen = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts = [text]
        if path.name == export.FILES["classroom"]:
            texts.append(base64.b64decode(text.strip() or b"").decode("utf-8", "replace"))
        seen.append(path.name)
        for mark in marks:
            assert not any(mark in t for t in texts), (
                f"{path.name} contains text of a file outside the submission ({mark!r}): a host read it and the "
                "grade showed it"
            )
    assert seen, f"no results were written to {out}"


def grade_every_format(arena, sub) -> model.Grade:  # noqa: F811 - the fixture's name
    result = arena.grade(sub)
    export.write(result, arena.out, list(export.FORMATS))
    return result


# --- the uid drop -------------------------------------------------------------------------------


def test_the_uid_drop_is_in_force_here_and_doctor_and_the_report_say_so(arena):  # noqa: F811
    verdict = sandbox.detect()["uid"]
    assert verdict.startswith("on: hosts run as uid 61000 + job slot"), (
        f"as root on Linux the uid drop must be in force, also with the interpreter under a private home: {verdict}"
    )
    closed = sandbox._first_closed(os.path.realpath(sys.executable))
    if closed:  # as here: pyenv under /root (mode 700)
        assert closed in verdict and "bound back read-only" in verdict, verdict
    result = arena.grade(arena.submission(SOLVED))
    assert result.limits["uid"].startswith("on"), result.limits["uid"]
    assert result.limits["view"].startswith("on"), result.limits["view"]
    assert_good2_graded_normally(result)
    good1 = kata(result, "good1")
    assert good1.points == 1.0, "a solved kata must still score with the uid drop in force:\n" + board(result)
    done = subprocess.run([sys.executable, "-m", "dojo", "doctor"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, COLUMNS="400"))
    row = next((line for line in done.stdout.splitlines() if "grading: uid" in line), "")
    assert "on: hosts run as uid" in row, f"dojo doctor must say the uid drop is in force:\n{done.stdout[-3000:]}"


# --- reading the reference solutions -------------------------------------------------------------


def test_a_kata_that_finds_solutions_through_dojos_install_path_earns_nothing(arena):  # noqa: F811
    hostile = attacker('''
        def doubles(ctx, numbers):
            import dojo

            root = os.path.dirname(os.path.dirname(os.path.abspath(dojo.__file__)))
            candidates = [os.path.join(root, "selftest", "kit", "solutions", "good1.py"),
                          os.path.join(REPO, "selftest", "kit", "solutions", "good1.py"),
                          os.path.join(KIT, "solutions", "good1.py")]
            try:  # as an import, too
                sys.path.insert(0, os.path.join(REPO, "selftest", "kit"))
                from solutions import good1 as reference
                return reference.doubles(ctx, numbers)
            except Exception as exc:
                TRIED.append(repr(exc)[:200])
            finally:
                sys.path.pop(0)
            return _steal(candidates, ctx, numbers)
    ''', REPO=str(REPO), KIT=str(arena.kit))
    result = grade_every_format(arena, arena.submission(hostile))
    good1 = assert_good1_earned_nothing(result)
    assert "nothing stolen" in "".join(t.message for t in result.tests if t.kata == "good1"), board(result)
    assert_no_secret_anywhere(arena.out, SOLUTION_MARK)
    assert_good2_graded_normally(result)
    assert good1.status == "failed"
    arena.assert_clean()


MOUNTINFO = '''
    def doubles(ctx, numbers):
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4].replace("\\\\040", " ") for line in f]
        found = []
        for point in dict.fromkeys(points):
            if point in ("/proc", "/sys", "/dev") or point.startswith(("/proc/", "/sys/", "/dev/")):
                continue
            if os.path.exists(os.path.join(point, "solutions", "good1.py")):
                found.append(os.path.join(point, "solutions", "good1.py"))
            found += _walk(point, 6, [50000])
        if any(KIT in p or REPO in p for p in points):
            TRIED.append("a mount point names the kit")
        return _steal(list(dict.fromkeys(found)), ctx, numbers) + [p for p in points if KIT in p or REPO in p]
'''

CMDLINE = '''
    def doubles(ctx, numbers):
        found, named = [], []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            for what in ("cmdline", "environ"):
                try:
                    with open("/proc/%s/%s" % (pid, what), "rb") as f:
                        words = f.read().decode(errors="replace").replace("=", "\\0").replace(":", "\\0").split("\\0")
                except OSError:
                    continue
                for word in words:
                    if KIT in word or REPO in word:
                        named.append("%s %s" % (pid, what))
                    if word.startswith("/") and os.path.isdir(word):
                        found.append(os.path.join(word, "solutions", "good1.py"))
                        found += _walk(word, 3, [5000])
        return _steal(list(dict.fromkeys(found)), ctx, numbers) + sorted(set(named))
'''


@pytest.mark.parametrize("body", [pytest.param(MOUNTINFO, id="mountinfo"), pytest.param(CMDLINE, id="cmdline")])
def test_a_kata_that_finds_the_kit_through_proc_earns_nothing_and_sees_no_kit_path(arena, body):  # noqa: F811
    """Graded through the CLI (``dojo --root KIT grade``): the controller's command line
    names the kit, and the job binds the kit read-only (a mount point that names it)."""
    hostile = attacker(body, REPO=str(REPO), KIT=str(arena.kit))
    done = arena.cli(arena.submission(hostile))
    assert_graded(done)
    result = model.Grade.from_json((arena.out / export.FILES["model"]).read_text(encoding="utf-8"))
    good1 = assert_good1_earned_nothing(result)
    messages = "\n".join(t.message for t in result.tests if t.kata == "good1")
    assert "nothing stolen" in messages, board(result)
    for path in (str(arena.kit), str(REPO)):
        assert path not in messages, (
            f"a host saw {path} (the kit, or the tree dojo is installed from) in /proc: it must not even be named "
            f"there:\n{messages[:3000]}"
        )
    assert good1.status == "failed"
    assert_no_secret_anywhere(arena.out, SOLUTION_MARK)
    assert_good2_graded_normally(result)
    arena.assert_clean()


# --- reading hidden tests and solutions, and showing them -----------------------------------------


LEAK = '''
    def _texts():
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = []
        for path in (os.path.join(here, "hidden", "test_good1.py"), os.path.join(KIT, "hidden", "test_good1.py"),
                     os.path.join(KIT, "solutions", "good1.py"),
                     os.path.join(REPO, "selftest", "kit", "solutions", "good1.py")):
            try:
                with open(path, encoding="utf-8") as f:
                    out.append(f.read())
            except OSError as exc:
                out.append("%s: %s" % (path, exc.strerror))
        return "\\n".join(out)
'''


@pytest.mark.parametrize("where", ["call", "import"])
def test_a_kata_that_raises_the_text_of_hidden_tests_and_solutions_shows_none_of_it(arena, tmp_path, where):  # noqa: F811
    arena.kit = make_kit(tmp_path / "own")
    (arena.kit / "hidden").mkdir()
    (arena.kit / "hidden" / "test_good1.py").write_text(src(f'''
        # {HIDDEN_MARK}
        def test_an_empty_list_comes_back_empty(kata, mp_context):
            assert kata.doubles(mp_context, []) == []
    '''), encoding="utf-8")
    if where == "call":
        body = src(LEAK) + src('''
            def doubles(ctx, numbers):
                raise RuntimeError(_texts())
        ''')
    else:
        body = src(LEAK) + src('''
            raise RuntimeError(_texts())
        ''')
    hostile = attacker(body, REPO=str(REPO), KIT=str(arena.kit))
    result = grade_every_format(arena, arena.submission(hostile))
    good1 = assert_good1_earned_nothing(result)
    assert good1.status == "failed"
    assert_no_secret_anywhere(arena.out, HIDDEN_MARK, SOLUTION_MARK)
    assert_good2_graded_normally(result)
    arena.assert_clean()


# --- another job's workspace in a batch --------------------------------------------------------------


MALLORY = '''
import glob
import os
import tempfile
import time

WRONG = "def doubles(ctx, numbers):\\n    return list(numbers)\\n"


def doubles(ctx, numbers):
    """For up to 7 s: find other jobs' workspaces, copy their kata and break it."""
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reached = []
    deadline = time.monotonic() + 7
    while time.monotonic() < deadline and not reached:
        folders = set()
        for base in {tempfile.gettempdir(), "/tmp", "/var/tmp", os.path.dirname(own)}:
            folders.update(glob.glob(os.path.join(base, "dojo-grade-*")))
            folders.update(glob.glob(os.path.join(base, "*", "dojo-grade-*")))
        for folder in sorted(folders - {own}):
            target = os.path.join(folder, "katas", "good1.py")
            try:
                with open(target) as f:
                    f.read()
                reached.append("read " + folder)
            except OSError:
                pass
            try:
                with open(target, "w") as f:
                    f.write(WRONG)
                reached.append("wrote " + folder)
            except OSError:
                pass
        for folder in glob.glob(os.path.join(SUBMISSIONS, "*", "katas")):
            try:
                with open(os.path.join(folder, "good1.py"), "w") as f:
                    f.write(WRONG)
                reached.append("wrote " + folder)
            except OSError:
                pass
        time.sleep(0.2)
    return ["reached"] + reached
'''

SLOW_SOLVED = SOLVED + '''

import time as _time
_solve = doubles


def doubles(ctx, numbers):
    _time.sleep(2)  # a workspace that lives long enough to be found
    return _solve(ctx, numbers)
'''


@pytest.mark.slow
def test_a_submission_cannot_reach_another_jobs_workspace_in_a_batch():
    scratch = Path(tempfile.mkdtemp(prefix="dojo-selftest-attack-batch-"))
    scratch.chmod(0o755)
    try:
        kit = copy_kit(scratch)
        keep_katas(kit, ["good1"])
        folder = scratch / "submissions"
        # graded in name order, two at a time: the attacker runs beside alice, then beside bob
        students = {"attacker": f"SUBMISSIONS = {str(folder)!r}\n" + MALLORY, "victim-alice": SLOW_SOLVED,
                    "victim-bob": SLOW_SOLVED}
        for student, source in students.items():
            (folder / student / "katas").mkdir(parents=True)
            (folder / student / "katas" / "good1.py").write_text(source, encoding="utf-8")
        out = scratch / "out"
        done = subprocess.run(
            [sys.executable, "-m", "dojo", "--root", str(kit), "grade", "--batch", str(folder), "--out", str(out),
             "--jobs", "2", "--format", "json"],
            capture_output=True, text=True, timeout=400, cwd=REPO,
        )
        assert done.returncode == 0, f"dojo grade --batch exited {done.returncode}: {done.stderr[-2000:]}"
        grades = {s: model.Grade.from_json((out / s / "grade.json").read_text(encoding="utf-8")) for s in students}
        scores = {s: g.score for s, g in grades.items()}
        assert scores == {"attacker": 0.0, "victim-alice": 1.0, "victim-bob": 1.0}, (
            f"scores {scores}: the attacker must earn nothing and change nobody's score\n"
            + "\n".join(t.message[:400] for t in grades["attacker"].tests)
        )
        for test in grades["attacker"].tests:
            assert "'read " not in test.message and "'wrote " not in test.message, (
                f"the attacker's host reached another job's files on {test.start_method}: {test.message[:600]}"
            )
        for student in ("victim-alice", "victim-bob"):
            assert (folder / student / "katas" / "good1.py").read_text(encoding="utf-8") == SLOW_SOLVED
        assert own_processes() == [], "a grading job left processes behind"
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


def test_a_kata_that_stops_and_kills_every_process_it_can_find_reaches_nothing_outside_its_job(arena):  # noqa: F811
    """SIGSTOP, then SIGKILL, to every process a host can see in /proc and to its parent:
    the grader (root), the judge and other jobs are out of sight and of reach (hidepid,
    its own uid), so `dojo grade` finishes and writes its results, good2 keeps its point,
    and the kata reports it signalled no process that was not its own uid's."""
    hostile = src('''
        import os
        import signal


        def doubles(ctx, numbers):
            me, uid = os.getpid(), os.getuid()
            foreign = set()
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                pids = {int(p) for p in os.listdir("/proc") if p.isdigit()} | {os.getppid(), 1}
                for pid in sorted(pids - {me}):
                    try:
                        owner = os.stat(f"/proc/{pid}").st_uid
                    except OSError:
                        owner = -1
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        continue
                    if owner != uid:
                        foreign.add(pid)
            return [len(foreign), -1]
    ''')
    done = arena.cli(arena.submission(hostile))
    assert_graded(done)
    result = model.Grade.from_json((arena.out / export.FILES["model"]).read_text(encoding="utf-8"))
    assert not result.error, result.error
    assert_good1_earned_nothing(result)
    messages = " ".join(t.message for t in result.tests if t.kata == "good1")
    hits = [int(n) for n in re.findall(r"returned \[(\d+), -1\]", messages)]
    assert hits and not any(hits), f"a host signalled processes outside its own uid: {messages[:600]}"
    assert_good2_graded_normally(result)
    arena.assert_clean()


# --- filling the temporary folders --------------------------------------------------------------

FILL_MARK = "dojo-fill-3c9e1d"  # in every name the filling kata makes: what the test looks for afterwards

FILL = src('''
    import errno
    import os
    import tempfile
    import uuid

    MARK = "FILL_MARK"
    MIB = b"x" * (1 << 20)


    def _new_folder(folder):
        target = os.path.join(folder, MARK + "-" + uuid.uuid4().hex[:8])
        os.mkdir(target)
        return target


    def _fill(folder, mib, files):
        """Up to ``mib`` MiB in 16 MiB files (each under RLIMIT_FSIZE), then up to ``files``
        empty files, each in a new folder of ``folder``: how much it got, what stopped it."""
        wrote = made = 0
        stops = ["budget", "budget"]
        try:
            target = _new_folder(folder)
            while wrote < mib:
                fd = os.open(os.path.join(target, "big%d" % wrote), os.O_CREAT | os.O_WRONLY, 0o644)
                try:
                    for _ in range(16):
                        os.write(fd, MIB)
                        wrote += 1
                finally:
                    os.close(fd)
        except OSError as exc:
            stops[0] = errno.errorcode.get(exc.errno, str(exc.errno))
        try:
            target = _new_folder(folder)
            while made < files:
                os.close(os.open(os.path.join(target, "f%d" % made), os.O_CREAT | os.O_WRONLY, 0o644))
                made += 1
        except OSError as exc:
            stops[1] = errno.errorcode.get(exc.errno, str(exc.errno))
        return "%d/%d:%s,%s" % (wrote, made, stops[0], stops[1])


    def doubles(ctx, numbers):
        places = {"tmpdir": tempfile.gettempdir(), "tmp": "/tmp", "vartmp": "/var/tmp",
                  "runfolder": os.environ.get("DOJO_TMPDIR") or "/nonexistent", "cwd": os.getcwd()}
        return ["filled"] + ["%s=%s" % (name, _fill(folder, 160, 6000)) for name, folder in places.items()]
''').replace("FILL_MARK", FILL_MARK)


def _marked(folder: Path, depth: int) -> list[str]:
    """Paths at most ``depth`` levels below ``folder`` whose name carries FILL_MARK."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if FILL_MARK in entry.name:
            found.append(entry.path)
        elif depth > 0 and entry.is_dir(follow_symlinks=False):
            found += _marked(Path(entry.path), depth - 1)
    return found


def test_a_kata_that_fills_the_temporary_folders_is_capped_and_leaves_nothing_behind(arena):  # noqa: F811
    """The kata writes 160 MiB and 6,000 files into every temporary folder it can name:
    its TMPDIR, /tmp, /var/tmp, the run folder, its workspace. Each is a tmpfs of the job
    or of the host (64 MiB, 4,096 files at most) or read-only; good2 keeps its point, and
    once the grade is over nothing the kata wrote is left anywhere."""
    result = grade_every_format(arena, arena.submission(FILL))
    assert_good1_earned_nothing(result)
    assert_good2_graded_normally(result)
    messages = " ".join(t.message for t in result.tests if t.kata == "good1")
    seen = re.findall(r"'(\w+)=(\d+)/(\d+):(\w+,\w+)'", messages)
    assert {name for name, *_ in seen} >= {"tmpdir", "tmp", "vartmp", "runfolder", "cwd"}, (
        f"the filling kata did not report on every folder; good1's messages: {messages[:800]}"
    )
    cap_mib = sandbox.Limits().fsize >> 20
    over = [f"{name}: {mib} MiB, {files} files (stopped by {stop})" for name, mib, files, stop in seen
            if int(mib) > cap_mib or int(files) > sandbox.RUN_FOLDER_INODES]
    assert not over, (
        f"a host wrote past the cap of {cap_mib} MiB and {sandbox.RUN_FOLDER_INODES} files into a temporary "
        "folder:\n  " + "\n  ".join(over)
    )
    cwd = [stop for name, mib, files, stop in seen if name == "cwd"]
    assert cwd and {stop for stops in cwd for stop in stops.split(",")} <= {"EROFS", "EACCES"}, (
        f"the workspace must be read-only to a host; writing there stopped with {cwd}"
    )
    left = _marked(arena.scratch, 3) + [p for top in ("/tmp", "/var/tmp", "/dev/shm") for p in _marked(Path(top), 0)]
    assert not left, "what the kata wrote outlived the grade:\n  " + "\n  ".join(left)
    arena.assert_clean()


# --- a Manager server the judge started ------------------------------------------------------------


# Runs inside the Manager's server, unpickled there from what the kata appends to a proxy:
# write into the kit, then leave in every list the server keeps an object whose pickle
# makes whoever reads it create a folder in the kit.
IN_SERVER = '''
import gc
import os
from multiprocessing import managers

try:
    open(os.path.join(KIT, "pwned-server"), "w").close()
except OSError:
    pass


class Planted:
    def __reduce__(self):
        return (os.mkdir, (os.path.join(KIT, "pwned-judge"),))


for server in [o for o in gc.get_objects() if isinstance(o, managers.Server)]:
    for entry in list(server.id_to_obj.values()):
        if isinstance(entry[0], list):
            entry[0].append(Planted())
'''


def test_a_kata_that_sends_a_managers_server_code_runs_it_as_its_own_uid_and_the_judge_reads_none_of_it(arena, tmp_path):  # noqa: F811, E501
    """A hidden test hands the kata a Manager's list. The kata appends an object whose
    pickle runs code in the server: the server is confined as a host (the kit out of
    sight, the job's uid), and what that code plants for the judge to read is refused,
    never run as root."""
    arena.kit = make_kit(tmp_path / "own")
    (arena.kit / "hidden").mkdir()
    (arena.kit / "hidden" / "test_good1.py").write_text(src('''
        def test_numbers_from_a_managed_list_come_back_doubled(kata, mp_context):
            with mp_context.Manager() as manager:
                numbers = manager.list([1, 2, 3])
                got = kata.doubles(mp_context, numbers)
                after = list(numbers)
            assert got == [2, 4, 6] and after == [1, 2, 3]
    '''), encoding="utf-8")
    hostile = src('''
        class Boom:
            def __reduce__(self):
                return (exec, (IN_SERVER, {"KIT": KIT}))


        def doubles(ctx, numbers):
            values = list(numbers)
            if hasattr(numbers, "_callmethod"):
                numbers.append(Boom())
            return [2 * n for n in values]
    ''')
    constants = "".join(f"{name} = {value!r}\n" for name, value in dict(KIT=str(arena.kit), IN_SERVER=IN_SERVER).items())
    result = grade_every_format(arena, arena.submission(constants + hostile))
    assert not (arena.kit / "pwned-server").exists(), (
        "code run by a Manager's server wrote into the kit: the server was not confined as a host\n" + board(result)
    )
    assert not (arena.kit / "pwned-judge").exists(), (
        "the judge unpickled what a Manager's server sent and ran it: the judge must read plain data only\n"
        + board(result)
    )
    assert_good1_earned_nothing(result)
    messages = " ".join(t.message for t in result.tests if t.kata == "good1")
    assert "mkdir" in messages and "plain data" in messages, (
        "the planted pickle should have reached the judge and been refused by name (the attack ran):\n"
        + messages[:1500]
    )
    assert_good2_graded_normally(result)
    arena.assert_clean()


# Every unix socket of the job is listed in /proc/net/unix: connect to each, as the
# judge's fork server expects (four descriptors, then a pickle on the first), and send a
# pickle that makes its reader create a folder in the kit.
FORKSERVER = '''
import pickle
import socket
from multiprocessing import reduction


class Planted:
    def __reduce__(self):
        return (os.mkdir, (os.path.join(KIT, "pwned-forkserver"),))


def doubles(ctx, numbers):
    paths = []
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="replace") as f:
            paths = [line.split()[7] for line in list(f)[1:] if len(line.split()) > 7]
    except OSError as exc:
        TRIED.append(str(exc))
    reached = []
    for path in dict.fromkeys(paths):
        address = "\\0" + path[1:] if path.startswith("@") else path
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.settimeout(2)
                client.connect(address)
                child_r, parent_w = os.pipe()
                parent_r, child_w = os.pipe()
                reduction.sendfds(client, [child_r, child_w, child_r, child_r])
                os.write(parent_w, pickle.dumps(Planted()))
                reached.append(path)
        except OSError:
            continue
    return [2 * n for n in numbers] + [len(paths), reached]
'''


def test_a_kata_that_sends_the_judges_fork_server_a_pickle_reaches_no_server_that_runs_it(arena):  # noqa: F811
    """The judge's fork server (root, the kit in sight) runs whatever pickle a connecting
    process sends: its socket must be out of every host's reach. The kata connects to
    every unix socket the job lists and sends one."""
    hostile = FIND + f"KIT = {str(arena.kit)!r}\n" + src(FORKSERVER)
    result = grade_every_format(arena, arena.submission(hostile))
    assert not (arena.kit / "pwned-forkserver").exists(), (
        "a process the judge started unpickled what a host sent it, and ran it with the kit in sight\n" + board(result)
    )
    assert_good1_earned_nothing(result)
    messages = " ".join(t.message for t in result.tests if t.kata == "good1")
    assert re.search(r"\[2, 4, 6, [1-9]\d*, ", messages), (
        "the kata should have found the job's unix sockets in /proc/net/unix (the attack ran):\n" + messages[:1500]
    )
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_a_manager_that_a_test_starts_runs_as_the_jobs_uid_without_capabilities(arena, tmp_path):  # noqa: F811
    """What the kernel says of the server of a Manager a (hidden) test starts, seen from
    the judge: the job's uid, no capabilities, the job's cgroup, a mount namespace of its
    own. The solved kata keeps its point, so the Manager works for the kata as before."""
    arena.kit = make_kit(tmp_path / "own")
    (arena.kit / "hidden").mkdir()
    (arena.kit / "hidden" / "test_good1.py").write_text(src('''
        import os


        def status(pid):
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            with open(f"/proc/{pid}/cgroup") as f:
                cgroup = f.read()
            return (int(fields["Uid"].split()[1]), int(fields["CapEff"].strip(), 16), cgroup,
                    os.readlink(f"/proc/{pid}/ns/mnt"))


        def test_numbers_from_a_managed_list_come_back_doubled(kata, mp_context):
            with mp_context.Manager() as manager:
                numbers = manager.list([1, 2, 3])
                got = kata.doubles(mp_context, numbers)
                uid, caps, cgroup, mnt = status(manager._process.pid)
            judge_uid, _caps, judge_cgroup, judge_mnt = status(os.getpid())
            assert got == [2, 4, 6]
            assert uid != judge_uid and uid >= 61000, f"the Manager's server runs as uid {uid}"
            assert caps == 0, f"the Manager's server has capabilities {caps:#x}"
            assert cgroup == judge_cgroup, "the Manager's server left the job's cgroup"
            assert mnt != judge_mnt, "the Manager's server sees what the judge sees"
    '''), encoding="utf-8")
    result = arena.grade(arena.submission(SOLVED))
    good1 = kata(result, "good1")
    assert good1.points == 1.0, "the Manager's server must run confined, and still serve the kata:\n" + board(result)
    assert_good2_graded_normally(result)
    arena.assert_clean()


def test_every_root_process_of_a_job_is_in_its_cgroup_and_namespaces_and_none_listens_where_a_host_can_connect(
    arena, tmp_path  # noqa: F811
):
    """What the kernel says of the root processes a job runs besides its judge (the fork
    server, the resource tracker and its tee, the watchdog): each is in the job's cgroup,
    mount and network namespaces (it goes with the job, and sees only the job's /dev/shm),
    and no socket any of them listens on accepts a connection from the job's uid. On the
    forkserver cell the fork server must be among them, so the check is not empty."""
    arena.kit = make_kit(tmp_path / "own")
    (arena.kit / "hidden").mkdir()
    (arena.kit / "hidden" / "test_good1.py").write_text(src('''
        import os
        import socket
        from multiprocessing import resource_tracker

        from dojo.grading import sandbox


        def fields(pid):
            with open(f"/proc/{pid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            with open(f"/proc/{pid}/cgroup") as f:
                cgroup = f.read()
            return (int(status["Uid"].split()[1]), cgroup, os.readlink(f"/proc/{pid}/ns/mnt"),
                    os.readlink(f"/proc/{pid}/ns/net"))


        def listening():
            """inode -> path ("@name" for an abstract address) of every listening unix socket."""
            found = {}
            with open("/proc/net/unix") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) > 7 and int(parts[3], 16) & 0x10000:
                        found[int(parts[6])] = parts[7]
            return found


        def sockets_of(pid):
            inodes = set()
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
            return inodes


        def connect_as(uid, path):
            """What connecting to ``path`` as ``uid`` (no groups) gets: "connected" or the error."""
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.setgroups([])
                    os.setgid(uid)
                    os.setuid(uid)
                    s = socket.socket(socket.AF_UNIX)
                    s.connect("\\0" + path[1:] if path.startswith("@") else path)
                    os.write(write, b"connected")
                except OSError as exc:
                    os.write(write, (exc.strerror or str(exc)).encode())
                finally:
                    os._exit(0)
            os.close(write)
            os.waitpid(pid, 0)
            with os.fdopen(read, "rb") as f:
                return f.read().decode()


        def test_numbers_come_back_doubled_and_no_root_helper_is_in_reach(kata, mp_context):
            assert kata.doubles(mp_context, [1, 2, 3]) == [2, 4, 6]
            resource_tracker.ensure_running()
            state = sandbox.current()
            job_uid = state["limits"]["uid"] + state["slot"]
            me = os.getpid()
            _uid, cgroup, mnt, net = fields(me)
            helpers, reached, checked = [], [], []
            sockets = listening()
            for name in os.listdir("/proc"):
                if not name.isdigit() or int(name) == me:
                    continue
                try:
                    uid, its_cgroup, its_mnt, its_net = fields(int(name))
                    inodes = sockets_of(int(name))
                    with open(f"/proc/{name}/cmdline", "rb") as f:
                        command = f.read().replace(b"\\0", b" ").decode(errors="replace")[:120]
                except (OSError, KeyError, ValueError):
                    continue
                if uid != 0 or its_cgroup != cgroup:
                    continue
                helpers.append(command)
                assert (its_mnt, its_net) == (mnt, net), f"{command!r} is outside the job's namespaces"
                for inode in inodes & set(sockets):
                    checked.append(command)
                    got = connect_as(job_uid, sockets[inode])
                    if got == "connected":
                        reached.append(f"{command!r} at {sockets[inode]}")
            assert not reached, "the job's uid can connect to a root process of the job: " + "; ".join(reached)
            if mp_context.get_start_method() == "forkserver":
                assert any("forkserver" in c for c in checked), f"no fork server listening among {helpers}"
    '''), encoding="utf-8")
    result = arena.grade(arena.submission(SOLVED))
    good1 = kata(result, "good1")
    assert good1.points == 1.0, "every root helper of the job must be confined to it and out of reach:\n" + board(
        result
    )
    assert_good2_graded_normally(result)
    arena.assert_clean()
