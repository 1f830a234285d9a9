"""Shared by dojo's own tests: the fixture kit, and workers that children import."""

import os
import shutil
from pathlib import Path

import psutil

KIT = Path(__file__).with_name("kit")


def copy_kit(tmp_path: Path) -> Path:
    dest = tmp_path / "kit"
    shutil.copytree(KIT, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def keep_katas(kit: Path, names) -> None:
    """Cut a copied kit's manifest down to the named katas."""
    path = kit / "katas.toml"
    head, *blocks = path.read_text(encoding="utf-8").split("\n[[kata]]\n")
    kept = [b for b in blocks if any(b.startswith(f'name = "{n}"\n') for n in names)]
    assert len(kept) == len(names)
    path.write_text(head + "".join("\n[[kata]]\n" + b for b in kept), encoding="utf-8")


def processes_mentioning(text: str) -> list:
    """Live processes (not zombies) whose command line mentions ``text``."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and text in " ".join(p.info["cmdline"] or ()):
                found.append(p)
        except psutil.Error:
            continue
    return [p for p in found if p.pid != os.getpid()]


def unlocked_increments(counter, times):
    for _ in range(times):
        counter.value += 1


def locked_increments(counter, times):
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1


def own_lock_increments(counter, lock, times):
    for _ in range(times):
        with lock:
            counter.value += 1


def unlocked_slot_increments(counts, times):
    for _ in range(times):
        counts[0] += 1


def locked_slot_increments(counts, times):
    for _ in range(times):
        with counts.get_lock():
            counts[0] += 1
