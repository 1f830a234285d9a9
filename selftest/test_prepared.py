"""A quick check made ready before the save (WarmRunner.prepare): forked, configured and
collected in the background, it reads the kata only when the save lets it go, and it is
thrown away whenever it is not exactly the run asked for."""

import pytest

from dojo import runner, system
from selftest.helpers import copy_kit, own_processes
from selftest.test_loop import SOLVED_GOOD1

pytestmark = pytest.mark.skipif(not system.FORK, reason="a warm runner needs fork")


@pytest.fixture
def kit(tmp_path):
    return copy_kit(tmp_path)


@pytest.fixture
def warm():
    w = runner.WarmRunner()
    yield w
    w.stop()


def outcomes(result):
    return sorted((c.test, c.outcome) for c in result.run.cells)


def test_a_prepared_run_reads_the_kata_as_it_is_when_it_goes_not_when_it_was_prepared(kit, warm):
    first = warm.run(kit, "good1", "katas", start_methods=["fork"])
    assert first.run.cells and all(c.outcome == "failed" for c in first.run.cells), first.output
    assert warm.prepare(kit, "good1", "katas", start_methods=["fork"])
    (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")  # the save
    after = warm.run(kit, "good1", "katas", start_methods=["fork"])
    assert after.run.cells and all(c.outcome == "passed" for c in after.run.cells), after.output
    warm.stop()
    assert not own_processes()


def test_a_change_to_the_kits_tests_after_preparing_is_seen(kit, warm):
    assert warm.prepare(kit, "good1", "katas", start_methods=["fork"])
    test = kit / "tests" / "test_good1.py"
    test.write_text(test.read_text(encoding="utf-8") + "\n\ndef test_added_after_preparing():\n    pass\n",
                    encoding="utf-8")
    result = warm.run(kit, "good1", "katas", start_methods=["fork"])
    warm.stop()
    assert "test_added_after_preparing" in {c.test for c in result.run.cells}, result.output


def test_a_test_module_that_imports_the_kata_itself_is_run_afresh(kit, warm):
    # Tests reach the kata only through the fixture; one that imported it at collection
    # would hold the version before the save, so the prepared run is not used.
    test = kit / "tests" / "test_good1.py"
    test.write_text("import katas.good1  # noqa: F401\n" + test.read_text(encoding="utf-8"), encoding="utf-8")
    assert warm.prepare(kit, "good1", "katas", start_methods=["fork"])
    (kit / "katas" / "good1.py").write_text(SOLVED_GOOD1, encoding="utf-8")
    result = warm.run(kit, "good1", "katas", start_methods=["fork"])
    warm.stop()
    assert result.run.cells and all(c.outcome == "passed" for c in result.run.cells), result.output


def test_another_run_throws_the_prepared_one_away_and_leaves_nothing(kit, warm):
    assert warm.prepare(kit, "good1", "katas", start_methods=["fork"])
    other = warm.run(kit, "good1", "solutions", start_methods=["fork", "spawn"])
    assert {(c.start_method, c.outcome) for c in other.run.cells} == {("fork", "passed"), ("spawn", "passed")}
    assert warm.prepare(kit, "good1", "katas", start_methods=["fork"])
    folder = warm._prepared["folder_path"]
    warm.stop()  # the loop quits with a run still prepared
    assert not own_processes(), "the prepared run must go with the runner"
    import os

    assert not os.path.exists(folder), "and its folder with it"
