"""Where does a warm quick check spend its time? Profiles the warm runner's run child.

    python bench/profile_quick.py [--kata processes1] [--target solutions] [--method fork]
                                  [--runs 5] [--top 25]

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
    args = parser.parse_args(argv)

    import pytest
    import pytest_timeout  # noqa: F401

    from dojo import manifest, plugin, procs, runner  # noqa: F401

    procs.set_subreaper()
    manifest.load(str(ROOT / "katas.toml"))
    folder = Path(tempfile.mkdtemp(prefix="dojo-profile-"))
    walls, stats_files = [], []
    for i in range(args.runs + 1):
        results_path = folder / f"run{i}.jsonl"
        stats_path = folder / f"run{i}.prof"
        cmd = runner.pytest_command(ROOT, args.kata, args.target, str(results_path), [args.method])[3:]
        cmd = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *cmd]
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.setsid()
                os.chdir(ROOT)
                os.environ.update(runner.child_env({"DOJO_TMPDIR": str(folder)}))
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                profile = cProfile.Profile()
                code = profile.runcall(pytest.main, cmd)
                profile.dump_stats(str(stats_path))
            finally:
                os._exit(int(code) if isinstance(code, int) else 1)
        os.waitpid(pid, 0)
        procs.kill_descendants(grace=0.2)
        if i:
            walls.append(time.perf_counter() - t0)
            stats_files.append(str(stats_path))
    print(f"{args.kata} ({args.target}) on {args.method}: median {statistics.median(walls) * 1000:.0f} ms "
          f"over {len(walls)} profiled runs (profiling slows it)")
    stats = pstats.Stats(*stats_files)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
