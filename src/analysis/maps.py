"""Choropleths on the 63 provinces (2008-2025) and on the 34 provinces of 2025. Boundaries come from the
manifest (Open Development Vietnam via TaliaCao/Vietnam-Shape-Map) and are joined by name through the
registry, because the boundary files carry no GSO codes.

Values of the 63 are carried to the 34 by the one aggregation rule of the package,
`analysis.panel.vintage.to_2025`.

Both boundary files draw Hoàng Sa (inside TP Đà Nẵng) and Trường Sa (inside Khánh Hòa) as parts of those
provinces' multipolygons. A map of Vietnam without them cannot be used in an official publication, so every
map is framed to include them and names them."""

from __future__ import annotations

from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from .i18n import axis_formatter
from .manifest import load_manifest
from .registry import VINTAGE_34, Registry

# The archipelagos: bounding box (lon_min, lat_min, lon_max, lat_max) around the parts the boundary files draw,
# and the name printed beside them in each language.
ARCHIPELAGOS: dict[str, tuple[tuple[float, float, float, float], dict[str, str]]] = {
    "hoang_sa": ((111.0, 15.7, 113.0, 17.2), {"vi": "Quần đảo Hoàng Sa", "en": "Hoang Sa (Paracel) Islands"}),
    "truong_sa": ((111.5, 6.5, 117.5, 11.7), {"vi": "Quần đảo Trường Sa", "en": "Truong Sa (Spratly) Islands"}),
}
# The frame of every map: the mainland and both archipelagos (the files reach 102.14-116.95°E, 6.95-23.39°N).
EXTENT = (101.8, 6.4, 117.6, 23.7)
# Boundaries are simplified to 0.005° (about 500 m): on a map 16° wide one pixel is about 0.02°, so nothing
# visible changes, but the SVG of a map falls from 5 MB to under 1 MB (the site must stay under 40 MB).
# Topology is preserved, so no islet of either archipelago disappears (tests/test_maps.py counts them).
SIMPLIFY_DEG = 0.005


def _path(source_id: str) -> str:
    return str({s.id: s for s in load_manifest()}[source_id].local_path)


def boundaries_63(registry: Registry) -> gpd.GeoDataFrame:
    g = gpd.read_file(_path("boundaries_63"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), file="boundaries_63", column="ten_tinh")
                          for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 63:
        raise ValueError("63-province boundaries do not match 63 distinct provinces")
    return _simplified(g)


def boundaries_34(registry: Registry) -> gpd.GeoDataFrame:
    """The 34 provinces of 2025, `province_code` in vintage gso-2025 (resolved within that vintage)."""
    g = gpd.read_file(_path("boundaries_34"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), vintage=VINTAGE_34, file="boundaries_34",
                                           column="ten_tinh") for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 34:
        raise ValueError("34-province boundaries do not match 34 distinct provinces")
    return _simplified(g)


def _simplified(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = g[["province_code", "geometry"]].set_crs("EPSG:4326", allow_override=True)
    return g.assign(geometry=g.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True))


@contextmanager
def _one_draw(fig):  # noqa: ANN001, ANN202
    """geopandas redraws the whole figure after each plot call (`canvas.draw_idle`, which draws at once on
    the non-interactive backends); a map of several layers would be drawn several times for nothing. The
    figure is drawn once, when it is saved or shown."""
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    try:
        yield
    finally:
        del fig.canvas.draw_idle


def choropleth(ax, geo: gpd.GeoDataFrame, values: pd.DataFrame, key: str, title: str, cmap: str = "viridis",  # noqa: ANN001
               language: str = "en", highlight: str | None = None) -> None:
    """Draw on `ax`; provinces without a value are hatched grey, not coloured as zero. The frame holds the
    mainland and both archipelagos; their islets, a few pixels each, get a dark outline so they stay visible,
    and each archipelago is named in `language` ("vi" or "en"). `highlight`: a `key` value outlined in red."""
    if language not in ("vi", "en"):
        raise ValueError(f"language must be 'vi' or 'en', not {language!r}")
    d = geo.merge(values[[key, "value"]], on=key, how="left")
    parts = d[["geometry"]].explode(index_parts=False)
    islands = pd.concat([parts[parts.intersects(box(*bbox))] for bbox, _ in ARCHIPELAGOS.values()])
    with _one_draw(ax.figure):
        before = set(ax.figure.axes)
        d.plot(column="value", ax=ax, cmap=cmap, legend=True, linewidth=0.2, edgecolor="white",
               missing_kwds={"color": "#eeeeee", "hatch": "///", "label": "no value"}, legend_kwds={"shrink": 0.6})
        for cax in set(ax.figure.axes) - before:  # the colour bar
            cax.yaxis.set_major_formatter(axis_formatter(language))
        islands.boundary.plot(ax=ax, color="#444444", linewidth=0.5)
        if highlight is not None:
            d[d[key] == highlight].boundary.plot(ax=ax, color="red", linewidth=1.2)
    for (x0, _, x1, y1), names in ARCHIPELAGOS.values():
        ax.text((x0 + x1) / 2, y1 + 0.25, names[language], ha="center", va="bottom", fontsize=6.5,
                style="italic", color="#333333")
    ax.set_xlim(EXTENT[0], EXTENT[2])
    ax.set_ylim(EXTENT[1], EXTENT[3])
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
