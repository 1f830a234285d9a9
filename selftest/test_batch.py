"""dojo grade --batch: a class of submissions, one row each, whatever any of them does."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from selftest.helpers import KIT, copy_kit, keep_katas, own_processes

SOLVED = (KIT / "solutions" / "good1.py").read_text()
UNSOLVED = (KIT / "katas" / "good1.py").read_text()
STUDENTS = {  # student -> (good1 source, points it must score)
    "alice": (SOLVED, 1.0),
    "bob": (UNSOLVED, 0.0),
    "dave": ("import os\nos._exit(0)\n", 0.0),  # ends every process that imports it
    "erin": ("import itertools\nfor _ in itertools.count():\n    pass\n", 0.0),  # never imports
    "정민": (SOLVED, 1.0),
}


@pytest.fixture
def batch(tmp_path):
    scratch = Path(tempfile.mkdtemp(prefix="dojo-selftest-batch-"))
    scratch.chmod(0o755)
    kit = copy_kit(scratch)
    keep_katas(kit, ["good1"])
    folder = scratch / "submissions"
    for student, (source, _) in STUDENTS.items():
        (folder / student / "katas").mkdir(parents=True)
        (folder / student / "katas" / "good1.py").write_text(source, encoding="utf-8")
    with zipfile.ZipFile(folder / "carol.zip", "w") as archive:  # a zip, flat, as uploads are
        archive.writestr("good1.py", SOLVED)
    try:
        yield kit, folder, scratch / "out"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.slow
def test_a_batch_grades_every_submission_into_one_row_and_one_report(batch):
    kit, folder, out = batch
    env = dict(os.environ, DOJO_TIMEOUT_SCALE="0.3")  # erin's hang: 3 s a test, not 10
    done = subprocess.run(
        [sys.executable, "-m", "dojo", "--root", str(kit), "grade", "--batch", str(folder), "--out", str(out),
         "--jobs", "2", "--title", "Batch test"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, f"dojo grade --batch exited {done.returncode}: {done.stderr[-2000:]}"
    with open(out / "class.csv", encoding="utf-8", newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    want = {student: points for student, (_, points) in STUDENTS.items()} | {"carol": 1.0}
    got = {student: float(row["score"]) for student, row in rows.items()}
    assert got == want, f"class.csv scored {got}, expected {want}: one row per submission, each on its own merits"
    assert all(row["good1"] != "" and row["max_score"] == "1" for row in rows.values()), rows
    for submission in [*STUDENTS, "carol.zip"]:
        grade = json.loads((out / submission / "grade.json").read_text(encoding="utf-8"))
        assert grade["katas"][0]["kata"] == "good1", f"{submission}'s own results are missing"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Batch test" in page and all(student in page for student in want), "the report lacks a student"
    assert "http://" not in page and "https://" not in page, "the report must load nothing from elsewhere"
    assert "5/5" in done.stdout + done.stderr or "6/6" in done.stdout + done.stderr, (
        f"no progress was shown while grading:\n{done.stdout[-1000:]}"
    )
    assert own_processes() == [], "a grading job left processes behind"
