"""``dojo`` in a terminal: one screen, redrawn whole on every change (like rustlings).

    keys thread ──┐                       ┌── check in a worker thread (warm runner)
    watch thread ─┼─> events queue ─> loop┤
    check thread ─┘                       └── redraw: header, page, keys (rich)
The header holds the progress bar and the current kata; the page, the last verdict with
any hints asked for (or, by mode: the kata list, the last output, the solution). A save is
debounced by watchfiles; a save or a move during a check cancels it (its tree is killed)
and the new check runs as soon as it is gone.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from rich.text import Text

from dojo import i18n, learn, manifest, procs, state as state_mod, system

POLL_STEP = 0.5  # seconds between looks at the current kata's modification time
POLL_GRACE = 1.5  # a save with no file event this long after it: events do not arrive here
# An editor's save is one rename or a truncate and a write: 10 ms without a new change
# ends the group, and no group is held longer than 40 ms (a save's verdict is due in 0.2 s).
DEBOUNCE_MS = 40
STEP_MS = 10
OUTPUT_LINES = 400  # o shows the end of the last check's output, at most this many lines


def _leave(signum, frame) -> None:
    raise KeyboardInterrupt


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
        # A check's start methods side by side, one warm runner per usable CPU.
        self.checker = learn.Checker(root, warm=True, lang=self.lang, lanes=procs.usable_cpus())
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
        self.status = None  # rich's live "running" line while a check runs
        self.status_text = ""
        self.last_event = 0.0
        self.mtimes: dict[Path, int] = {}  # the poller's last look at each kata's file
        # What the screen shows (redraw() draws it whole once an event is handled).
        self.mode = "kata"  # kata | list | output | solution
        self.page: list = []  # the current kata's last verdict, or what stands for it
        self.hints: list = []  # the hints asked for on the current kata
        self.notices: list = []  # the last few things said in passing (a reset, a fallback)
        self.run_all_lines: list = []  # the background run of every kata: its title and marks
        self.view: list = []  # what the output or solution mode shows
        self.cursor = 0  # the list's highlighted row
        self.query = ""  # what was typed in the list
        self.scroll: int | None = None  # the page's first line shown; None: where the mode opens
        self.room = 10  # how many lines of the page the last redraw had room for
        self.dirty = True
        # The check in flight: its number and its cancel event; the kata to check next.
        self.check_id = 0
        self.cancel: threading.Event | None = None
        self.pending: str | None = None

    # --- events ---------------------------------------------------------------------
    def _keys(self) -> None:
        with system.Keys() as keys:  # the platform layer: termios, or msvcrt on Windows
            while not self.stop.is_set():
                key = keys.read(0.2)
                if key:
                    self.events.put(("key", key))

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

    # --- the screen -----------------------------------------------------------------
    def say(self, *things) -> None:
        """Put on the current kata's page (shown from the next redraw on)."""
        self.page.extend(things)
        self.dirty = True

    def notice(self, text: str, style: str = "yellow") -> None:
        """Something said in passing; the last three stay on screen until the next kata."""
        self.notices = [*self.notices[-2:], f"[{style}]{text}[/{style}]"]
        self.dirty = True

    def show(self, mode: str, *view) -> None:
        self.mode, self.view, self.scroll, self.dirty = mode, list(view), None, True

    def redraw(self) -> None:
        """Draw the whole screen again: header, the mode's page, the keys. The live
        "running" line comes back underneath while a check runs. A page taller than the
        terminal is shown a window at a time (the arrow keys scroll it), so the header
        and the keys stay in sight."""
        if not self.dirty:
            return
        self.dirty = False
        self._end_status()
        out = self.console
        top = [learn.header(self.manifest, self.state, self.current, self.lang), ""] if self.manifest else [""]
        if self.mode == "list" and self.manifest:
            self.cursor = max(0, min(self.cursor, len(learn.matching(self.manifest, self.query)) - 1))
            page = [learn.kata_list(self.manifest, self.state, self.current, self.cursor, self.query, self.lang)]
            keys = f"[dim]{i18n.t('list_keys', self.lang)}[/dim]"
        elif self.mode in ("output", "solution"):
            page = [Text(thing) if isinstance(thing, str) else thing for thing in self.view]
            keys = f"[dim]{i18n.t('view_back', self.lang, kata=self.current or '')}[/dim]"
        else:
            page = [*self.run_all_lines, *self.notices, *self.page, *self.hints]
            keys = self._keys_line()
        out.clear()
        self._draw(top, page, ["", keys])
        if self.checking:
            self._start_status()

    def _draw(self, top: list, page: list, bottom: list) -> None:
        from rich.console import Group
        from rich.segment import SegmentLines

        out = self.console
        options = out.options.update(height=None)
        render = lambda things: out.render_lines(Group(*things), options, pad=False) if things else []  # noqa: E731
        top_lines, page_lines, bottom_lines = render(top), render(page), render(bottom)
        # The room left for the page: the terminal, less the header, the keys, the live
        # "running" line and the line that says where the window is.
        room = out.size.height - len(top_lines) - len(bottom_lines) - 2
        self.room = max(1, room)
        fits = len(page_lines) <= room + 1 or room < 3
        if fits:
            self.scroll = 0
            window = page_lines
        else:
            last = len(page_lines) - room
            if self.scroll is None:  # the output view opens at its end, where a run ends
                self.scroll = last if self.mode == "output" else 0
            if self.mode == "list":  # the highlighted row stays in the window
                row = next((i for i, line in enumerate(page_lines)
                            if "".join(seg.text for seg in line).lstrip().startswith("›")), 0)
                self.scroll = min(max(self.scroll, row - room + 1), row)
            self.scroll = max(0, min(self.scroll, last))
            window = page_lines[self.scroll:self.scroll + room]
        out.print(SegmentLines(top_lines + window, new_lines=True), end="")
        if not fits:
            first, shown = self.scroll + 1, self.scroll + len(window)
            out.print(f"[dim]{i18n.t('scroll_position', self.lang, first=first, last=shown, total=len(page_lines))}[/dim]")
        out.print(SegmentLines(bottom_lines, new_lines=True), end="")

    def scroll_key(self, key: str) -> bool:
        """↑/↓, PgUp/PgDn, Home/End move the window over a page taller than the terminal."""
        page = max(1, self.room - 1)  # a page's worth, less one line kept in sight
        moves = {"up": -1, "down": 1, "pageup": -page, "pagedown": page, "home": -10**9, "end": 10**9}
        if key not in moves:
            return False
        self.scroll = max(0, (self.scroll or 0) + moves[key])
        self.dirty = True
        return True

    def _keys_line(self) -> str:
        if not self.current:
            return i18n.t("keys_no_kata", self.lang)
        return i18n.t("manual_mode" if self.manual else "watching", self.lang, path=f"katas/{self.current}.py")

    def _start_status(self) -> None:
        if self.status is None and self.status_text:
            self.status = self.console.status(self.status_text)
            self.status.start()

    def _end_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def _set_status(self, text: str) -> None:
        self.status_text = text
        if self.status is not None:
            self.status.update(text)
        else:
            self._start_status()

    # --- actions --------------------------------------------------------------------
    def load_manifest(self) -> bool:
        try:
            self.manifest = manifest.load(self.root / "katas.toml")
            return True
        except manifest.ManifestError as exc:
            self.manifest = None
            self.notice(i18n.t("manifest_broken", self.lang, error=exc), "red")
            return False

    def start_check(self, kata_name: str, all_methods: bool = False) -> None:
        if self.manifest is None:
            return
        if self.checking:  # once the check in flight is over (or killed)
            self.pending = kata_name
            return
        try:
            kata = self.manifest.get(kata_name)
        except KeyError:
            return
        self.checking = True
        self.check_id += 1
        check_id, cancel = self.check_id, threading.Event()
        self.cancel = cancel
        methods = learn.available_methods() if all_methods or not kata.processes else [learn.quick_method(kata)]
        self._set_status(i18n.t("running", self.lang, kata=kata.name, methods=", ".join(methods)))

        def progress(cells, seconds):
            # A long run (a hang on its way to its timeout, a slow spawn) shows it is alive.
            if seconds >= 1.5:
                self.events.put(("progress", (check_id, len([c for c in cells if c.outcome != "crashed"]), seconds)))

        def work():
            try:
                if all_methods:
                    verdict = self.checker.run(kata, learn.available_methods(), progress=progress, cancel=cancel)
                else:
                    verdict = self.checker.check(
                        kata,
                        on_stage=lambda m: self.events.put(("stage", (check_id, kata.name, m))),
                        progress=progress,
                        cancel=cancel,
                    )
                self.events.put(("verdict", (check_id, verdict)))
                if not cancel.is_set():  # the next save's quick check, made ready meanwhile
                    self.checker.prepare(kata)
            except Exception as exc:  # a bug of ours must not end the learner's loop
                self.events.put(("error", (check_id, f"{type(exc).__name__}: {exc}")))

        threading.Thread(target=work, daemon=True).start()

    def cancel_check(self) -> None:
        """The check in flight is of no use any more (a newer save, another kata): kill its
        run now. Its verdict, when it comes, is dropped, and the pending check starts."""
        if self.checking and self.cancel is not None and not self.cancel.is_set():
            self.cancel.set()

    def check_over(self, check_id: int) -> bool:
        """Book the end of a check; False when it was cancelled (or is not the latest)."""
        if check_id != self.check_id:
            return False
        self.checking = False
        self.status_text = ""
        self._end_status()
        self.dirty = True
        wanted = self.cancel is None or not self.cancel.is_set()
        if self.pending:
            name, self.pending = self.pending, None
            self.start_check(name)
        return wanted

    def show_verdict(self, verdict: learn.Verdict) -> None:
        self.last = verdict
        self.page, self.scroll = [], None
        if verdict.passed and verdict.stage == "matrix":
            self.state.mark_done(verdict.kata)
            self.state.save()
            self.done_current = True
            self.say(
                learn.matrix(verdict, self.lang),
                f"[green]{i18n.t('kata_done', self.lang, kata=verdict.kata, methods=', '.join(verdict.methods))}[/green]",
                i18n.t("compare_solution", self.lang, path=f"solutions/{verdict.kata}.py"),
                i18n.t("next_prompt", self.lang),
            )
            return
        if verdict.stage == "matrix":
            self.say(learn.matrix(verdict, self.lang))
        self.say(learn.failure_panel(verdict, self.lang))

    def hint(self) -> None:
        if not self.manifest or not self.current:
            return
        kata = self.manifest.get(self.current)
        level = self.state.hints.get(kata.name, 0) + 1
        if level > len(kata.hints):
            self.notice(i18n.t("no_more_hints", self.lang, kata=kata.name, path=f"solutions/{kata.name}.py"))
            return
        self.state.hints[kata.name] = level
        self.state.save()
        self.hints.append(f"[cyan]{i18n.t('hint_header', self.lang, level=level, total=len(kata.hints), kata=kata.name)}[/cyan]")
        self.hints.append(Text(i18n.pick(kata.hints[level - 1], self.lang)))
        for note in kata.notes_here():  # what differs for this kata on this system
            self.hints.append(f"[yellow]{i18n.t('system_note', self.lang)}[/yellow]")
            self.hints.append(Text(i18n.pick(note, self.lang)))
        self.dirty = True

    def move_to(self, name: str | None) -> None:
        self.cancel_check()  # a check in flight (of the kata left behind) is of no use
        self.current = name
        self.done_current = False
        self.state.current = name
        self.mode, self.page, self.hints, self.notices, self.scroll, self.dirty = "kata", [], [], [], None, True
        if name is not None and (mtime := _mtime(self._kata_path(name))) is not None:
            self.mtimes[self._kata_path(name)] = mtime
        self.state.save()
        if name is None:
            self.say(f"[green]{i18n.t('all_done', self.lang)}[/green]")
            return
        if not (self.root / "katas" / f"{name}.py").exists():
            self.say(f"[red]{i18n.t('file_missing_watch', self.lang, path=f'katas/{name}.py')}[/red]")
            return
        self.start_check(name)

    def show_output(self) -> None:
        """The last check's full output (its last OUTPUT_LINES lines): the learner's prints,
        pytest's report with tracebacks, what the children wrote to stderr."""
        if self.last is None:
            self.notice(i18n.t("no_output_yet", self.lang))
            return
        from rich.rule import Rule

        lines = self.last.output.rstrip("\n").splitlines()
        view = [Rule(i18n.t("output_title", self.lang, kata=self.last.kata, lines=len(lines)))]
        if len(lines) > OUTPUT_LINES:
            view.append(Text(i18n.t("output_cut", self.lang, n=len(lines) - OUTPUT_LINES), style="dim"))
        view += ["\n".join(lines[-OUTPUT_LINES:]), Rule()]
        self.show("output", *view)

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
        self.run_all_lines = [i18n.t("run_all_started", self.lang, n=len(todo), jobs=jobs), ""]
        self.dirty = True
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
                self.events.put(("error", (None, f"{type(exc).__name__}: {exc}")))
            self.events.put(("run_all_done", (cancel.is_set(), done, len(todo))))

        threading.Thread(target=work, name="dojo-run-all", daemon=True).start()

    def first_kata(self) -> str | None:
        """Where the learner left off, else the first kata not done yet."""
        names = self.manifest.names() if self.manifest else []
        if self.state.current in names and self.state.current not in self.state.done:
            return self.state.current
        return self.state.first_unsolved(names) if names else None

    def next_unsolved(self, after: str | None) -> str | None:
        names = self.manifest.names() if self.manifest else []
        start = names.index(after) + 1 if after in names else 0
        for name in names[start:] + names[:start]:
            if name not in self.state.done:
                return name
        return None

    def open_list(self) -> None:
        names = self.manifest.names() if self.manifest else []
        self.query = ""
        self.cursor = names.index(self.current) if self.current in names else 0
        self.show("list")

    def list_key(self, key: str) -> None:
        """A key in the list: arrows move, letters search, Enter opens, Esc clears the
        search, then goes back. The highlighted kata stays highlighted while it is shown."""
        shown = learn.matching(self.manifest, self.query) if self.manifest else []
        chosen = shown[self.cursor].name if 0 <= self.cursor < len(shown) else self.current
        moves = {"up": -1, "down": 1, "pageup": -10, "pagedown": 10, "home": -len(shown), "end": len(shown)}
        if key in moves:
            self.cursor = max(0, min(self.cursor + moves[key], len(shown) - 1))
        elif key == "enter":
            if shown:
                self.move_to(shown[self.cursor].name)
        elif key == "esc" and not self.query:
            self.mode, self.scroll = "kata", None
        elif key in ("esc", "backspace") or (len(key) == 1 and key.isprintable()):
            self.query = "" if key == "esc" else self.query[:-1] if key == "backspace" else self.query + key
            names = [k.name for k in learn.matching(self.manifest, self.query)] if self.manifest else []
            self.cursor = names.index(chosen) if chosen in names else 0
        self.dirty = True

    def reset_current(self) -> None:
        if not self.current:
            return
        try:
            backup = state_mod.reset(self.root, self.current)
        except FileNotFoundError:
            self.notice(i18n.t("reset_no_pristine", self.lang, kata=self.current))
            return
        rel = backup.relative_to(self.root)
        self.notice(i18n.t("reset_done", self.lang, path=f"katas/{self.current}.py", backup=rel, kata=self.current))

    # --- the loop ---------------------------------------------------------------------
    def run(self) -> int:
        procs.set_subreaper()  # a run's setsid() escapees come back to us, to be killed
        if threading.current_thread() is threading.main_thread():
            # A closed terminal (SIGHUP) or a kill (SIGTERM) leaves like q, through the
            # cleanup below: else the runs' folders and segments would outlive the loop.
            system.on_quit_signals(_leave)
        if self.state.recovered:
            self.notice(i18n.t("state_recovered", self.lang, error=self.state.recovered))
        self.load_manifest()
        if self.manifest:
            state_mod.snapshot_pristine(self.root, self.manifest.names())
        self.checker.warm_up()
        keys = threading.Thread(target=self._keys, name="dojo-keys", daemon=True)
        keys.start()
        if not self.manual:
            threading.Thread(target=self._watch, daemon=True).start()
            threading.Thread(target=self._poll, daemon=True).start()
        notices = self.notices
        if self.manifest:
            self.move_to(self.first_kata())
        self.notices = notices + self.notices  # what was said before the first kata stays
        try:
            while True:
                self.redraw()
                kind, value = self.events.get()
                if kind == "key":
                    if self.on_key(value) == "quit":
                        break
                elif kind == "changed":
                    if any(p.name == "katas.toml" for p in value):
                        if self.load_manifest():
                            self.dirty = True
                            if self.current in self.manifest.names():
                                self.start_check(self.current)
                            else:
                                self.move_to(self.first_kata())
                        continue
                    if self.current and self._kata_path(self.current) in value:
                        self.cancel_check()  # a check of the code before this save is of no use
                        self.start_check(self.current)
                elif kind == "stage":
                    check_id, kata_name, method = value
                    if check_id == self.check_id and not self.cancel.is_set():
                        self.page = [f"[green]{i18n.t('passed_quick', self.lang, kata=kata_name, method=method)}[/green]"]
                        self.dirty = True
                        self._set_status(i18n.t("running", self.lang, kata=kata_name,
                                                methods=", ".join(learn.available_methods())))
                elif kind == "progress":
                    check_id, reported, seconds = value
                    if check_id == self.check_id and self.checking:  # one line, updated in place
                        base = self.status_text.split("  …")[0]
                        self._set_status(base + i18n.t("still_running", self.lang, reported=reported,
                                                       seconds=f"{seconds:.0f}"))
                elif kind == "verdict":
                    check_id, verdict = value
                    if self.check_over(check_id) and verdict.kata == self.current:
                        self.show_verdict(verdict)
                elif kind == "error":
                    check_id, text = value
                    if check_id is None or self.check_over(check_id):
                        self.notice(text, "red")
                elif kind == "run_all_one":
                    verdict, done, total = value
                    mark = "[green]✓[/green]" if verdict.passed else "[red]✗[/red]"
                    marks = self.run_all_lines[1] if len(self.run_all_lines) > 1 else ""
                    self.run_all_lines[1:] = [f"{marks}{mark} {verdict.kata}  ", f"[dim]{done}/{total}[/dim]"]
                    if verdict.passed:
                        self.state.mark_done(verdict.kata)
                        self.state.save()
                    self.dirty = True
                elif kind == "run_all_done":
                    stopped, done, total = value
                    self.run_all = None
                    key = "run_all_stopped" if stopped else "run_all_finished"
                    self.run_all_lines[0] = i18n.t(key, self.lang, done=done, total=total)
                    self.run_all_lines[2:] = []
                    self.dirty = True
                elif kind == "notice":
                    self.notice(value)
        except KeyboardInterrupt:  # Ctrl-C, a closed terminal, SIGTERM: the same way out as q
            pass
        finally:
            try:
                self._end_status()
            except OSError:  # the terminal is gone
                pass
            self.stop.set()
            keys.join(timeout=1)  # the terminal back as it was
            if self.run_all is not None:
                self.run_all.set()
            self.checker.close()
            # A run still in flight (its own session) must not outlive the controller, nor
            # what its resource tracker, killed with it, had still to unlink.
            procs.kill_descendants(grace=0.2)
            from dojo import runner
            from dojo.doctor import remove_kit_leftovers

            remove_kit_leftovers(self.root)
            runner.remove_stale_run_folders(self.root)  # also those of an earlier dojo that was killed
        return 0

    def on_key(self, key: str) -> str | None:
        if self.mode == "list":
            self.list_key(key)
            return None
        key = key.lower() if len(key) == 1 else key
        if key == "q":
            return "quit"
        if self.scroll_key(key):
            return None
        if self.mode != "kata":  # the output or the solution: Esc or its own key goes back,
            opened_by = self.mode[0]  # any other key goes back and acts
            self.mode, self.scroll, self.dirty = "kata", None, True
            if key in ("esc", opened_by):
                return None
        if key in ("c", "enter") and self.current:  # check now (the only way in --manual)
            self.start_check(self.current)  # queued if one is running
        elif key == "o":
            self.show_output()
        elif key == "h":
            self.hint()
        elif key == "n":
            self.move_to(self.next_unsolved(self.current))
        elif key == "l":
            self.open_list()
        elif key == "a":
            if self.run_all is not None:  # a second a stops it
                self.run_all.set()
                self.notice(i18n.t("run_all_stopping", self.lang))
            else:
                self.start_run_all()
        elif key == "r":
            self.reset_current()
        elif key == "s" and self.current:
            from rich.syntax import Syntax

            self.show("solution", Syntax(learn.solution_diff(self.root, self.current), "diff"))
        return None
