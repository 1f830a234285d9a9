"""The judge/host split (dojo/hosting.py): learner code runs in a host, answers in JSON."""

import json
import multiprocessing
import os

import pytest

from dojo import hosting
from dojo.testing import KataRaised

KIT = os.path.join(os.path.dirname(__file__), "kit")
METHODS = multiprocessing.get_all_start_methods()


@pytest.mark.parametrize(
    "value",
    [
        None,
        [1, 2.5, "x", True],
        (1, (2, 3)),
        {1: "one", None: [], "k": {"nested": (4,)}},
        {"$t": [1]},  # a learner's dict that looks like a tag survives too
        [],
        {},
    ],
    ids=repr,
)
def test_plain_data_keeps_its_python_shape_through_tagged_json(value):
    assert hosting.decode(json.loads(json.dumps(hosting.encode(value)))) == value


@pytest.mark.parametrize(
    "forged",
    [{"$x": 1}, {"$d": [[{"$t": []}, 1]]}, {"a": 1, "b": 2}, {"$d": [[1]]}],
    ids=["unknown tag", "unhashable key", "untagged dict", "short pair"],
)
def test_anything_but_tagged_plain_data_from_a_host_is_refused(forged):
    with pytest.raises(ValueError):
        hosting.decode(forged)


def test_objects_that_are_not_plain_data_cannot_be_encoded():
    with pytest.raises(TypeError):
        hosting.encode({"lock": multiprocessing.Lock()})


def _hosts(method, tmp_path, kata="good1", target="solutions", private=()):
    return hosting.Hosts(multiprocessing.get_context(method), KIT, target, kata, private_fds=private)


@pytest.mark.parametrize("method", METHODS)
def test_a_call_runs_in_a_host_and_its_result_comes_back(method, tmp_path):
    hosts = _hosts(method, tmp_path)
    try:
        got = hosts.call("doubles", (multiprocessing.get_context(method), [1, 2, 3]), {})
        assert got == [2, 4, 6], f"solutions.good1.doubles in a {method} host returned {got!r}"
        assert hosts.last_pid() != os.getpid(), "the call ran in the judge, not in a host"
    finally:
        leaks = hosts.close()
    assert leaks == [], f"a clean call left {leaks!r}"


@pytest.mark.parametrize("method", METHODS)
def test_a_host_that_exits_without_answering_is_an_error_never_a_result(method, tmp_path):
    (tmp_path / "katas").mkdir()
    (tmp_path / "katas" / "__init__.py").write_text("")
    (tmp_path / "katas" / "quitter.py").write_text("import os\n\ndef answer(ctx):\n    os._exit(0)\n")
    hosts = hosting.Hosts(multiprocessing.get_context(method), str(tmp_path), "katas", "quitter")
    try:
        with pytest.raises(hosting.HostError, match="never answered"):
            hosts.call("answer", (None,), {})
    finally:
        hosts.close()


def test_an_exception_in_the_kata_comes_back_as_its_type_and_message(tmp_path):
    (tmp_path / "katas").mkdir()
    (tmp_path / "katas" / "__init__.py").write_text("")
    (tmp_path / "katas" / "raiser.py").write_text("def boom():\n    raise KeyError('which')\n")
    hosts = hosting.Hosts(multiprocessing.get_context("fork"), str(tmp_path), "katas", "raiser")
    try:
        with pytest.raises(KataRaised) as info:
            hosts.call("boom", (), {})
        assert info.value.type_name == "KeyError"
    finally:
        hosts.close()


def test_a_fork_host_cannot_write_to_the_judges_results_file(tmp_path):
    results = tmp_path / "results.jsonl"
    fd = os.open(results, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    (tmp_path / "katas").mkdir()
    (tmp_path / "katas" / "__init__.py").write_text("")
    (tmp_path / "katas" / "forger.py").write_text(
        "import os\n\ndef forge(fd):\n"
        "    try:\n        os.write(fd, b'forged\\n')\n        return 'wrote'\n"
        "    except OSError as exc:\n        return type(exc).__name__\n"
    )
    hosts = hosting.Hosts(multiprocessing.get_context("fork"), str(tmp_path), "katas", "forger", private_fds=[fd])
    try:
        got = hosts.call("forge", (fd,), {})
    finally:
        hosts.close()
        os.close(fd)
    assert got == "OSError", f"the host wrote to the judge's results file descriptor: {got!r}"
    assert results.read_text() == "", "the judge's results file holds a line a host wrote"


def _probe_kata(tmp_path, source):
    (tmp_path / "katas").mkdir()
    (tmp_path / "katas" / "__init__.py").write_text("")
    (tmp_path / "katas" / "probe.py").write_text(source)
    return str(tmp_path)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "fork"])
def test_a_host_defaults_to_the_judges_start_method_not_its_own(method, tmp_path):
    # A spawn child starts with spawn as multiprocessing's default; kata code that
    # ignores ctx must get the judge's default in a host, as it does in practice mode.
    root = _probe_kata(tmp_path, "import multiprocessing\n\ndef default():\n    return multiprocessing.get_start_method()\n")
    hosts = hosting.Hosts(multiprocessing.get_context(method), root, "katas", "probe")
    try:
        assert hosts.call("default", (), {}) == multiprocessing.get_start_method()
    finally:
        hosts.close()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2, reason="one CPU")
def test_while_a_host_runs_a_narrowed_test_its_parent_has_the_judges_cpus_again(tmp_path):
    root = _probe_kata(
        tmp_path,
        "import os\n\ndef masks():\n    return sorted(os.sched_getaffinity(0)), sorted(os.sched_getaffinity(os.getppid()))\n",
    )
    full = sorted(os.sched_getaffinity(0))
    hosts = hosting.Hosts(multiprocessing.get_context("spawn"), root, "katas", "probe")
    os.sched_setaffinity(0, {full[-1]})
    try:
        own, parent = hosts.call("masks", (), {})
        assert own == [full[-1]] and parent == full
        assert sorted(os.sched_getaffinity(0)) == [full[-1]], "the judge is narrowed again afterwards"
    finally:
        os.sched_setaffinity(0, full)
        hosts.close()


def test_the_judge_reads_no_line_of_a_file_outside_the_kata_folders_whatever_a_dump_names(tmp_path):
    """A host writes the stack dump the judge reads: a frame naming ``katas/../secret`` or a
    symbolic link in katas/ must not make the judge read (and show) a line of another file."""
    from dojo.hosting import _where_from_dump

    root = tmp_path / "kit"
    (root / "katas").mkdir(parents=True)
    (root / "katas" / "k1.py").write_text("def work():\n    wait_forever()\n")
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'never-shown'\n")
    (root / "katas" / "link.py").symlink_to(secret)
    forged = [
        f"{root}/katas/../../secret.py",
        f"{root}/katas/link.py",
        f"{root}/katas/../katas/../../secret.py",
        str(secret),
    ]
    for name in forged:
        dump = f'Thread 0x1 (most recent call first):\n  File "{name}", line 1 in work\n'
        assert _where_from_dump(dump, str(root)) == "", name
    dump = f'  File "{root}/katas/../katas/k1.py", line 2 in work\n  File "{forged[0]}", line 1 in x\n'
    assert _where_from_dump(dump, str(root)) == "katas/k1.py:2 (work): wait_forever()"
