"""The grading sandbox: cgroup limits, namespaces, private /dev/shm, rlimits, the uid drop.

Each test runs a small scenario script as the "judge" under ``launch_prefix`` (the script
lives in a world-readable temporary folder, so that spawn children of a host that dropped
to an unprivileged uid can re-import it), and removes the job's cgroup afterwards.
"""

import dataclasses
import errno
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from dojo import procs
from dojo.grading import sandbox
from dojo.grading.sandbox import Limits

LINUX = sys.platform.startswith("linux")
ROOT = Path(__file__).resolve().parent.parent
METHODS = ["fork", "spawn", "forkserver"]

pytestmark = pytest.mark.skipif(not LINUX, reason="the sandbox is Linux-only (elsewhere it is a no-op)")

SCENARIO = r'''
import json, multiprocessing as mp, os, select, socket, sys, threading, time
from multiprocessing import shared_memory
from dojo.grading.sandbox import enter_host


def report(**fields):
    print(json.dumps(fields), flush=True)


def in_host(fn, *args, join=True):
    """Run fn(*args) in a fork-started host that entered the sandbox first."""
    ctx = mp.get_context("fork")
    mine, theirs = ctx.Pipe()
    host = ctx.Process(target=host_main, args=(theirs, fn, args))
    host.start()
    theirs.close()
    got = mine.recv() if mine.poll(20) else {"error": "no answer from the host"}
    if join:
        # (join waits for the host's sentinel pipe, which the host's own children inherit)
        host.join(20)
    return got


def host_main(conn, fn, args):
    applied = enter_host()
    try:
        conn.send({"applied": applied, **fn(*args)})
    except BaseException as exc:
        conn.send({"applied": applied, "error": repr(exc)})


def bomb():
    # Bounded on purpose: at most 300 forks, and every child leaves within 5 s (at once
    # when the pipe closes), so a sandbox that does not hold cannot take the machine down.
    r, w = os.pipe()
    kids, failure = [], None
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError as exc:
            failure = exc.errno
            break
        if pid == 0:
            os.close(w)
            select.select([r], [], [], 5.0)
            os._exit(0)
        kids.append(pid)
    os.close(w)
    for pid in kids:
        os.waitpid(pid, 0)
    return {"forks": len(kids), "errno": failure}


def allocate():
    try:
        block = bytearray(10 * 10**9)
        return {"allocated": len(block)}
    except MemoryError:
        return {"allocated": 0, "error": "MemoryError"}


def scenario_bomb():
    report(**in_host(bomb))


def scenario_alloc():
    report(**in_host(allocate))


def scenario_net():
    import http.server, urllib.request

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    server.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{server.server_port}/", timeout=5) as answer:
            status = answer.status
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    start = time.monotonic()
    try:
        socket.create_connection(("10.255.255.1", 80), timeout=5).close()
        failure = None
    except OSError as exc:
        failure = exc.errno
    report(status=status, errno=failure, seconds=time.monotonic() - start)


def scenario_shm():
    name = f"dojo-sandbox-test-{os.getpid()}"
    with open(f"/dev/shm/{name}", "w") as f:
        f.write("inside")
    st = os.stat("/dev/shm")
    report(name=name, mode=st.st_mode & 0o7777, listing=sorted(os.listdir("/dev/shm")))
    sys.stdin.readline()  # the test looks from outside meanwhile


def add(counter, lock, value, shm_name, slot):
    with lock:
        counter.value += 1
    with value.get_lock():
        value.value += 1
    shm = shared_memory.SharedMemory(name=shm_name)
    shm.buf[slot] = 1
    shm.close()


def uid_of_child(conn):
    conn.send(os.getuid())
    conn.close()


def every_method(counter, lock):
    seen = {"uid": os.getuid()}
    for method in ("fork", "spawn", "forkserver"):
        ctx = mp.get_context(method)
        value = ctx.Value("i", 0)
        shm = shared_memory.SharedMemory(create=True, size=8)
        seen.setdefault("segments", []).append(shm.name.lstrip("/"))
        try:
            workers = [ctx.Process(target=add, args=(counter, lock, value, shm.name, i)) for i in range(3)]
            for w in workers:
                w.start()
            for w in workers:
                w.join(20)
            mine, theirs = ctx.Pipe()
            probe = ctx.Process(target=uid_of_child, args=(theirs,))
            probe.start()
            child_uid = mine.recv() if mine.poll(20) else None
            probe.join(20)
            seen[method] = {
                "exitcodes": [w.exitcode for w in workers],
                "value": value.value,
                "shm": list(shm.buf[:3]),
                "child_uid": child_uid,
            }
        finally:
            shm.close()
            shm.unlink()
    return seen


def scenario_mp(method):
    # A forkserver in the judge before the host starts: a forked host inherits its record.
    fs = mp.get_context("forkserver").Process(target=time.sleep, args=(0,))
    fs.start()
    fs.join()
    ctx = mp.get_context(method)
    # Named semaphore and heap of the spawn context: the only kind every child may share.
    shared = mp.get_context("spawn")
    counter, lock = shared.Value("i", 0, lock=False), shared.Lock()
    mine, theirs = ctx.Pipe()
    host = ctx.Process(target=host_mp, args=(theirs, counter, lock))
    host.start()
    theirs.close()
    got = mine.recv() if mine.poll(60) else {"error": "no answer from the host"}
    host.join(20)
    # the host's own segments only: where /dev/shm is not private, others' are there too
    got.update(host_exitcode=host.exitcode, counter=counter.value,
               shm_left=[n for n in got.get("segments", ()) if os.path.exists("/dev/shm/" + n)])
    report(**got)


def host_mp(conn, counter, lock):
    applied = enter_host()
    try:
        conn.send({"applied": applied, **every_method(counter, lock)})
    except BaseException as exc:
        conn.send({"applied": applied, "error": repr(exc)})


def linger():
    pid = os.fork()
    if pid == 0:
        os.setsid()  # out of the process group: only the cgroup still knows it
        time.sleep(10)
        os._exit(0)
    return {"lingerer": pid}


def look_around(secret, judge):
    """What a host can see: its uid, the secret folder, the judge, /tmp, mount points."""
    def can(path):
        try:
            os.listdir(path) if os.path.isdir(path) else open(path).close()
            return True
        except OSError:
            return False

    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    with open("/proc/self/cmdline", "rb") as f:
        cmdline = f.read().split(b"\0")[0].decode()
    return {"uid": os.getuid(), "secret": can(secret), "secret_file": can(os.path.join(secret, "answer.py")),
            "judge_visible": os.path.exists("/proc/%d" % judge), "tmp": sorted(os.listdir("/tmp")),
            "cwd": can(os.getcwd()), "named": [p for p in points if secret in p], "cmdline": cmdline,
            "python": can(sys.executable)}


def scenario_view(secret):
    report(judge=os.getpid(), **in_host(look_around, secret, os.getpid()))


def scenario_linger():
    report(judge=os.getpid(), **in_host(linger, join=False))
    sys.stdin.readline()


if __name__ == "__main__":
    globals()["scenario_" + sys.argv[1]](*sys.argv[2:])
'''


@pytest.fixture(scope="module")
def scenario():
    # mkdtemp makes a 700 folder; a host that dropped its uid must reach the script too.
    folder = Path(tempfile.mkdtemp(prefix="dojo-sandbox-test-"))
    folder.chmod(0o755)
    script = folder / "scenario.py"
    script.write_text(SCENARIO)
    script.chmod(0o644)
    yield script
    shutil.rmtree(folder)


class Job:
    """One sandboxed run of the scenario script, in its own slot."""

    slots = iter(range(100, 10_000))

    def __init__(self, script, limits=None, python=None):
        self.slot = next(self.slots)
        self.limits = limits or Limits()
        self.script = script
        self.prefix = sandbox.launch_prefix(self.slot, self.limits)
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        self.env.pop(sandbox.ENV, None)
        if python:
            self.prefix[0] = python  # the sandbox checks that the uid can run its own Python
        self.python = python or sys.executable

    def command(self, *args):
        return [*self.prefix, self.python, str(self.script), *args]

    def run(self, *args, timeout=60):
        done = subprocess.run(self.command(*args), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{args} in the sandbox ended with {done.returncode}:\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start(self, *args):
        return subprocess.Popen(
            self.command(*args), cwd=ROOT, env=self.env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip


@pytest.fixture
def job(scenario):
    made = []

    def make(limits=None, python=None):
        made.append(Job(scenario, limits, python))
        return made[-1]

    yield make
    for j in made:
        sandbox.cleanup(j.slot)
        assert not any(p.exists() for p in sandbox.cgroup_paths(j.slot))
    procs.reap_children()  # orphans this (subreaper) process adopted


def need(key, word=""):
    verdict = sandbox.detect()[key]
    if not verdict.startswith("on") or word not in verdict:
        pytest.skip(f"{key}: {verdict}")
    return verdict


def read_line(proc, timeout=30):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no line from the sandboxed scenario within {timeout} s"
    return json.loads(proc.stdout.readline())


def close(proc):
    proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()


# --- what is in force --------------------------------------------------------------------


def test_detect_names_every_limit_with_on_or_off_and_a_reason():
    verdicts = sandbox.detect()
    assert list(verdicts) == list(sandbox.KEYS)
    for key, text in verdicts.items():
        assert text.startswith(("on: ", "off: ")) and len(text) > 6, f"{key}: {text!r} gives no detail"
    assert verdicts["wall"] == "on: 90 s per kata run (enforced by the controller)"
    assert verdicts["memory"].startswith("on: RLIMIT_AS=2 GiB per host process")


def test_each_layer_in_force_says_what_it_applies():
    # Which layers exist depends on the machine (here, as root: all of them).
    verdicts = sandbox.detect()
    if verdicts["processes"].startswith("on"):
        assert "pids.max=96" in verdicts["processes"] or "RLIMIT_NPROC=" in verdicts["processes"]
    if verdicts["network"].startswith("on"):
        assert verdicts["network"] == "on: own network namespace, loopback only"
    if verdicts["shm"].startswith("on"):
        assert verdicts["shm"] == "on: private tmpfs on /dev/shm (2 GiB, mode 1777)"


def test_the_uid_drop_is_in_force_as_root_also_with_the_interpreter_under_a_closed_folder():
    """As root the job's mount namespace opens the folders closed to other users that the
    interpreter lives under (pyenv's /root, mode 700): a tmpfs over them, the interpreter
    bound back read-only. The verdict names what was opened."""
    if os.geteuid() != 0:
        pytest.skip("only root can drop to another uid")
    verdict = sandbox.detect()["uid"]
    assert verdict.startswith("on: hosts run as uid 61000 + job slot"), verdict
    closed = sandbox._first_closed(os.path.realpath(sys.executable))
    if closed:
        assert f"{closed} (mode" in verdict and "bound back read-only" in verdict, verdict


def test_open_closed_folders_groups_needed_paths_under_their_outermost_closed_folder():
    assert sandbox._outermost(["/a/b", "/a", "/c/d", "/c/d/e", "/c/de"]) == ["/a", "/c/d", "/c/de"]
    open_ = Path(tempfile.mkdtemp(prefix="dojo-sandbox-closed-"))
    open_.chmod(0o755)
    closed = open_ / "home"
    (closed / "x" / "python").mkdir(parents=True)
    closed.chmod(0o700)
    try:
        assert sandbox._first_closed(str(closed / "x" / "python")) == str(closed)
        assert sandbox._first_closed(str(open_)) is None
    finally:
        closed.chmod(0o755)
        shutil.rmtree(open_)
    assert sandbox._cover_point("/work/main") == "/work"
    assert sandbox._cover_point("/usr/share/kit") == "/usr/share/kit"


@pytest.mark.skipif(LINUX and os.geteuid() != 0, reason="a host's own mount namespace needs root")
def test_a_host_sees_neither_hidden_folders_nor_other_processes_nor_the_shared_tmp(job, tmp_path):
    need("view")
    secret = Path(tempfile.mkdtemp(prefix="dojo-sandbox-secret-"))
    secret.chmod(0o755)
    (secret / "answer.py").write_text("ANSWER = 42\n")
    (secret / "answer.py").chmod(0o644)
    try:
        j = job(Limits(hidden=(str(secret),)))
        got = j.run("view", str(secret))
        assert "error" not in got, got
        assert got["secret"] is False and got["secret_file"] is False, f"the host could reach {secret}: {got}"
        assert got["named"] == [], f"a mount point names the hidden folder: {got['named']}"
        assert got["judge_visible"] is False, "the host can see the judge in /proc (hidepid)"
        assert got["cwd"] is True and got["python"] is True, f"the host lost its workspace or Python: {got}"
        assert not [n for n in got["tmp"] if n.startswith("dojo-sandbox-secret-")], got["tmp"]
        assert got["cmdline"] == "dojo-host", f"the host's command line still names the judge's: {got['cmdline']}"
        if sandbox.detect()["uid"].startswith("on"):
            assert got["uid"] == Limits().slot_uid(j.slot)
    finally:
        shutil.rmtree(secret, ignore_errors=True)


def test_the_uid_verdict_names_the_folder_that_shuts_the_uid_out():
    verdict = sandbox.detect()["uid"]
    if verdict.startswith("on"):
        assert "uid 61000 + job slot" in verdict
    elif os.geteuid() == 0:
        assert "not reachable by uid 61000" in verdict or "cannot run" in verdict or "account" in verdict, verdict
    else:
        assert verdict == "off: the grader is not root, so hosts run as the grader's own user"


def test_inside_a_sandbox_detect_reports_what_the_sandbox_recorded(job):
    j = job()
    done = subprocess.run(
        [*j.prefix, sys.executable, "-c", "import json; from dojo.grading import sandbox; print(json.dumps(sandbox.detect()))"],
        cwd=ROOT, env=j.env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    inside, outside = json.loads(done.stdout), sandbox.detect()
    # The uid verdict names the job's own uid; the prediction names slot 0's.
    assert inside.pop("uid")[:3] == outside.pop("uid")[:3]
    assert inside == outside


def test_limits_travel_as_json_and_the_prefix_names_the_slot_and_job():
    limits = Limits(wall=5, nproc=10, uid=None)
    assert Limits.from_json(limits.to_json()) == limits
    assert Limits.from_dict({"nproc": 3, "unknown": 1}) == Limits(nproc=3)
    prefix = sandbox.launch_prefix(7, limits)
    assert prefix[:3] == [sys.executable, "-m", "dojo.grading.sandbox"] and prefix[-1] == "--"
    assert prefix[prefix.index("--slot") + 1] == "7"
    assert prefix[prefix.index("--job") + 1] == sandbox.job_name(7) == f"dojo-{os.getpid()}-{sandbox._start_time(os.getpid())}-7"
    assert Limits.from_json(prefix[prefix.index("--limits") + 1]) == limits


def test_elsewhere_than_linux_everything_is_off_and_nothing_is_done(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    verdicts = sandbox.detect()
    assert [k for k, v in verdicts.items() if v.startswith("on")] == ["wall"]
    assert verdicts["uid"].startswith("off: darwin has no")
    assert sandbox.launch_prefix(0) == [] and sandbox.cgroup_paths(0) == []
    assert sandbox.enter_host(Limits()) == [] and sandbox.stale_cleanup() == []


def test_cgroup_v2_is_found_through_mountinfo(tmp_path):
    (tmp_path / "grading").mkdir()
    (tmp_path / "grading" / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    mountinfo = f"35 24 0:30 / {tmp_path} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    found = sandbox._hierarchies(mountinfo, "0::/grading\n")
    assert found == {c: sandbox.Hierarchy(2, tmp_path / "grading") for c in ("pids", "memory")}


def test_cgroup_v1_wins_for_a_controller_bound_there(tmp_path):
    mountinfo = (
        "30 24 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "31 24 0:27 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        f"32 24 0:28 / {tmp_path} rw - cgroup2 cgroup2 rw\n"
    )
    found = sandbox._hierarchies(mountinfo, "8:pids:/a\n4:memory:/docker/abc/b\n0::/\n")
    assert found == {
        "pids": sandbox.Hierarchy(1, Path("/sys/fs/cgroup/pids/a")),
        "memory": sandbox.Hierarchy(1, Path("/sys/fs/cgroup/memory/b")),
    }


# --- the sandbox holds -------------------------------------------------------------------


def test_a_fork_bomb_in_a_host_is_stopped_by_the_pids_limit(job):
    need("processes")
    limits = Limits(nproc=16)
    got = job(limits).run("bomb")
    assert got["errno"] == errno.EAGAIN, (
        f"a host forked {got['forks']} times without a refusal; pids.max={limits.job_tasks} should have stopped it"
    )
    assert got["forks"] < limits.job_tasks


def test_a_10_gb_allocation_in_a_host_raises_memory_error(job):
    got = job().run("alloc")
    assert got.get("error") == "MemoryError", f"bytearray(10 GB) in a host gave {got}"
    assert "RLIMIT_AS=2 GiB" in got["applied"]


def test_the_job_cgroup_carries_the_memory_limit_and_outlives_the_judge(job):
    need("memory", "cgroup")
    j = job()
    j.run("alloc")
    limit_files = [p / f for p in sandbox.cgroup_paths(j.slot) for f in ("memory.limit_in_bytes", "memory.max")]
    assert [int(f.read_text()) for f in limit_files if f.exists()] == [Limits().job_memory]


def test_loopback_works_and_every_other_address_is_unreachable_at_once(job):
    need("network")
    got = job().run("net")
    assert got["status"] == 200, "a local HTTP server on 127.0.0.1 must answer inside the sandbox"
    assert got["errno"] == errno.ENETUNREACH, f"connecting to 10.255.255.1 gave errno {got['errno']}"
    assert got["seconds"] < 1, "an unreachable network must fail at once, not time out"


def test_dev_shm_is_private_to_the_job_and_gone_after_it(job):
    need("shm")
    proc = job().start("shm")
    try:
        got = read_line(proc)
        assert got["mode"] == 0o1777, "every uid must be able to make semaphores and shared memory"
        assert got["listing"] == [got["name"]], "the job's /dev/shm starts empty"
        assert not (Path("/dev/shm") / got["name"]).exists(), "the job's /dev/shm is visible outside"
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
    finally:
        close(proc)
    assert not (Path("/dev/shm") / got["name"]).exists()


@pytest.mark.parametrize("method", METHODS)
def test_multiprocessing_works_in_a_sandboxed_host(job, method):
    got = job().run("mp", method)
    assert "error" not in got, got
    assert got["host_exitcode"] == 0
    for inner in METHODS:
        assert got[inner]["exitcodes"] == [0, 0, 0], f"{inner} children of a {method} host: {got[inner]}"
        assert got[inner]["value"] == 3 and got[inner]["shm"] == [1, 1, 1], got[inner]
    assert got["counter"] == 9, "the judge's Value and Lock were shared with every child"
    assert len(got["segments"]) == 3 and got["shm_left"] == [], "the host unlinks each segment it made"


def test_cleanup_kills_what_the_job_left_and_removes_its_cgroup(job):
    need("processes")
    j = job()
    proc = j.start("linger")
    try:
        got = read_line(proc)
        paths = sandbox.cgroup_paths(j.slot)
        assert all(p.is_dir() for p in paths)
        killed = sandbox.cleanup(j.slot)
        assert proc.wait(10) == -9, "the judge was still in the cgroup"
    finally:
        close(proc)
    assert {int(k.split()[1]) for k in killed} >= {got["judge"], got["lingerer"]}
    procs.reap_children()
    assert procs.wait_until(lambda: not psutil.pid_exists(got["lingerer"]), 5), "a process that left its group survived"
    assert not any(p.exists() for p in paths)


def test_stale_cleanup_removes_groups_of_controllers_that_are_gone(job):
    need("processes")
    j = job()
    ours = sandbox.cgroup_paths(j.slot)
    # Our pid with another start time: a controller that died and whose pid was reused.
    stale = [p.parent / f"dojo-{os.getpid()}-1-0" for p in ours]
    for p in ours + stale:
        p.mkdir()
    try:
        removed = sandbox.stale_cleanup()
        assert set(removed) >= {str(p) for p in stale}
        assert not any(p.exists() for p in stale)
        assert all(p.exists() for p in ours), "a live controller's job was removed"
    finally:
        for p in stale:
            if p.exists():
                p.rmdir()


# --- the uid drop ------------------------------------------------------------------------


def reachable_python():
    """An interpreter other than ours that an unprivileged uid can run (a system Python)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.path.exists(candidate) or sandbox._closed_folder(os.path.realpath(candidate), 61000):
            continue
        version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info >= (3, 10))"], capture_output=True, text=True)
        if version.stdout.strip() == "True":
            return candidate
    return None


def run_as_job_uid(job, python=None):
    j = job(python=python)
    uid = Limits().slot_uid(j.slot)
    for method in METHODS:
        got = j.run("mp", method)
        assert "error" not in got, got
        assert f"uid={uid} gid={uid} groups=[] no_new_privs" in got["applied"], got["applied"]
        assert got["uid"] == uid
        for inner in METHODS:
            assert got[inner]["exitcodes"] == [0, 0, 0] and got[inner]["child_uid"] == uid, (method, inner, got[inner])
        assert got["counter"] == 9


@pytest.mark.skipif(LINUX and os.geteuid() != 0, reason="only root can drop to another uid")
def test_hosts_run_as_the_job_uid(job):
    need("uid")
    run_as_job_uid(job)


@pytest.mark.skipif(LINUX and os.geteuid() != 0, reason="only root can drop to another uid")
def test_hosts_run_as_the_job_uid_under_a_python_every_uid_can_reach(job):
    python = reachable_python()
    if python is None:
        pytest.skip("no system Python 3.10+ outside folders closed to other users")
    closed = sandbox._closed_folder(os.path.abspath(sandbox.__file__), 61000)
    if closed:  # e.g. CI's clone in a `mktemp -d` folder (mode 700)
        pytest.skip(f"dojo itself is not reachable by other uids here: {closed}")
    run_as_job_uid(job, python)


def drop_in_forked_child(lock_name, write_fd):
    """In a forked child of this test: enter_host as the sandbox's slot 5, report, exit.

    Everything it uses is imported before the fork: here the uid cannot read Python's
    standard library (that is why detect() keeps the uid drop off), and a module first
    imported after the drop would fail.
    """
    import multiprocessing
    import resource
    from multiprocessing import shared_memory

    state = {"slot": 5, "limits": dataclasses.asdict(Limits(nproc=40)), "in_force": {"uid": "on: test"}}
    os.environ[sandbox.ENV] = json.dumps(state)
    applied = sandbox.enter_host()
    sem = Path("/dev/shm") / ("sem." + lock_name.lstrip("/"))
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=os.getuid)
    child.start()
    child.join(10)
    theirs.send("over a Pipe")
    shm = shared_memory.SharedMemory(create=True, size=16)  # registers with the root tracker
    shm_owner = os.stat(f"/dev/shm/{shm.name}").st_uid
    shm.close()
    shm.unlink()
    result = {
        "applied": applied,
        "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()],
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
        "sem_owner": sem.stat().st_uid,
        "child_exitcode": child.exitcode,
        "pipe": mine.recv(),
        "shm_owner": shm_owner,
    }
    os.write(write_fd, json.dumps(result).encode())


def _writable_by_others(folder):
    """Whether a uid that owns nothing here (and is in no group of it) may add files."""
    mode = os.stat(folder).st_mode
    return bool(mode & stat.S_IWOTH and mode & stat.S_IXOTH)


@pytest.mark.skipif(LINUX and os.geteuid() != 0, reason="only root can drop to another uid")
def test_enter_host_drops_to_the_slot_uid_in_a_forked_host():
    coverage = sys.modules.get("coverage")
    current = coverage.Coverage.current() if coverage is not None else None
    if current is not None:
        # Coverage's bootstrap in the host's own child runs as the dropped uid: it re-reads
        # the config and, when the child ends, writes a data file next to the judge's.
        config = os.path.abspath("pyproject.toml")
        closed = sandbox._closed_folder(config, 61000)
        if closed:
            pytest.skip(f"under coverage, with its config closed to other uids: {closed}")
        data_dir = os.path.dirname(os.path.abspath(current.config.data_file))
        if not _writable_by_others(data_dir):
            pytest.skip(f"under coverage, whose data folder {data_dir} other uids cannot write")
    import multiprocessing
    import multiprocessing.popen_fork  # noqa: F401 - see drop_in_forked_child
    import resource  # noqa: F401
    from multiprocessing import resource_tracker, shared_memory  # noqa: F401

    # The judge's tracker (root) must be running before hosts start: one that a host had
    # to start itself would be exec'd as the host's uid.
    resource_tracker.ensure_running()
    lock = multiprocessing.get_context("spawn").Lock()  # a named semaphore, root's, mode 600
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            drop_in_forked_child(lock._semlock.name, w)
        except BaseException as exc:
            os.write(w, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(0)
    os.close(w)
    try:
        ready, _, _ = select.select([r], [], [], 20)
        text = os.read(r, 65536).decode() if ready else ""
    finally:
        os.close(r)
        if not procs.wait_until(lambda: os.waitpid(pid, os.WNOHANG)[0] != 0, 10):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    got = json.loads(text or '{"error": "no answer"}')
    assert "error" not in got, got
    uid = 61005
    assert got["ids"] == [uid, uid, uid, []]
    assert got["applied"][-1] == f"uid={uid} gid={uid} groups=[] no_new_privs"
    assert got["nproc"] == 40
    assert got["sem_owner"] == uid, "the judge's semaphore that the host maps must be handed to its uid"
    assert got["child_exitcode"] == 0 and got["pipe"] == "over a Pipe"
    assert got["shm_owner"] == uid
    del lock


def test_enter_host_as_a_normal_user_leaves_room_for_what_the_user_already_runs():
    if os.geteuid() == 0:
        pytest.skip("as root RLIMIT_NPROC is the plain budget (it binds only after the uid drop)")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            import resource

            sandbox.enter_host(Limits(nproc=5, uid=None))
            os.write(w, str(resource.getrlimit(resource.RLIMIT_NPROC)[0]).encode())
        finally:
            os._exit(0)
    os.close(w)
    nproc = int(os.read(r, 100) or 0)
    os.close(r)
    os.waitpid(pid, 0)
    assert nproc > 5
