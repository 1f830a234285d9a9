"""``dojo`` in a terminal: the board, then watch mode on the first unsolved kata.

    keys thread ──┐                       ┌── check in a worker thread (warm runner)
    watch thread ─┼─> events queue ─> loop┤
    check thread ─┘                       └── draw with rich
A save is debounced by watchfiles; a save during a check queues one more check.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from dojo import i18n, learn, manifest, procs, state as state_mod, system

POLL_STEP = 0.5  # seconds between looks at the current kata's modification time
POLL_GRACE = 1.5  # a save with no file event this long after it: events do not arrive here
# An editor's save is one rename or a truncate and a write: 10 ms without a new change
# ends the group, and no group is held longer than 40 ms (a save's verdict is due in 0.2 s).
DEBOUNCE_MS = 40
STEP_MS = 10
OUTPUT_LINES = 400  # o shows the end of the last check's output, at most this many lines


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


class Loop:
    def __init__(self, root: Path, console, lang: str | None = None, manual: bool = False):
        self.root = root
        self.console = console
        self.lang = lang or i18n.current_lang()
        self.events: queue.Queue = queue.Queue()
        self.checker = learn.Checker(root, warm=True, lang=self.lang)
        self.state = state_mod.State.load(root)
        self.manifest: manifest.Manifest | None = None
        self.current: str | None = None
        self.done_current = False
        self.checking = False
        self.stop = threading.Event()
        self.manual = manual  # no watching: a key runs the check
        self.polling = False  # file events do not arrive here: the poller reports saves
        self.run_all: threading.Event | None = None  # set to stop the background run of every kata
        self.last: learn.Verdict | None = None  # the last check's verdict, for o (its output)
        self.status = None  # rich's live "still running" line while a long check runs
        self.last_event = 0.0
        self.mtimes: dict[Path, int] = {}  # the poller's last look at each kata's file

    # --- events ---------------------------------------------------------------------
    def _keys(self) -> None:
        with system.Keys() as keys:  # the platform layer: termios, or msvcrt on Windows
            while not self.stop.is_set():
                ch = keys.read(0.2)
                if ch:
                    self.events.put(("key", ch.lower()))
                    if ch.lower() == "q":
                        return

    def _watch(self) -> None:
        try:
            from watchfiles import watch
        except ImportError:
            self._start_polling("watchfiles is not installed")
            return
        for changes in watch(self.root, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self.stop, recursive=True,
                             raise_interrupt=False):
            self.last_event = time.monotonic()
            if self.polling:
                continue  # the poller has taken over; late events would double each check
            paths = {Path(p).resolve() for _, p in changes}
            relevant = {p for p in paths if p.suffix in (".py", ".toml") and ".dojo" not in p.parts}
            if relevant:
                self.events.put(("changed", relevant))

    def _poll(self) -> None:
        """Watch the current kata's modification time too. File events do not arrive on some
        file systems (network drives, WSL's /mnt, some containers): a save the poller sees
        and no event follows within POLL_GRACE means that, so the poller takes over."""
        seen = self.mtimes  # move_to looks first, so a save made before our first look counts
        changed_at: dict[Path, float] = {}
        while not self.stop.wait(POLL_STEP):
            if not self.current or self.manual:
                continue
            path = self._kata_path(self.current)
            mtime = _mtime(path)
            if mtime is None:
                continue
            if path in seen and mtime != seen[path]:
                changed_at[path] = time.monotonic()
                if self.polling:
                    self.events.put(("changed", {path}))
            seen[path] = mtime
            at = changed_at.get(path)
            if at and not self.polling and time.monotonic() - at > POLL_GRACE:
                changed_at.pop(path)
                if self.last_event < at:
                    self._start_polling(i18n.t("no_file_events", self.lang))
                    self.events.put(("changed", {path}))

    def _kata_path(self, name: str) -> Path:
        return (self.root / "katas" / f"{name}.py").resolve()

    def _start_polling(self, why: str) -> None:
        if not self.polling:
            self.polling = True
            self.events.put(("notice", why))

    # --- actions --------------------------------------------------------------------
    def load_manifest(self) -> bool:
        try:
            self.manifest = manifest.load(self.root / "katas.toml")
            return True
        except manifest.ManifestError as exc:
            self.manifest = None
            self.console.print(f"[red]{i18n.t('manifest_broken', self.lang, error=exc)}[/red]")
            return False

    def show_board(self) -> None:
        if self.manifest:
            self.console.print(learn.board(self.manifest, self.state, self.current, self.lang))

    def start_check(self, kata_name: str, all_methods: bool = False) -> None:
        if self.checking or self.manifest is None:
            self.events.put(("recheck", kata_name)) if self.checking else None
            return
        try:
            kata = self.manifest.get(kata_name)
        except KeyError:
            return
        self.checking = True
        methods = learn.available_methods() if all_methods or not kata.processes else [learn.quick_method(kata)]
        self.console.print(f"[dim]{i18n.t('running', self.lang, kata=kata.name, methods=', '.join(methods))}[/dim]")

        def progress(cells, seconds):
            # A long run (a hang on its way to its timeout, a slow spawn) shows it is alive.
            if seconds >= 1.5:
                self.events.put(("progress", (len([c for c in cells if c.outcome != "crashed"]), seconds)))

        def work():
            try:
                if all_methods:
                    verdict = self.checker.run(kata, learn.available_methods(), progress=progress)
                else:
                    verdict = self.checker.check(
                        kata,
                        on_stage=lambda m: self.events.put(("stage", (kata.name, m))),
                        progress=progress,
                    )
                self.events.put(("verdict", verdict))
            except Exception as exc:  # a bug of ours must not end the learner's loop
                self.events.put(("error", f"{type(exc).__name__}: {exc}"))

        threading.Thread(target=work, daemon=True).start()

    def show_verdict(self, verdict: learn.Verdict) -> None:
        self.checking = False
        self.last = verdict
        if verdict.passed and verdict.stage == "matrix":
            self.console.print(learn.matrix(verdict, self.lang))
            self.console.print(
                f"[green]{i18n.t('kata_done', self.lang, kata=verdict.kata, methods=', '.join(verdict.methods))}[/green]"
            )
            self.state.mark_done(verdict.kata)
            self.state.save()
            self.done_current = True
            self.console.print(i18n.t("compare_solution", self.lang, path=f"solutions/{verdict.kata}.py"))
            self.console.print(i18n.t("next_prompt", self.lang))
            return
        if verdict.stage == "matrix":
            self.console.print(learn.matrix(verdict, self.lang))
        self.console.print(learn.failure_panel(verdict, self.lang))

    def hint(self) -> None:
        if not self.manifest or not self.current:
            return
        kata = self.manifest.get(self.current)
        level = self.state.hints.get(kata.name, 0) + 1
        if level > len(kata.hints):
            self.console.print(i18n.t("no_more_hints", self.lang, kata=kata.name, path=f"solutions/{kata.name}.py"))
            return
        self.state.hints[kata.name] = level
        self.state.save()
        self.console.print(f"[cyan]{i18n.t('hint_header', self.lang, level=level, total=len(kata.hints), kata=kata.name)}[/cyan]")
        self.console.print(i18n.pick(kata.hints[level - 1], self.lang))
        for note in kata.notes_here():  # what differs for this kata on this system
            self.console.print(f"[yellow]{i18n.t('system_note', self.lang)}[/yellow]")
            self.console.print(i18n.pick(note, self.lang), markup=False)

    def move_to(self, name: str | None) -> None:
        self.current = name
        self.done_current = False
        self.state.current = name
        if name is not None and (mtime := _mtime(self._kata_path(name))) is not None:
            self.mtimes[self._kata_path(name)] = mtime
        self.state.save()
        if name is None:
            self.console.print(f"[green]{i18n.t('all_done', self.lang)}[/green]")
            return
        self.show_board()
        self.console.print(i18n.t("manual_mode" if self.manual else "watching", self.lang, path=f"katas/{name}.py"))
        if not (self.root / "katas" / f"{name}.py").exists():
            self.console.print(f"[red]{i18n.t('file_missing_watch', self.lang, path=f'katas/{name}.py')}[/red]")
            return
        self.start_check(name)

    def _end_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def show_output(self) -> None:
        """The last check's full output (its last OUTPUT_LINES lines): the learner's prints,
        pytest's report with tracebacks, what the children wrote to stderr."""
        if self.last is None:
            self.console.print(i18n.t("no_output_yet", self.lang))
            return
        lines = self.last.output.rstrip("\n").splitlines()
        self.console.rule(i18n.t("output_title", self.lang, kata=self.last.kata, lines=len(lines)))
        if len(lines) > OUTPUT_LINES:
            self.console.print(f"[dim]{i18n.t('output_cut', self.lang, n=len(lines) - OUTPUT_LINES)}[/dim]")
        self.console.print("\n".join(lines[-OUTPUT_LINES:]), markup=False, highlight=False)
        self.console.rule()

    def start_run_all(self) -> None:
        """Every kata not done yet, on every start method, in the background: as many at once
        as there are usable CPUs, each a cold run of its own (the warm runner stays for the
        learner's saves, which go first: no new kata starts while a check of theirs runs).
        Each verdict arrives as an event; a second ``a`` stops it and kills the runs."""
        todo = [k for k in (self.manifest.katas if self.manifest else []) if k.name not in self.state.done]
        if not todo:
            return
        cancel = self.run_all = threading.Event()
        jobs = max(1, min(len(todo), procs.usable_cpus()))
        self.console.print(i18n.t("run_all_started", self.lang, n=len(todo), jobs=jobs))
        checker = learn.Checker(self.root, warm=False, lang=self.lang)

        def one(kata):
            while self.checking and not cancel.is_set():  # the learner's save goes ahead
                cancel.wait(0.05)
            if cancel.is_set():
                return None
            return checker.run(kata, learn.available_methods(), cancel=cancel)

        def work():
            from concurrent.futures import ThreadPoolExecutor, as_completed

            done = 0
            try:
                with ThreadPoolExecutor(jobs, thread_name_prefix="dojo-run-all") as pool:
                    futures = [pool.submit(one, k) for k in todo]
                    for future in as_completed(futures):
                        verdict = future.result()
                        if verdict is not None and not cancel.is_set():
                            done += 1
                            self.events.put(("run_all_one", (verdict, done, len(todo))))
            except Exception as exc:  # a bug of ours must not end the learner's loop
                self.events.put(("error", f"{type(exc).__name__}: {exc}"))
            self.events.put(("run_all_done", (cancel.is_set(), done, len(todo))))

        threading.Thread(target=work, name="dojo-run-all", daemon=True).start()

    def next_unsolved(self, after: str | None) -> str | None:
        names = self.manifest.names() if self.manifest else []
        start = names.index(after) + 1 if after in names else 0
        for name in names[start:] + names[:start]:
            if name not in self.state.done:
                return name
        return None

    def pick_from_list(self) -> None:
        self.show_board()
        names = self.manifest.names() if self.manifest else []
        self.console.print(" ".join(f"[bold]{i + 1}[/bold]:{n}" for i, n in enumerate(names)))
        self.console.print("# + Enter:", end=" ")
        digits = ""
        while True:
            kind, value = self.events.get()
            if kind != "key":
                self.events.put((kind, value))
                continue
            if value in ("\n", "\r"):
                break
            if value.isdigit():
                digits += value
                self.console.print(value, end="")
        self.console.print()
        if digits and 1 <= int(digits) <= len(names):
            self.move_to(names[int(digits) - 1])

    def reset_current(self) -> None:
        if not self.current:
            return
        try:
            backup = state_mod.reset(self.root, self.current)
        except FileNotFoundError:
            self.console.print(i18n.t("reset_no_pristine", self.lang, kata=self.current))
            return
        rel = backup.relative_to(self.root)
        self.console.print(i18n.t("reset_done", self.lang, path=f"katas/{self.current}.py", backup=rel, kata=self.current))

    # --- the loop ---------------------------------------------------------------------
    def run(self) -> int:
        procs.set_subreaper()  # a run's setsid() escapees come back to us, to be killed
        if self.state.recovered:
            self.console.print(f"[yellow]{i18n.t('state_recovered', self.lang, error=self.state.recovered)}[/yellow]")
        self.load_manifest()
        if self.manifest:
            state_mod.snapshot_pristine(self.root, self.manifest.names())
        threading.Thread(target=self._keys, daemon=True).start()
        if not self.manual:
            threading.Thread(target=self._watch, daemon=True).start()
            threading.Thread(target=self._poll, daemon=True).start()
        first = self.state.current if self.state.current and self.state.current not in self.state.done else None
        self.move_to(first or (self.state.first_unsolved(self.manifest.names()) if self.manifest else None))
        pending = None
        try:
            while True:
                kind, value = self.events.get()
                if kind == "key":
                    if value == "q":
                        break
                    self.on_key(value)
                elif kind == "changed":
                    if any(p.name == "katas.toml" for p in value):
                        if self.load_manifest() and self.current:
                            self.start_check(self.current)
                        continue
                    if self.current and (self.root / "katas" / f"{self.current}.py").resolve() in value:
                        if self.checking:
                            pending = self.current
                        else:
                            self.start_check(self.current)
                elif kind == "stage":
                    kata_name, method = value
                    self.console.print(f"[green]{i18n.t('passed_quick', self.lang, kata=kata_name, method=method)}[/green]")
                elif kind == "progress":
                    if self.checking:  # one line, updated in place: not a new line a second
                        reported, seconds = value
                        text = i18n.t("still_running", self.lang, reported=reported, seconds=f"{seconds:.0f}").strip()
                        if self.status is None:
                            self.status = self.console.status(text)
                            self.status.start()
                        else:
                            self.status.update(text)
                elif kind == "verdict":
                    self._end_status()
                    self.show_verdict(value)
                    if pending:
                        pending, name = None, pending
                        self.start_check(name)
                elif kind == "error":
                    self._end_status()
                    self.checking = False
                    self.console.print(f"[red]{value}[/red]")
                elif kind == "recheck":  # asked for while a check ran: once it is over
                    if self.checking:
                        pending = value
                    else:
                        self.start_check(value)
                elif kind == "run_all_one":
                    verdict, done, total = value
                    mark = "[green]✓[/green]" if verdict.passed else "[red]✗[/red]"
                    self.console.print(f"{mark} {verdict.kata}  [dim]({done}/{total})[/dim]")
                    if verdict.passed:
                        self.state.mark_done(verdict.kata)
                        self.state.save()
                elif kind == "run_all_done":
                    stopped, done, total = value
                    self.run_all = None
                    key = "run_all_stopped" if stopped else "run_all_finished"
                    self.console.print(i18n.t(key, self.lang, done=done, total=total))
                    self.show_board()
                elif kind == "notice":
                    self.console.print(f"[yellow]{value}[/yellow]")
        finally:
            self._end_status()
            self.stop.set()
            if self.run_all is not None:
                self.run_all.set()
            self.checker.close()
            # A run still in flight (its own session) must not outlive the controller, nor
            # what its resource tracker, killed with it, had still to unlink.
            procs.kill_descendants(grace=0.2)
            from dojo.doctor import remove_kit_leftovers

            remove_kit_leftovers(self.root)
        return 0

    def on_key(self, key: str) -> None:
        if key in ("c", "\n", "\r") and self.current:  # check now (the only way in --manual)
            self.start_check(self.current)  # queued as a recheck if one is running
        elif key == "o":
            self.show_output()
        elif key == "h":
            self.hint()
        elif key == "n":
            self.move_to(self.next_unsolved(self.current))
        elif key == "l":
            self.pick_from_list()
        elif key == "a":
            if self.run_all is not None:  # a second a stops it
                self.run_all.set()
                self.console.print(f"[yellow]{i18n.t('run_all_stopping', self.lang)}[/yellow]")
            else:
                self.start_run_all()
        elif key == "r":
            self.reset_current()
        elif key == "s" and self.current:
            from rich.syntax import Syntax

            self.console.print(Syntax(learn.solution_diff(self.root, self.current), "diff"))
