"""YAML as the project reads it: safe types only, bounded, and every oddity a clear error rather than a surprise.

- A key written twice is an error, not "the last one wins" (PyYAML's `safe_load` keeps the second: a config with
  `timeout: 1` and a later `timeout: 300` would run with 300).
- Limits are checked on the event stream before any object is built (`limits.YAML_MAX_NODES` after alias
  expansion, `YAML_MAX_DEPTH`): a 500-byte alias bomb that expands to a billion nodes, or 3 000 nested
  brackets that would overflow PyYAML's recursive composer, are refused in milliseconds.
- An alias inside the structure it names (`&a [*a]`, a list without end), a list or mapping as a key, a merge
  key (`<<`), an impossible date (2025-02-30), a number of more than
  `YAML_MAX_NUMBER_DIGITS` digits, `.nan` and `.inf` are refused with the line, as `yaml.YAMLError`s, so every
  caller's usual YAML error path reports them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import DataError
from .files import read_text
from .limits import YAML_MAX_BYTES, YAML_MAX_DEPTH, YAML_MAX_NODES, YAML_MAX_NUMBER_DIGITS


class YamlLimitError(yaml.YAMLError):
    """A YAML document over one of the limits (nodes after alias expansion, nesting)."""


def _check_size(text: str) -> None:
    """Count nodes with every alias expanded, and nesting, from the parser's events (no objects are built, and
    the parser itself does not recurse). An anchored node's expanded size is remembered, so an alias costs what
    it stands for."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, expanded size so far] per open collection
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) - 1 > YAML_MAX_DEPTH:
                raise YamlLimitError(f"nested more than {YAML_MAX_DEPTH} levels deep (line {event.start_mark.line + 1})")
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(frame[0] == event.anchor for frame in stack):
                raise YamlLimitError(f"the alias *{event.anchor} refers to the list or mapping that contains it "
                                     f"(line {event.start_mark.line + 1}): a structure without end")
            size = sizes.get(event.anchor, 1)  # an unknown anchor is the composer's error, reported later
        else:
            continue
        stack[-1][1] += size
        if stack[-1][1] > YAML_MAX_NODES or sum(frame[1] for frame in stack) > YAML_MAX_NODES:
            raise YamlLimitError(f"more than {YAML_MAX_NODES:,} values once its aliases (*name) are expanded "
                                 f"(line {event.start_mark.line + 1}); an alias repeats everything its anchor (&name) holds")


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, "found a merge key (<<), which this project does not read: "
                    "write the keys out", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found a {type(key).__name__} as a key; a key is a name or a number",
                    key_node.start_mark) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > YAML_MAX_NUMBER_DIGITS:
            raise yaml.constructor.ConstructorError(None, None, f"found a number of {digits} digits (at most "
                                                    f"{YAML_MAX_NUMBER_DIGITS}); quote it if it is a text", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if value != value or value in (float("inf"), float("-inf")):
            raise yaml.constructor.ConstructorError(None, None, f"found {node.value}, which is not a finite number "
                                                    "(a missing value is left out, not written as .nan)", node.start_mark)
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"found {node.value}, which is not a real date ({exc})",
                                                    node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def safe_load(text: str) -> Any:
    """`yaml.safe_load` within the limits above; every refusal is a `yaml.YAMLError` naming its line."""
    if len(text) > YAML_MAX_BYTES:
        raise YamlLimitError(f"longer than {YAML_MAX_BYTES:,} characters")
    _check_size(text)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:  # not reached within YAML_MAX_DEPTH; kept so that no input can end in a traceback
        raise YamlLimitError("nested too deeply") from None


def load_file(path: Path, what: str) -> Any:
    """The YAML document in `path`, read as `files.read_text` reads (a regular file within YAML_MAX_BYTES, UTF-8)
    and parsed by `safe_load`; any problem is a DataError naming the file and `what` it is."""
    text = read_text(Path(path), YAML_MAX_BYTES, what)
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"the {what} is not valid YAML: {exc}", file=path) from None
