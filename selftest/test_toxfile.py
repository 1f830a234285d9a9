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
