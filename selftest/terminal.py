"""dojo in a real terminal, read the way a learner sees it.

``Terminal`` runs ``python -m dojo`` in a pty (pexpect) and feeds everything it writes to
a pyte screen, so a test asserts on what is on the screen now (after the redraws, the
cursor moves and the clears), not on escape sequences or on text that scrolled past.
"""

from __future__ import annotations

import os
import sys
import time

import pexpect
import pyte

ROWS, COLS = 50, 200

KEYS = {"up": "\x1b[A", "down": "\x1b[B", "enter": "\r", "esc": "\x1b", "backspace": "\x7f",
        "home": "\x1b[H", "end": "\x1b[F", "pageup": "\x1b[5~", "pagedown": "\x1b[6~"}


class Terminal:
    def __init__(self, kit, *args, lang: str = "en", tmpdir=None, env: dict | None = None, rows: int = ROWS,
                 cols: int = COLS):
        full_env = {**os.environ, "DOJO_LANG": lang, "TERM": "xterm", "COLUMNS": str(cols), "LINES": str(rows),
                    **(env or {})}
        full_env.pop("NO_COLOR", None)
        if tmpdir is not None:
            full_env["TMPDIR"] = str(tmpdir)
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.Stream(self.screen)
        self.child = pexpect.spawn(sys.executable, ["-m", "dojo", *args], cwd=str(kit), env=full_env,
                                   encoding="utf-8", timeout=60, dimensions=(rows, cols))
        self.transcript = []  # everything written, for a failing test's message

    def _pump(self, wait: float) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            raise
        self.transcript.append(data)
        self.stream.feed(data)

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, *needles: str, gone: tuple = (), timeout: float = 60) -> str:
        """Until every needle is on the screen at once (and none of ``gone`` is): the
        screen's text. A failure shows the screen as it was."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text
            if all(n in text for n in needles) and not any(g in text for g in gone):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout} s for {needles} (and {gone} gone); the screen:\n{text}")
            try:
                self._pump(0.1)
            except pexpect.EOF:
                raise AssertionError(f"dojo ended while waiting for {needles}; the screen:\n{self.text}")

    def press(self, *keys: str) -> None:
        for key in keys:
            self.child.send(KEYS.get(key, key))
            time.sleep(0.05)  # one read per key, as a person types (an arrow is one escape sequence)

    def quit(self, timeout: float = 30) -> int | None:
        """Esc twice (out of a list or a view), then q: dojo's exit status."""
        self.press("esc", "esc", "q")
        self.wait_end(timeout)
        return self.child.exitstatus

    def wait_end(self, timeout: float = 30) -> None:
        """Read the screen until dojo has ended (or ``timeout`` passed), then close."""
        deadline = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < deadline:
            try:
                self._pump(0.1)
            except pexpect.EOF:
                break
        self.close()

    def close(self) -> None:
        if self.child.closed:
            return
        try:
            self.child.close(force=True)
        except pexpect.ExceptionPexpect:  # already reaped (the test's own leak check waits for children)
            pass
