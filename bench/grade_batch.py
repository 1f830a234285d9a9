"""Benchmark: a batch of generated submissions vs grading them one at a time.

    python bench/grade_batch.py [--count 30] [--jobs CPUS] [--keep DIR]

Generates ``count`` submissions of the seed track in three kinds, a third each:
solved (every solution), half-solved (solutions for the first half of the katas, the
rest unsolved) and hostile (unsolved, with one kata that has a syntax error, one that
calls os._exit(0) at import, one that never returns and one bounded fork bomb).
It grades one submission of each kind alone (``dojo grade``), then the whole batch
(``dojo grade --batch --jobs N``), checks the class CSV against what each kind must
score, and prints

    batch time / (mean single-grade time x count / jobs)      target <= 1.25
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dojo import manifest  # noqa: E402

HOSTILE = {
    "syntax": "def broken(:\n",
    "exit_at_import": "import os\nos._exit(0)\n",
    "never_returns": None,  # filled in: the first function loops forever
    "fork_bomb": None,
}


def _never_returns(source: str) -> str:
    return "import itertools\n" + source + "\n\nfor _ in itertools.count():  # at import: never returns\n    pass\n"


def _fork_bomb(source: str) -> str:
    # bounded: at most 64 processes, each gone within 5 s (CI runs as root, where
    # RLIMIT_NPROC does not bind; the sandbox's pids.max should stop it sooner)
    return (
        "import os, time\n"
        "for _ in range(6):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n" + source
    )


def make_submissions(folder: Path, count: int, names: list[str]) -> dict[str, str]:
    """``count`` submissions in ``folder``; returns student -> kind."""
    kinds = {}
    half = names[: len(names) // 2]
    for i in range(count):
        kind = ("solved", "half", "hostile")[i % 3]
        student = f"student{i:02d}-{kind}"
        katas = folder / student / "katas"
        katas.mkdir(parents=True)
        for j, name in enumerate(names):
            solved = kind == "solved" or (kind == "half" and name in half)
            source = (ROOT / ("solutions" if solved else "katas") / f"{name}.py").read_text()
            if kind == "hostile":
                trick = list(HOSTILE)[j % len(HOSTILE)] if j < len(HOSTILE) else None
                if trick == "syntax" or trick == "exit_at_import":
                    source = HOSTILE[trick]
                elif trick == "never_returns":
                    source = _never_returns(source)
                elif trick == "fork_bomb":
                    source = _fork_bomb(source)
            (katas / f"{name}.py").write_text(source)
        kinds[student] = kind
    return kinds


def expected_score(kind: str, katas, names) -> float:
    """Solved: everything. Half: the first half's points (processes2, the only kata whose
    unsolved form passes some cells, is in that half). Hostile: nothing; its tricks replace
    the first four katas, processes2 among them."""
    if kind == "solved":
        return float(sum(k.points for k in katas))
    if kind == "half":
        half = set(names[: len(names) // 2])
        assert "processes2" in half
        return float(sum(k.points for k in katas if k.name in half))
    return 0.0


def dojo(*args, timeout=3600) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "dojo", "--root", str(ROOT), *args], check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--keep", type=Path, default=None, help="keep the submissions and results here")
    args = parser.parse_args()
    m = manifest.load(ROOT / "katas.toml")
    names = m.names()
    work = Path(args.keep or tempfile.mkdtemp(prefix="dojo-bench-grade-"))
    subs, out = work / "submissions", work / "results"
    kinds = make_submissions(subs, args.count, names)
    singles = {}
    for kind in ("solved", "half", "hostile"):
        student = next(s for s, k in kinds.items() if k == kind)
        # one kata at a time, as each job of a batch grades: the batch spreads submissions, not
        # katas, over the CPUs
        singles[kind] = dojo("grade", str(subs / student), "--out", str(work / "single" / kind), "--format", "json",
                             "--katas-at-once", "1")
        print(f"single grade, {kind:8}: {singles[kind]:6.1f} s")
    mean_single = sum(singles[kinds[s]] for s in kinds) / len(kinds)
    batch = dojo("grade", "--batch", str(subs), "--out", str(out), "--jobs", str(args.jobs))
    ideal = mean_single * args.count / args.jobs
    print(f"batch of {args.count}, {args.jobs} jobs: {batch:6.1f} s")
    print(f"single x N / jobs:          {ideal:6.1f} s")
    print(f"ratio: {batch / ideal:.2f}  (target <= 1.25)")
    with open(out / "class.csv", encoding="utf-8") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    wrong = []
    for student, kind in kinds.items():
        row = rows.get(student)
        want = expected_score(kind, m.katas, names)
        if row is None:
            wrong.append(f"{student}: no row")
        elif float(row["score"]) != want:
            wrong.append(f"{student}: {row['score']}, expected {want}")
    print("class CSV: " + ("right" if not wrong else "WRONG: " + "; ".join(wrong)))
    if args.keep:
        print(f"class report: {out / 'report.html'}")
    else:
        shutil.rmtree(work, ignore_errors=True)
        print("class report: removed with the scratch folder (--keep DIR keeps it)")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
