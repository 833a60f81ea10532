"""Read YAML safely and remember where every value came from.

PyYAML composes the document into nodes (with the C parser where available); we
turn nodes into plain Python values ourselves so that we can record the line and
column of every key and value, refuse duplicate keys and unknown tags, and bound
the work an alias bomb can cause. Nothing here ever constructs arbitrary objects.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from typing import Any

import yaml

from ..diagnostics import format_key
from ..errors import ControlbookError
from ..model.positions import Mark, SourceMap

try:  # the C parser is several times faster; fall back when libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_NODES = 1_000_000
"""Upper bound on values built from one file: refuses alias bombs early."""
MAX_DEPTH = 100
"""Upper bound on nesting: refuses pathological documents before recursion does."""
_COMPOSE_SAFE_DEPTH = 1000
"""Nesting the C composer handles without risk (it overflows at some ten thousand)."""

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


class YamlError(ControlbookError):
    """A YAML document could not be read; carries the position of the problem."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


@dataclass
class YamlDocument:
    data: Any
    marks: SourceMap


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


_STR_TAG = "tag:yaml.org,2002:str"
_PREFIX = re.compile(r"^[ ?-]*", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
"""Control characters other than tab and line feed, and the non-characters U+FFFE and
U+FFFF. YAML refuses them written out, but a double-quoted escape (``"\\a"``, ``"\\x1b"``,
``"\\0"``) makes one; in a page it does nothing good, in a terminal it moves the cursor,
and in PDF metadata it is invalid XML."""


class _Builder:
    """Nodes -> plain values, recording positions in document order (see :class:`SourceMap`)."""

    def __init__(self, *, escapes: bool = True) -> None:
        self.escapes = escapes  # False: the text has no backslash, so no escaped characters
        self.packed: array[int] = array("I")
        self.count = 0
        self.path: list[str | int] = []
        self._scalars = yaml.constructor.SafeConstructor()
        self._construct = self._scalars.yaml_constructors

    def _record(self, node: yaml.Node) -> int:
        """Append the node's position (span 1 for now); return its index."""
        mark = node.start_mark
        self.packed.extend((mark.line + 1, mark.column + 1, 1))
        return len(self.packed) // 3 - 1

    def build(self, node: yaml.Node) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(
                f"document expands to more than {MAX_NODES:,} values "
                "(recursive or exponential aliases?)",
                _mark(node),
            )
        if len(self.path) > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", _mark(node))
        index = self._record(node)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.MappingNode):
            value: Any = self._mapping(node)
        elif node.tag != _SEQ_TAG:
            raise YamlError(f"unsupported tag {node.tag!r}", _mark(node))
        else:
            value = []
            path = self.path
            for position, item in enumerate(node.value):
                path.append(position)
                value.append(self.build(item))
                path.pop()
        self.packed[3 * index + 2] = len(self.packed) // 3 - index
        return value

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR_TAG:
            if self.escapes and node.style == '"':
                self._refuse_controls(node)
            return node.value
        if tag not in _SCALAR_TAGS:
            raise YamlError(
                f"unsupported tag {tag!r}: only plain YAML values are allowed", _mark(node)
            )
        try:
            return self._construct[tag](self._scalars, node)
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            what = "date" if tag.endswith("timestamp") else "value"
            path = tuple(self.path)
            where = f"{format_key(path)}: " if path else ""
            message = f"{where}{node.value!r} is not a valid {what} ({exc})"
            raise YamlError(message, _mark(node)) from None

    def _refuse_controls(self, node: yaml.ScalarNode) -> None:
        found = _CONTROL.search(node.value)
        if found:
            code = ord(found.group())
            what = "non-character" if code >= 0xFFFE else "control character"
            where = f"{format_key(self.path)}: " if self.path else ""
            raise YamlError(
                f"{where}{what} U+{code:04X} in the text; remove it "
                "(tabs and line breaks are fine)",
                _mark(node),
            )

    def _mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise YamlError(f"unsupported tag {node.tag!r}", _mark(node))
        out: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        path = self.path
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys ('<<') are not supported", _mark(key_node))
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(
                    "a key must be a plain word, not a list or mapping", _mark(key_node)
                )
            if self.escapes and key_node.style == '"':
                self._refuse_controls(key_node)
            key = str(key_node.value)
            if key in seen:
                first = _mark(seen[key])
                raise YamlError(
                    f"duplicate key '{key}' (first defined at line {first.line})", _mark(key_node)
                )
            seen[key] = key_node
            self._record(key_node)
            path.append(key)
            out[key] = self.build(value_node)
            path.pop()
        return out


def _char_at(text: str, mark: Mark) -> str:
    lines = text.splitlines()
    if 0 < mark.line <= len(lines) and 0 < mark.column <= len(lines[mark.line - 1]):
        return lines[mark.line - 1][mark.column - 1]
    return ""


def _may_nest_deeper_than(text: str, levels: int) -> bool:
    """False when ``text`` certainly nests at most ``levels`` collections deep.

    A flow collection opens with a bracket. A block collection opens in a line's prefix
    of spaces and ``-``/``?`` indicators, or as the one mapping after it; one nested in
    another starts at a greater column, except a sequence under a mapping key, which may
    share it. So the depth is at most the brackets plus twice the longest prefix (+ 2).
    """
    prefix = max(map(len, _PREFIX.findall(text)), default=0)
    return text.count("[") + text.count("{") + 2 * (prefix + 2) > levels


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the event stream, before the (recursive) composer sees it.

    libyaml's composer recurses per level and overflows the C stack on documents
    nested some ten thousand levels deep; the event parser does not recurse. The event
    pass costs about half a parse, so it only runs on a text that could nest that deep;
    :class:`_Builder` enforces :data:`MAX_DEPTH` on the others.
    """
    if not _may_nest_deeper_than(text, _COMPOSE_SAFE_DEPTH):
        return
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
    builder = _Builder(escapes="\\" in text)
    data = builder.build(node)
    return YamlDocument(data, SourceMap(data, builder.packed))
