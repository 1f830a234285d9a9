"""The dojo subcommands against a copy of the fixture kit."""

import os
import subprocess
import sys

import pytest

from selftest.helpers import copy_kit


@pytest.fixture
def kit(tmp_path):
    return copy_kit(tmp_path)


def dojo(kit, *args, lang="en"):
    return subprocess.run(
        [sys.executable, "-m", "dojo", *args],
        cwd=kit,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "DOJO_LANG": lang, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=120,
    )


def test_reset_restores_the_original_and_undo_brings_the_learners_version_back(kit):
    assert dojo(kit, "list").returncode == 0  # any command; reset snapshots on demand
    kata = kit / "katas" / "good1.py"
    original = kata.read_text(encoding="utf-8")
    kata.write_text(original + "\n# my work\n", encoding="utf-8")
    out = dojo(kit, "reset", "good1")
    assert out.returncode == 0 and "back to the original" in out.stdout
    assert kata.read_text(encoding="utf-8") == original
    assert (kit / ".dojo" / "backup" / "good1.py").read_text(encoding="utf-8").endswith("# my work\n")
    out = dojo(kit, "reset", "--undo", "good1")
    assert out.returncode == 0
    assert kata.read_text(encoding="utf-8").endswith("# my work\n")


def test_undo_without_a_backup_says_so(kit):
    out = dojo(kit, "reset", "--undo", "hang1")
    assert out.returncode == 1 and "no backup of hang1" in out.stdout


def test_hints_come_in_tiers_and_the_level_can_be_chosen(kit):
    assert "Hint 1 of 2 for good1" in dojo(kit, "hint", "good1").stdout
    assert "Hint 2 of 2 for good1" in dojo(kit, "hint", "good1").stdout
    assert "Hint 1 of 2" in dojo(kit, "hint", "good1", "--level", "1").stdout
    out = dojo(kit, "hint", "good1", "--level", "3")
    assert out.returncode == 2 and "no hint 3" in out.stdout
    assert "good1 힌트 2개 중 1번째" in dojo(kit, "hint", "good1", "--level", "1", lang="ko").stdout


def test_an_unknown_kata_name_is_refused_with_the_known_ones(kit):
    out = dojo(kit, "run", "nope")
    assert out.returncode == 2
    assert "no kata named 'nope'" in out.stdout and "good1" in out.stdout


def test_a_corrupt_progress_file_is_recovered_from_not_a_crash(kit):
    (kit / ".dojo").mkdir()
    (kit / ".dojo" / "state.json").write_text("{not json", encoding="utf-8")
    out = dojo(kit, "progress")
    assert out.returncode == 0
    assert "progress file was unreadable" in out.stdout
    assert "0 of 10 katas done" in out.stdout
    assert (kit / ".dojo" / "state.json.corrupt").exists()


def test_run_marks_a_kata_done_when_every_start_method_passes(kit):
    (kit / "katas" / "good1.py").write_text((kit / "solutions" / "good1.py").read_text(encoding="utf-8"))
    out = dojo(kit, "run", "good1")
    assert out.returncode == 0, out.stdout
    assert "good1 is done" in out.stdout
    assert "1 of 10 katas done" in dojo(kit, "progress").stdout


def test_run_shows_the_first_failure_and_exits_non_zero(kit):
    out = dojo(kit, "run", "good1", "--start-method", "spawn")
    assert out.returncode == 1
    assert "good1 [spawn] test_every_number_comes_back_doubled" in out.stdout
    assert "doubles under spawn returned [1, 2, 3]" in out.stdout


def test_an_invalid_manifest_is_a_clear_message(kit):
    (kit / "katas.toml").write_text("schema = [\n", encoding="utf-8")
    out = dojo(kit, "list")
    assert out.returncode == 2 and "katas.toml cannot be read" in out.stdout


def test_completion_offers_kata_names(kit):
    assert "complete -F _dojo dojo" in dojo(kit, "completion", "bash").stdout
    assert dojo(kit, "list", "--names").stdout.split() == [
        "good1", "hang1", "crash1", "leak1", "syntax1", "escape1", "bomb1", "exit1", "segv1", "killpg1",
    ]


def test_doctor_reports_what_is_in_force(kit):
    out = dojo(kit, "doctor")
    for line in ("start methods", "fork, spawn, forkserver", "/dev/shm", "katas.toml", "10 katas, valid"):
        assert line in out.stdout


def test_clean_removes_what_this_kits_crashed_runs_left_and_nothing_of_anybody_elses(kit):
    from multiprocessing import shared_memory

    from dojo import procs, runner
    from selftest.helpers import LEAVES_A_SEGMENT_NO_TRACKER_REMOVES

    (kit / "katas" / "leak1.py").write_text(LEAVES_A_SEGMENT_NO_TRACKER_REMOVES, encoding="utf-8")
    crashed = runner.run_kata(kit, "leak1", "katas", start_methods=["fork"])
    assert [c.outcome for c in crashed.run.cells] == ["crashed"], crashed.output
    ours = procs.shm_names() & {line.split(":")[1].lstrip("/") for line in
                               (kit / ".dojo" / "shm-ledger").read_text().splitlines() if line.startswith("REGISTER:")}
    assert len(ours) == 1, "the crashed run's segment is still there, and the kit's ledger names it"
    # another program's segment, of this user, that no process maps: not dojo's to remove
    outsider = shared_memory.SharedMemory(create=True, size=16)
    outsider.close()
    try:
        out = dojo(kit, "clean")
        assert out.returncode == 0, out.stderr
        (name,) = ours
        assert f"removed a leftover /dev/shm object: {name}" in out.stdout
        assert name not in procs.shm_names()
        assert outsider.name.lstrip("/") in procs.shm_names(), "dojo clean removed another program's segment"
        assert outsider.name.lstrip("/") not in out.stdout
        assert "Nothing left over" in dojo(kit, "clean").stdout, "a second clean finds nothing more"
    finally:
        outsider.unlink()
