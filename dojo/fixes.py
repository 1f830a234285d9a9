"""``dojo verify --fixes``: the kit's proof corpus of right and wrong fixes.

    fixes/<kata>/right_<style>.py   a whole kata module, correct        # right: why
                                                                         # style: its style
    fixes/<kata>/wrong_<what>.py    a mistake a learner would make      # wrong: why
                                                                         # breaks: clause ...
                                                                         # caught-on: fork ...

Each fix runs against the kata's tests (visible and hidden) in a throw-away copy of the
kit, on every start method, ``--repeat`` times. The verdicts:

  right fix   passes every test on every start method, and no test takes more than
              ``slack`` seconds longer than it takes the reference solution
  wrong fix   fails on exactly the start methods its ``caught-on`` names; every test that
              fails checks (``@pytest.mark.clause``) a clause the fix ``breaks``; the first
              failure on each method carries a teaching message, not a bare exception
  corpus      at least 4 right fixes in 4 styles and 5 wrong fixes per kata, a wrong fix
              for every clause in katas.toml, and a test for every clause

``dojo verify --mutants`` (dojo/mutants.py) runs its mutants through ``run_candidate`` too.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from dojo import manifest, runner
from dojo.verify import PY, test_files

KIT_PARTS = ("katas", "tests", "hidden", "conftest.py", "katas.toml", "pyproject.toml")
MIN_RIGHT, MIN_WRONG = 4, 5
HEADER = re.compile(r"^#\s*(right|wrong|style|breaks|caught-on)\s*:\s*(.*?)\s*$")


@dataclass
class Fix:
    kata: str
    path: Path
    kind: str  # "right" or "wrong"
    why: str = ""
    style: str = ""
    breaks: tuple = ()
    caught_on: tuple = ()
    problems: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem


def parse(path: Path, kata: manifest.Kata) -> Fix:
    kind = "right" if path.name.startswith("right_") else "wrong" if path.name.startswith("wrong_") else ""
    fix = Fix(kata.name, path, kind)
    if not kind:
        fix.problems.append(f"{path.name}: a fix is named right_<style>.py or wrong_<what>.py")
        return fix
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = HEADER.match(line)
        if match:
            fields[match.group(1)] = match.group(2)
    fix.why = fields.get(kind, "")
    if not fix.why:
        fix.problems.append(f"{path.name}: starts with '# {kind}: <why>'")
    if kind == "right":
        fix.style = fields.get("style", "")
        if not fix.style:
            fix.problems.append(f"{path.name}: a right fix names its style ('# style: ...')")
        return fix
    fix.breaks = tuple(fields.get("breaks", "").replace(",", " ").split())
    fix.caught_on = tuple(fields.get("caught-on", "").replace(",", " ").split())
    if not fix.breaks:
        fix.problems.append(f"{path.name}: a wrong fix declares the clause it breaks ('# breaks: <id>')")
    for cid in fix.breaks:
        if cid not in kata.clauses:
            fix.problems.append(f"{path.name}: breaks {cid!r}, which is not in {kata.name}'s [kata.clauses]")
    if not fix.caught_on:
        fix.problems.append(f"{path.name}: a wrong fix declares where it is caught ('# caught-on: fork spawn ...')")
    for method in fix.caught_on:
        if method not in manifest.START_METHODS:
            fix.problems.append(f"{path.name}: caught-on {method!r} is not a start method")
    return fix


def discover(root: Path, katas) -> dict:
    """kata name -> its fixes, sorted (right ones first)."""
    found = {}
    for kata in katas:
        folder = root / "fixes" / kata.name
        paths = sorted(folder.glob("*.py")) if folder.is_dir() else []
        found[kata.name] = sorted((parse(p, kata) for p in paths), key=lambda f: (f.kind != "right", f.name))
    return found


def corpus_problems(kata: manifest.Kata, fixes: list) -> list[str]:
    problems = [f"{kata.name}: {p}" for fix in fixes for p in fix.problems]
    right = [f for f in fixes if f.kind == "right"]
    wrong = [f for f in fixes if f.kind == "wrong"]
    styles = {f.style.lower() for f in right if f.style}
    if len(right) < MIN_RIGHT or len(styles) < MIN_RIGHT:
        problems.append(
            f"{kata.name}: {len(right)} right fix(es) in {len(styles)} style(s); at least {MIN_RIGHT} in "
            f"{MIN_RIGHT} different styles"
        )
    if len(wrong) < MIN_WRONG:
        problems.append(f"{kata.name}: {len(wrong)} wrong fix(es); at least {MIN_WRONG}")
    if not kata.clauses:
        problems.append(f"{kata.name}: katas.toml lists no [kata.clauses]")
    broken = {cid for f in wrong for cid in f.breaks}
    for cid in kata.clauses:
        if cid not in broken:
            problems.append(f"{kata.name}: clause {cid!r} has no wrong fix that breaks it")
    return problems


def candidate_kit(root: Path, kata: str, source: str) -> Path:
    """A throw-away copy of the kit whose ``katas/<kata>.py`` is ``source``."""
    tmp = Path(tempfile.mkdtemp(prefix=f"dojo-candidate-{kata}-"))
    for part in KIT_PARTS:
        src = root / part
        if src.is_dir():
            shutil.copytree(src, tmp / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, tmp / part)
    (tmp / "katas" / f"{kata}.py").write_text(source, encoding="utf-8")
    return tmp


def run_candidate(root: Path, kata: manifest.Kata, source: str, *, start_methods, env) -> runner.RunResult:
    """Run ``kata``'s tests against ``source`` in place of the learner's module."""
    kit = candidate_kit(root, kata.name, source)
    try:
        return runner.run_kata(
            kit, kata.name, "katas", start_methods=start_methods, env=env, test_files=test_files(kit, kata),
            args=["--import-mode=importlib"],
        )
    finally:
        shutil.rmtree(kit, ignore_errors=True)


def failing_methods(result: runner.RunResult, start_methods) -> set:
    failed = set()
    for cell in result.run.cells:
        if cell.failed:
            failed |= {cell.start_method} if cell.start_method else set(start_methods)
    seen = {c.start_method for c in result.run.cells} | ({None} if not result.run.cells else set())
    failed |= {m for m in start_methods if m not in seen}  # no result at all is no pass
    return failed


def judge_right(fix: Fix, result: runner.RunResult, reference: runner.RunResult | None, start_methods, slack):
    """(problems, slowest (seconds over the reference, case, method))."""
    problems = []
    for cell in result.run.cells:
        if cell.outcome != "passed":
            problems.append(f"{cell.outcome} {cell.case} [{cell.start_method}]: {_short(cell.message)}")
    missing = [m for m in start_methods if not any(c.start_method == m for c in result.run.cells)]
    if missing:
        why = "overran its wall limit" if result.overran else f"pytest exited {result.returncode}"
        problems.append(f"no result on {', '.join(missing)} ({why}): {_short(result.output[-300:])}")
    ref = {(c.case, c.start_method): c.duration for c in (reference.run.cells if reference else [])}
    slowest = (float("-inf"), "", "")
    for cell in result.run.cells:
        base = ref.get((cell.case, cell.start_method))
        if base is None:
            continue
        over = cell.duration - base
        slowest = max(slowest, (over, cell.case, cell.start_method or "-"))
        if over > slack:
            problems.append(
                f"{cell.case} [{cell.start_method}] took {cell.duration:.2f} s, {over:.2f} s more than the "
                f"reference (allowed: {slack:.1f} s): a right fix must not wait for the test's timeouts"
            )
    return problems, slowest


def judge_wrong(fix: Fix, result: runner.RunResult, start_methods) -> list[str]:
    problems = []
    declared = set(fix.caught_on) & set(start_methods)
    failed = failing_methods(result, start_methods)
    if failed != declared:
        passed_where = sorted(declared - failed, key=start_methods.index)
        extra = sorted(failed - declared, key=start_methods.index)
        if passed_where:
            problems.append(f"passed on {', '.join(passed_where)}, where it declares it is caught")
        if extra:
            problems.append(f"failed on {', '.join(extra)} too, which its caught-on does not list")
    first = {}
    for cell in result.run.cells:
        if not cell.failed:
            continue
        first.setdefault(cell.start_method, cell)
        if cell.taught == "after_hang":
            continue  # not run after the cell's hang: the hang itself is judged
        if not set(cell.clauses) & set(fix.breaks):
            checks = ", ".join(cell.clauses) or "no clause"
            problems.append(
                f"caught by {cell.case} [{cell.start_method}], which checks {checks}, not what it breaks "
                f"({', '.join(fix.breaks)})"
            )
    for method, cell in first.items():
        taught = cell.outcome in ("failed", "timeout", "leaked") and bool(cell.taught)
        if not taught:
            problems.append(
                f"its first failure on {method} ({cell.case}) is a bare {cell.outcome}, not a teaching message: "
                f"{_short(cell.message)}"
            )
    return problems


def _short(text: str, n: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def sampled(corpus: dict, sample: int | None, seed: str) -> dict:
    """``sample`` fixes per kata (at least one right and one wrong), chosen by ``seed``:
    CI runs a different slice of the corpus every day; ``--sample 0`` runs them all."""
    if not sample:
        return corpus
    import random

    picked = {}
    for kata, fixes in corpus.items():
        rng = random.Random(f"{seed}:{kata}")
        right = [f for f in fixes if f.kind == "right"]
        wrong = [f for f in fixes if f.kind == "wrong"]
        chosen = rng.sample(right, min(1, len(right))) + rng.sample(wrong, min(1, len(wrong)))
        rest = [f for f in fixes if f not in chosen]
        chosen += rng.sample(rest, max(0, min(sample - len(chosen), len(rest))))
        picked[kata] = [f for f in fixes if f in chosen]
    return picked


def verify_fixes(
    root, m, selected, *, repeat, jobs, start_methods, console, env, slack: float = 1.0, sample: int | None = None,
    seed: str = "",
) -> list[str]:
    """Run every fix of the selected katas (or a sample); print a table; return the problems."""
    from rich.progress import Progress
    from rich.table import Table

    whole = discover(root, selected)
    problems = []
    for kata in selected:
        problems += corpus_problems(kata, whole[kata.name])
    corpus = sampled(whole, sample, seed)
    if sample:
        console.print(f"dojo verify --fixes: a sample of {sample} fix(es) per kata, seed {seed!r}")
    tasks = [(kata, None) for kata in selected for _ in range(repeat)]  # None: the reference
    tasks += [(kata, fix) for kata in selected for fix in corpus[kata.name] if not fix.problems for _ in range(repeat)]
    results = defaultdict(list)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("fixes", total=len(tasks))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(_run_one, root, kata, fix, start_methods, env): (kata.name, fix.name if fix else None)
                for kata, fix in tasks
            }
            for future in as_completed(futures):
                results[futures[future]].append(future.result())
                progress.advance(bar)

    table = Table(title=f"dojo verify --fixes — Python {PY}, {repeat} run(s) each")
    for column in ("kata", "right", "wrong", "slowest right fix vs reference", "wrong fixes caught on"):
        table.add_column(column)
    for kata in selected:
        fixes = corpus[kata.name]
        references = results[(kata.name, None)]
        reference = min(references, key=lambda r: r.seconds) if references else None
        ok_right = ok_wrong = 0
        slowest = (float("-inf"), "", "", "")
        caught = []
        for fix in fixes:
            if fix.problems:
                continue
            fix_problems = []
            for result in results[(kata.name, fix.name)]:
                if fix.kind == "right":
                    found, slow = judge_right(fix, result, reference, start_methods, slack)
                    slowest = max(slowest, (*slow, fix.name))
                else:
                    found = judge_wrong(fix, result, start_methods)
                fix_problems += [p for p in found if p not in fix_problems]
            if fix.kind == "wrong":
                caught.append(f"{fix.name[6:]}: {' '.join(fix.caught_on)}")
            if fix_problems:
                problems += [f"{kata.name}/{fix.path.name}: {p}" for p in fix_problems]
            elif fix.kind == "right":
                ok_right += 1
            else:
                ok_wrong += 1
        if reference is not None:
            problems += [f"{kata.name}: {p}" for p in _clause_coverage(kata, reference)]
        n_right = sum(f.kind == "right" for f in fixes)
        n_wrong = len(fixes) - n_right
        slow = (
            f"{slowest[3]}: {slowest[0]:+.2f} s ({slowest[1]} [{slowest[2]}])" if slowest[0] != float("-inf") else "—"
        )
        table.add_row(
            kata.name, _ratio(ok_right, n_right), _ratio(ok_wrong, n_wrong), slow, "\n".join(caught) or "—"
        )
    console.print(table)
    return problems


def _clause_coverage(kata, reference) -> list[str]:
    tested = {cid for cell in reference.run.cells for cid in cell.clauses}
    return [f"clause {cid!r} is checked by no test (@pytest.mark.clause)" for cid in kata.clauses if cid not in tested]


def _ratio(ok: int, total: int) -> str:
    colour = "green" if ok == total and total else "red"
    return f"[{colour}]{ok}/{total}[/{colour}]"


def _run_one(root, kata, fix, start_methods, env) -> runner.RunResult:
    if fix is None:
        return runner.run_kata(
            root, kata.name, "solutions", start_methods=start_methods, env=env, test_files=test_files(root, kata),
            args=["--import-mode=importlib"],
        )
    return run_candidate(root, kata, fix.path.read_text(encoding="utf-8"), start_methods=start_methods, env=env)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: dojo verify --fixes")
