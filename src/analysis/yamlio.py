"""YAML as the project reads it: safe types only, and a key written twice is an error, not "the last one wins".

PyYAML's `safe_load` silently keeps the second of two equal keys, so a run config with `timeout: 1` and a
later `timeout: 300` runs with 300 and a mapping file with two `year:` lines reads the wrong year. Configs
are validated like data: the duplicate is reported with its line, through the caller's usual YAML error."""

from __future__ import annotations

from typing import Any

import yaml


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def safe_load(text: str) -> Any:
    """`yaml.safe_load` that refuses a duplicate key (a `yaml.YAMLError` naming the key and its line)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
