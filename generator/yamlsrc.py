"""Read YAML safely and remember where every value came from.

PyYAML composes the document into nodes (with the C parser where available); we
turn nodes into plain Python values ourselves so that we can record the line and
column of every key and value, refuse duplicate keys and unknown tags, and bound
the work an alias bomb can cause. Nothing here ever constructs arbitrary objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .diagnostics import format_key
from .errors import YamlError

try:  # the C parser is several times faster; fall back when libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]

MAX_NODES = 1_000_000
"""Upper bound on values built from one file: refuses alias bombs early."""
MAX_DEPTH = 100
"""Upper bound on nesting: refuses pathological documents before recursion does."""

_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:timestamp",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class Mark:
    """1-based line and column."""

    line: int
    column: int


@dataclass
class SourceMap:
    """Positions of the values (and mapping keys) of one document, by key path."""

    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)

    def value(self, path: Path_) -> Mark:
        """The mark of the value at ``path``, or of its nearest recorded ancestor."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Mark(1, 1))

    def key(self, path: Path_) -> Mark:
        """The mark of the key that introduces ``path`` (falls back to the value)."""
        return self.keys.get(path) or self.value(path)


@dataclass
class YamlDocument:
    data: Any
    marks: SourceMap


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self) -> None:
        self.marks = SourceMap()
        self.count = 0
        self._scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(
                f"document expands to more than {MAX_NODES:,} values "
                "(recursive or exponential aliases?)",
                _mark(node),
            )
        if len(path) > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", _mark(node))
        self.marks.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise YamlError(f"unsupported tag {node.tag!r}", _mark(node))
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(
                f"unsupported tag {node.tag!r}: only plain YAML values are allowed",
                _mark(node),
            )
        try:
            return self._scalars.construct_object(node)
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            what = "date" if node.tag.endswith("timestamp") else "value"
            where = f"{format_key(path)}: " if path else ""
            message = f"{where}{node.value!r} is not a valid {what} ({exc})"
            raise YamlError(message, _mark(node)) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise YamlError(f"unsupported tag {node.tag!r}", _mark(node))
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys ('<<') are not supported", _mark(key_node))
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(
                    "a key must be a plain word, not a list or mapping", _mark(key_node)
                )
            key = str(key_node.value)
            if key in out:
                first = self.marks.keys[(*path, key)]
                raise YamlError(
                    f"duplicate key '{key}' (first defined at line {first.line})", _mark(key_node)
                )
            self.marks.keys[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out


def _char_at(text: str, mark: Mark) -> str:
    lines = text.splitlines()
    if 0 < mark.line <= len(lines) and 0 < mark.column <= len(lines[mark.line - 1]):
        return lines[mark.line - 1][mark.column - 1]
    return ""


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the event stream, before the (recursive) composer sees it.

    libyaml's composer recurses per level and overflows the C stack on documents
    nested some ten thousand levels deep; the event parser does not recurse.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise YamlError(
                    f"nesting deeper than {MAX_DEPTH} levels", Mark(mark.line + 1, mark.column + 1)
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document into plain values plus a :class:`SourceMap`.

    Raises :class:`YamlError` (with a position) for syntax errors, several
    documents in one file, unsupported tags, duplicate keys and alias bombs.
    """
    try:
        _check_depth(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            problem = f"{exc.problem} ({exc.context})"
        if "another document" in problem:
            problem = "a file holds one YAML document, but a second one starts here"
        elif _char_at(text, where) == "\t":
            problem = "a tab character; YAML is indented with spaces only"
        raise YamlError(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}", Mark(1, 1)) from None
    if node is None:
        raise YamlError("the file is empty", Mark(1, 1))
    builder = _Builder()
    data = builder.build(node, ())
    return YamlDocument(data, builder.marks)
