"""toxfile.py: tox finds every pyenv-installed Python, not only the ones pyenv selected."""

import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_toxfile(monkeypatch, path: str):
    monkeypatch.setenv("PATH", path)
    spec = importlib.util.spec_from_file_location("toxfile_under_test", ROOT / "toxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # what tox does when it loads its inline plugin
    return module


def fake_pyenv(root: Path, versions: dict) -> Path:
    for version, exe in versions.items():
        folder = root / "versions" / version / "bin"
        folder.mkdir(parents=True)
        if exe:
            (folder / exe).write_text("#!/bin/sh\n")
            (folder / exe).chmod(0o755)
    return root


def test_the_newest_install_of_each_minor_goes_first_on_path(tmp_path, monkeypatch):
    root = fake_pyenv(tmp_path / "pyenv", {
        "3.10.2": "python3.10", "3.10.13": "python3.10",  # the newest patch wins, by number not by text
        "3.12.1": "python3.12",
        "3.13.0t": "python3.13t",  # free-threaded: not a version folder tox should pick by name
        "3.9.18": "python3.9",  # older than the kit supports
        "3.11.7": None,  # a broken install without its interpreter
        "3.13.0": "python3.13",
    })
    monkeypatch.setenv("PYENV_ROOT", str(root))
    shims = "/home/me/.pyenv/shims"
    toxfile = load_toxfile(monkeypatch, os.pathsep.join([shims, "/usr/bin"]))
    bins = [str(root / "versions" / v / "bin") for v in ("3.10.13", "3.12.1", "3.13.0")]
    assert toxfile.pyenv_bins() == bins
    assert os.environ["PATH"].split(os.pathsep) == [*bins, shims, "/usr/bin"]
    assert toxfile.with_pyenv(os.environ["PATH"]) == os.environ["PATH"], "loading it twice changes nothing"


def test_a_machine_without_pyenv_keeps_its_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv-here"))
    load_toxfile(monkeypatch, "/usr/local/bin:/usr/bin")
    assert os.environ["PATH"] == "/usr/local/bin:/usr/bin"


# --- the closing table, kata x Python ---------------------------------------------------


def test_each_pythons_run_leaves_its_column_and_tox_ends_with_the_table(tmp_path, monkeypatch):
    """The plugin, told where by DOJO_TOX_SUMMARY, writes one column per Python; toxfile
    renders the columns of this tox invocation: ✓ where every start method passed, the
    failing start methods where not, and each Python's first failure."""
    import subprocess
    import sys

    from selftest.helpers import copy_kit, keep_katas

    kit = copy_kit(tmp_path)
    keep_katas(kit, ["good1", "hang1"])
    (kit / "katas" / "hang1.py").write_text((kit / "solutions" / "hang1.py").read_text())
    folder = tmp_path / "summary"
    env = dict(os.environ, DOJO_TOX_SUMMARY=str(folder), TOX_ENV_NAME="py3x", DOJO_LANG="en")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=kit,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:]
    toxfile = load_toxfile(monkeypatch, os.environ.get("PATH", ""))
    rows = toxfile.summary_rows(folder)
    assert [r["env"] for r in rows] == ["py3x"], rows
    column = rows[0]["cells"]
    assert column["good1"][0].startswith("✗ fork, spawn, forkserver") and column["hang1"][0] == "✓", column
    older = dict(rows[0], python="3.9.1", cells={"good1": ["✓", False], "hang1": ["✓", False]}, first="")
    table = toxfile.render([rows[0], older][::-1])
    lines = table.splitlines()
    assert lines[1].split()[1:] == ["3.9.1", rows[0]["python"]], table  # oldest Python first
    assert any(line.startswith("good1") and "✓" in line and "✗ fork" in line for line in lines), table
    assert f"{rows[0]['python']}: First failure, in kata order: good1 [fork]" in table, table


def test_columns_from_an_earlier_tox_run_are_left_out(tmp_path, monkeypatch):
    toxfile = load_toxfile(monkeypatch, os.environ.get("PATH", ""))
    folder = tmp_path / "summary"
    folder.mkdir()
    row = {"python": "3.11.7", "katas": ["a"], "cells": {"a": ["✓", False]}, "first": "", "title": "t",
           "kata": "kata", "all_passed": "all passed"}
    (folder / "py311.json").write_text(__import__("json").dumps(row))
    os.utime(folder / "py311.json", (1, 1))
    assert toxfile.summary_rows(folder, since=100) == []
    assert toxfile.render(toxfile.summary_rows(folder)).endswith("all passed")
