"""Run configurations (runs/*.yaml): which notebooks to run with which parameters.

    timeout: 600            # seconds per cell (papermill's execution timeout)
    keep: 10                # runs kept under reports/runs/
    runs:
      - notebook: 01_data_overview.ipynb
      - notebook: 06_report_card.ipynb
        name: card-{province_code}-{language}
        each_province: true   # one run per province of the 63, parameter `province`
        parameters: {language: vi, year: 2020}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import paths
from ..errors import DataError
from .params import validate_parameters

CONFIG_KEYS = {"timeout", "keep", "runs", "jobs"}
RUN_KEYS = {"notebook", "name", "parameters", "each_province", "timeout", "provinces"}


@dataclass(frozen=True)
class Job:
    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout: int = 600


@dataclass
class RunConfig:
    path: Path
    jobs: list[Job]
    keep: int = 10
    default_jobs: int | None = None


def _province_codes() -> list[tuple[str, str]]:
    from ..panel import load_table

    p = load_table("provinces")
    p = p[p["vintage"] == "gso-2008"]
    return list(zip(p["province_code"], p["province"], strict=True))


def load_config(path: Path, only: list[str] | None = None) -> RunConfig:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise DataError("run config not found", file=path) from exc
    except yaml.YAMLError as exc:
        raise DataError(f"run config is not valid YAML: {exc}", file=path) from exc
    unknown = set(doc) - CONFIG_KEYS
    if unknown:
        raise DataError("unknown key in run config", file=path, column=sorted(unknown)[0], hint=f"Allowed: {sorted(CONFIG_KEYS)}")
    default_timeout = int(doc.get("timeout", 600))
    nb_dir = paths.project_root() / "notebooks"
    jobs: list[Job] = []
    for i, spec in enumerate(doc.get("runs") or [], start=1):
        where = f"{path} run {i}"
        bad = set(spec) - RUN_KEYS
        if bad:
            raise DataError("unknown key in run entry", file=path, row=i, column=sorted(bad)[0], hint=f"Allowed: {sorted(RUN_KEYS)}")
        local = Path(path).parent / spec["notebook"]  # a config may sit beside its own notebooks (tests, forks)
        nb = local if local.exists() else nb_dir / spec["notebook"]
        if not nb.exists():
            raise DataError("notebook not found", file=path, row=i, column="notebook", value=spec["notebook"])
        params = dict(spec.get("parameters") or {})
        timeout = int(spec.get("timeout", default_timeout))
        stem = nb.stem
        if spec.get("each_province") or spec.get("provinces"):
            wanted = spec.get("provinces")
            for code, name in _province_codes():
                if wanted and code not in wanted:
                    continue
                p = params | {"province": name}
                label = spec.get("name", stem + "-{province_code}").format(province_code=code, **p)
                validate_parameters(nb, p, where)
                jobs.append(Job(label, nb, p, timeout))
        else:
            label = spec.get("name", stem).format(**params)
            validate_parameters(nb, params, where)
            jobs.append(Job(label, nb, params, timeout))
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
    return RunConfig(Path(path), jobs, int(doc.get("keep", 10)), doc.get("jobs"))
