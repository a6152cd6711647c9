"""The tidy panel: build, validation, provenance and loading."""

from .io import load_build_info, load_panel, load_table

__all__ = ["load_build_info", "load_panel", "load_table"]
