"""How fast is the feedback? Prints medians of repeated runs; not a test.

    python bench/benchmark.py [--runs N] [--kata NAME] [--full]

  one kata, one start method   python -m pytest tests/test_<kata>.py --start-method fork
  one kata, all three          python -m pytest tests/test_<kata>.py
  the full check               dojo verify (every kata, solutions and katas, all methods)
  spawned child                start+join of a spawned child inside a kit test run,
                               against the same child spawned by a bare script
  loop: save -> verdict        the warm runners as the loop uses them (one per usable
                               CPU, the start methods shared out), plus watchfiles'
                               latency for a save

Targets on the 2-core reference machine: one kata on one method <= 0.6 s, on all three
<= 1.2 s, spawned child <= 1.3 x bare, full check on one Python <= 90 s; the loop's
quick verdict <= 0.2 s and its full matrix <= 0.9 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dojo import procs, system  # noqa: E402
from dojo.watch import DEBOUNCE_MS, STEP_MS  # noqa: E402


def timed(cmd, env=None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return time.perf_counter() - t0


def median_of(runs, cmd, env=None) -> float:
    timed(cmd, env)  # warm the page cache
    return statistics.median(timed(cmd, env) for _ in range(runs))


def spawn_under_kit() -> float:
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "bench/test_spawn_in_kit.py", "-p", "no:cacheprovider"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DOJO_BENCH_OUT": out.name},
            check=True,
        )
        return float(out.read())


def spawn_bare() -> float:
    out = subprocess.run([sys.executable, "bench/spawn_cost.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout)


def watch_latency(runs: int) -> float:
    """Seconds from writing a file to watchfiles reporting it, with dojo's settings."""
    import threading

    from watchfiles import watch

    times = []
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "kata.py"
        target.write_text("x = 0\n")
        for i in range(runs):
            seen = threading.Event()
            stop = threading.Event()

            def watcher():
                for _ in watch(folder, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop, raise_interrupt=False):
                    seen.set()
                    return

            t = threading.Thread(target=watcher)
            t.start()
            time.sleep(0.3)  # let the watcher arm itself before the timed write
            t0 = time.perf_counter()
            target.write_text(f"x = {i}\n")
            seen.wait(5)
            times.append(time.perf_counter() - t0)
            stop.set()
            t.join()
    return statistics.median(times)


def loop_figures(runs: int, kata: str, target: str):
    """The learner's loop: warm runner verdicts, plus the watcher's latency."""
    from dojo import learn, manifest

    m = manifest.load(ROOT / "katas.toml")
    # As the loop makes it: one lane (a warm runner) per usable CPU.
    checker = learn.Checker(ROOT, warm=True, lang="en", lanes=procs.usable_cpus())
    try:
        k = m.get(kata)
        first = learn.quick_method(k)
        checker.run(k, learn.available_methods(), target=target)  # start every lane's warm runner

        def after_a_save():
            checker.prepare(k, target)  # what the loop does after each verdict
            time.sleep(0.3)  # while the learner edits
            return _t(lambda: checker.run(k, [first], target=target))

        quick = statistics.median(after_a_save() for _ in range(runs))
        full = statistics.median(_t(lambda: checker.run(k, learn.available_methods(), target=target)) for _ in range(runs))
    finally:
        checker.close()
    # Where there is no fork (Windows) there is no warm runner: every save starts pytest.
    cold = learn.Checker(ROOT, warm=False, lang="en")
    try:
        spawn_cold = statistics.median(_t(lambda: cold.run(k, ["spawn"], target=target)) for _ in range(runs))
    finally:
        cold.close()
    latency = watch_latency(min(runs, 5))
    return quick + latency, full + latency, latency, spawn_cold + latency


def _t(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--kata", default="processes1")
    parser.add_argument("--target", default="solutions", choices=("katas", "solutions"))
    parser.add_argument("--no-full", action="store_true", help="skip the full check")
    args = parser.parse_args(argv)
    py = sys.executable
    test = f"tests/test_{args.kata}.py"
    base = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", test, f"--target={args.target}"]
    rows = []
    one = median_of(args.runs, base + ["--start-method=fork"])
    rows.append((f"one kata ({args.kata}), fork", one, 0.6))
    for method in ("spawn", "forkserver"):
        rows.append((f"one kata ({args.kata}), {method}", median_of(args.runs, base + [f"--start-method={method}"]), 0.6))
    rows.append((f"one kata ({args.kata}), all three methods", median_of(args.runs, base), 1.2))
    kit = statistics.median(spawn_under_kit() for _ in range(3))
    bare = statistics.median(spawn_bare() for _ in range(3))
    save_fork, save_full, latency, save_cold = loop_figures(args.runs, args.kata, args.target)
    rows.append((f"loop: save -> verdict, quick (watch {latency * 1000:.0f} ms)", save_fork, 0.2))
    rows.append(("loop: save -> verdict, full matrix", save_full, 0.9))
    rows.append(("loop: save -> verdict, spawn, cold (no fork: Windows)", save_cold, 1.0))
    if not args.no_full:
        rows.append(("full check (dojo verify, 1 run)", timed([py, "-m", "dojo", "verify"]), 90.0))
    print(f"Python {sys.version.split()[0]}, {system.cpus()} usable CPUs, median of {args.runs} runs")
    for label, seconds, target in rows:
        flag = "ok " if seconds <= target else "SLOW"
        print(f"  {flag} {label:<44} {seconds:7.3f} s   (target <= {target:g} s)")
    ratio = kit / bare
    flag = "ok " if ratio <= 1.3 else "SLOW"
    print(f"  {flag} {'spawned child: under the kit / bare':<44} {kit * 1000:6.1f} ms / {bare * 1000:.1f} ms = {ratio:.2f}x   (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
