"""Run configurations (runs/*.yaml): which notebooks to run with which parameters, within which limits.

    timeout: 600            # seconds per cell (papermill's execution timeout)
    notebook_timeout: 900   # wall-clock seconds for one notebook run (worker start, kernel, cells, HTML)
    max_run_seconds: 3600   # wall-clock budget of the whole run, site included
    max_output_mb: 50       # an executed notebook larger than this fails with status output_too_large
    keep: 10                # runs kept under reports/runs/
    jobs: 3                 # parallel workers (default: cores + 1)
    runs:
      - notebook: 01_data_overview.ipynb
      - notebook: 06_report_card.ipynb
        name: card-{province_code}-{language}
        each_province: true   # one run per province of the 63, parameter `province`
        parameters: {language: vi, year: 2020}

A config is validated like data: every problem is a DataError naming the file, the run entry (`row`, 1 =
first entry), the key and the value, before any kernel starts. Names become folder names, so they are
confined to letters, digits, `.`, `_` and `-`, and may not be one of the run folder's own entries (`site`,
`manifest.json`); parameter values must be plain literals (strings, numbers, booleans, null, and lists/mappings
of them) because papermill writes them into the notebook as code, and their text must be writable (no lone
surrogate, no character a Word file cannot hold). Limits have upper bounds (`limits.RUN_LIMIT_MAX`): a
`max_output_mb: 1e305` is a typo, not a limit.

Full and partial runs: a run is full when it runs every analysis notebook of notebooks/ (`01_…` to `10_…`,
each at least once, with any parameters), as runs/default.yaml and runs/nightly.yaml do, and no `--only`
narrowed it; a successful full run becomes `reports/latest`, the published site. Every other run is partial
(a config of one or a few notebooks, `--only`, or one notebook by name: `python -m analysis run
02_correlation -p focus_year=2023`, `notebook_config`): it lands in its own folder under reports/runs/ like any
run, with its own site, and leaves the published site as it was, because a site of one notebook has no home
page figures and empty province cards. The rule needs no flag to remember, and a fork's own full config
publishes too."""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import paths, textcheck, yamlio
from ..errors import DataError
from ..limits import RUN_LIMIT_MAX
from .params import notebook_parameters, validate_parameters

DEFAULTS: dict[str, Any] = {"timeout": 600, "notebook_timeout": 900, "max_run_seconds": 3600, "max_output_mb": 50, "keep": 10}
CONFIG_KEYS = {*DEFAULTS, "runs", "jobs"}
RUN_KEYS = {"notebook", "name", "parameters", "each_province", "timeout", "notebook_timeout", "provinces"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
RESERVED_NAMES = {"site", "manifest.json"}
"""Entries the runner itself writes into a run folder: a notebook run of that name would write into the
published site or over the manifest. Compared without case (a case-insensitive disk holds one of Site and site)."""


@dataclass(frozen=True)
class Job:
    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout: int = DEFAULTS["timeout"]
    notebook_timeout: int = DEFAULTS["notebook_timeout"]


@dataclass
class RunConfig:
    path: Path
    jobs: list[Job]
    keep: int = DEFAULTS["keep"]
    default_jobs: int | None = None
    max_run_seconds: int = DEFAULTS["max_run_seconds"]
    max_output_mb: float = DEFAULTS["max_output_mb"]
    full: bool = False
    """Whether a successful run of this config replaces `reports/latest`: it runs every analysis notebook and
    no `--only` narrowed it (see the module's docstring)."""

    @property
    def max_output_bytes(self) -> int:
        return int(self.max_output_mb * 1e6)


def _province_codes() -> list[tuple[str, str]]:
    from ..panel import load_table

    p = load_table("provinces")
    p = p[p["vintage"] == "gso-2008"]
    return list(zip(p["province_code"], p["province"], strict=True))


def _positive(value: Any, key: str, path: Path, row: int | None = None, integer: bool = True) -> Any:
    """A positive whole number (seconds, counts) or, with `integer=False`, a positive finite number, at most
    `RUN_LIMIT_MAX[key]`."""
    kinds = int if integer else (int, float)
    top = RUN_LIMIT_MAX[key]
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) or not 0 < value <= top:
        what = "a whole number ≥ 1" if integer else "a number > 0"
        raise DataError(f"`{key}` must be {what} and at most {top:,}", file=path, row=row, column=key, value=value)
    return value


def plain_literal_problem(value: Any, where: str) -> str | None:
    """Where `value` holds something other than str, int, finite float, bool, None, list or str-keyed dict
    (e.g. YAML `!!binary` bytes, an unquoted date, a set); None when it is plain all the way down."""
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, str):
        bad = textcheck.problem(value)
        return None if bad is None else f"{where} holds {bad}"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value} (not a finite number)"
    if isinstance(value, list):
        return next((p for i, v in enumerate(value) if (p := plain_literal_problem(v, f"{where}[{i}]"))), None)
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where} has a key of type {type(k).__name__} ({k!r}); keys must be strings"
            if bad := textcheck.problem(k, name=True):
                return f"{where} has a key that holds {bad}"
            if p := plain_literal_problem(v, f"{where}[{k!r}]"):
                return p
        return None
    return f"{where} is of type {type(value).__name__}"


def _name(pattern: Any, values: dict[str, Any], path: Path, row: int) -> str:
    """Fill a `name:` pattern: only `{key}` placeholders of known keys (no formats, attributes or indexes),
    and a result that is a plain folder name (no `/`, no `..`)."""
    if not isinstance(pattern, str):
        raise DataError("`name` must be a string", file=path, row=row, column="name", value=pattern)
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise DataError(f"`name` is not a valid pattern ({exc})", file=path, row=row, column="name", value=pattern) from None
    for _, fld, spec, conversion in parts:
        if fld is None:
            continue
        if fld not in values or spec or conversion:
            raise DataError(f"unknown placeholder {{{fld}}} in `name`" if fld not in values else
                            "placeholders in `name` take no format or conversion", file=path, row=row, column="name",
                            value=pattern, hint=f"Known placeholders: {', '.join(sorted(values))}")
    name = pattern.format_map(values)
    if not NAME.fullmatch(name):
        raise DataError("run name must be 1-120 letters, digits, '.', '_' or '-' starting with a letter or digit "
                        "(it names a folder inside the run)", file=path, row=row, column="name", value=name)
    if name.casefold() in RESERVED_NAMES:
        raise DataError(f"run name {name!r} is taken by the run folder's own {name.casefold()}", file=path, row=row, column="name",
                        value=name, hint=f"Reserved names: {', '.join(sorted(RESERVED_NAMES))}; choose another `name:`")
    return name


def _read(path: Path) -> dict[str, Any]:
    if not Path(path).exists():
        raise DataError("run config not found", file=path)
    doc = yamlio.load_file(path, "run config")  # a regular file of at most YAML_MAX_BYTES (a FIFO would block)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DataError(f"run config must be a mapping of keys (timeout, runs, …), not a {type(doc).__name__}", file=path)
    unknown = set(doc) - CONFIG_KEYS
    if unknown:
        raise DataError("unknown key in run config", file=path, column=str(sorted(map(str, unknown))[0]),
                        hint=f"Allowed: {sorted(CONFIG_KEYS)}")
    return doc


def load_config(path: Path, only: list[str] | None = None) -> RunConfig:
    """The run config at `path`, validated whole before any kernel starts; `only` keeps the runs whose name or
    notebook starts with one of its names (and makes the run partial)."""
    path = Path(path)
    return config_from_doc(_read(path), path, only)


def config_from_doc(doc: dict[str, Any], path: Path, only: list[str] | None = None, where: str | None = None) -> RunConfig:
    """A run config from its parsed YAML document. `path` names the config in messages (and notebooks are
    looked for beside it first); `where`, when given, names the origin of the run entries in messages instead
    of "<path> run <i>" (the command line, for `notebook_config`)."""
    top = {k: _positive(doc.get(k, d), k, path, integer=k != "max_output_mb") for k, d in DEFAULTS.items()}
    default_jobs = _positive(doc["jobs"], "jobs", path) if doc.get("jobs") is not None else None
    runs = doc.get("runs") or []
    if not isinstance(runs, list):
        raise DataError("`runs` must be a list of run entries", file=path, column="runs", value=type(runs).__name__)
    nb_dir = paths.project_root() / "notebooks"
    jobs: list[Job] = []
    codes: list[tuple[str, str]] | None = None
    for i, spec in enumerate(runs, start=1):
        here = where or f"{path} run {i}"
        if not isinstance(spec, dict):
            raise DataError("a run entry must be a mapping with at least `notebook`", file=path, row=i, value=spec)
        bad = set(spec) - RUN_KEYS
        if bad:
            raise DataError("unknown key in run entry", file=path, row=i, column=str(sorted(map(str, bad))[0]),
                            hint=f"Allowed: {sorted(RUN_KEYS)}")
        if not isinstance(spec.get("notebook"), str) or not spec["notebook"]:
            raise DataError("run entry needs `notebook: <file>.ipynb`", file=path, row=i, column="notebook", value=spec.get("notebook"))
        local = path.parent / spec["notebook"]  # a config may sit beside its own notebooks (tests, forks)
        nb = local if local.is_file() else nb_dir / spec["notebook"]
        if not nb.is_file():
            raise DataError("notebook not found", file=path, row=i, column="notebook", value=spec["notebook"])
        defaults = notebook_parameters(nb)  # placeholders may name any parameter, given or default
        params = spec.get("parameters") or {}
        if not isinstance(params, dict):
            raise DataError("`parameters` must be a mapping of name: value", file=path, row=i, column="parameters", value=params)
        if problem := plain_literal_problem(params, "parameters"):
            raise DataError(f"parameter values must be plain literals (text, numbers, true/false, null, lists and "
                            f"mappings of them): {problem}", file=path, row=i, column="parameters")
        timeout = _positive(spec.get("timeout", top["timeout"]), "timeout", path, i)
        nb_timeout = _positive(spec.get("notebook_timeout", top["notebook_timeout"]), "notebook_timeout", path, i)
        each = spec.get("each_province", False)
        if not isinstance(each, bool):
            raise DataError("`each_province` must be true or false", file=path, row=i, column="each_province", value=each)
        wanted = spec.get("provinces")
        stem = nb.stem
        if each or wanted is not None:
            codes = codes if codes is not None else _province_codes()
            known = {c for c, _ in codes}
            if wanted is not None and (not isinstance(wanted, list) or not wanted or not all(isinstance(c, str) for c in wanted)):
                raise DataError("`provinces` must be a non-empty list of quoted 2-digit province codes, e.g. [\"74\", \"06\"]",
                                file=path, row=i, column="provinces", value=wanted)
            for c in wanted or []:
                if c not in known:
                    raise DataError("unknown province code in `provinces` (2008-2025 GSO codes)", file=path, row=i,
                                    column="provinces", value=c)
            for code, name in codes:
                if wanted is not None and code not in wanted:
                    continue
                p = dict(params) | {"province": name}
                label = _name(spec.get("name", stem + "-{province_code}"), defaults | p | {"province_code": code}, path, i)
                validate_parameters(nb, p, here)
                jobs.append(Job(label, nb, p, timeout, nb_timeout))
        else:
            label = _name(spec.get("name", stem), defaults | params, path, i)
            validate_parameters(nb, dict(params), here)
            jobs.append(Job(label, nb, dict(params), timeout, nb_timeout))
    names = [j.name for j in jobs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise DataError("two runs share a name; give them distinct `name:` patterns", file=path, value=sorted(dup)[0])
    if only:
        missing = [o for o in only if not any(j.name == o or j.notebook.stem == o or j.name.startswith(o) for j in jobs)]
        if missing:
            raise DataError("--only names no run in the config", file=path, value=missing[0])
        jobs = [j for j in jobs if any(j.name == o or j.notebook.stem == o or j.name.startswith(o) for o in only)]
    if not jobs:
        raise DataError("run config lists no runs", file=path)
    return RunConfig(path, jobs, top["keep"], default_jobs, top["max_run_seconds"], top["max_output_mb"], not only and not missing_analyses(jobs))


def analysis_notebooks() -> list[Path]:
    """The project's analysis notebooks (notebooks/NN_*.ipynb): the ones a full run runs."""
    return sorted((paths.project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def missing_analyses(jobs: list[Job]) -> list[str]:
    """The analysis notebooks that none of `jobs` runs (empty for a full run)."""
    ran = {j.notebook.resolve() for j in jobs}
    return [p.stem for p in analysis_notebooks() if p.resolve() not in ran]


def find_notebook(name: str) -> Path:
    """A notebook given by name on the command line: `02_correlation`, `02_correlation.ipynb` (in notebooks/)
    or a path to a notebook file."""
    file = name if name.endswith(".ipynb") else f"{name}.ipynb"
    nb_dir = paths.project_root() / "notebooks"
    for candidate in (nb_dir / file, Path(file)):
        if candidate.is_file():
            return candidate.resolve()
    known = sorted(p.stem for p in nb_dir.glob("*.ipynb"))
    raise DataError("notebook not found", column="NOTEBOOK", value=name, hint=f"Notebooks: {', '.join(known)}")


def parse_parameters(items: list[str]) -> dict[str, Any]:
    """`-p name=value` options as a parameters mapping: each value read as YAML (`2023` a number, `[1, 2]` a
    list, `true` a boolean, `vi` or `"2023"` text), so the command line means what the same value means in a
    config; the checks are the config's (`config_from_doc`). One difference: a value YAML reads as a date
    (`cutoff=2025-10-31`) is kept as the text typed, since no parameter can be a date (papermill writes values
    into the notebook as code) and quotes inside shell quotes are friction; a config must quote it."""
    import datetime as dt

    from ..yamlio import safe_load

    out: dict[str, Any] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier():
            raise DataError("a parameter is given as -p name=value", column="-p", value=item,
                            hint="e.g. -p focus_year=2023 -p 'x=[PAPI:d8, PAPI:d5]'")
        if name in out:
            raise DataError("parameter given twice", column=name, value=item)
        try:
            value = safe_load(text)
        except Exception as exc:  # yaml's messages quote the text with a pointer: say what to fix instead
            raise DataError(f"the value is not a YAML value ({type(exc).__name__})", column=name, value=text,
                            hint="Quote text that holds ':', '#', '[' or '{', e.g. -p 'label=\"a: b\"'") from None
        out[name] = text.strip() if isinstance(value, dt.date) else value
    return out


def notebook_config(name: str, parameters: dict[str, Any]) -> RunConfig:
    """The partial run of one notebook with `parameters`, validated exactly as a config entry is: unknown names
    refused with the notebook's parameter list, the same types and literal rules. Never published."""
    nb = find_notebook(name)
    doc = {"runs": [{"notebook": str(nb), "parameters": parameters}]}
    return config_from_doc(doc, nb, where="the command line (-p)")
