"""Key presses as the loop reads them (dojo/system.py's Keys): characters, and the keys
that are not characters by name, from the bytes a POSIX terminal sends and from the codes
Windows' msvcrt gives."""

from __future__ import annotations

import os
import sys
import types

import pytest

from dojo import system

CASES = [
    ("arrows as terminals send them", b"\x1b[A\x1b[B\x1bOA\x1bOB", ["up", "down", "up", "down"]),
    ("paging keys", b"\x1b[5~\x1b[6~\x1b[H\x1b[F", ["pageup", "pagedown", "home", "end"]),
    ("Enter, Backspace and a letter", b"\r\n\x7fa", ["enter", "enter", "backspace", "a"]),
    ("Esc alone", b"\x1b", ["esc"]),
    ("Esc, then a letter typed at once", b"\x1bq", ["esc", "q"]),
    ("a key dojo does not use, with nothing left over", b"\x1b[1;5Ax", [None, "x"]),
    ("a Korean syllable and an accented letter", "한é".encode(), ["한", "é"]),
]


@pytest.mark.skipif(system.WINDOWS, reason="the POSIX path reads a file descriptor")
@pytest.mark.parametrize("sent, expected", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_posix_bytes_become_the_keys_pressed(sent, expected):
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, sent)
        keys = system.Keys()
        keys._fd, keys._pending, keys._old = read_end, "", None
        got = [keys.read(0.2) for _ in expected]
        assert got == expected, f"the bytes {sent!r} must read as {expected}, not {got}"
        assert keys.read(0.05) is None, f"after {sent!r} nothing may be left to read"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_windows_codes_become_the_same_keys(monkeypatch):
    """msvcrt gives an arrow as two characters, a prefix and a code: the same names come out."""
    pressed = list("\xe0H\x00P\xe0I\r\x08\x1bq")
    fake = types.SimpleNamespace(kbhit=lambda: bool(pressed), getwch=lambda: pressed.pop(0))
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(system, "WINDOWS", True)
    keys = system.Keys()
    keys._pending, keys._old = "", None
    got = [keys.read(0.1) for _ in range(7)]
    assert got == ["up", "down", "pageup", "enter", "backspace", "esc", "q"], got
    assert keys.read(0.05) is None
