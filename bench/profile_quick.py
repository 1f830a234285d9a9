"""Where does a warm quick check spend its time? Profiles the warm runner's run child.

    python bench/profile_quick.py [--kata processes1] [--target solutions] [--method fork]
                                  [--runs 5] [--top 25] [--no-profile] [--keep] [-- PYTEST ARGS]

Does what dojo/warm.py does (pytest and the plugins imported once, the manifest read, a
forked child per run) and runs the child's pytest.main under cProfile; the first run
warms the caches and is not counted. Prints the median wall time of a run, then the
functions with the most cumulative time over the counted runs. Not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kata", default="processes1")
    parser.add_argument("--target", default="solutions", choices=("katas", "solutions"))
    parser.add_argument("--method", default="fork")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="only the wall time, unprofiled")
    parser.add_argument("--new-modules", action="store_true", help="list the modules a run imports that the runner had not")
    parser.add_argument("--show-output", action="store_true", help="print the last run's pytest output")
    parser.add_argument("--keep", action="store_true", help="keep the profiles (for pstats) in the scratch folder")
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)

    import pytest

    from dojo import manifest, procs, runner, warm

    warm.preload()

    procs.set_subreaper()
    manifest.load(str(ROOT / "katas.toml"))
    folder = Path(tempfile.mkdtemp(prefix="dojo-profile-"))
    walls, stats_files = [], []
    for i in range(args.runs + 1):
        results_path = folder / f"run{i}.jsonl"
        stats_path = folder / f"run{i}.prof"
        cmd = runner.pytest_command(ROOT, args.kata, args.target, str(results_path), [args.method])[3:]
        cmd = ["-W", "ignore::pytest.PytestAssertRewriteWarning", "-p", "bench._phases", *cmd, *args.extra]
        phases_path = folder / f"run{i}.phases"
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.setsid()
                os.chdir(ROOT)
                os.environ.update(runner.child_env({"DOJO_TMPDIR": str(folder), "DOJO_BENCH_PHASES": str(phases_path)}))
                with open(phases_path, "w") as fh:
                    fh.write(f"fork {t0}\n")
                out = os.open(str(folder / "output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(out, 1)
                os.dup2(out, 2)
                before = set(sys.modules)
                if args.no_profile:
                    code = pytest.main(cmd)
                else:
                    profile = cProfile.Profile()
                    code = profile.runcall(pytest.main, cmd)
                    profile.dump_stats(str(stats_path))
                if args.new_modules and i == 1:
                    (folder / "new-modules").write_text("\n".join(sorted(set(sys.modules) - before)))
            finally:
                os._exit(int(code) if isinstance(code, int) else 1)
        os.waitpid(pid, 0)
        reaped = time.perf_counter()
        procs.kill_descendants(grace=0.2)
        with open(phases_path, "a") as fh:
            fh.write(f"reaped {reaped}\n")
        if i:
            walls.append(time.perf_counter() - t0)
            stats_files.append(str(stats_path))
    kind = "unprofiled" if args.no_profile else "profiled (profiling slows it)"
    print(f"{args.kata} ({args.target}) on {args.method}: median {statistics.median(walls) * 1000:.0f} ms "
          f"over {len(walls)} {kind} runs")
    spans: dict[str, list] = {}
    for i in range(1, args.runs + 1):
        marks = [line.split() for line in (folder / f"run{i}.phases").read_text().splitlines()]
        marks = [(name, float(t)) for name, t in marks]
        t = dict((name, time) for name, time in reversed(marks))  # the first time of each phase
        last = {name: time for name, time in marks}
        setups = [time for name, time in marks if name == "setup"]
        calls = [time for name, time in marks if name == "call"]
        teardowns = [time for name, time in marks if name == "teardown"]
        dones = [time for name, time in marks if name == "done"]
        for name, seconds in (
            ("fork -> pytest_configure (pytest's start, plugins, ini, options)", t["configure"] - t["fork"]),
            ("configure -> sessionstart (dojo's configure, fixtures)", t["sessionstart"] - t["configure"]),
            ("sessionstart -> collected (import and rewrite the test module)", t["collected"] - t["sessionstart"]),
            ("setups (fixtures, dojo's guards before each test)", sum(c - s for s, c in zip(setups, calls))),
            ("calls (the tests and the kata's own work)", sum(d - c for c, d in zip(calls, teardowns))),
            ("teardowns (leak sweep, kit guard, reports)", sum(d - td for td, d in zip(teardowns, dones))),
            ("between tests", sum(s - d for d, s in zip(dones, setups[1:]))),
            ("last test -> unconfigure (summary table, results)", last["unconfigure"] - dones[-1]),
            ("unconfigure -> reaped (exit)", t["reaped"] - last["unconfigure"]),
        ):
            spans.setdefault(name, []).append(seconds)
    for name, values in spans.items():
        print(f"  {statistics.median(values) * 1000:6.1f} ms  {name}")
    if args.show_output:
        print((folder / "output").read_text())
    if args.new_modules:
        print("modules a run imports that the runner had not:")
        print((folder / "new-modules").read_text())
    if not args.no_profile:
        stats = pstats.Stats(*stats_files)
        stats.sort_stats("cumulative").print_stats(args.top)
    if args.keep:
        print(f"profiles, phases and the last output kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
