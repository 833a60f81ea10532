"""Property-based fuzzing of the loader: any text either loads or fails with our error and a place.

Never another exception type, never a traceback for the user, never a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.catalog.loader import read_file
from generator.catalog.yamlsrc import _CONTROL, YamlError, _may_nest_deeper_than, parse_yaml
from generator.diagnostics import Level
from generator.model import FILE_KINDS
from generator.model.positions import Mark

YAML_ALPHABET = st.sampled_from(
    [*"abcxyz019 :-[]{},&*!|>'\"#%@`?\t\n\r\\<=.", "kind", "people", "\u00e9", "\ufeff"]
)
yaml_like = st.lists(YAML_ALPHABET, max_size=300).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), yaml_like))
def test_parse_yaml_returns_data_or_raises_our_error_with_a_position(text: str) -> None:
    try:
        document, error = parse_yaml(text), None
    except YamlError as exc:
        document, error = None, exc
    if error is not None:
        assert error.mark.line >= 1
        assert error.mark.column >= 1
        assert error.message
    else:
        assert document is not None
        assert document.marks.value(()).line >= 1


# text the parser accepts: control characters (escaped by safe_dump) are refused on purpose
texts = st.text(max_size=20).filter(lambda s: not _CONTROL.search(s))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts, st.dates().map(str))
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "name", "kind", "people", "owners", "x"]), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from([*FILE_KINDS, "other"]),
    body=st.dictionaries(st.text(max_size=12), documents, max_size=6),
)
def test_any_catalog_shaped_file_yields_a_model_or_located_diagnostics(
    tmp_path_factory, kind: str, body: dict[str, object]
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("fuzz")
    path = Path(folder) / "file.yaml"
    path.write_text(yaml.safe_dump({"kind": kind, **body}, allow_unicode=True), encoding="utf-8")
    outcome = read_file(path, "file.yaml", "file.yaml")
    if outcome.file is None:
        errors = [d for d in outcome.diagnostics if d.level == Level.ERROR]
        assert errors, "an unreadable file must say why"
        for diagnostic in errors:
            assert diagnostic.location.file == "file.yaml"
            assert diagnostic.location.line >= 1
    else:
        assert outcome.file.record is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_an_exception(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.yaml"
        path.write_bytes(data)
        outcome = read_file(path, "x.yaml", "x.yaml")
        assert outcome.file is not None or outcome.diagnostics


def _depth(node: yaml.Node) -> int:
    if isinstance(node, yaml.MappingNode):
        return 1 + max((_depth(v) for _k, v in node.value), default=0)
    if isinstance(node, yaml.SequenceNode):
        return 1 + max((_depth(v) for v in node.value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, True, False]), st.integers(2, 6))
def test_the_nesting_bound_that_skips_the_depth_pass_never_underestimates(
    document: object, flow: bool | None, indent: int
) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, indent=indent)
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    depth = _depth(node) if node is not None else 0
    assert depth == 0 or _may_nest_deeper_than(text, depth - 1), "the bound is below the depth"


def test_deep_block_nesting_is_refused_without_crashing_the_parser() -> None:
    text = "".join(f"{' ' * (2 * i)}- \n" for i in range(20_000)) + "x\n"
    with pytest.raises(YamlError, match="nesting deeper than 100 levels"):
        parse_yaml(text)


def test_positions_are_found_after_a_lazy_walk_of_the_document() -> None:
    document = parse_yaml("kind: people\npeople:\n  - id: a\n    name: [x, {y: 1}]\n")
    assert document.marks.key(("people",)).line == 2
    assert document.marks.value(("people", 0, "name", 1, "y")) == Mark(4, 19)
    assert document.marks.key(("people", 0, "name")) == Mark(4, 5)
    assert document.marks.value(("people", 9)) == document.marks.value(("people",))


def _reference_marks(node: yaml.Node, path: tuple = ()) -> Iterator[tuple[str, tuple, Mark]]:
    """Every value's and key's position, straight from PyYAML's node tree."""
    yield "value", path, Mark(node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            yield "key", child, Mark(key.start_mark.line + 1, key.start_mark.column + 1)
            yield from _reference_marks(value, child)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            yield from _reference_marks(value, (*path, index))


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, True, False]))
def test_every_position_matches_the_yaml_node_tree(document: object, flow: bool | None) -> None:
    text = yaml.safe_dump({"root": document, "after": [1, {"x": 2}]}, default_flow_style=flow)
    parsed = parse_yaml(text)
    for kind, path, mark in _reference_marks(yaml.compose(text, Loader=yaml.SafeLoader)):
        found = parsed.marks.key(path) if kind == "key" else parsed.marks.value(path)
        assert found == mark, (kind, path)
