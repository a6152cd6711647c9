"""Command line: `python -m analysis data fetch|build|check|release`, `run`, `notebooks refresh`, `card`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import paths
from .errors import DataError


def _data(args: argparse.Namespace) -> int:
    from .manifest import fetch_all
    from .panel.build import build

    progress = not args.quiet
    if args.action == "release":
        from .release import build_release

        folder = build_release(previous=args.previous)
        print(f"release {folder.name}: {folder} and {folder.with_suffix('.zip').name}")
        return 0
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
    for note in i.get("user_files_ignored", []):
        print(f"note: {note}", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    """Exit 0 when every notebook and the site succeeded, 1 when one failed or timed out, 2 on a bad config,
    128 + the signal number when SIGTERM/SIGINT stopped the run. A full run (every analysis notebook, no
    --only) that succeeds becomes reports/latest; a partial run (one notebook by name, --only, a config of
    a few notebooks) leaves the published site as it was and says where its own outputs are."""
    import signal

    from . import paths
    from .runner.config import (
        analysis_notebooks,
        load_config,
        missing_analyses,
        notebook_config,
        parse_parameters,
    )
    from .runner.pool import prestart
    from .runner.run import execute, reports_dir

    if args.notebook and (args.config or args.only):
        raise DataError("give a notebook name or --config/--only, not both", column="NOTEBOOK", value=args.notebook,
                        hint="python -m analysis run 02_correlation -p focus_year=2023, or --config FILE [--only NAME]")
    if args.parameter and not args.notebook:
        raise DataError("-p sets a parameter of the notebook named on the command line; a config sets its own `parameters:`",
                        column="-p", value=args.parameter[0], hint="python -m analysis run 02_correlation -p focus_year=2023")
    prestart()  # workers' imports (a few seconds) overlap with reading and checking the config
    if args.notebook:
        config = notebook_config(args.notebook, parse_parameters(args.parameter or []))
    else:
        config = load_config(args.config or paths.project_root() / "runs" / "default.yaml", only=args.only)
    run_dir, manifest = execute(config, jobs=args.jobs, engine=None if args.plain else "vngov-warm", progress=not args.quiet,
                                publish=config.full)
    failed = [r for r in manifest["notebooks"] if r["status"] != "ok"]
    print(f"run {manifest['run_id']}: {len(manifest['notebooks']) - len(failed)}/{len(manifest['notebooks'])} notebooks ok "
          f"in {manifest['duration_s']} s with {manifest['workers']} workers -> {run_dir} (status {manifest['status']})")
    for r in failed:
        err = r["error"] or {}
        cell = f" at cell {err['cell']} of the executed notebook" if err.get("cell") is not None else ""
        print(f"FAILED {r['name']} ({r['notebook']}){cell}: {r['status']}: {err.get('ename')}: {err.get('evalue', '')[:200]}", file=sys.stderr)
    if "error" in manifest.get("site", {}):
        print(f"FAILED site: {manifest['site']['error'][:300]}", file=sys.stderr)
    latest = reports_dir() / "latest"
    if not config.full:
        total = len(analysis_notebooks())
        why = "--only" if args.only else f"{total - len(missing_analyses(config.jobs))} of the {total} analysis notebooks"
        print(f"partial run ({why}): reports/latest, the published site, is unchanged"
              f"{f' ({latest.resolve()})' if latest.exists() else ''}")
        for r in manifest["notebooks"]:
            html = run_dir / r["name"] / f"{r['name']}.html"
            print(f"  {r['name']}: {run_dir / r['name']}" + (f" (open {html})" if html.exists() else ""))
        if (run_dir / "site" / "index.html").exists():
            print(f"  this run's site: {run_dir / 'site' / 'index.html'}")
    elif manifest["status"] == "ok":
        print(f"published: {latest / 'site' / 'index.html'}")
    if manifest["status"] != "ok" and config.full:
        print("reports/latest was not moved; it still points to the last successful run", file=sys.stderr)
    if manifest["status"] == "interrupted":
        print(f"run interrupted by {manifest['signal']}: workers and kernels stopped", file=sys.stderr)
        # The site's first half may still be running in its daemon thread (inside numpy or a C++ library): normal
        # interpreter shutdown under it aborted the process ("terminate called without an active exception", exit
        # -6) in about 1 of 6 interrupted runs. Workers, kernels, lock and manifest are settled by now: leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + int(getattr(signal.Signals, manifest["signal"], signal.SIGTERM)))
    return 0 if manifest["status"] == "ok" else 1


def _notebooks(args: argparse.Namespace) -> int:
    from .runner.run import refresh_notebooks

    manifest = refresh_notebooks(args.only, jobs=args.jobs)
    print(f"refreshed {len(manifest['notebooks'])} notebooks in {manifest['duration_s']} s; review with git diff, then commit")
    return 0


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text!r}")
    return n


def _card(args: argparse.Namespace) -> int:
    """One report card of any province, year and index, as Word (DOCX) or Markdown: the cards the site
    offers without a Word file (years other than the latest) are made here on demand."""
    from . import load_panel, load_table
    from .notebook import setup
    from .report_card import build_card, render
    from .runner.run import reports_dir

    ext = "docx" if args.format == "docx" else "md"
    if args.output:
        _check_output(Path(args.output), ext, args.force)  # before any work: a refused path costs nothing
    setup()  # the notebooks' plain, deterministic chart style
    panel = load_panel()
    # one rule with notebook 06 (`report_card.build_card`): published values only; another year only when asked
    card = build_card(panel, load_table("provinces"), args.province, args.year, args.index, fallback=args.fallback)
    out = Path(args.output) if args.output else reports_dir() / "cards" / f"{card.province_code}-{card.index}-{card.year}-{args.language}.{ext}"
    _check_output(out, ext, args.force or not args.output)  # the default place under reports/cards/ is the command's own
    try:
        if args.format == "docx":
            from .docx_card import write_docx

            write_docx(card, out, args.language)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render(card, args.language), encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write the card: {exc.strerror or exc}", file=out) from exc
    print(f"{card.province}, {card.index} {card.year}: {out}")
    return 0


def _check_output(out: Path, ext: str, force: bool = False) -> None:
    """A card file goes anywhere but over the project's data and published reports (a mistyped --output must
    not replace the site's home page), and carries the extension of its format. The path is compared both as
    written and with every link followed: `data/processed/current/x.docx` is inside the live build folder
    under `data/.builds/`, and a link elsewhere may point into `reports/runs/`. An existing file is replaced only
    with `--force`: a mistyped path must not overwrite a README."""
    from .runner.run import reports_dir

    if out.suffix.lower() != f".{ext}":
        raise DataError(f"the output file must end in .{ext}", column="--output", value=str(out))
    guarded = [paths.project_root() / "data", paths.processed_dir(), paths.raw_dir(), paths.user_dir(), reports_dir() / "latest",
               reports_dir() / "runs"]
    forms = {Path(os.path.abspath(out)), out.resolve()}
    for folder in guarded:
        for place in {Path(os.path.abspath(folder)), folder.resolve()}:
            if any(target == place or place in target.parents for target in forms):
                raise DataError("the card would be written inside the project's data or published reports", column="--output",
                                value=str(out), hint=f"Write it elsewhere, e.g. {reports_dir() / 'cards'}")
    if out.exists() and not out.resolve().is_file():
        raise DataError("the output exists and is not a file", column="--output", value=str(out))
    if out.exists() and not force:  # a mistyped --output must not replace a README or another checkout's file
        raise DataError("the output file exists", column="--output", value=str(out), hint="Pass --force to replace it")


def _finish_bars() -> None:
    """End every progress bar an error left open (a build stopped by a bad file in the middle of "read sources",
    a fetch stopped by a checksum), so the error is printed on a line of its own and not after the bar's last
    frame, where a log shows it as one long line ending in "file/s]error: …"."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="raw data and the processed panel")
    data.add_argument("action", choices=["fetch", "build", "check", "release"],
                      help="fetch: copy/download raw files and verify checksums; build: write data/processed; check: validate only; "
                           "release: write a versioned data release to dist/")
    data.add_argument("--previous", help="with release: a previous release folder, to write CHANGES.csv")
    data.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    data.set_defaults(func=_data)
    run = sub.add_parser("run", help="execute the notebooks of a run config with papermill, or one notebook by name",
                         description="A full run (every analysis notebook, e.g. runs/default.yaml, no --only) that succeeds "
                                     "becomes reports/latest, the published site; any other run is partial: its own folder "
                                     "under reports/runs/, and the published site is left as it was.")
    run.add_argument("notebook", nargs="?", metavar="NOTEBOOK",
                     help="run this one notebook (e.g. 02_correlation, .ipynb optional) instead of a config: a partial run")
    run.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE",
                     help="a parameter of NOTEBOOK, the value read as YAML (2023, vi, [1, 2], true); repeatable")
    run.add_argument("--config", help="run config (default runs/default.yaml)")
    run.add_argument("--only", nargs="+", metavar="NAME", help="only runs whose name or notebook starts with NAME")
    run.add_argument("--jobs", type=_positive_int, help="parallel workers (default: number of cores + 1)")
    run.add_argument("--plain", action="store_true", help="a new kernel per notebook (papermill's default engine)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)
    nbs = sub.add_parser("notebooks", help="maintain the committed notebooks")
    nbs.add_argument("action", choices=["refresh"], help="re-execute with default parameters and store the outputs (nbval compares them)")
    nbs.add_argument("--only", nargs="+", metavar="NAME")
    nbs.add_argument("--jobs", type=_positive_int)
    nbs.set_defaults(func=_notebooks)
    card = sub.add_parser("card", help="one province's report card as Word (DOCX) or Markdown")
    card.add_argument("--province", required=True, help="any spelling or the GSO code, e.g. \"binh duong\", 74")
    card.add_argument("--year", type=int, required=True)
    card.add_argument("--index", default="PAPI", help="PAPI (default), PAR_INDEX, SIPAS, ...")
    card.add_argument("--force", action="store_true", help="replace --output if it exists")
    card.add_argument("--fallback", action="store_true",
                      help="without a published value in --year, use the latest earlier published year (the card says so)")
    card.add_argument("--language", default="vi", choices=["vi", "en"])
    card.add_argument("--format", default="docx", choices=["docx", "md"])
    card.add_argument("--output", help="file to write (default reports/cards/<code>-<index>-<year>-<language>.<docx|md>)")
    card.set_defaults(func=_card)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (DataError, OSError) as exc:  # an OSError not turned into a DataError below: still a message, not a traceback
        if isinstance(exc, OSError):
            exc = DataError(f"cannot read or write a file: {exc.strerror or exc}", file=exc.filename)
        _finish_bars()
        print(f"error: {exc}", file=sys.stderr)
        if args.command == "data":
            print("nothing was written; the previous data/processed is unchanged", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
