"""``dojo verify --mutants``: break one lesson line of a solution at a time; a test must notice.

Generic mutation tools change operators (``+`` to ``-``); the lessons here are about joins,
locks, shutdowns and timeouts, so the operators are those (``ast.NodeTransformer`` and
``ast.unparse``):

    drop_join            remove a ``x.join()`` statement
    drop_with            run a ``with`` block's body without its context manager
                         (a lock, a pool, a manager, an executor)
    drop_release         remove ``x.unlink()``, ``x.close()``, ``x.release()`` of a memoryview
    drop_shutdown        remove ``x.shutdown(...)``, ``x.terminate()``
    drop_keyword         drop a ``timeout=``, ``cancel_futures=``, ``name=``, ``wait=`` keyword
    swallow_exception    an ``except`` branch that does nothing; a ``raise`` that does not
    machine_cpus         ``os.cpu_count()`` where the usable CPUs were counted
    slice_bound          move a slice's upper bound by one
    lock_per_worker      a lock made on the spot (a threading.Lock: it excludes nobody)
    release_before_write the lock held for the read only: ``x += y`` becomes a read under
                         the lock and a write after it

Each mutant is run against the kata's tests on every start method (dojo/fixes.py). It is
*killed* when any test fails. A mutant that no program can tell from the solution is
listed, with the reason, in ``fixes/equivalent-mutants.toml``::

    [[equivalent]]
    kata = "pools1"
    mutant = "drop_join@21"
    reason = "the with block's exit already joins the pool"
"""

from __future__ import annotations

import ast
import copy
import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from dojo import _toml
from dojo.fixes import run_candidate
from dojo.verify import PY

EQUIVALENTS = "fixes/equivalent-mutants.toml"
KEYWORDS = {"timeout", "cancel_futures", "name", "wait"}
LOCKISH = ("lock", "Lock", "get_lock", "RLock", "Semaphore", "sem", "mutex")


@dataclass
class Mutant:
    kata: str
    id: str  # operator@line
    operator: str
    line: int
    source: str


def _call_name(node) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_lockish(expr) -> bool:
    text = ast.unparse(expr)
    return any(word in text for word in LOCKISH)


class _Site(ast.NodeTransformer):
    """Applies ``operator`` at its ``target``-th site only; counts every site."""

    def __init__(self, operator: str, target: int):
        self.operator = operator
        self.target = target
        self.seen = 0
        self.line = 0

    def _hit(self, node) -> bool:
        index = self.seen
        self.seen += 1
        if index == self.target:
            self.line = getattr(node, "lineno", 0)
            return True
        return False

    # statements that can be dropped
    def visit_Expr(self, node):
        self.generic_visit(node)
        name = _call_name(node.value)
        drop = {
            "drop_join": ("join",),
            "drop_release": ("unlink", "close", "release"),
            "drop_shutdown": ("shutdown", "terminate"),
        }.get(self.operator, ())
        if isinstance(node.value, ast.Call) and name in drop and self._hit(node):
            return ast.Pass()
        return node

    def visit_With(self, node):
        self.generic_visit(node)
        if self.operator == "drop_with" and self._hit(node):
            # `with A as x, B: body` -> `x = A; B; body`: the objects are made, never managed.
            made = [
                ast.Assign(targets=[item.optional_vars], value=item.context_expr, lineno=node.lineno)
                if item.optional_vars is not None
                else ast.Expr(item.context_expr)
                for item in node.items
            ]
            return made + node.body
        if self.operator == "lock_per_worker" and any(_is_lockish(i.context_expr) for i in node.items):
            if self._hit(node):
                node.items = [
                    ast.withitem(ast.parse("__import__('threading').Lock()", mode="eval").body, i.optional_vars)
                    if _is_lockish(i.context_expr)
                    else i
                    for i in node.items
                ]
        if self.operator == "release_before_write" and any(_is_lockish(i.context_expr) for i in node.items):
            for k, stmt in enumerate(node.body):
                if isinstance(stmt, ast.AugAssign) and self._hit(node):
                    read = ast.Assign(
                        targets=[ast.Name("_dojo_read", ast.Store())], value=_as_load(stmt.target), lineno=stmt.lineno
                    )
                    write = ast.Assign(
                        targets=[stmt.target],
                        value=ast.BinOp(ast.Name("_dojo_read", ast.Load()), stmt.op, stmt.value),
                        lineno=stmt.lineno,
                    )
                    node.body = node.body[:k] + [read] + node.body[k + 1:]
                    return [node, write]
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if self.operator == "drop_keyword":
            for keyword in node.keywords:
                if keyword.arg in KEYWORDS and self._hit(node):
                    node.keywords = [k for k in node.keywords if k is not keyword]
                    break
        if self.operator == "machine_cpus":
            name = _call_name(node)
            if name in ("sched_getaffinity", "process_cpu_count") and self._hit(node):
                return ast.parse("__import__('os').cpu_count()", mode="eval").body
        return node

    def visit_ExceptHandler(self, node):
        self.generic_visit(node)
        if self.operator == "swallow_exception" and self._hit(node):
            node.body = [ast.Pass()]
        return node

    def visit_Raise(self, node):
        self.generic_visit(node)
        if self.operator == "swallow_exception" and self._hit(node):
            return ast.Pass()
        return node

    def visit_Slice(self, node):
        self.generic_visit(node)
        if self.operator == "slice_bound" and node.upper is not None and self._hit(node):
            node.upper = ast.BinOp(node.upper, ast.Sub(), ast.Constant(1))
        return node


def _as_load(target):
    load = copy.deepcopy(target)
    for node in ast.walk(load):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()
    return load


OPERATORS = (
    "drop_join", "drop_with", "drop_release", "drop_shutdown", "drop_keyword", "swallow_exception", "machine_cpus",
    "slice_bound", "lock_per_worker", "release_before_write",
)


def mutants_of(kata: str, source: str) -> list[Mutant]:
    """Every mutant of ``source``: one per operator site, without duplicates or no-ops."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    found, seen_sources = [], {original}
    for operator in OPERATORS:
        target = 0
        while True:
            site = _Site(operator, target)
            mutated = site.visit(copy.deepcopy(tree))
            if site.seen <= target:
                break
            target += 1
            text = ast.unparse(ast.fix_missing_locations(mutated))
            if text in seen_sources:
                continue
            seen_sources.add(text)
            ident = f"{operator}@{site.line}"
            n = sum(m.id.split("#")[0] == ident for m in found)
            found.append(Mutant(kata, ident + (f"#{n + 1}" if n else ""), operator, site.line, text + "\n"))
    return found


def load_equivalents(root: Path) -> dict:
    path = root / EQUIVALENTS
    if not path.is_file():
        return {}
    data = _toml.loads(path.read_text(encoding="utf-8"))
    return {(e["kata"], e["mutant"]): e.get("reason", "") for e in data.get("equivalent", [])}


def sampled(everything: dict, equivalents: dict, sample: int | None, seed: str) -> dict:
    """``sample`` mutants per kata, chosen by ``seed`` among those not listed as equivalent
    (CI runs a different slice every day); ``None`` or 0: every mutant."""
    if not sample:
        return everything
    chosen = {}
    for kata, mutants in everything.items():
        candidates = [mu for mu in mutants if (kata, mu.id) not in equivalents]
        rng = random.Random(f"{seed}:{kata}")
        chosen[kata] = rng.sample(candidates, min(sample, len(candidates)))
    return chosen


def verify_mutants(root, m, selected, *, jobs, start_methods, console, env, sample=None, seed="") -> list[str]:
    """Run every mutant of the selected katas' solutions (or a sample); print a table;
    return problems."""
    from rich.progress import Progress
    from rich.table import Table

    equivalents = load_equivalents(root)
    everything = {
        kata.name: mutants_of(kata.name, (root / "solutions" / kata.module).read_text(encoding="utf-8"))
        for kata in selected
    }
    everything = sampled(everything, equivalents, sample, seed)
    if sample:
        console.print(f"dojo verify --mutants: a sample of {sample} mutant(s) per kata, seed {seed!r}")
    tasks = [(kata, mutant) for kata in selected for mutant in everything[kata.name]]
    outcome = {}
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("mutants", total=len(tasks))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(run_candidate, root, kata, mutant.source, start_methods=start_methods, env=env): mutant
                for kata, mutant in tasks
            }
            for future in as_completed(futures):
                mutant = futures[future]
                result = future.result()
                killers = sorted({c.case for c in result.run.cells if c.failed})
                missing = {c.start_method for c in result.run.cells} != set(start_methods)
                outcome[(mutant.kata, mutant.id)] = killers or (["(no result)"] if missing else [])
                progress.advance(bar)

    problems = []
    table = Table(title=f"dojo verify --mutants — Python {PY}")
    for column in ("kata", "mutants", "killed", "equivalent", "survived"):
        table.add_column(column)
    for kata in selected:
        counts = defaultdict(list)
        for mutant in everything[kata.name]:
            key = (kata.name, mutant.id)
            killed = bool(outcome.get(key))
            if key in equivalents:
                counts["equivalent"].append(mutant.id)
                if killed:
                    problems.append(
                        f"{kata.name}: {mutant.id} is listed as equivalent in {EQUIVALENTS} but the tests kill it "
                        f"({', '.join(outcome[key][:2])}): remove it from the list"
                    )
            elif killed:
                counts["killed"].append(mutant.id)
            else:
                counts["survived"].append(mutant.id)
                problems.append(
                    f"{kata.name}: mutant {mutant.id} survived every test (solutions/{kata.module} line "
                    f"{mutant.line}, {mutant.operator})"
                )
        table.add_row(
            kata.name, str(len(everything[kata.name])), str(len(counts["killed"])), str(len(counts["equivalent"])),
            ", ".join(counts["survived"]) or "0",
        )
    stale = set() if sample else {key for key in equivalents if key[0] in everything and key not in outcome}
    problems += [f"{EQUIVALENTS}: {kata}/{mutant} is not a mutant of the current solution" for kata, mutant in stale]
    console.print(table)
    return problems


def main(argv=None) -> int:
    """``python -m dojo.mutants KATA [MUTANT]``: list a solution's mutants, or show one as a diff."""
    import argparse
    import difflib

    parser = argparse.ArgumentParser(prog="python -m dojo.mutants")
    parser.add_argument("kata")
    parser.add_argument("mutant", nargs="?")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    source = (args.root / "solutions" / f"{args.kata}.py").read_text(encoding="utf-8")
    for mutant in mutants_of(args.kata, source):
        if args.mutant is None:
            print(mutant.id)
        elif mutant.id == args.mutant:
            before = ast.unparse(ast.parse(source)).splitlines()
            print("\n".join(difflib.unified_diff(before, mutant.source.splitlines(), "solution", mutant.id, lineterm="")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
