"""``dojo doctor`` (what is in force, what is missing) and ``dojo clean`` (leftovers)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

from dojo import i18n, kitguard, manifest, procs, system, tracker

PACKAGES = ("pytest", "pytest-timeout", "pytest-xdist", "coverage", "psutil", "rich", "watchfiles")


def doctor(root: Path | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    lang = i18n.current_lang()
    console = Console(no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False)
    rows, missing = [], []
    rows.append(("Python", f"{sys.version.split()[0]} ({sys.executable})"))
    if sys.version_info < (3, 10):
        missing.append("Python 3.10+")
    methods = system.start_methods()
    rows.append(("start methods", ", ".join(methods)))
    if "spawn" not in methods:
        missing.append(f"start method spawn (this system offers {', '.join(methods) or 'none'})")
    for pkg in PACKAGES:
        try:
            rows.append((pkg, importlib.metadata.version(pkg)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((pkg, "—"))
            missing.append(pkg)
    rows.append(("CPUs", f"{procs.usable_cpus()} usable of {os.cpu_count()} (affinity and cgroup CPU quota)"))
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        nproc = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
        rows.append(("process limit", f"RLIMIT_NPROC {nproc}" + (" (not enforced for root)" if os.getuid() == 0 else "")))
    except (ImportError, ValueError):
        missing.append("resource limits")
    if system.SHM_DIR is not None and os.access(system.SHM_DIR, os.W_OK):
        free = shutil.disk_usage(system.SHM_DIR).free // 2**20
        rows.append(("/dev/shm", f"writable, {free} MiB free"))
    else:
        rows.append(("/dev/shm", "—"))
        if system.LINUX:  # elsewhere there is none by design (see the "weaker here" rows)
            missing.append("a writable /dev/shm (multiprocessing's locks and shared memory need it)")
    rows.append(("subreaper", "yes" if procs.set_subreaper() else "no (setsid() escapees may outlive a run)"))
    for means, consequence in system.missing():  # what the kit does with less on this system
        rows.append(("weaker here", f"no {means}: {consequence}"))
    scale = os.environ.get("DOJO_TIMEOUT_SCALE", "1")
    if system.ALARM:
        ending = "a test that hangs fails, its processes are killed, the run goes on (SIGALRM)"
    else:
        ending = ("weaker here: no SIGALRM, so a test that hangs has its processes killed and ends the run "
                  "(pytest-timeout's thread timer); dojo starts a new run with the tests after it, python -m pytest stops")
    rows.append(("timeouts", f"10 s per test unless a kata says otherwise, x{scale} (DOJO_TIMEOUT_SCALE); {ending}"))
    tty = sys.stdout.isatty() and sys.stdin.isatty()
    size = shutil.get_terminal_size()
    rows.append(("terminal", f"{'yes' if tty else 'no'}, {size.columns}x{size.lines}, colours {'off (NO_COLOR)' if os.environ.get('NO_COLOR') else 'on'}"))
    try:
        from dojo.grading import sandbox

        for name, verdict in sandbox.detect().items():
            rows.append((f"grading: {name}", verdict))
    except Exception as exc:  # noqa: BLE001 - doctor reports, never fails
        rows.append(("grading sandbox", f"could not be checked: {exc}"))
    try:
        source, differ = kitguard.differences(root or manifest.find().parent)
        shown = ", ".join(differ[:8]) + (f" and {len(differ) - 8} more" if len(differ) > 8 else "")
        rows.append(("kit files", f"as in {source}" if not differ
                     else f"{len(differ)} differ from {source}: {shown} (dojo restore puts them back)"))
    except (OSError, manifest.ManifestError, ValueError) as exc:
        rows.append(("kit files", f"could not be checked: {exc}"))
    rows.append(("language", f"{lang} (DOJO_LANG={os.environ.get('DOJO_LANG', '')!s}, LANG={os.environ.get('LANG', '')})"))
    try:
        m = manifest.load((root or manifest.find().parent) / "katas.toml")
        rows.append(("katas.toml", f"{len(m.katas)} katas, valid"))
    except manifest.ManifestError as exc:
        rows.append(("katas.toml", str(exc)[:200]))
        missing.append("a valid katas.toml")
    table = Table(title=i18n.t("doctor_title", lang), show_header=False, title_justify="left")
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if missing:
        console.print(i18n.t("doctor_missing", lang, items="; ".join(missing)), style="yellow", markup=False)
        return 1
    console.print(i18n.t("doctor_ok", lang), style="green")
    return 0


def clean(root: Path) -> int:
    """Stop orphaned processes of earlier runs of this kit, and remove the shared memory
    and semaphores its runs made and nobody removed (the kit's ledger says which)."""
    lang = i18n.current_lang()
    import psutil

    root_text = str(root)
    markers = ("multiprocessing", "spawn_main", "forkserver", "resource_tracker", "dojo.warm", "dojo.tracker", "pytest")
    me = os.getpid()
    found = 0
    for p in psutil.process_iter(["pid", "ppid", "cmdline", "cwd"]):
        try:
            info = p.info
            if info["pid"] == me or info["ppid"] not in (0, 1):
                continue
            cmd = " ".join(info["cmdline"] or ())
            if not any(mark in cmd for mark in markers):
                continue
            if not ((info["cwd"] or "").startswith(root_text) or root_text in cmd):
                continue
            print(i18n.t("clean_killed", lang, what=procs.describe(p)))
            p.kill()
            found += 1
        except psutil.Error:
            continue
    for name in remove_kit_leftovers(root):
        print(i18n.t("clean_removed", lang, name=name))
        found += 1
    from dojo import runner

    for folder in runner.remove_stale_run_folders(root):  # of controllers that were killed
        print(i18n.t("clean_removed_folder", lang, folder=folder))
        found += 1
    if not found:
        print(i18n.t("clean_nothing", lang))
    return 0


def remove_kit_leftovers(root: Path) -> list[str]:
    """Remove the /dev/shm objects this kit's runs made and nobody removed or maps (a run
    killed mid-way: its resource tracker died with it). Only what this kit's own runs made:
    their trackers wrote each object to the kit's ledger. Another program's segment, even
    one nobody maps, is never touched. Returns the names removed."""
    removed = []
    ledger = tracker.kit_ledger(root)
    if ledger:
        names = tracker.tree_leftovers(ledger)
        for name in sorted(names - procs.shm_in_use(names)):
            if procs.remove_shm(name):
                removed.append(name)
        tracker.compact(ledger)
    return removed
