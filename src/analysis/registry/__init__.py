"""Province registry: the 63 provinces of 2008-2025 (plus Hà Tây and a national row) and the 34 of 2025,
each code with its vintage, names and every spelling the raw files use."""

from .provinces import (
    ALIAS_SEPARATOR,
    MERGER_DATE,
    NATIONAL_CODE,
    VINTAGE_34,
    VINTAGE_63,
    VINTAGES,
    Registry,
    build_provinces,
    in_domain,
    normalize_name,
)

__all__ = ["ALIAS_SEPARATOR", "MERGER_DATE", "NATIONAL_CODE", "VINTAGES", "VINTAGE_34", "VINTAGE_63", "Registry", "build_provinces", "in_domain",
           "normalize_name"]
