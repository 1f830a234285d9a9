"""dojo verify against the fixture kit: agreement, mismatches named, structure checked."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from dojo import procs, tracker
from dojo.verify import verify
from selftest.helpers import LEAVES_A_SEGMENT_NO_TRACKER_REMOVES, copy_kit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def kit(tmp_path):
    return copy_kit(tmp_path)


def run_verify(kit, **kwargs):
    out = io.StringIO()
    code = verify(kit, console=Console(file=out, width=200, color_system=None), **kwargs)
    return code, out.getvalue()


def test_katas_that_fail_as_declared_and_solutions_that_pass_agree(kit):
    code, out = run_verify(kit, katas=["good1", "hang1"], repeat=2)
    assert code == 0, out
    assert "ok 2/2" in out and "2 katas agree with katas.toml" in out


def test_a_kata_that_only_crashes_is_a_mismatch_named_in_the_output(kit):
    code, out = run_verify(kit, katas=["crash1"], start_methods=["fork"])
    assert code == 1
    assert "crash1 [fork] katas: kata only errored or crashed" in out


def test_a_kata_declared_to_fail_where_it_passes_is_a_mismatch(kit):
    text = (kit / "katas.toml").read_text(encoding="utf-8")
    (kit / "katas").joinpath("good1.py").write_text((kit / "solutions" / "good1.py").read_text().replace("# map", "# TODO: map"))
    code, out = run_verify(kit, katas=["good1"], start_methods=["spawn"])
    assert code == 1
    assert "good1 [spawn] katas: kata passed, but katas.toml declares it fails here" in out
    assert text  # the manifest was left as it was


def test_structure_problems_are_named(kit):
    (kit / "katas" / "stray.py").write_text("x = 1\n")
    good = kit / "katas" / "good1.py"
    good.write_text(good.read_text() + "\n# TODO: a second one\n")
    (kit / "tests" / "test_hang1.py").unlink()
    code, out = run_verify(kit, katas=["good1"], start_methods=["fork"])
    assert code == 1
    assert "katas/stray.py: stray file" in out
    assert "good1: katas/good1.py has 2 '# TODO' lines" in out
    assert "hang1: tests/test_hang1.py is missing" in out


def test_an_invalid_manifest_stops_verify_with_every_problem_listed(kit):
    (kit / "katas.toml").write_text('schema = 1\n[[track]]\nid = "x"\n', encoding="utf-8")
    code, out = run_verify(kit)
    assert code == 2
    assert "track[0].title: missing" in out and "kata: the manifest lists no kata" in out


def test_an_unknown_kata_name_is_refused(kit):
    code, out = run_verify(kit, katas=["nope"])
    assert code == 2 and "unknown kata(s): nope" in out




def test_a_segment_that_no_run_removed_is_named_after_verify_and_removed(kit):
    (kit / "katas" / "leak1.py").write_text(LEAVES_A_SEGMENT_NO_TRACKER_REMOVES, encoding="utf-8")
    code, out = run_verify(kit, katas=["leak1"], start_methods=["fork"])
    assert code == 1
    left = re.findall(r"left in /dev/shm after verify: (psm_\w+)", out)
    assert len(left) == 1, out
    assert left[0] not in procs.shm_names(), "verify removes what its runs left"


def test_other_programs_shared_memory_made_during_verify_is_never_blamed(kit, tmp_path):
    """A neighbour keeps making and removing segments and semaphores with
    multiprocessing's names, some closed but not yet unlinked while verify looks."""
    stop, report = tmp_path / "stop", tmp_path / "churned"
    churn = f"from selftest.neighbours import churn; churn({str(stop)!r}, {str(report)!r})"
    env = {k: v for k, v in os.environ.items() if k != tracker.TREE_LEDGER}  # not ours
    churner = subprocess.Popen([sys.executable, "-c", churn], cwd=ROOT, env=env)
    try:
        # verify in a process of its own: the neighbour is its sibling, not its child
        done = subprocess.run(
            [sys.executable, "-m", "dojo", "--root", str(kit), "verify", "good1", "--start-method", "fork",
             "--start-method", "spawn"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
    finally:
        stop.touch()
        churner.wait(timeout=30)
    assert int(report.read_text()) > 10, "the neighbour must really have churned"
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left in /dev/shm" not in done.stdout
