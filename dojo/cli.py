"""The ``dojo`` command.

    dojo                         one screen on the first unsolved kata: progress, its verdict,
                                 hints and keys, redrawn on every save
                                 (without a terminal: check in order, print the first
                                 failure, exit non-zero until every kata is done)
    dojo list [--names]          katas in order, with their status
    dojo run KATA [--start-method M]
    dojo hint KATA [--level N]
    dojo reset KATA [--undo]     restore the original (your version is backed up)
    dojo progress                what is done, in points
    dojo doctor                  Python, start methods, limits, terminal; what is missing
    dojo clean                   leftovers of earlier crashed runs
    dojo verify [--repeat N] [--jobs N] [--start-method M] [KATA ...]   maintainer check
    dojo verify --fixes [--slack S] [KATA ...]   the right and wrong fixes in fixes/
    dojo verify --mutants [KATA ...]   one lesson line of a solution broken at a time
    dojo completion bash|zsh     shell completion of kata names
    dojo grade SUBMISSION --out DIR [--format F ...]     grade against the sealed kit
    dojo grade --batch FOLDER --out DIR [--jobs N]      a class: CSV and HTML report
    dojo release OUT                       the student bundle: no solutions, no hidden tests
    dojo export gradescope OUT.zip         Gradescope's autograder zip
    dojo export classroom OUT_DIR --kit-url URL --kit-sha256 HEX   a Classroom workflow
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dojo import i18n, manifest

METHODS = ("fork", "spawn", "forkserver")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dojo", description="Learn Python concurrency by fixing it.")
    parser.add_argument("--root", type=Path, default=None, help="the kit's folder (default: found from here)")
    parser.add_argument("--manual", action="store_true",
                        help="the loop runs the tests when you press c, instead of watching the file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("verify", help="maintainer check: solutions pass, katas fail exactly as declared")
    p.add_argument("katas", nargs="*", metavar="KATA", help="only these katas (default: all)")
    p.add_argument("--repeat", type=_positive, default=1, help="run everything N times; all runs must agree")
    p.add_argument("--jobs", type=_positive, default=None, help="runs at once (default: usable CPUs)")
    p.add_argument("--start-method", action="append", choices=METHODS, help="only this method (repeatable)")
    p.add_argument("--isolate", action="store_true", help="run every kata call in a grading host, as dojo grade does")
    p.add_argument(
        "--fixes", action="store_true",
        help="run the proof corpus fixes/<kata>/: right fixes pass, wrong ones fail where they declare",
    )
    p.add_argument(
        "--mutants", action="store_true",
        help="break one lesson line of each solution at a time (dojo/mutants.py): the tests must notice",
    )
    p.add_argument(
        "--sample", type=int, default=None, metavar="N",
        help="--fixes: only N fixes per kata (one right and one wrong at least); --mutants: N mutants per kata; chosen by --seed",
    )
    p.add_argument("--seed", default=None, help="--sample: which ones (default: today's date and the Python version, so CI rotates)")
    p.add_argument(
        "--slack", type=float, default=1.0,
        help="--fixes: seconds a right fix's test may take beyond the reference's (default 1.0)",
    )

    p = sub.add_parser("list", help="the katas in order, with their status")
    p.add_argument("--names", action="store_true", help="names only, one a line (for shell completion)")

    p = sub.add_parser("run", help="run one kata's tests and show the result")
    p.add_argument("kata")
    p.add_argument("--start-method", action="append", choices=METHODS, help="only this method (repeatable)")
    p.add_argument("--target", choices=("katas", "solutions"), default="katas", help=argparse.SUPPRESS)

    p = sub.add_parser("hint", help="the next hint for a kata (or --level N)")
    p.add_argument("kata")
    p.add_argument("--level", type=_positive, default=None)

    p = sub.add_parser("reset", help="restore a kata's original; your version is backed up")
    p.add_argument("kata")
    p.add_argument("--undo", action="store_true", help="bring back the version the last reset replaced")

    sub.add_parser("progress", help="what is done, in points")
    sub.add_parser("doctor", help="Python, start methods, limits, terminal; what is missing")
    sub.add_parser("clean", help="stop leftover processes and remove /dev/shm objects of earlier crashed runs")
    sub.add_parser("restore", help="put the kit's own files (tests, katas.toml, ...) back; never your katas")
    p = sub.add_parser("completion", help="print a shell completion script")
    p.add_argument("shell", choices=("bash", "zsh"))

    from dojo.grading import command as grade_command

    grade_command.add_parser(sub)
    from dojo.grading import release as release_command

    release_command.add_parsers(sub)

    args = parser.parse_args(argv)
    if args.command == "completion":
        print(COMPLETION)
        return 0
    if args.command == "doctor":
        from dojo.doctor import doctor

        return doctor(args.root)
    if args.command == "restore":  # katas.toml itself may be gone: the folder given, or this one
        return _restore(_console(), (args.root or Path.cwd()).resolve(), i18n.current_lang())
    try:
        root = args.root.resolve() if args.root else manifest.find().parent
    except manifest.ManifestError as exc:
        print(f"dojo: {exc}", file=sys.stderr)
        return 2
    if args.command == "verify":
        from dojo.verify import verify

        return verify(
            root, repeat=args.repeat, jobs=args.jobs, katas=args.katas, start_methods=args.start_method,
            isolate=args.isolate, fixes=args.fixes, slack=args.slack, mutants=args.mutants, sample=args.sample,
            seed=args.seed or f"{__import__('datetime').date.today().isoformat()}:py{sys.version_info[0]}.{sys.version_info[1]}",
        )
    if args.command == "clean":
        from dojo.doctor import clean

        return clean(root)
    if args.command == "grade":
        return grade_command.run(args, root)
    if args.command in release_command.COMMANDS:
        return release_command.run(args, root)
    console = _console()
    lang = i18n.current_lang()
    try:
        m = manifest.load(root / "katas.toml")
    except manifest.ManifestError as exc:
        console.print(i18n.t("manifest_broken_start", lang, error=exc), markup=False)
        return 2
    from dojo import state as state_mod

    # Keep every kata's original before anything else can touch it: `dojo reset` restores
    # from this copy (from git's HEAD when the kit is a checkout).
    state_mod.snapshot_pristine(root, m.names())
    state = state_mod.State.load(root)
    if state.recovered:
        console.print(i18n.t("state_recovered", lang, error=state.recovered), markup=False)
    if getattr(args, "kata", None) and args.kata not in m.names():
        console.print(i18n.t("unknown_kata", lang, name=args.kata, names=", ".join(m.names())), markup=False)
        return 2

    if args.command == "list":
        if args.names:
            print("\n".join(m.names()))
            return 0
        from dojo import learn

        console.print(learn.board(m, state, state.first_unsolved(m.names()), lang))
        return 0
    if args.command == "hint":
        return _hint(console, m.get(args.kata), state, args.level, lang)
    if args.command == "reset":
        return _reset(console, root, args.kata, args.undo, lang)
    if args.command == "progress":
        done = [k for k in m.katas if k.name in state.done]
        console.print(
            i18n.t(
                "progress_summary",
                lang,
                done=len(done),
                total=len(m.katas),
                points=sum(k.points for k in done),
                max_points=sum(k.points for k in m.katas),
            )
        )
        return 0
    if args.command == "run":
        return _run(console, root, m.get(args.kata), state, args.start_method, args.target, lang)
    # no command: the learner's loop
    if sys.stdin.isatty() and sys.stdout.isatty():
        from dojo.watch import Loop

        return Loop(root, console, lang, manual=args.manual).run()
    return _batch(console, root, m, state, lang)


def _console():
    from rich.console import Console

    return Console(no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False)


def _restore(console, root, lang) -> int:
    from dojo import kitguard

    try:
        done = kitguard.restore(root)
    except OSError as exc:
        console.print(i18n.t("restore_failed", lang, error=str(exc)), style="red", markup=False)
        return 1
    for rel, source in done:
        key = "restore_done" if source else "restore_moved"
        console.print(i18n.t(key, lang, path=rel, source=source), markup=False)
    if not done:
        console.print(i18n.t("restore_nothing", lang), style="green")
    return 0


def _hint(console, kata, state, level, lang) -> int:
    level = level or min(state.hints.get(kata.name, 0) + 1, len(kata.hints))
    if level > len(kata.hints):
        console.print(i18n.t("hint_level_range", lang, kata=kata.name, total=len(kata.hints), level=level))
        return 2
    state.hints[kata.name] = max(state.hints.get(kata.name, 0), level)
    state.save()
    console.print(i18n.t("hint_header", lang, level=level, total=len(kata.hints), kata=kata.name), style="cyan")
    console.print(i18n.pick(kata.hints[level - 1], lang), markup=False)
    for note in kata.notes_here():  # what differs for this kata on this system
        console.print(i18n.t("system_note", lang), style="yellow")
        console.print(i18n.pick(note, lang), markup=False)
    return 0


def _reset(console, root, name, undo, lang) -> int:
    from dojo import state as state_mod

    try:
        if undo:
            state_mod.undo_reset(root, name)
            console.print(i18n.t("reset_undone", lang, path=f"katas/{name}.py", kata=name), markup=False)
        else:
            backup = state_mod.reset(root, name)
            console.print(
                i18n.t("reset_done", lang, path=f"katas/{name}.py", backup=backup.relative_to(root), kata=name),
                markup=False,
            )
    except FileNotFoundError:
        console.print(i18n.t("reset_no_backup" if undo else "reset_no_pristine", lang, kata=name), markup=False)
        return 1
    return 0


def _run(console, root, kata, state, methods, target, lang) -> int:
    from dojo import learn, procs

    checker = learn.Checker(root, warm=False, lang=lang, lanes=procs.usable_cpus())
    methods = list(methods) if methods else learn.available_methods()
    console.print(i18n.t("running", lang, kata=kata.name, methods=", ".join(methods)), style="dim", markup=False)
    verdict = checker.run(kata, methods, target=target)
    console.print(learn.matrix(verdict, lang))
    if not verdict.passed:
        console.print(learn.failure_panel(verdict, lang))
        return 1
    if target == "katas" and set(methods) >= set(learn.available_methods()):
        state.mark_done(kata.name)
        state.save()
        console.print(i18n.t("kata_done", lang, kata=kata.name, methods=", ".join(methods)), style="green", markup=False)
    return 0


def _batch(console, root, m, state, lang) -> int:
    """No terminal: check the unsolved katas in order; stop at the first that fails."""
    from dojo import learn, procs, state as state_mod

    state_mod.snapshot_pristine(root, m.names())
    checker = learn.Checker(root, warm=False, lang=lang, lanes=procs.usable_cpus())
    current = state.first_unsolved(m.names())
    while current is not None:
        verdict = checker.check(m.get(current))
        if not verdict.passed:
            console.print(learn.board(m, state, current, lang))
            console.print(learn.failure_panel(verdict, lang))
            state.current = current
            state.save()
            return 1
        state.mark_done(current)
        state.save()
        current = state.first_unsolved(m.names())
    console.print(learn.board(m, state, None, lang))
    console.print(i18n.t("all_done", lang), style="green", markup=False)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


COMPLETION = """# dojo completion: eval "$(dojo completion bash)" (zsh: autoload -U bashcompinit; bashcompinit first)
_dojo() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        run|hint|reset|verify) COMPREPLY=( $(compgen -W "$(dojo list --names 2>/dev/null)" -- "$cur") ); return;;
    esac
    COMPREPLY=( $(compgen -W "list run hint reset progress doctor clean restore verify completion grade release export" -- "$cur") )
}
complete -F _dojo dojo"""
