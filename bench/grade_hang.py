"""Benchmark: the worst case, a submission whose every kata hangs.

    python bench/grade_hang.py [--kind call-spin|call-wait|import] [--katas-at-once N]

Makes a submission of the seed track from the solutions, with every public function of
every kata module replaced by one that never returns (``call-spin``: a busy loop;
``call-wait``: waits forever on an Event), or with a busy loop at import (``import``),
grades it with ``dojo grade`` as a student's submission is graded, checks that it scored
nothing, and prints the time against the target (3 minutes on this 2-core machine; the
formula in GRADING.md says what to expect elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 180.0

CALL = '''

def _dojo_bench_hang(*args, **kwargs):
    {body}


for _name, _value in list(globals().items()):
    if callable(_value) and getattr(_value, "__module__", None) == __name__ and not _name.startswith("_"):
        globals()[_name] = _dojo_bench_hang
'''
BODIES = {
    "call-spin": "while True:\n        pass",
    "call-wait": "import threading\n    threading.Event().wait()",
}
IMPORT = "\n\nwhile True:  # at import: never returns\n    pass\n"


def make_submission(folder: Path, kind: str) -> Path:
    katas = folder / "hanging" / "katas"
    katas.mkdir(parents=True)
    for path in sorted((ROOT / "solutions").glob("*.py")):
        if path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        source += IMPORT if kind == "import" else CALL.format(body=BODIES[kind])
        (katas / path.name).write_text(source, encoding="utf-8")
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return katas.parent


def _seconds(node) -> float:
    """The test durations recorded anywhere below ``node`` (a kata of grade.json)."""
    if isinstance(node, dict):
        own = node.get("duration") if "outcome" in node else 0
        return (own or 0) + sum(_seconds(v) for v in node.values() if isinstance(v, (dict, list)))
    if isinstance(node, list):
        return sum(_seconds(v) for v in node)
    return 0.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=[*BODIES, "import"], default="call-spin")
    parser.add_argument("--katas-at-once", type=int, default=None)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="dojo-bench-hang-"))
    try:
        scratch.chmod(0o755)
        sub = make_submission(scratch, args.kind)
        out = scratch / "out"
        cmd = [sys.executable, "-m", "dojo", "--root", str(ROOT), "grade", str(sub), "--out", str(out),
               "--format", "json"]
        if args.katas_at_once:
            cmd += ["--katas-at-once", str(args.katas_at_once)]
        began = time.monotonic()
        done = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, TMPDIR=str(scratch)), capture_output=True,
                              text=True)
        took = time.monotonic() - began
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
            return 1
        grade = json.loads((out / "grade.json").read_text(encoding="utf-8"))
        katas = len(grade["katas"])
        print(f"{args.kind}: {katas} katas x {len(grade['start_methods'])} start methods, "
              f"katas at once: {args.katas_at_once or 'default'}; scored {grade['score']:g}/{grade['max_score']:g}")
        spent = sorted(((_seconds(k), k["kata"]) for k in grade["katas"]), reverse=True)
        print("slowest katas (seconds their cells recorded): "
              + ", ".join(f"{name} {seconds:.0f}" for seconds, name in spent[:5]))
        print(f"graded in {took:.0f} s (target <= {TARGET:.0f} s): {'ok' if took <= TARGET else 'OVER'}")
        return 0 if grade["score"] == 0 and took <= TARGET else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
