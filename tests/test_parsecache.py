"""The parse cache returns exactly what parsing returns, and never trusts its own files."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from generator.catalog.loader import load_catalog
from generator.catalog.parsecache import ParseCache
from generator.catalog.yamlsrc import YamlError, parse_yaml

TEXT = """kind: review
id: R-1
period: {start: 2026-01-01, end: 2026-03-31}
items:
  - account: skim
    decided_at: 2026-04-02T10:00:00Z
    decision: keep
"""


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pickle"))


def test_a_cached_parse_equals_a_fresh_one_values_and_positions(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path)
    first, second = cache.parse(TEXT), ParseCache(tmp_path).parse(TEXT)
    fresh = parse_yaml(TEXT)
    assert (cache.misses, len(_entries(tmp_path))) == (1, 1)
    assert second.data == first.data == fresh.data
    assert second.data["period"]["start"] == date(2026, 1, 1)
    assert second.data["items"][0]["decided_at"] == datetime(2026, 4, 2, 10, tzinfo=UTC)
    for path in [("items", 0, "decision"), ("period", "end"), ()]:
        assert second.marks.value(path) == fresh.marks.value(path)
        assert second.marks.key(path) == fresh.marks.key(path)


def test_a_changed_text_is_parsed_again_and_an_error_is_never_cached(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path)
    cache.parse(TEXT)
    assert cache.parse(TEXT.replace("keep", "revoke")).data["items"][0]["decision"] == "revoke"
    assert (cache.hits, cache.misses) == (0, 2)
    for _ in range(2):
        with pytest.raises(YamlError, match="duplicate key 'id'"):
            cache.parse(TEXT + "id: again\n")
    assert len(_entries(tmp_path)) == 2


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("tampered cache ran code",))


def test_a_tampered_entry_runs_no_code_and_is_parsed_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ParseCache(tmp_path).parse(TEXT)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(pickle.dumps((_Payload(), b"")))
    cache = ParseCache(tmp_path)
    assert cache.parse(TEXT).data == parse_yaml(TEXT).data
    assert (cache.hits, cache.misses) == (0, 1)
    assert "tampered" not in capsys.readouterr().out
    entry.write_bytes(b"\x80\x05garbage")
    assert ParseCache(tmp_path).parse(TEXT).data["id"] == "R-1"


def test_the_example_catalog_loads_the_same_from_the_cache(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1] / "controls"
    cold, warm = ParseCache(tmp_path), ParseCache(tmp_path)
    first = load_catalog(root, cache=cold)
    second = load_catalog(root, cache=warm)
    assert (cold.hits, warm.misses) == (0, 0)
    assert warm.hits == cold.misses > 20

    def dump(records: dict[str, Any]) -> dict[str, Any]:
        return {key: record.model_dump() for key, record in records.items()}

    assert dump(second.reviews) == dump(first.reviews)
    assert dump(second.controls) == dump(first.controls)
    review = next(iter(second.reviews.values()))
    assert review.source_file == next(iter(first.reviews.values())).source_file
    assert review.source_file.endswith(f"reviews/2026-Q1/{review.id}.yaml")
    assert review.loc("items", 0) == next(iter(first.reviews.values())).loc("items", 0)
