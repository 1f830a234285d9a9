"""``dojo verify``: the maintainer check, as a kata x start-method matrix.

For every kata in the manifest:
  structure   module, solution and test exist; no stray file; exactly one ``# TODO`` in
              the kata and none in the solution; the manifest validates
  solution    passes every test on every start method
  kata        fails on exactly the start methods its manifest declares (for this
              Python), passes on the others — so "works on fork, breaks on spawn" is
              itself checked
  repeat      ``--repeat N`` runs it all N times: every run must agree (no flake)
  leaks       afterwards no process of ours is alive, and no /dev/shm object that our
              runs' resource trackers saw created is still there (a tree ledger: other
              programs' objects are never looked at)

Each run is a fresh ``python -m pytest`` process (dojo/runner.py), ``--jobs`` at a time.
Fork cells thus always run in a single-threaded process, as a learner's program would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from dojo import i18n, manifest, procs, runner, system, tracker

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
ALL = "-"  # the single cell of a kata that starts no process


@dataclass
class CellTally:
    runs: int = 0
    agreed: int = 0
    problems: list = field(default_factory=list)


def structure_problems(m: manifest.Manifest) -> list[str]:
    root = m.root
    problems = []
    names = set(m.names())
    for kata in m.katas:
        for folder, fname in (("katas", kata.module), ("solutions", kata.module), ("tests", kata.test_file)):
            if not (root / folder / fname).is_file():
                problems.append(f"{kata.name}: {folder}/{fname} is missing")
        kata_file = root / "katas" / kata.module
        if kata_file.is_file():
            todos = sum("# TODO" in line for line in kata_file.read_text(encoding="utf-8").splitlines())
            if todos != 1:
                problems.append(f"{kata.name}: katas/{kata.module} has {todos} '# TODO' lines; a kata has exactly one")
        solution = root / "solutions" / kata.module
        if solution.is_file() and "# TODO" in solution.read_text(encoding="utf-8"):
            problems.append(f"{kata.name}: solutions/{kata.module} still has a '# TODO'")
    for folder, prefix in (("katas", ""), ("solutions", ""), ("tests", "test_"), ("hidden", "test_")):
        for path in sorted((root / folder).glob("*.py")):
            if path.name == "__init__.py":
                continue
            stem = path.stem[len(prefix):] if path.stem.startswith(prefix) else None
            if stem not in names:
                problems.append(f"{folder}/{path.name}: stray file, no kata of that name in katas.toml")
    missing = i18n.missing_keys(i18n.catalogue())
    problems += [f"dojo/messages.toml: {key} missing" for key in missing]
    return problems


def test_files(root: Path, kata: manifest.Kata) -> list[str]:
    """The kata's visible tests and, where the instructor wrote some, its hidden ones
    (``hidden/test_<kata>.py``, which grading runs and ``dojo release`` leaves out)."""
    files = [f"tests/{kata.test_file}"]
    if (root / "hidden" / kata.test_file).is_file():
        files.append(f"hidden/{kata.test_file}")
    return files


def methods_for(kata: manifest.Kata, start_methods: list[str]) -> list[str]:
    return start_methods if kata.processes else [ALL]


def judge(kata: manifest.Kata, target: str, result: runner.RunResult, start_methods: list[str]) -> dict:
    """(method -> problem or None) for one run of one target."""
    verdicts = {}
    declared = set(kata.fails_on_for(PY))
    for method in methods_for(kata, start_methods):
        # A test with no start method (a thread contrast in a process kata) counts in
        # every column.
        cells = [c for c in result.run.cells if (c.start_method or ALL) == method or c.start_method is None]
        if not cells:
            why = "overran its wall limit" if result.overran else f"pytest exited {result.returncode}"
            verdicts[method] = f"no result ({why}): {_tail(result.output)}"
            continue
        failed = [c for c in cells if c.failed]
        if target == "solutions":
            # A skip is a test that did not run: a problem, unless the kata says this system
            # lacks what the test needs ([kata.without.<means>] in force here).
            allowed = ("passed", "skipped") if kata.notes_here() else ("passed",)
            verdicts[method] = (
                None
                if not failed and all(c.outcome in allowed for c in cells) and any(c.outcome == "passed" for c in cells)
                else "solution " + "; ".join(f"{c.outcome} {c.test}: {_short(c.message)}" for c in failed or cells)
            )
        else:
            must_fail = method in declared or (method == ALL and bool(declared))
            if must_fail and not failed:
                verdicts[method] = "kata passed, but katas.toml declares it fails here"
            elif not must_fail and failed:
                verdicts[method] = "kata failed, but katas.toml declares it passes here: " + "; ".join(
                    f"{c.outcome} {c.test}: {_short(c.message)}" for c in failed
                )
            elif must_fail and any(c.outcome in ("crashed", "error") for c in failed) and not any(
                c.outcome in ("failed", "timeout", "leaked") for c in failed
            ):
                verdicts[method] = "kata only errored or crashed; it should fail on its lesson's assertion: " + _short(
                    failed[0].message
                )
            else:
                verdicts[method] = None
    return verdicts


def _short(text: str, n: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _tail(text: str, n: int = 300) -> str:
    return _short(text[-n:] if text else "", n)


def verify(
    root: Path, *, repeat: int = 1, jobs: int | None = None, katas=None, start_methods=None, console=None,
    isolate: bool = False, fixes: bool = False, slack: float = 1.0, mutants: bool = False,
    sample: int | None = None, seed: str = "",
) -> int:
    from rich.console import Console

    console = console or Console()
    try:
        m = manifest.load(root / "katas.toml")
    except manifest.ManifestError as exc:
        console.print(f"[red]katas.toml:[/red] {len(exc.problems)} problem(s)")
        for problem in exc.problems:
            console.print(f"  - {problem}")
        return 2
    selected = [k for k in m.katas if not katas or k.name in katas]
    unknown = set(katas or ()) - set(m.names())
    if unknown:
        console.print(f"[red]unknown kata(s):[/red] {', '.join(sorted(unknown))}")
        return 2
    start_methods = start_methods or system.start_methods()
    jobs = jobs or _usable_cpus()
    procs.set_subreaper()
    fd, tree_ledger = tempfile.mkstemp(prefix="dojo-verify-ledger-")
    os.close(fd)
    try:
        return _verify(
            root, m, selected, repeat, jobs, start_methods, console, isolate, tree_ledger, fixes, slack, mutants,
            sample, seed,
        )
    finally:
        os.unlink(tree_ledger)


def _verify(
    root, m, selected, repeat, jobs, start_methods, console, isolate, tree_ledger, fixes, slack, mutants,
    sample=None, seed="",
) -> int:
    problems = structure_problems(m)
    # --isolate: every kata call in a grading host, as `dojo grade` runs them; the
    # outcomes must be the same as in practice mode. Every run's resource tracker also
    # writes to our tree ledger, so the leak check below sees only our own objects.
    env = {
        "DOJO_LANG": "en",
        "DOJO_STOP_CELL_AFTER_HANG": "1",
        tracker.TREE_LEDGER: tracker.tree_ledgers_with(tree_ledger),
        **({"DOJO_ISOLATE": "1"} if isolate else {}),
    }
    if mutants:
        from dojo.mutants import verify_mutants

        problems += verify_mutants(
            root, m, selected, jobs=jobs, start_methods=start_methods, console=console, env=env, sample=sample, seed=seed,
        )
        what = f"every mutant of {len(selected)} solutions is killed or listed as equivalent"
    elif fixes:
        from dojo import fixes as corpus

        problems += corpus.verify_fixes(
            root, m, selected, repeat=repeat, jobs=jobs, start_methods=start_methods, console=console, env=env,
            slack=slack, sample=sample, seed=seed,
        )
        what = f"every fix of {len(selected)} katas has the verdict it declares"
    else:
        problems += _matrix(root, selected, repeat, jobs, start_methods, console, env)
        what = f"{len(selected)} katas agree with katas.toml on {', '.join(start_methods)}"
    leftovers = [procs.describe(p) for p in procs.descendants()]
    procs.kill_descendants()
    # Every run has ended: whatever its trackers saw created and nobody removed is ours.
    stray_shm = sorted(tracker.tree_leftovers(tree_ledger))
    failures = problems
    failures += [f"left running after verify: {d}" for d in leftovers]
    failures += [f"left in /dev/shm after verify: {name}" for name in stray_shm]
    for name in stray_shm:
        procs.remove_shm(name)
    if failures:
        console.print(f"[red]dojo verify: {len(failures)} problem(s)[/red]")
        for failure in failures:
            console.print(f"  - {failure}", markup=False)
        return 1
    console.print(f"[green]dojo verify: {what}[/green]")
    return 0


def _matrix(root, selected, repeat, jobs, start_methods, console, env) -> list[str]:
    """Solutions and katas on every start method, ``repeat`` times: print the table,
    return the mismatches."""
    from rich.progress import Progress
    from rich.table import Table

    tallies: dict = defaultdict(CellTally)
    tasks = [(k, target, rep) for rep in range(repeat) for k in selected for target in ("solutions", "katas")]
    timings = defaultdict(list)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("verifying", total=len(tasks))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(
                    runner.run_kata, root, k.name, target, start_methods=start_methods, env=env,
                    test_files=test_files(root, k),
                    args=["--import-mode=importlib"],  # hidden/ and tests/ share module names
                ): (k, target)
                for k, target, _ in tasks
            }
            for future in as_completed(futures):
                k, target = futures[future]
                result = future.result()
                timings[(k.name, target)].append(result.seconds)
                for method, problem in judge(k, target, result, start_methods).items():
                    tally = tallies[(k.name, method)]
                    tally.runs += 1
                    if problem is None:
                        tally.agreed += 1
                    elif problem not in tally.problems:
                        tally.problems.append(f"{target}: {problem}")
                progress.advance(bar)

    columns = sorted({meth for k in selected for meth in methods_for(k, start_methods)}, key=_method_order)
    table = Table(title=f"dojo verify — Python {PY}, {repeat} run(s) each, solutions and katas")
    table.add_column("kata")
    table.add_column("fails on (declared)")
    for meth in columns:
        table.add_column("all methods" if meth == ALL else meth, justify="center")
    table.add_column("s/run", justify="right")
    mismatches = []
    for k in selected:
        row = [k.name, ", ".join(k.fails_on_for(PY)) or "—"]
        for meth in columns:
            if meth not in methods_for(k, start_methods):
                row.append("")
                continue
            tally = tallies[(k.name, meth)]
            expected_runs = 2 * repeat
            ok = tally.agreed == expected_runs
            row.append(f"[green]ok {tally.agreed // 2}/{repeat}[/green]" if ok else f"[red]✗ {tally.agreed}/{expected_runs}[/red]")
            if not ok:
                mismatches += [f"{k.name} [{meth}] {p}" for p in tally.problems] or [f"{k.name} [{meth}]: missing runs"]
        per_run = [s for t in ("katas", "solutions") for s in timings[(k.name, t)]]
        row.append(f"{sum(per_run) / max(len(per_run), 1):.2f}")
        table.add_row(*row)
    console.print(table)
    return mismatches


def _method_order(method: str) -> int:
    order = ["fork", "spawn", "forkserver", ALL]
    return order.index(method) if method in order else len(order)


def _usable_cpus() -> int:
    return procs.usable_cpus()
