"""tox's inline plugin: tox finds every Python this machine has, pyenv's included, and
ends with one table, kata x Python.

tox looks for interpreters on PATH (``python3.10``, ``python3.12`` ...). pyenv's shims
answer only for the versions selected in the shell and refuse the others, so ``tox``
used to test one Python where four were installed. Loaded by tox itself (it reads
``toxfile.py`` beside ``tox.ini``), this puts the bin folder of the newest installed
pyenv version of each supported minor first on PATH, before tox looks. Nothing else
changes: a Python that is not installed is still skipped
(``skip_missing_interpreters``), and a machine without pyenv is left as it was.

The table: each Python's run of the kit (the dojo plugin, told where by tox.ini's
``DOJO_TOX_SUMMARY``) leaves its column in ``<work_dir>/dojo-summary``; when tox exits,
after its own lines, this prints the columns this tox invocation wrote, with the first
failure of each Python. The texts come from the plugin, in the learner's language.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import sys
import time
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


# --- the closing table ---------------------------------------------------------------

STARTED = time.time()  # columns written before this tox invocation are not its own
_work_dir = [Path(__file__).resolve().parent / ".tox"]


def summary_rows(folder: Path, since: float = 0.0) -> list[dict]:
    """The columns written to ``folder`` since ``since``, oldest Python first."""
    rows = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            if path.stat().st_mtime < since:
                continue
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(rows, key=lambda r: tuple(int(x) for x in re.findall(r"\d+", r.get("python", ""))[:3]))


def render(rows: list[dict]) -> str:
    """Kata x Python, then each Python's first failure (or that all passed)."""
    if not rows:
        return ""
    katas: list[str] = []
    for row in rows:
        katas += [k for k in row["katas"] if k not in katas]
    heads = [row["python"] for row in rows]
    cells = [[row["cells"].get(k, ["", False])[0] for row in rows] for k in katas]
    first = max([len(rows[0]["kata"])] + [len(k) for k in katas]) + 2
    widths = [max([len(h)] + [len(c[i]) for c in cells]) + 2 for i, h in enumerate(heads)]
    lines = [rows[-1]["title"], rows[-1]["kata"].ljust(first) + "".join(h.ljust(w) for h, w in zip(heads, widths))]
    for kata, row in zip(katas, cells):
        lines.append(kata.ljust(first) + "".join(c.ljust(w) for c, w in zip(row, widths)))
    failures = [f"  {row['python']}: {row['first']}" for row in rows if row.get("first")]
    lines += failures or [rows[-1]["all_passed"]]
    return "\n".join(line.rstrip() for line in lines)


def _print_summary() -> None:
    text = render(summary_rows(_work_dir[0] / "dojo-summary", STARTED))
    if text:
        print("\n" + text, flush=True)


try:
    from tox.plugin import impl
except ImportError:  # imported outside tox (dojo's own tests)
    impl = None

if impl is not None:

    @impl
    def tox_add_core_config(core_conf, state) -> None:
        try:
            _work_dir[0] = Path(core_conf["work_dir"])
        except Exception:  # noqa: BLE001 - the default .tox beside this file stays
            pass

    atexit.register(_print_summary)
