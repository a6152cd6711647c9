"""Choropleths on the 63 provinces (2008-2025) and on the 34 provinces of 2025. Boundaries come from the
manifest (Open Development Vietnam via TaliaCao/Vietnam-Shape-Map) and are joined by name through the
registry, because the boundary files carry no GSO codes.

Aggregation to 2025 provinces: the population-weighted mean (GSO 2020 population) of the old provinces
that merged, computed only when every merging province has a value; otherwise the new province is left
blank rather than represented by part of its population.

Both boundary files draw Hoàng Sa (inside TP Đà Nẵng) and Trường Sa (inside Khánh Hòa) as parts of those
provinces' multipolygons. A map of Vietnam without them cannot be used in an official publication, so every
map is framed to include them and names them."""

from __future__ import annotations

from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from .i18n import axis_formatter
from .manifest import load_manifest
from .registry import Registry, normalize_name

AGGREGATION_RULE = ("2025 provinces: population-weighted mean (GSO 2020 population) of the merged 63-vintage "
                    "provinces; blank unless every merging province has a value")


# The archipelagos: bounding box (lon_min, lat_min, lon_max, lat_max) around the parts the boundary files draw,
# and the name printed beside them in each language.
ARCHIPELAGOS: dict[str, tuple[tuple[float, float, float, float], dict[str, str]]] = {
    "hoang_sa": ((111.0, 15.7, 113.0, 17.2), {"vi": "Quần đảo Hoàng Sa", "en": "Hoang Sa (Paracel) Islands"}),
    "truong_sa": ((111.5, 6.5, 117.5, 11.7), {"vi": "Quần đảo Trường Sa", "en": "Truong Sa (Spratly) Islands"}),
}
# The frame of every map: the mainland and both archipelagos (the files reach 102.14-116.95°E, 6.95-23.39°N).
EXTENT = (101.8, 6.4, 117.6, 23.7)


def _path(source_id: str) -> str:
    return str({s.id: s for s in load_manifest()}[source_id].local_path)


def boundaries_63(registry: Registry) -> gpd.GeoDataFrame:
    g = gpd.read_file(_path("boundaries_63"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), file="boundaries_63", column="ten_tinh")
                          for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 63:
        raise ValueError("63-province boundaries do not match 63 distinct provinces")
    return g[["province_code", "geometry"]].set_crs("EPSG:4326", allow_override=True)


def boundaries_34(provinces: pd.DataFrame) -> gpd.GeoDataFrame:
    g = gpd.read_file(_path("boundaries_34"))
    new = provinces.dropna(subset=["code_2025"]).drop_duplicates("code_2025")
    key = {normalize_name(n): c for n, c in zip(new["name_2025"], new["code_2025"], strict=True)}
    key |= {normalize_name("TP HCM"): key[normalize_name("Hồ Chí Minh")], normalize_name("TP Huế"): key[normalize_name("Huế")]}
    g["code_2025"] = [key.get(normalize_name(n.replace("oà", "òa").replace("oá", "óa"))) for n in g["ten_tinh"]]
    if g["code_2025"].isna().any() or g["code_2025"].nunique() != 34:
        raise ValueError(f"34-province boundaries do not match: {list(g.loc[g['code_2025'].isna(), 'ten_tinh'])}")
    return g[["code_2025", "geometry"]].set_crs("EPSG:4326", allow_override=True)


def aggregate_2025(values: pd.DataFrame, provinces: pd.DataFrame) -> pd.DataFrame:
    """`values`: province_code, value (63 vintage) -> code_2025, value, n_merged, n_with_value."""
    p = provinces[provinces["vintage"] == "gso-2008"][["province_code", "code_2025", "name_2025", "population_2020"]]
    m = p.merge(values[["province_code", "value"]], on="province_code", how="left")
    m["w"] = m["population_2020"].astype(float)

    def agg(g: pd.DataFrame) -> pd.Series:
        complete = g["value"].notna().all()
        v = float(np.average(g["value"], weights=g["w"])) if complete else np.nan
        return pd.Series({"name_2025": g["name_2025"].iloc[0], "value": v, "n_merged": len(g), "n_with_value": int(g["value"].notna().sum())})

    return m.groupby("code_2025").apply(agg, include_groups=False).reset_index()


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
