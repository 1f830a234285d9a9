"""The plugin's contract as a test sees it: plain data, exceptions as data, header, ids."""

import subprocess
import sys

import pytest

from dojo.testing import KataRaised, check_plain
from selftest.helpers import KIT


@pytest.mark.parametrize("value", [None, 1, 2.5, "x", [1, (2, "3")], {"a": [1]}, {1: {"b": None}}])
def test_plain_data_passes(value):
    check_plain(value, "f(...)")


@pytest.mark.parametrize("value", [object(), {1, 2}, [b"bytes"], {(1, 2): 3}])
def test_anything_else_is_refused_with_a_reason(value):
    with pytest.raises(TypeError, match="plain data|plain keys"):
        check_plain(value, "f(...)")


def test_a_kata_exception_travels_as_type_name_and_message():
    exc = KataRaised("ValueError", "bad input 3")
    assert (exc.type_name, exc.message, str(exc)) == ("ValueError", "bad input 3", "ValueError: bad input 3")


def pytest_in_kit(*args, env=None):
    import os

    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=KIT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
        timeout=120,
    )


def test_the_header_says_target_start_methods_and_python():
    out = pytest_in_kit("--collect-only", "-q", "tests/test_good1.py", "--target=solutions", "--start-method=spawn").stdout
    out += pytest_in_kit("--collect-only", "tests/test_good1.py", "--start-method=spawn").stdout
    assert "dojo: target katas, start methods spawn, Python " in out
    assert "test_every_number_comes_back_doubled[spawn]" in out
    assert "[fork]" not in out


def test_test_ids_carry_every_start_method():
    out = pytest_in_kit("--collect-only", "-q", "tests/test_good1.py").stdout
    for method in ("fork", "spawn", "forkserver"):
        assert f"test_every_number_comes_back_doubled[{method}]" in out


def test_the_target_can_come_from_the_environment():
    proc = pytest_in_kit("-q", "tests/test_good1.py", env={"DOJO_TARGET": "solutions", "DOJO_START_METHODS": "fork"})
    assert proc.returncode == 0, proc.stdout
    assert "1 passed" in proc.stdout


def test_an_unknown_start_method_is_a_usage_error():
    proc = pytest_in_kit("-q", "tests/test_good1.py", env={"DOJO_START_METHODS": "thread"})
    assert proc.returncode == 4
    assert "start method thread is not available" in proc.stderr


def test_an_invalid_manifest_makes_every_test_error_with_the_reason(tmp_path):
    from selftest.helpers import copy_kit

    kit = copy_kit(tmp_path)
    (kit / "katas.toml").write_text("schema = 1\n[[kata]\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_good1.py", "--start-method=fork"],
        cwd=kit,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "katas.toml is invalid" in proc.stdout and "not valid TOML" in proc.stdout


def test_a_run_ends_with_a_table_of_katas_by_start_method_and_the_first_failure_in_kata_order():
    """Unsolved good1 and exit1 both fail: the table lists them in katas.toml's order
    (good1 first, though its file was given second) and names good1's failure first. With
    -q there is no table; a run on one start method says so in its title."""
    import re

    done = pytest_in_kit("tests/test_exit1.py", "tests/test_good1.py", "--start-method=spawn",
                         "--start-method=fork", "-p", "no:randomly")
    out = done.stdout
    assert "dojo: every kata on every start method" in out, out[-3000:]
    table = out[out.index("dojo: every kata on every start method"):]
    assert re.search(r"good1\s+1 of 1 failed\s+1 of 1 failed", table), table[:1500]
    assert re.search(r"\nexit1\s", table), table[:1500]
    assert table.index("\ngood1") < table.index("\nexit1"), "katas must be listed in katas.toml's order"
    assert "First failure, in kata order: good1 [fork] test_every_number_comes_back_doubled" in table
    quiet = pytest_in_kit("-q", "tests/test_good1.py", "--start-method=spawn").stdout
    assert "dojo: every kata" not in quiet, "-q must leave the table out"
    one = pytest_in_kit("tests/test_good1.py", "--start-method=spawn", "--target=solutions").stdout
    assert "dojo: every kata on spawn" in one and "Every kata passed" in one, one[-1500:]
