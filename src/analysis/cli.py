"""Command line: `python -m analysis data fetch|build|check`."""

from __future__ import annotations

import argparse
import sys

from .errors import DataError


def _data(args: argparse.Namespace) -> int:
    from .manifest import fetch_all
    from .panel.build import build

    progress = not args.quiet
    if args.action == "fetch":
        counts = fetch_all(progress=progress)
        print(f"raw files: {counts['present']} already present, {counts['mirror']} copied from the mirror, "
              f"{counts['download']} downloaded; all sha256 verified")
        return 0
    result = build(progress=progress, write=args.action == "build")
    i = result.info
    verb = "built" if args.action == "build" else "checked (nothing written)"
    print(f"{verb}: {i['n_observations']} observations from {i['n_candidates']} candidates; "
          f"{i['n_crosschecks']} cross-source comparisons, {i['n_conflicts']} conflicts, {i['n_excluded']} rows excluded; "
          f"{i['build_seconds']} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="raw data and the processed panel")
    data.add_argument("action", choices=["fetch", "build", "check"],
                      help="fetch: copy/download raw files and verify checksums; build: write data/processed; check: validate only")
    data.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    data.set_defaults(func=_data)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing was written; the previous data/processed is unchanged", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
