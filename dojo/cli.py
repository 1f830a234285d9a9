"""The ``dojo`` command.

    dojo verify [--repeat N] [--jobs N] [--start-method M] [KATA ...]   maintainer check
    dojo list                                                          katas in order
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dojo import i18n, manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dojo", description="Learn Python concurrency by fixing it.")
    parser.add_argument("--root", type=Path, default=None, help="the kit's folder (default: found from here)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_verify = sub.add_parser("verify", help="maintainer check: solutions pass, katas fail exactly as declared")
    p_verify.add_argument("katas", nargs="*", metavar="KATA", help="only these katas (default: all)")
    p_verify.add_argument("--repeat", type=_positive, default=1, help="run everything N times; all runs must agree")
    p_verify.add_argument("--jobs", type=_positive, default=None, help="runs at once (default: usable CPUs)")
    p_verify.add_argument(
        "--start-method", action="append", choices=("fork", "spawn", "forkserver"), help="only this method (repeatable)"
    )

    sub.add_parser("list", help="the katas in order, with their tracks and titles")

    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else manifest.find().parent
    except manifest.ManifestError as exc:
        print(f"dojo: {exc}", file=sys.stderr)
        return 2

    if args.command == "verify":
        from dojo.verify import verify

        return verify(root, repeat=args.repeat, jobs=args.jobs, katas=args.katas, start_methods=args.start_method)
    if args.command == "list":
        return _list(root)
    parser.print_help()
    return 0


def _list(root: Path) -> int:
    try:
        m = manifest.load(root / "katas.toml")
    except manifest.ManifestError as exc:
        print(f"dojo: {exc}", file=sys.stderr)
        return 2
    for kata in m.katas:
        print(f"{kata.name:<12} {kata.track:<8} {i18n.pick(kata.title)}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
