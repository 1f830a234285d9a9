"""Learner code runs with the learner's rights and can damage the kit: dojo notices during
the test that did it, puts the kit back, keeps what was written, and says so; ``dojo
restore`` and ``dojo doctor`` do the same outside a run (dojo/kitguard.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from selftest.helpers import copy_kit

ROOT = Path(__file__).resolve().parent.parent

# good1, solved, which also damages the kit when it is imported (as a careless kata that
# "cleans up" or writes its results in the wrong folder would)
VANDAL = '''
"""Doubles, computed in a pool."""
import pathlib

_kit = pathlib.Path(__file__).resolve().parent.parent
try:
    (_kit / "tests" / "test_hang1.py").unlink()
except OSError:
    pass
(_kit / "katas.toml").write_text("broken = true\\n")
(_kit / "tests" / "conftest.py").write_text("collect_ignore_glob = ['*']\\n")


def _double(n):
    return n * 2


def doubles(ctx, numbers):
    with ctx.Pool(2) as pool:
        return pool.map(_double, numbers)
'''


def run(kit: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run([sys.executable, *args], cwd=kit, env=env, capture_output=True, text=True, timeout=120)


def test_a_kata_that_damages_the_kit_fails_and_the_kit_is_put_back_with_what_it_wrote_kept(tmp_path):
    kit = copy_kit(tmp_path)
    manifest = (kit / "katas.toml").read_bytes()
    hang_test = (kit / "tests" / "test_hang1.py").read_bytes()
    (kit / "katas" / "good1.py").write_text(VANDAL, encoding="utf-8")
    done = run(kit, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_good1.py", "--start-method=spawn")
    out = done.stdout + done.stderr
    assert done.returncode != 0, f"a kata that damaged the kit must fail, though its answer is right:\n{out[-3000:]}"
    for what in ("changed katas.toml", "deleted tests/test_hang1.py", "added tests/conftest.py"):
        assert what in out, f"the failure must name what the kata did ({what}):\n{out[-3000:]}"
    assert (kit / "katas.toml").read_bytes() == manifest, "katas.toml must be put back as it was"
    assert (kit / "tests" / "test_hang1.py").read_bytes() == hang_test, "a deleted test must come back"
    assert not (kit / "tests" / "conftest.py").exists(), "a file the kata added among the tests must go"
    kept = list((kit / ".dojo" / "damaged").rglob("*"))
    assert any(p.name == "conftest.py" for p in kept) and any(p.name == "katas.toml" for p in kept), (
        f"what the kata wrote must be kept, not lost: {kept}"
    )
    assert (kit / "katas" / "good1.py").read_text(encoding="utf-8") == VANDAL, "the learner's kata is never touched"


def test_an_edit_between_runs_is_the_kits_new_state_not_damage(tmp_path):
    kit = copy_kit(tmp_path)
    first = run(kit, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_good1.py", "--target=solutions",
                "--start-method=spawn")
    assert first.returncode == 0, first.stdout[-2000:]
    test = kit / "tests" / "test_good1.py"
    test.write_text(test.read_text(encoding="utf-8") + "\n# a maintainer's note\n", encoding="utf-8")
    again = run(kit, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_good1.py", "--target=solutions",
                "--start-method=spawn")
    assert again.returncode == 0, again.stdout[-2000:]
    assert test.read_text(encoding="utf-8").endswith("# a maintainer's note\n"), "an edit made between runs must stay"


def test_dojo_restore_repairs_the_kit_from_git_and_never_touches_the_katas(tmp_path):
    kit = copy_kit(tmp_path)
    git = ["git", "-C", str(kit), "-c", "user.email=dojo@example.org", "-c", "user.name=dojo"]
    subprocess.run(["git", "init", "-q", str(kit)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "kit"], check=True)
    (kit / "tests" / "test_hang1.py").unlink()
    (kit / "katas.toml").write_text("broken = true\n", encoding="utf-8")
    (kit / "tests" / "conftest.py").write_text("collect_ignore_glob = ['*']\n", encoding="utf-8")
    mine = (kit / "katas" / "good1.py").read_text(encoding="utf-8") + "\n# my work in progress\n"
    (kit / "katas" / "good1.py").write_text(mine, encoding="utf-8")
    doctor = run(kit, "-m", "dojo", "--root", str(kit), "doctor").stdout
    assert "3 differ from git HEAD" in doctor, f"dojo doctor must say the kit's files differ:\n{doctor[-2000:]}"
    listed = run(kit, "-m", "dojo", "list")
    assert listed.returncode == 2 and "dojo restore" in listed.stdout, (
        f"a dojo that cannot start for a broken katas.toml must say how to get it back:\n{listed.stdout}")
    done = run(kit, "-m", "dojo", "restore")
    assert done.returncode == 0, done.stderr[-2000:]
    status = subprocess.run([*git, "status", "--porcelain", "--", "tests", "katas.toml", "katas"], capture_output=True,
                            text=True, check=True).stdout.split("\n")
    assert [line for line in status if line.strip()] == [" M katas/good1.py"], (
        f"after dojo restore only the learner's kata may differ from the kit: {status}\n{done.stdout}"
    )
    assert (kit / "katas" / "good1.py").read_text(encoding="utf-8") == mine
    again = run(kit, "-m", "dojo", "restore").stdout
    assert "nothing to restore" in again, again
    assert run(kit, "-m", "dojo", "list").returncode == 0


def test_dojo_restore_repairs_a_kit_that_is_not_a_clone_from_its_seal(tmp_path):
    kit = copy_kit(tmp_path)
    manifest = (kit / "katas.toml").read_bytes()
    first = run(kit, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_good1.py", "--target=solutions",
                "--start-method=spawn")
    assert first.returncode == 0 and (kit / ".dojo" / "seal").is_dir(), "the first run must seal the kit"
    (kit / "katas.toml").unlink()
    done = run(kit, "-m", "dojo", "restore")
    assert done.returncode == 0 and (kit / "katas.toml").read_bytes() == manifest, done.stdout + done.stderr
