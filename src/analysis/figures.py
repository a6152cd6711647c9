"""Figure helpers the notebooks share: scatter plots whose points show their provenance (the publisher's
values as filled circles; reported, user and derived values in shapes and colours of their own) and whose
every point carries a readable label, placed without an extra layout pass or a label-placement library.

Labels are placed greedily in display space: for each point (in order of crowding), the candidate
positions around it are scored by how much the label's box would overlap labels already placed, the other
points and the frame, and the best is taken; a label pushed away from its point gets a thin leader line.
Box sizes are estimated from the font size and the text length, so no renderer is needed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .panel.provenance import MARKERS, weakest

# offsets (points) of a label's anchor from its point, near ones first; the far ones get a leader line
_CANDIDATES = [(5, 2), (5, -9), (-5, 2), (-5, -9), (0, 6), (0, -13), (12, 8), (12, -16), (-12, 8), (-12, -16), (0, 16), (0, -23),
               (18, 0), (-18, 0), (22, 16), (22, -24), (-22, 16), (-22, -24), (0, 28), (0, -35), (34, 6), (-34, 6),
               (30, 30), (-30, 30), (30, -38), (-30, -38)]


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
    char_w, text_h, gap = 0.58 * fontsize, 1.2 * fontsize, 1.0  # DejaVu Sans, Vietnamese diacritics included
    points = [(a - 2.5, b - 2.5, a + 2.5, b + 2.5) for a, b in zip(px, py, strict=True)]
    crowd = [sum(np.hypot(px - a, py - b) < 25) for a, b in zip(px, py, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    for i in sorted(range(len(texts)), key=lambda j: (-crowd[j], j)):
        w = char_w * len(texts[i])
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
        far = abs(dx) > 12 or dy > 8 or dy < -16
        ha = "left" if dx > 0 else ("right" if dx < 0 else "center")
        ax.annotate(texts[i], (x.iloc[i], y.iloc[i]), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, ha=ha,
                    va="bottom",
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#999999"} if far else None)


def provenance_scatter(ax: Any, x: pd.Series, y: pd.Series, rel_x: pd.Series, rel_y: pd.Series, labels: pd.Series | None = None,
                       fontsize: float = 6.0) -> pd.Series:
    """Scatter of the complete pairs, each point marked by its weakest provenance (see provenance.MARKERS),
    a legend of the kinds present, and every point labelled when `labels` is given. Returns the kind of
    each plotted point."""
    ok = x.notna() & y.notna()
    x, y, kind = x[ok], y[ok], weakest(rel_x[ok], rel_y[ok])
    seen = set()
    for k in ["official", "compiled", "reported", "user", "derived"]:
        m = kind == k
        if not m.any():
            continue
        style = MARKERS[k]
        first = style["label"] not in seen
        seen.add(style["label"])
        ax.scatter(x[m], y[m], s=16, marker=style["marker"], color=style["color"], label=style["label"] if first else None,
                   edgecolor="white", linewidth=0.4, zorder=3)
    pad_x, pad_y = (x.max() - x.min()) * 0.1 or 1, (y.max() - y.min()) * 0.12 or 1
    ax.set_xlim(x.min() - pad_x, x.max() + pad_x)
    ax.set_ylim(y.min() - pad_y, y.max() + pad_y)
    if labels is not None:
        label_points(ax, x, y, labels[ok], fontsize)
    if seen - {MARKERS["official"]["label"]}:  # say what the marks mean whenever a point is not the publisher's
        ax.legend(fontsize=6, loc="best")
    return kind
