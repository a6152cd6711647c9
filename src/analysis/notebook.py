"""Helpers every notebook uses: where its outputs go, deterministic figures, results.json, and printing
checked numbers as rounded plain text (what nbval compares)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

from . import paths

SEED = 20201  # fixed: figures and any resampling are reproducible run to run


def output_dir(notebook: str) -> Path:
    """The runner sets VNGOV_OUTPUT_DIR next to the executed notebook; interactive sessions write under
    reports/interactive/<notebook>/ so the notebooks folder stays clean."""
    env = os.environ.get("VNGOV_OUTPUT_DIR")
    out = Path(env) if env else paths.project_root() / "reports" / "interactive" / notebook
    (out / "figures").mkdir(parents=True, exist_ok=True)
    return out


def setup() -> None:
    """Fixed seeds and a plain, deterministic matplotlib style (no timestamps, fixed SVG ids)."""
    import matplotlib
    import matplotlib.pyplot as plt

    random.seed(SEED)
    np.random.seed(SEED)
    plt.close("all")
    matplotlib.rcdefaults()
    plt.rcParams.update({
        "svg.hashsalt": "vngov-indices", "svg.fonttype": "none", "figure.dpi": 80, "savefig.dpi": 110,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
        "font.size": 9, "figure.figsize": (7.5, 4.2),
    })


def save_figure(fig: Any, name: str, notebook: str, data: Any, display: bool = True, tight: bool = True) -> None:
    """PNG and SVG next to the executed notebook, without creation dates so reruns are byte-identical,
    the plotted data as CSV beside them (every published figure has its data), and the saved PNG shown in
    the notebook (rendered once, not again by the inline backend). Returns nothing, so a notebook cell
    ending with it prints no machine-specific path.

    Before saving, the rendered layout is checked (`figures.layout_problems`: overlapping texts, text
    outside the figure, a legend over data) and the result recorded in `figure_layout.json` beside
    results.json, one entry per figure (an empty list when clean); `tests/test_figure_layout.py` reads
    those files from a default run."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from .figures import layout_problems
    from .panel.io import write_csv

    log = output_dir(notebook) / "figure_layout.json"
    layout = json.loads(log.read_text(encoding="utf-8")) if log.exists() else {}
    layout[name] = layout_problems(fig, tight=tight)
    log.write_text(json.dumps(layout, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    out = output_dir(notebook) / "figures"
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    write_csv(frame, out / f"{name}.csv", index=not isinstance(frame.index, pd.RangeIndex))  # text cells made formula-safe
    bbox = "tight" if tight else None
    fig.savefig(out / f"{name}.png", metadata={"Software": None}, bbox_inches=bbox)
    fig.savefig(out / f"{name}.svg", metadata={"Date": None, "Creator": None}, bbox_inches=bbox)
    plt.close(fig)
    if display:
        from IPython.display import HTML, Image
        from IPython.display import display as ipy_display

        ipy_display(Image(filename=str(out / f"{name}.png")))
        if os.environ.get("VNGOV_OUTPUT_DIR"):  # under the runner the figure's files sit beside the notebook
            ipy_display(HTML(f'<p class="figure-data">{name}: <a href="figures/{name}.csv">data (CSV)</a> · '
                      f'<a href="figures/{name}.svg">SVG</a> · <a href="figures/{name}.png">PNG</a></p>'))


def save_table(frame: Any, name: str, notebook: str, display: bool = True, max_rows: int = 100) -> None:
    """A table of results in full: as CSV next to the executed notebook (`tables/<name>.csv`, through the
    formula-safe writer), and shown in the notebook in full up to `max_rows` rows (pandas would otherwise
    cut a 61-row table to 10), else its first `max_rows` rows with the total stated. Under the runner a
    link to the CSV follows the table, so every table of a published analysis page has its full data."""
    import pandas as pd

    from .panel.io import write_csv

    out = output_dir(notebook) / "tables"
    out.mkdir(parents=True, exist_ok=True)
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    write_csv(frame, out / f"{name}.csv", index=not isinstance(frame.index, pd.RangeIndex))
    if not display:
        return
    from IPython.display import HTML
    from IPython.display import display as ipy_display

    with pd.option_context("display.max_rows", max_rows + 1, "display.min_rows", max_rows + 1, "display.max_columns", None,
                           "display.width", None, "display.max_colwidth", 200):
        ipy_display(frame if len(frame) <= max_rows else frame.head(max_rows))
    shown = "" if len(frame) <= max_rows else f"first {max_rows} of "
    if os.environ.get("VNGOV_OUTPUT_DIR"):
        ipy_display(HTML(f'<p class="table-data">{name}: {shown}{len(frame)} rows · '
                         f'<a href="tables/{name}.csv">full table (CSV)</a></p>'))
    elif shown:
        print(f"{name}: {shown}{len(frame)} rows shown; the full table is in {out / f'{name}.csv'}")


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        return None if not np.isfinite(obj) else round(float(obj), 6)
    if hasattr(obj, "item"):
        return obj.item()
    return obj


def save_results(results: dict[str, Any], notebook: str) -> None:
    """The machine-readable results of a run (numbers rounded to 6 decimals, keys sorted)."""
    path = output_dir(notebook) / "results.json"
    path.write_text(json.dumps(_clean(results), indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")


def show(label: str, value: Any, digits: int = 2) -> None:
    """Print one checked number as plain text, rounded, so nbval compares results, not float noise."""
    if isinstance(value, float | np.floating):
        value = "n/a" if not np.isfinite(value) else f"{value:.{digits}f}"
    print(f"{label}: {value}")
