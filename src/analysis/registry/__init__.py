"""Province registry: the 63 provinces of 2008-2025 (plus Hà Tây and a national row), their codes in each
vintage, names and every spelling the raw files use."""

from .provinces import NATIONAL_CODE, Registry, build_provinces, normalize_name

__all__ = ["NATIONAL_CODE", "Registry", "build_provinces", "normalize_name"]
