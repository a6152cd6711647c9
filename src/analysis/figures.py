"""Figure helpers the notebooks share: scatter plots whose points show their provenance (the publisher's
values as filled circles; reported, user and derived values in shapes and colours of their own) and whose
every point carries a readable label, placed without an extra layout pass or a label-placement library.

Labels are placed greedily in display space: for each point (in order of crowding), the candidate
positions around it (near ones first, then rings further out) are scored by how much the label's box
would overlap labels already placed, the other points and the frame, and the best is taken; a label
pushed away from its point gets a thin leader line. Box sizes are the rendered sizes of the texts
(the figure's renderer measures each label once).

`layout_problems` is the check every saved figure goes through (`analysis.notebook.save_figure`): it
measures the *rendered* boxes of every text and legend and reports overlaps, text outside the figure and
legends over data points. `provenance_scatter` draws a robust (Theil-Sen) line where a line is wanted:
least squares follows one outlying province (Lai Châu at 7.07 in notebook 09). The line is descriptive
(its legend says so) and comes with its natural companion, Kendall's tau (the Theil-Sen slope is the median
of the pairwise slopes whose signs Kendall's tau counts), returned for the caller to print. Robust to one
outlier is not robust to a few: with three provinces outside the bunch it still moves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .panel.provenance import LEVELS, MARKERS, marker_label, weakest

# offsets (points) of a label's anchor from its point, near ones first; the far ones get a leader line
_CANDIDATES = [(5, 2), (5, -9), (-5, 2), (-5, -9), (0, 6), (0, -13), (12, 8), (12, -16), (-12, 8), (-12, -16), (0, 16), (0, -23),
               (18, 0), (-18, 0), (22, 16), (22, -24), (-22, 16), (-22, -24), (0, 28), (0, -35), (34, 6), (-34, 6),
               (30, 30), (-30, 30), (30, -38), (-30, -38)]
_CANDIDATES += [(round(r * np.cos(a)), round(r * np.sin(a))) for r in (42, 56, 72) for a in np.linspace(0, 2 * np.pi, 16, endpoint=False)]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def label_points(ax: Any, x: pd.Series, y: pd.Series, labels: pd.Series, fontsize: float = 6.0) -> None:
    """Write every label next to its point with as little overlap as the greedy search finds. Call after the
    axes limits are final (the positions depend on them)."""
    fig = ax.figure
    pos = ax.get_position()
    width_pt, height_pt = pos.width * fig.get_figwidth() * 72, pos.height * fig.get_figheight() * 72
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    px = (x.to_numpy(float) - x0) / (x1 - x0) * width_pt
    py = (y.to_numpy(float) - y0) / (y1 - y0) * height_pt
    texts = [str(t) for t in labels]
    renderer, to_pt = fig.canvas.get_renderer(), 72 / fig.dpi
    probe = fig.text(0, 0, "", fontsize=fontsize)  # the rendered box of each label, line spacing and diacritics included
    sizes = []
    for t in texts:
        probe.set_text(t)
        ext = probe.get_window_extent(renderer)
        sizes.append((ext.width, ext.height))
    probe.remove()
    gap = 1.0
    points = [(a - 2.5, b - 2.5, a + 2.5, b + 2.5) for a, b in zip(px, py, strict=True)]
    crowd = [sum(np.hypot(px - a, py - b) < 25) for a, b in zip(px, py, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    for i in sorted(range(len(texts)), key=lambda j: (-crowd[j], j)):
        w, text_h = sizes[i][0] * to_pt, sizes[i][1] * to_pt
        best, best_score = None, np.inf
        for k, (dx, dy) in enumerate(_CANDIDATES):
            left = px[i] + dx if dx > 0 else (px[i] + dx - w if dx < 0 else px[i] - w / 2)
            box = (left - gap, py[i] + dy - gap, left + w + gap, py[i] + dy + text_h + gap)
            score = sum(_overlap(box, b) for b in placed) * 4 + sum(_overlap(box, b) for j, b in enumerate(points) if j != i)
            score += (max(0.0, -box[0]) + max(0.0, box[2] - width_pt)) * text_h * 12  # outside the frame: clipped
            score += (max(0.0, -box[1]) + max(0.0, box[3] - height_pt)) * w * 12
            score += k * 0.5  # prefer the near positions when scores tie
            if score < best_score:
                best, best_score = (box, dx, dy), score
        box, dx, dy = best
        placed.append(box)
        far = abs(dx) > 12 or dy > 8 or dy < -16 or np.hypot(dx, dy) > 30
        ha = "left" if dx > 0 else ("right" if dx < 0 else "center")
        ax.annotate(texts[i], (x.iloc[i], y.iloc[i]), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, ha=ha,
                    va="bottom",
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#999999"} if far else None)


def label_line_ends(ax: Any, ends: list[tuple[float, float, str, str]], fontsize: float = 6.2) -> None:
    """Label the right-hand ends of lines (x, y, text, colour) in a column beside them, pushed apart vertically
    just enough that no two labels touch; a thin connector joins a moved label to its line. Lines that end
    close together (two provinces rising by +13,48 and +13,34) would otherwise print their names on top of
    each other. Call after the axes limits are final."""
    if not ends:
        return
    fig = ax.figure
    fig.canvas.draw()
    to_pt = 72 / fig.dpi
    probe = fig.text(0, 0, "Ág", fontsize=fontsize)
    step = probe.get_window_extent(fig.canvas.get_renderer()).height * to_pt + 1.5
    probe.remove()
    bottom, top = (v * to_pt for v in ax.get_window_extent().intervaly)
    at = [ax.transData.transform((x, y))[1] * to_pt for x, y, _, _ in ends]
    order = sorted(range(len(ends)), key=lambda i: at[i])
    want = [min(max(at[i], bottom + step / 2), top - step / 2) for i in order]
    for k in range(1, len(want)):
        want[k] = max(want[k], want[k - 1] + step)
    overflow = want[-1] - (top - step / 2)
    if overflow > 0:
        want = [w - overflow for w in want]
        for k in range(len(want) - 2, -1, -1):
            want[k] = min(want[k], want[k + 1] - step)
    for i, w in zip(order, want, strict=True):
        x, y, text, colour = ends[i]
        dy = w - at[i]
        ax.annotate(text, (x, y), xytext=(8, dy), textcoords="offset points", fontsize=fontsize, color=colour, va="center",
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#999999"} if abs(dy) > 1 else None)


LINES = ("theil_sen", None)


def robust_line(x: pd.Series, y: pd.Series) -> tuple[float, float] | None:
    """Theil-Sen slope and intercept (scipy): the median of the pairwise slopes, so one outlying province
    cannot tilt it as it tilts a least-squares line. None with fewer than 3 pairs or a single x value."""
    ok = x.notna() & y.notna()
    if ok.sum() < 3 or x[ok].nunique() < 2:
        return None
    from scipy.stats import theilslopes

    r = theilslopes(y[ok].astype(float), x[ok].astype(float))
    return float(r.slope), float(r.intercept)


def provenance_points(ax: Any, x: pd.Series, y: pd.Series, kind: pd.Series, language: str = "en", prefix: str = "",
                      size: float = 16, alpha: float = 1.0, zorder: float = 3) -> list[str]:
    """Points drawn by the one provenance convention (provenance.MARKERS): one scatter per kind present, in
    the order official, compiled, reported, user, derived, each in its marker and colour, with the legend
    label of its kind in `language` after `prefix` (official and compiled share one look and one entry).
    `kind` holds each point's reliability; a point of unknown kind is an error, never a default circle.
    Returns the legend labels used."""
    kind = pd.Series(kind, index=x.index)
    unknown = set(kind.dropna()) - set(LEVELS)
    if unknown or kind.isna().any():
        from .errors import DataError

        raise DataError("a point without a known reliability cannot be drawn", value=sorted(map(str, unknown))[:1] or None,
                        hint=f"Known levels: {', '.join(LEVELS)}")
    seen: list[str] = []
    for k in LEVELS:
        m = (kind == k).to_numpy()
        if not m.any():
            continue
        style, text = MARKERS[k], prefix + marker_label(k, language)
        ax.scatter(x[m], y[m], s=size, marker=style["marker"], color=style["color"], label=None if text in seen else text,
                   edgecolor="white", linewidth=0.4, alpha=alpha, zorder=zorder)
        if text not in seen:
            seen.append(text)
    return seen


def provenance_scatter(ax: Any, x: pd.Series, y: pd.Series, rel_x: pd.Series, rel_y: pd.Series, labels: pd.Series | None = None,
                       fontsize: float = 6.0, line: str | None = "theil_sen") -> pd.Series:
    """Scatter of the complete pairs, each point marked by its weakest provenance (see provenance.MARKERS),
    a legend of the kinds present, every point labelled when `labels` is given, and a robust Theil-Sen line
    (`line=None`: none; a least-squares line is not offered, being pulled by a single extreme province),
    labelled as descriptive with Kendall's tau. Returns the kind of each plotted point; its `attrs` hold n
    and, with the line, `theil_sen_slope`, `theil_sen_intercept`, `kendall_tau` (tau-b) and `kendall_p`
    (unadjusted: a caller testing several pairs adjusts them), for the caller to print beside the figure."""
    if line not in LINES:
        raise ValueError(f"line must be one of {LINES}, not {line!r}")
    ok = x.notna() & y.notna()
    x, y, kind = x[ok], y[ok], weakest(rel_x[ok], rel_y[ok])
    seen = set(provenance_points(ax, x, y, kind))
    pad_x, pad_y = (x.max() - x.min()) * 0.1 or 1, (y.max() - y.min()) * 0.12 or 1
    ax.set_xlim(x.min() - pad_x, x.max() + pad_x)
    ax.set_ylim(y.min() - pad_y, y.max() + pad_y)
    fit = robust_line(x, y) if line == "theil_sen" else None
    kind.attrs["n"] = int(len(x))
    if fit is not None:
        from scipy.stats import kendalltau

        tau = kendalltau(x.astype(float), y.astype(float))
        kind.attrs.update(theil_sen_slope=fit[0], theil_sen_intercept=fit[1], kendall_tau=float(tau.statistic), kendall_p=float(tau.pvalue))
        xx = np.array([x.min(), x.max()], dtype=float)
        ax.plot(xx, fit[1] + fit[0] * xx, color="#c0392b", lw=0.8, zorder=2,
                label=f"Theil-Sen line, descriptive (Kendall's τ {float(tau.statistic):+.2f})")
    if labels is not None:
        label_points(ax, x, y, labels[ok], fontsize)
    if seen - {MARKERS["official"]["label"]}:  # say what the marks mean whenever a point is not the publisher's
        ax.legend(fontsize=6, loc="best")
    return kind


# --- layout check: rendered text that overlaps, leaves the figure or hides data ------------------------------

MIN_OVERLAP_PX = 1.0  # overlaps of rendered boxes smaller than this (pixels, each way) are anti-aliasing, not collisions


def _drawn_texts(fig: Any) -> list[Any]:
    """Every text the renderer draws: titles, labels, annotations, figure texts and the tick labels inside
    each axis's view (matplotlib keeps Text objects of ticks outside the view, but does not draw them).
    Texts inside a legend are left out: the legend is checked as one box. An axes turned off (`set_axis_off`,
    as on a map) draws neither its tick labels nor its axis labels, though it keeps them as Text objects."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    in_legend = {id(t) for leg in fig.findobj(Legend) for t in leg.get_texts() + [leg.get_title()]}
    ticks: dict[int, bool] = {}
    for ax in fig.axes:
        for axis in ax._axis_map.values():  # x, y (and z) axes of this Axes
            if not ax.axison:
                ticks[id(axis.label)] = False
            lo, hi = sorted(axis.get_view_interval())
            pad = 1e-9 * max(1.0, abs(hi - lo))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                inside = ax.axison and lo - pad <= tick.get_loc() <= hi + pad
                for label in (tick.label1, tick.label2):
                    ticks[id(label)] = inside
    out = []
    for t in fig.findobj(Text):
        if id(t) in in_legend or not t.get_visible() or not t.get_text().strip() or not ticks.get(id(t), True):
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        out.append(t)
    return out


def _text_extent(t: Any, renderer: Any) -> Any:
    """The rendered box of a text's letters only: an annotation's own extent also holds its leader line."""
    from matplotlib.text import Text

    return Text.get_window_extent(t, renderer)


def _box(b: Any) -> tuple[float, float, float, float]:
    return (float(b.x0), float(b.y0), float(b.x1), float(b.y1))


def _corners(t: Any, renderer: Any) -> np.ndarray:
    """The four corners (display pixels) of a text's rendered box, rotated with the text: the axis-aligned
    extent of a rotated label is far larger than the label and would report overlaps that are not there.
    The box of a rotated rectangle is centred on it, so the rectangle is the unrotated size turned about
    that centre."""
    ext = _text_extent(t, renderer)
    angle = float(t.get_rotation()) % 180
    if angle == 0:
        return np.array([[ext.x0, ext.y0], [ext.x1, ext.y0], [ext.x1, ext.y1], [ext.x0, ext.y1]])
    t.set_rotation(0)
    flat = _text_extent(t, renderer)
    t.set_rotation(angle)
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [flat.width / 2, flat.height / 2]
    return half @ rot.T + [(ext.x0 + ext.x1) / 2, (ext.y0 + ext.y1) / 2]


def _shrunk(corners: np.ndarray, by: float) -> Any:
    """A closed path of the rectangle with every side moved `by` pixels inwards (the overlap tolerance)."""
    from matplotlib.path import Path

    u = corners[1] - corners[0]
    v = corners[3] - corners[0]
    lu, lv = np.linalg.norm(u), np.linalg.norm(v)
    du = u / lu * min(by, lu / 2) if lu else u
    dv = v / lv * min(by, lv / 2) if lv else v
    inner = np.array([corners[0] + du + dv, corners[1] - du + dv, corners[2] - du - dv, corners[3] + du - dv])
    return Path(np.vstack([inner, inner[:1]]), closed=True)


def _data_points(ax: Any) -> np.ndarray:
    """Display coordinates of the data an axes draws: line vertices and scatter offsets."""
    pts = []
    for line in ax.get_lines():
        xy = line.get_xydata()
        if len(xy) and line.get_visible() and not line.get_label().startswith("_child"):
            pts.append(line.get_transform().transform(np.asarray(xy, float)))
    for coll in ax.collections:
        off = coll.get_offsets()
        if coll.get_visible() and len(off) and np.ndim(off) == 2:
            pts.append(coll.get_offset_transform().transform(np.asarray(off, float)))
    pts = [p[np.isfinite(p).all(axis=1)] for p in pts]
    return np.concatenate(pts) if pts else np.empty((0, 2))


def layout_problems(fig: Any, tight: bool = True) -> list[dict]:
    """Rendered text bounding boxes (`get_window_extent` with the figure's renderer) checked three ways:
    two texts (or a text and a legend) that overlap; a text outside the figure, which `savefig` would clip
    (not with `tight`, whose bounding box grows to hold every text); and a legend drawn over data points of
    its axes. Returns one dict per problem (kind, the texts involved, the overlap in pixels), empty when
    the figure is clean. Lines that merely cross a text are not counted (labels sit on gridlines)."""
    from matplotlib.legend import Legend

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = _drawn_texts(fig)
    items = [(f"text {t.get_text()!r}", _box(_text_extent(t, renderer)), t) for t in texts]
    shapes = [_corners(t, renderer) for t in texts]
    legends = [leg for leg in fig.findobj(Legend) if leg.get_visible()]
    for leg in legends:
        b = _box(leg.get_window_extent(renderer))
        items.append((f"legend ({', '.join(t.get_text() for t in leg.get_texts()[:3])}{', ...' if len(leg.get_texts()) > 3 else ''})",
                      b, leg))
        shapes.append(np.array([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]]))
    paths = [_shrunk(c, MIN_OVERLAP_PX / 2) for c in shapes]
    problems = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (na, a, _), (nb, b, _) = items[i], items[j]
            w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            if w > MIN_OVERLAP_PX and h > MIN_OVERLAP_PX and paths[i].intersects_path(paths[j], filled=True):
                problems.append({"kind": "overlap", "a": na, "b": nb, "px": [round(w, 1), round(h, 1)]})
    if not tight:
        W, H = fig.bbox.width, fig.bbox.height
        for name, (x0, y0, x1, y1), _ in items:
            out = max(-x0, x1 - W, -y0, y1 - H)
            if out > MIN_OVERLAP_PX:
                problems.append({"kind": "outside the figure", "a": name, "px": round(float(out), 1)})
    for leg in legends:
        ax = leg.axes
        if ax is None or leg.parent is not ax:
            continue
        x0, y0, x1, y1 = _box(leg.get_window_extent(renderer))
        p = _data_points(ax)
        hidden = int(((p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)).sum()) if len(p) else 0
        if hidden:
            problems.append({"kind": "legend over data", "a": items[[it[2] for it in items].index(leg)][0], "points": hidden})
    return problems
