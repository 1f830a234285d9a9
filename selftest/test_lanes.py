"""A check's start methods run side by side (one run per lane), and are read as one run."""

import threading

import pytest

from dojo import learn, manifest, results, runner
from selftest.helpers import copy_kit, own_processes

METHODS = ["fork", "spawn", "forkserver"]


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return copy_kit(tmp_path_factory.mktemp("lanes"))


def test_the_heaviest_start_method_gets_a_lane_of_its_own():
    assert learn.lanes(METHODS, 2) == [["spawn"], ["fork", "forkserver"]]
    assert learn.lanes(METHODS, 3) == [["spawn"], ["forkserver"], ["fork"]]
    assert learn.lanes(METHODS, 1) == [METHODS]
    assert learn.lanes(METHODS, 8) == [["spawn"], ["forkserver"], ["fork"]]  # never more lanes than methods
    assert learn.lanes(["fork"], 2) == [["fork"]]


def _result(method, outcome, code, output, seconds, overran=False):
    cell = results.Cell(kata="x", test="test_a", start_method=method, python="3", outcome=outcome,
                        nodeid=f"tests/test_x.py::test_a[{method}]")
    return runner.RunResult("x", "katas", code, results.Run({"python": "3"}, [cell], {"exitstatus": code},
                                                            [cell.nodeid]), output, seconds, overran)


def test_runs_side_by_side_read_as_one_keep_every_cell_and_the_first_failing_code():
    merged = runner.merge_results([
        _result("spawn", "passed", 0, "spawn out\n", 1.0),
        _result("fork", "failed", 1, "fork out\n", 0.5, overran=True),
    ])
    assert [(c.start_method, c.outcome) for c in merged.run.cells] == [("spawn", "passed"), ("fork", "failed")]
    assert merged.returncode == 1 and merged.overran and merged.seconds == 1.0
    assert merged.output == "spawn out\nfork out\n"
    assert len(merged.run.collected) == 2


def test_a_check_in_lanes_gives_the_verdict_of_one_run_and_starts_a_warm_runner_per_lane(kit):
    m = manifest.load(kit / "katas.toml")
    good1 = m.get("good1")
    checker = learn.Checker(kit, warm=True, lang="en", lanes=2)
    try:
        solved = checker.run(good1, METHODS, target="solutions")
        assert solved.passed, solved.output
        assert sorted(c.start_method for c in solved.cells) == sorted(METHODS)
        unsolved = checker.run(good1, METHODS, target="katas")
        assert not unsolved.passed
        assert unsolved.failure.start_method == "fork", "the first failure is read in the usual order of methods"
        assert {c.start_method for c in unsolved.cells} == set(METHODS)
        assert checker.warm.proc is not None and checker.more[0].proc is not None, "one warm runner per lane"
        assert checker.warm.proc.pid != checker.more[0].proc.pid
    finally:
        checker.close()
    assert not own_processes()


def test_the_matrix_after_the_quick_check_runs_only_the_other_methods(kit, monkeypatch):
    m = manifest.load(kit / "katas.toml")
    good1 = m.get("good1")
    # The learner has solved it: the kata file is the solution.
    (kit / "katas" / "good1.py").write_text((kit / "solutions" / "good1.py").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    asked = []
    real = learn.Checker._run_lane

    def spy(self, i, kata, methods, *args):
        asked.append(list(methods))
        return real(self, i, kata, methods, *args)

    monkeypatch.setattr(learn.Checker, "_run_lane", spy)
    checker = learn.Checker(kit, warm=True, lang="en", lanes=2)
    stages = []
    try:
        verdict = checker.check(good1, on_stage=stages.append, cancel=threading.Event())
    finally:
        checker.close()
    quick = learn.quick_method(good1)
    assert verdict.passed and verdict.stage == "matrix", verdict.output
    assert stages == [quick]
    assert asked[0] == [quick] and sorted(m for share in asked[1:] for m in share) == sorted(
        x for x in METHODS if x != quick), f"the quick method must not run twice: {asked}"
    assert sorted(c.start_method for c in verdict.cells) == sorted(METHODS), "one cell per method, the quick one kept"
    assert not own_processes()
