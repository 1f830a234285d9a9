"""The learner's side: check a kata (one start method first, then all), and draw it.

The controller never imports kata code: every check is a run in a fresh process (the
warm runner's forked child, or a cold pytest), read back as structured results.

    check(kata) ── quick: the first start method the kata is declared to fail on
                │      fails → Verdict(first failure)          (what the learner fixes next)
                └─ passes → the other start methods
                       fails → Verdict(first failure + matrix)
                       passes → Verdict(passed, matrix)        (kata done)
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dojo import i18n, manifest, results, runner, system

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
ORDER = ("fork", "spawn", "forkserver")


@dataclass
class Verdict:
    kata: str
    passed: bool
    methods: list
    cells: list = field(default_factory=list)
    failure: results.Cell | None = None
    problem: str = ""  # the run itself went wrong: crashed, no results, overran
    output: str = ""  # everything the run printed: the learner's prints, tracebacks, children's stderr

    @property
    def stage(self) -> str:
        return "matrix" if len(self.methods) > 1 else "quick"


def available_methods() -> list[str]:
    return [m for m in ORDER if m in system.start_methods()]


def quick_method(kata: manifest.Kata) -> str:
    """The first start method the unsolved kata is declared to fail on (else the first)."""
    methods = available_methods()
    for m in kata.fails_on_for(PY):
        if m in methods:
            return m
    return methods[0]


def first_failure(cells: list) -> results.Cell | None:
    order = {m: i for i, m in enumerate(ORDER)}
    failing = [c for c in cells if c.failed]
    failing.sort(key=lambda c: order.get(c.start_method or "", -1))
    return failing[0] if failing else None


def judge_run(kata: manifest.Kata, result: runner.RunResult, methods: list[str], lang=None) -> Verdict:
    cells = result.run.cells
    verdict = Verdict(kata.name, False, methods, cells, output=result.output)
    if result.overran:
        verdict.problem = i18n.t("run_overran", lang, seconds=f"{result.seconds:.0f}")
    crashed = [c for c in cells if c.outcome == "crashed"]
    if crashed:
        verdict.problem = i18n.t(
            "run_crashed", lang, outcome=crashed[0].outcome, test=crashed[0].test, returncode=result.returncode
        )
    if not cells:
        verdict.problem = verdict.problem or i18n.t(
            "run_no_results", lang, returncode=result.returncode, tail=result.output[-1500:].strip()
        )
        return verdict
    verdict.failure = first_failure(cells)
    reported = {c.start_method for c in cells}
    expected = set(methods) if kata.processes else {None}
    verdict.passed = verdict.failure is None and not verdict.problem and expected <= reported and all(
        c.outcome in ("passed", "skipped") for c in cells
    )
    return verdict


# What a start method costs a run, roughly (spawn starts a fresh interpreter per child):
# how the methods of one check are shared out between runs side by side.
METHOD_WEIGHT = {"fork": 1, "forkserver": 2, "spawn": 3}


def lanes(methods: list[str], n: int) -> list[list[str]]:
    """``methods`` shared out between at most ``n`` runs side by side, the heaviest first,
    each to the lightest run so far; each run's methods in the usual order."""
    n = max(1, min(n, len(methods)))
    shares: list[list[str]] = [[] for _ in range(n)]
    loads = [0] * n
    for method in sorted(methods, key=lambda m: -METHOD_WEIGHT.get(m, 1)):
        i = loads.index(min(loads))
        shares[i].append(method)
        loads[i] += METHOD_WEIGHT.get(method, 1)
    rank = {m: i for i, m in enumerate(ORDER)}
    return [sorted(share, key=lambda m: rank.get(m, len(ORDER))) for share in shares if share]


class Checker:
    """Runs checks through warm runners when there are, else cold.

    ``lanes``: how many runs one check may have side by side (the loop: the usable CPUs).
    The start methods of a check are shared out between them, each lane a run of its own
    (a warm runner of its own, or a cold pytest), and their results are read as one."""

    def __init__(self, root: Path, warm: bool = True, lang: str | None = None, lanes: int = 1):
        self.root = root
        self.lang = lang or i18n.current_lang()
        self.warm = runner.WarmRunner() if warm else None
        self.lanes = max(1, lanes)
        # warm runners for the second lane on (each starts its process when first used)
        self.more = [runner.WarmRunner() for _ in range(self.lanes - 1)] if warm else []

    def run(self, kata: manifest.Kata, methods: list[str], target: str = "katas", progress=None,
            cancel=None) -> Verdict:
        """``cancel`` (a threading.Event): set it to stop the run and kill its process tree."""
        return judge_run(kata, self._result(kata, methods, target, progress, cancel), methods, self.lang)

    def _result(self, kata, methods, target, progress, cancel) -> runner.RunResult:
        shares = lanes(methods, self.lanes) if kata.processes else [methods]
        if len(shares) == 1:
            return self._run_lane(0, kata, methods, target, progress, cancel)
        import threading

        seen: dict[int, list] = {}

        def lane_progress(i):
            def report(cells, seconds):  # every lane's cells so far, as one run
                seen[i] = list(cells)
                if progress:
                    progress([c for j in sorted(seen) for c in seen[j]], seconds)
            return report

        got: dict[int, runner.RunResult] = {}
        errors: list[BaseException] = []

        def lane(i, share):
            try:
                got[i] = self._run_lane(i, kata, share, target, lane_progress(i), cancel)
            except BaseException as exc:  # noqa: BLE001 - given to the caller's thread below
                errors.append(exc)

        threads = [threading.Thread(target=lane, args=(i, share), name=f"dojo-lane-{i}", daemon=True)
                   for i, share in enumerate(shares) if i > 0]
        for t in threads:
            t.start()
        lane(0, shares[0])
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return runner.merge_results([got[i] for i in sorted(got)])

    def _run_lane(self, i, kata, methods, target, progress, cancel) -> runner.RunResult:
        env = self._env()
        wall = _wall(kata, len(methods))
        warm = self._warm(i)
        if warm is not None:
            return warm.run(self.root, kata.name, target, start_methods=methods, wall=wall, env=env,
                            progress=progress, cancel=cancel)
        return runner.run_kata(self.root, kata.name, target, start_methods=methods, wall=wall, env=env,
                               cancel=cancel)

    def prepare(self, kata: manifest.Kata, target: str = "katas") -> bool:
        """Make the next quick check of ``kata`` ready in the background: its run forked,
        configured and collected, waiting for the save (the kata file is read only when
        its tests run). A check that asks for anything else discards it."""
        if self.warm is None or not kata.processes:
            return False
        return self.warm.prepare(self.root, kata.name, target, start_methods=[quick_method(kata)],
                                 env=self._env())

    def _env(self) -> dict:
        return {"DOJO_LANG": self.lang}

    def warm_up(self) -> None:
        """Start every lane's warm runner now, in the background, so that the first check
        on every start method does not wait for one to import pytest."""
        import threading

        runners = [self._warm(i) for i in range(self.lanes)]
        for warm in runners:
            if warm is not None:
                threading.Thread(target=warm.start, name="dojo-warm-up", daemon=True).start()

    def _warm(self, i: int):
        if self.warm is None:
            return None
        return self.warm if i == 0 else self.more[i - 1]

    def check(self, kata: manifest.Kata, on_stage=None, progress=None, cancel=None) -> Verdict:
        """The quick check on one start method, then, when it passes, the other start
        methods (the quick one has just passed on this very code), read as one."""
        quick = quick_method(kata) if kata.processes else None
        if quick is None:
            return self.run(kata, available_methods(), progress=progress, cancel=cancel)
        first = self._result(kata, [quick], "katas", progress, cancel)
        verdict = judge_run(kata, first, [quick], self.lang)
        if not verdict.passed or (cancel is not None and cancel.is_set()):
            return verdict
        if on_stage:
            on_stage(quick)
        methods = available_methods()
        rest = [m for m in methods if m != quick]
        if not rest:
            return judge_run(kata, first, methods, self.lang)
        others = self._result(kata, rest, "katas", progress, cancel)
        return judge_run(kata, runner.merge_results([first, others]), methods, self.lang)

    def close(self) -> None:
        for warm in [self.warm, *self.more]:
            if warm is not None:
                warm.stop()


def _wall(kata: manifest.Kata, methods: int) -> float:
    import os

    scale = float(os.environ.get("DOJO_TIMEOUT_SCALE", "1") or 1)
    per_test = (kata.timeout or 10) * scale
    return 30 + per_test * 4 * max(methods, 1)


# --- drawing ---------------------------------------------------------------------------


def _status(name: str, state, current: str | None, lang=None) -> str:
    """A kata's status cell: done, current or to do."""
    if name in state.done:
        return f"[green]✓ {i18n.t('status_done', lang)}[/green]"
    if name == current:
        return f"[yellow]▶ {i18n.t('status_current', lang)}[/yellow]"
    return f"[dim]{i18n.t('status_todo', lang)}[/dim]"


def board(m: manifest.Manifest, state, current: str | None, lang=None):
    from rich.table import Table

    done = sum(1 for k in m.katas if k.name in state.done)
    table = Table(title=i18n.t("board_title", lang, done=done, total=len(m.katas)), title_justify="left")
    for key in ("col_kata", "col_track", "col_title", "col_points", "col_status"):
        table.add_column(i18n.t(key, lang))
    for k in m.katas:
        status = _status(k.name, state, current, lang)
        style = "bold" if k.name == current else None
        table.add_row(k.name, k.track, i18n.pick(k.title, lang), str(k.points), status, style=style)
    return table


BAR = 40  # the progress bar's width in cells: fits an 80-column terminal beside nothing else


def header(m: manifest.Manifest, state, current: str | None, lang=None):
    """The top of the loop's screen: how far the learner has come (katas and points, then
    a bar) and the kata they are on."""
    from rich.console import Group
    from rich.text import Text

    done = [k for k in m.katas if k.name in state.done]
    title = Text(i18n.t("board_title", lang, done=len(done), total=len(m.katas)), style="bold")
    title.append(" · " + i18n.t("points_summary", lang, points=sum(k.points for k in done),
                                max_points=sum(k.points for k in m.katas)), style="none")
    filled = round(BAR * len(done) / max(len(m.katas), 1))  # drawn in two characters: visible without colour
    bar = Text("━" * filled, style="green") + Text("─" * (BAR - filled), style="dim")
    if current not in m.names():
        return Group(title, bar)
    kata = m.get(current)
    where = i18n.t("screen_current", lang, kata=kata.name, title=i18n.pick(kata.title, lang), track=kata.track,
                   n=m.names().index(kata.name) + 1, total=len(m.katas))
    return Group(title, bar, Text(where, style="bold yellow"))


def matching(m: manifest.Manifest, query: str) -> list:
    """The katas whose name, track or title (in any language) holds ``query``."""
    q = query.strip().casefold()
    return [k for k in m.katas if q in " ".join([k.name, k.track, *k.title.values()]).casefold()]


def kata_list(m: manifest.Manifest, state, current: str | None, cursor: int, query: str, lang=None):
    """``l``: the katas to move through with the arrow keys, cut down to those matching
    what was typed; the row under the cursor is highlighted."""
    from rich.console import Group
    from rich.table import Table

    shown = matching(m, query)
    table = Table(box=None, show_header=True, padding=(0, 1))
    for key in ("", "col_kata", "col_track", "col_title", "col_points", "col_status"):
        table.add_column(i18n.t(key, lang) if key else "")
    for i, k in enumerate(shown):
        status = _status(k.name, state, current, lang)
        table.add_row("›" if i == cursor else " ", k.name, k.track, i18n.pick(k.title, lang), str(k.points), status,
                      style="reverse" if i == cursor else None)
    search = i18n.t("list_search", lang, query=query) if query else i18n.t("list_search_empty", lang)
    parts = [table] if shown else [f"[yellow]{i18n.t('list_none', lang, query=query)}[/yellow]"]
    return Group(*parts, "", f"[cyan]{search}[/cyan]")


def failure_panel(verdict: Verdict, lang=None):
    from rich.panel import Panel
    from rich.text import Text

    text = Text()
    cell = verdict.failure
    if verdict.problem:
        text.append(verdict.problem + "\n", style="red")
    if cell is not None:
        text.append(cell.message or cell.outcome)
        if cell.where:
            text.append("\n" + i18n.t("where", lang, where=cell.where), style="dim")
        if cell.leaks and "leak" not in (cell.message or ""):
            text.append("\n" + "\n".join(cell.leaks), style="dim")
        title = i18n.t("first_failure", lang, kata=verdict.kata, method=cell.start_method or "-", test=cell.test)
    else:
        title = verdict.kata
    return Panel(text, title=Text(title), title_align="left", border_style="red")


def matrix(verdict: Verdict, lang=None):
    from rich.table import Table

    methods = [m for m in ORDER if m in verdict.methods] or ["-"]
    title = (i18n.t("matrix_title", lang, kata=verdict.kata) if len(methods) > 1
             else i18n.t("matrix_title_one", lang, kata=verdict.kata, method=methods[0]))
    table = Table(title=title, title_justify="left")
    table.add_column(i18n.t("col_test", lang))
    for m in methods:
        table.add_column(m, justify="center")
    tests = []
    for c in verdict.cells:
        if c.test not in tests:
            tests.append(c.test)
    marks = {"passed": "[green]✓[/green]", "skipped": "[dim]–[/dim]"}
    for test in tests:
        row = [test.removeprefix("test_").replace("_", " ")]
        for m in methods:
            cell = next((c for c in verdict.cells if c.test == test and (c.start_method or "-") == m), None)
            row.append("[dim]·[/dim]" if cell is None else marks.get(cell.outcome, f"[red]✗ {cell.outcome}[/red]"))
        table.add_row(*row)
    return table


def solution_diff(root: Path, name: str) -> str:
    mine = (root / "katas" / f"{name}.py").read_text(encoding="utf-8").splitlines(keepends=True)
    theirs = (root / "solutions" / f"{name}.py").read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(difflib.unified_diff(mine, theirs, f"katas/{name}.py", f"solutions/{name}.py"))
