"""vngov-indices: Vietnam's provincial governance indices as one trustworthy panel, and the analyses
built on it. `load_panel()` is the one call a notebook needs to get the data."""

from .errors import DataError
from .panel import load_build_info, load_panel, load_table

__all__ = ["DataError", "load_build_info", "load_panel", "load_table"]
__version__ = "0.1.0"
