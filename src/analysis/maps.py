"""Choropleths on the 63 provinces (2008-2025) and on the 34 provinces of 2025. Boundaries come from the
manifest (Open Development Vietnam via TaliaCao/Vietnam-Shape-Map) and are joined by name through the
registry, because the boundary files carry no GSO codes. Values of the 63 are carried to the 34 by the one
aggregation rule of the package, `analysis.panel.vintage.to_2025`."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from .manifest import load_manifest
from .registry import VINTAGE_34, Registry


def _path(source_id: str) -> str:
    return str({s.id: s for s in load_manifest()}[source_id].local_path)


def boundaries_63(registry: Registry) -> gpd.GeoDataFrame:
    g = gpd.read_file(_path("boundaries_63"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), file="boundaries_63", column="ten_tinh")
                          for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 63:
        raise ValueError("63-province boundaries do not match 63 distinct provinces")
    return g[["province_code", "geometry"]].set_crs("EPSG:4326", allow_override=True)


def boundaries_34(registry: Registry) -> gpd.GeoDataFrame:
    """The 34 provinces of 2025, `province_code` in vintage gso-2025 (resolved within that vintage)."""
    g = gpd.read_file(_path("boundaries_34"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), vintage=VINTAGE_34, file="boundaries_34",
                                           column="ten_tinh") for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 34:
        raise ValueError("34-province boundaries do not match 34 distinct provinces")
    return g[["province_code", "geometry"]].set_crs("EPSG:4326", allow_override=True)


def choropleth(ax, geo: gpd.GeoDataFrame, values: pd.DataFrame, key: str, title: str, cmap: str = "viridis") -> None:  # noqa: ANN001
    """Draw on `ax`; provinces without a value are hatched grey, not coloured as zero."""
    d = geo.merge(values[[key, "value"]], on=key, how="left")
    d.plot(column="value", ax=ax, cmap=cmap, legend=True, linewidth=0.2, edgecolor="white",
           missing_kwds={"color": "#eeeeee", "hatch": "///", "label": "no value"}, legend_kwds={"shrink": 0.6})
    ax.set_xlim(102, 110.5)
    ax.set_ylim(8.3, 23.5)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
