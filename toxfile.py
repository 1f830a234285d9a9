"""tox's inline plugin: tox finds every Python this machine has, pyenv's included.

tox looks for interpreters on PATH (``python3.10``, ``python3.12`` ...). pyenv's shims
answer only for the versions selected in the shell and refuse the others, so ``tox``
used to test one Python where four were installed. Loaded by tox itself (it reads
``toxfile.py`` beside ``tox.ini``), this puts the bin folder of the newest installed
pyenv version of each supported minor first on PATH, before tox looks. Nothing else
changes: a Python that is not installed is still skipped
(``skip_missing_interpreters``), and a machine without pyenv is left as it was.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

MINORS = range(10, 15)  # 3.10 ... 3.14, as tox.ini's env_list


def pyenv_bins(root: Path | None = None) -> list[str]:
    """The bin folder of the newest pyenv-installed 3.<minor>.<patch> of each minor
    (free-threaded ``t`` builds and pyenv's virtualenvs are not version folders)."""
    root = root or Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions = root / "pyenv-win" / "versions" if sys.platform == "win32" else root / "versions"
    newest: dict[int, tuple] = {}
    try:
        entries = list(versions.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = re.fullmatch(r"3\.(\d+)\.(\d+)", entry.name)
        if not match or int(match[1]) not in MINORS:
            continue
        minor, patch = int(match[1]), int(match[2])
        folder = entry if sys.platform == "win32" else entry / "bin"
        exe = folder / ("python.exe" if sys.platform == "win32" else f"python3.{minor}")
        if exe.exists() and patch >= newest.get(minor, (-1, None))[0]:
            newest[minor] = (patch, str(folder))
    return [newest[m][1] for m in sorted(newest)]


def with_pyenv(path: str, root: Path | None = None) -> str:
    """``path`` with the pyenv bin folders first (each once)."""
    bins = pyenv_bins(root)
    rest = [p for p in path.split(os.pathsep) if p and p not in bins]
    return os.pathsep.join(bins + rest)


os.environ["PATH"] = with_pyenv(os.environ.get("PATH", ""))
