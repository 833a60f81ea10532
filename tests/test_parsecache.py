"""The parse cache returns exactly what parsing returns, and never trusts its own files."""

from __future__ import annotations

import hashlib
import pickle
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.make_catalog import generate
from generator.catalog import itemscsv
from generator.catalog.itemscsv import parse_items
from generator.catalog.loader import load_catalog
from generator.catalog.parsecache import ParseCache
from generator.catalog.yamlsrc import YamlError, parse_yaml
from generator.diagnostics import Location
from generator.model.reviews import ITEMS_COLUMNS, Decision
from tests.test_benchmarks import SMALL

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


# A review's items CSV (columns ITEMS_COLUMNS). The quoted comment over two lines is
# written as RFC 4180 section 2 (rules 5 to 7) describes: https://www.rfc-editor.org/rfc/rfc4180
ITEMS_CSV = (
    f"{','.join(ITEMS_COLUMNS)}\n"
    "mnovak,,,keep,j.okafor,2026-04-10T09:12:00Z,Read-only access,,\n"
    'skim,,AP,revoke,j.okafor,2026-04-10T09:20:00Z,"left the team,\nrevoked",CHG-1,2026-04-12\n'
    "lzhou,,,maybe,j.okafor,2026-04-10T09:30:00Z,,,\n"
    "\u200bghost,,,keep,j.okafor,2026-04-10T09:40:00Z,,,\n"
    "ahmed,,,keep,j.okafor,not a time,,,\n"
    ",,,keep,j.okafor,2026-04-10T09:50:00Z,,,\n"
    "psingh,,GL,modify,j.okafor,2026-04-11T08:00:00Z,,CHG-2,\n"
)


def _outcome(items: list[Any], problems: list[Any]) -> tuple[Any, ...]:
    """Everything a caller sees: values, positions of every field, and the errors."""
    fields = [*ITEMS_COLUMNS[:-2], "remediation"]
    return (
        [item.model_dump() for item in items],
        [[item.loc(name) for name in fields] for item in items],
        [item.remediation.loc("ticket") for item in items if item.remediation],
        [str(problem) for problem in problems],
    )


@pytest.mark.parametrize("threshold", [0, 1 << 40], ids=["duckdb", "python-csv"])
def test_an_items_csv_from_the_cache_has_the_same_items_positions_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    monkeypatch.setattr(itemscsv, "DUCKDB_FROM_BYTES", threshold)
    target = tmp_path / "R-1.items.csv"
    target.write_text(ITEMS_CSV, encoding="utf-8")
    raw = target.read_bytes()
    fresh = _outcome(*parse_items(raw, target, "c/R-1.items.csv"))
    cold, warm = ParseCache(tmp_path / "cache"), ParseCache(tmp_path / "cache")
    assert _outcome(*cold.items(raw, target, "c/R-1.items.csv")) == fresh
    assert _outcome(*warm.items(raw, target, "c/R-1.items.csv")) == fresh
    assert (cold.misses, warm.hits, warm.misses) == (1, 1, 0)
    values, places, tickets, problems = fresh
    assert [v["account"] for v in values] == ["mnovak", "skim", "psingh"]
    assert places[1][6] == Location("c/R-1.items.csv", 3, 7)  # the comment of line 3
    assert places[2][0] == Location("c/R-1.items.csv", 9, 1)  # psingh, after 5 bad rows
    assert tickets == [Location("c/R-1.items.csv", 3, 8), Location("c/R-1.items.csv", 9, 8)]
    assert [p.split(": ")[0] for p in problems] == [
        "c/R-1.items.csv:6:1",
        "c/R-1.items.csv:8:1",
        "c/R-1.items.csv:5:4",
        "c/R-1.items.csv:7:6",
    ]


def test_an_items_entry_holds_no_file_name_so_another_name_gets_its_own_positions(
    tmp_path: Path,
) -> None:
    target = tmp_path / "a.items.csv"
    target.write_text(ITEMS_CSV, encoding="utf-8")
    ParseCache(tmp_path / "cache").items(target.read_bytes(), target, "old/a.items.csv")
    cache = ParseCache(tmp_path / "cache")
    items, problems = cache.items(target.read_bytes(), target, "new/a.items.csv")
    assert cache.hits == 1
    assert items[0].loc("decision") == Location("new/a.items.csv", 2, 4)
    assert {p.location.file for p in problems} == {"new/a.items.csv"}


def test_a_changed_items_csv_is_read_again(tmp_path: Path) -> None:
    target = tmp_path / "a.items.csv"
    cache = ParseCache(tmp_path / "cache")
    target.write_text(ITEMS_CSV, encoding="utf-8")
    cache.items(target.read_bytes(), target, "a.items.csv")
    target.write_text(ITEMS_CSV.replace("mnovak,,,keep", "mnovak,,,revoke"), encoding="utf-8")
    items, _ = cache.items(target.read_bytes(), target, "a.items.csv")
    assert items[0].decision == Decision.REVOKE
    assert (cache.hits, cache.misses) == (0, 2)
    unreadable = b"account,decision\n\xff\n"
    first = [str(p) for p in cache.items(unreadable, target, "a.items.csv")[1]]
    again = ParseCache(tmp_path / "cache")
    assert [str(p) for p in again.items(unreadable, target, "a.items.csv")[1]] == first
    assert first == [
        "a.items.csv:2:1: error: the items file is not UTF-8 text (save it as CSV UTF-8)"
    ]
    assert again.hits == 1


def test_a_damaged_or_tampered_items_entry_is_ignored_and_runs_no_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a.items.csv"
    target.write_text(ITEMS_CSV, encoding="utf-8")
    raw = target.read_bytes()
    fresh = _outcome(*parse_items(raw, target, "a.items.csv"))
    ParseCache(tmp_path / "cache").items(raw, target, "a.items.csv")
    (entry,) = _entries(tmp_path / "cache")
    good = entry.read_bytes()
    body = pickle.loads(good[32:])
    wrong_records = ([{"account": "x"}], *body[1:])  # one record, three positions
    damaged = [
        good[:-1] + bytes([good[-1] ^ 1]),  # one bit flipped: the sha256 does not match
        good[:40],
        b"",
        _sealed(pickle.dumps((_Payload(), b""))),
        _sealed(pickle.dumps(wrong_records)),
        _sealed(pickle.dumps(([{"account": "x", "decision": "maybe"}], *body[1:]))),
    ]
    for blob in damaged:
        entry.write_bytes(blob)
        cache = ParseCache(tmp_path / "cache")
        assert _outcome(*cache.items(raw, target, "a.items.csv")) == fresh
        assert (cache.hits, cache.misses) == (0, 1)
    assert "tampered" not in capsys.readouterr().out
    assert entry.read_bytes() == good  # written again


def _sealed(body: bytes) -> bytes:
    """An entry whose sha256 matches: only its content is wrong."""
    return hashlib.sha256(body).digest() + body


def test_a_generated_catalog_with_items_csvs_loads_the_same_from_the_cache(
    tmp_path: Path,
) -> None:
    generate(SMALL, tmp_path / "catalog")
    assert list((tmp_path / "catalog").rglob("*.items.csv")), "the catalog has items CSVs"
    cold, warm = ParseCache(tmp_path / "cache"), ParseCache(tmp_path / "cache")
    first = load_catalog(tmp_path / "catalog", cache=cold)
    second = load_catalog(tmp_path / "catalog", cache=warm)
    assert (cold.hits, warm.misses) == (0, 0)
    for review in first.reviews.values():
        again = second.reviews[review.id]
        assert again.model_dump() == review.model_dump()
        assert [i.loc("decided_at") for i in again.items] == [
            i.loc("decided_at") for i in review.items
        ]
