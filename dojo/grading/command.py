"""``dojo grade``: one submission or a folder of them.

    dojo grade SUBMISSION --out DIR [--format F ...] [--student ID]
    dojo grade --batch FOLDER --out DIR [--jobs N] [--format F ...]

Exit status 0 whenever grading ran, whatever the score; 2 for bad arguments, 3 when the
grader itself failed (the kit does not match its seal, the manifest is invalid). A batch
writes, besides one folder per submission, ``class.csv`` and ``report.html``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from dojo.grading import export, grade as grading, model, report, sandbox

GRADER_FAILED = 3


def add_parser(sub) -> None:
    p = sub.add_parser("grade", help="grade a submission (or --batch a folder of them) against the sealed kit")
    p.add_argument("submission", nargs="?", type=Path, help="a folder, zip or git checkout of a student's copy")
    p.add_argument("--batch", type=Path, metavar="FOLDER", help="grade every folder and zip in FOLDER")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where results are written")
    p.add_argument(
        "--format",
        action="append",
        choices=export.FORMATS,
        help=f"output formats (repeatable; default: terminal and json). File names: {_file_names()}",
    )
    p.add_argument("--student", help="the student's id (default: the submission's name)")
    p.add_argument("--jobs", type=int, default=None, help="submissions graded at once in a batch (default: CPUs)")
    p.add_argument("--katas-at-once", type=int, default=None, metavar="N",
                   help="one submission's katas graded side by side (default: 3 x CPUs; a batch grades one at a time "
                        "per submission)")
    p.add_argument("--start-method", action="append", choices=grading.METHODS, help="only this method (repeatable)")
    p.add_argument("--wall", type=float, default=90.0, help="seconds per kata run (default 90)")
    p.add_argument("--seal", type=Path, default=None, help="the seal to check the kit against (default: KIT/seal.json)")
    p.add_argument("--no-sandbox", action="store_true", help="no cgroup, namespaces, rlimits or uid (still isolated)")
    p.add_argument("--title", default="Class report", help="the class report's title (batch)")


def _read_only(root: Path, args) -> tuple:
    """What no job may change: the kit, the submissions, the results, the installed
    packages (dojo and pytest among them)."""
    import sysconfig

    import dojo

    args.out.mkdir(parents=True, exist_ok=True)
    paths = [root, args.submission or args.batch, args.out, Path(dojo.__file__).parent]
    paths += [Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib", "stdlib")]
    found = []
    for path in paths:
        if path is None:
            continue
        path = Path(path).resolve()
        path = path if path.is_dir() else path.parent
        if str(path) not in found and path.is_dir():
            found.append(str(path))
    return tuple(found)


def _file_names() -> str:
    return ", ".join(f"{f}={n}" for f, n in export.FILES.items())


def run(args, root: Path) -> int:
    if bool(args.submission) == bool(args.batch):
        print("dojo grade: give either a SUBMISSION or --batch FOLDER", file=sys.stderr)
        return 2
    settings = grading.Settings(
        kit=root,
        start_methods=tuple(args.start_method or ()),
        wall=args.wall,
        limits=sandbox.Limits(wall=args.wall, readonly=_read_only(root, args)),
        sandboxed=not args.no_sandbox,
        seal_file=args.seal,
    )
    formats = list(dict.fromkeys(args.format or ["terminal", "json"]))
    try:
        manifest, _ = grading.check_kit(settings)
    except (grading.GraderError, Exception) as exc:  # noqa: BLE001 - the grader's own failure
        print(f"dojo grade: cannot grade: {exc}", file=sys.stderr)
        return GRADER_FAILED
    if settings.sandboxed:
        sandbox.stale_cleanup()
    if args.submission:
        return _single(args, settings, formats)
    return _batch(args, settings, formats, manifest)


def _single(args, settings, formats) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    if not args.submission.exists():
        print(f"dojo grade: {args.submission} does not exist", file=sys.stderr)
        return 2
    file_formats = [f for f in formats if f != "terminal"] + ["terminal"]
    with console.status(f"grading {args.submission.name}") as status:
        result = grading.grade(
            args.submission,
            settings,
            student=args.student,
            slots=list(range(max(1, args.katas_at_once or 3 * _cpus()))),
            progress=lambda kata, i, n: status.update(f"grading {args.submission.name}: {kata} ({i + 1}/{n})"),
            checkpoint=lambda partial: export.write(partial, args.out, file_formats),
        )
    written = export.write(result, args.out, file_formats)
    if "terminal" in formats:
        export.to_terminal(result)
    print(f"{result.student}: {result.score:g}/{result.max_score:g}; written: "
          + ", ".join(str(p) for p in written.values()))
    return 0


def _batch(args, settings, formats, manifest) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not args.batch.is_dir():
        print(f"dojo grade: {args.batch} is not a folder", file=sys.stderr)
        return 2
    paths = grading.submissions_in(args.batch)
    jobs = max(1, min(args.jobs or _cpus(), len(paths) or 1))
    slots = list(range(jobs))
    lock = threading.Lock()
    grades: list[model.Grade] = []
    args.out.mkdir(parents=True, exist_ok=True)
    file_formats = [f for f in formats if f != "terminal"] + ["terminal"]

    def one(path: Path) -> model.Grade:
        with lock:
            slot = slots.pop()
        try:
            try:
                result = grading.grade(
                    path, settings, slot=slot,
                    checkpoint=lambda partial: export.write(partial, args.out / path.name, file_formats),
                )
            except Exception as exc:  # noqa: BLE001 - one submission costs only its row
                detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
                result = grading.error_grade(path, settings, f"grading failed: {detail}", manifest)
            export.write(result, args.out / path.name, file_formats)
            return result
        finally:
            with lock:
                slots.append(slot)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar, ThreadPoolExecutor(jobs) as pool:
        task = bar.add_task(f"grading {len(paths)} submissions, {jobs} at a time", total=len(paths))
        futures = {pool.submit(one, path): path for path in paths}
        for future in as_completed(futures):
            result = future.result()
            grades.append(result)
            bar.update(task, advance=1)
            bar.console.print(f"{result.student}: {model.round_points(result.score):g}/{result.max_score:g}"
                              + (f"  ({result.error})" if result.error else ""), markup=False)
    katas = [(k.name, k.points) for k in manifest.katas]
    report.write_class_csv(args.out / "class.csv", grades, katas)
    report.write_class_html(args.out / "report.html", grades, katas, args.title)
    print(f"class CSV: {args.out / 'class.csv'}\nclass report: {args.out / 'report.html'}")
    return 0


def _cpus() -> int:
    from dojo import procs

    return procs.usable_cpus()


def parse(argv) -> argparse.Namespace:  # for tests
    parser = argparse.ArgumentParser(prog="dojo")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)
