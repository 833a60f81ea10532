"""What the views read of the access index is kept across builds while nothing the rules
read changes: the systems' account lists, the duties people hold and their conflicts.

A build whose evaluation came from the evaluation cache would otherwise build the access
index (millions of rows at full size) only for the system pages and the SoD register.
These tests compare both views built with the cache, on a miss and on a hit, with views
built without it, and follow when the index is built.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation.evalcache import EvaluationCache
from generator.evaluation.evaluate import evaluate
from generator.views import CatalogViews
from generator.views.accessfacts import AccessFactsCache
from generator.views.types import SodView, SystemView
from tests.test_trend_cache import (
    CHANGES,
)


def built(folder: Path, cache: AccessFactsCache, evaluations: Path) -> CatalogViews:
    catalog = load_catalog(folder)
    evaluation = EvaluationCache(evaluations).evaluate(catalog)
    return CatalogViews(catalog, evaluation, access_facts=cache)


def first_build(folder: Path, tmp_path: Path) -> None:
    """A build that fills the evaluation and access facts caches."""
    cache = AccessFactsCache(tmp_path / "access-facts")
    assert shown(built(folder, cache, tmp_path / "evaluations"))
    assert cache.misses == 1


def shown(views: CatalogViews) -> tuple[tuple[SystemView, ...], SodView]:
    return views.systems, views.sod


def uncached(folder: Path) -> tuple[tuple[SystemView, ...], SodView]:
    catalog = load_catalog(folder)
    return shown(CatalogViews(catalog, evaluate(catalog)))


def test_a_hit_lists_what_the_query_lists_without_building_the_access_index(
    example: Path, tmp_path: Path
) -> None:
    expected = uncached(example)
    assert sum(s.accounts_total for s in expected[0]) > 20  # the example's systems have accounts
    assert expected[1].conflicts  # and its people hold conflicting duties
    first = AccessFactsCache(tmp_path / "access-facts")
    assert shown(built(example, first, tmp_path / "evaluations")) == expected
    assert (first.hits, first.misses) == (0, 1)

    again = AccessFactsCache(tmp_path / "access-facts")
    views = built(example, again, tmp_path / "evaluations")  # the evaluation is a hit too
    assert shown(views) == expected
    assert (again.hits, again.misses) == (1, 0)
    assert "access" not in vars(views.ctx)  # the index was never built


def test_a_new_name_is_shown_from_a_hit(example: Path, tmp_path: Path) -> None:
    """Entries hold person IDs; names come from the catalog being built."""
    first_build(example, tmp_path)
    people = example / "people.yaml"
    people.write_text(people.read_text().replace("name: ", "name: Dr. "), encoding="utf-8")
    again = AccessFactsCache(tmp_path / "access-facts")
    views = built(example, again, tmp_path / "evaluations")
    assert shown(views) == uncached(example)
    assert again.hits == 1
    systems = views.systems
    holders = [p.name for s in systems for a in s.accounts for p in a.people]
    assert holders
    assert all(name.startswith("Dr. ") for name in holders)


@pytest.mark.parametrize("change", CHANGES, ids=lambda name: name.replace(" ", "-"))
def test_a_change_the_rules_read_queries_again(change: str, example: Path, tmp_path: Path) -> None:
    first_build(example, tmp_path)
    CHANGES[change](example)
    again = AccessFactsCache(tmp_path / "access-facts")
    assert shown(built(example, again, tmp_path / "evaluations")) == uncached(example)
    assert (again.hits, again.misses) == (0, 1)


def _checked(body: bytes) -> bytes:
    """An entry as the cache writes it: the body's SHA-256, a line break, the body."""
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


class _Runs:
    """Names a function (makes a folder): an entry naming it must never be unpickled
    into a call."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.folder),))


@pytest.mark.parametrize(
    "damage",
    [
        lambda key, ran: b"",
        lambda key, ran: b"not a pickle",
        lambda key, ran: _checked(b"not a pickle"),
        lambda key, ran: _checked(pickle.dumps([])),
        lambda key, ran: _checked(pickle.dumps({"key": 1})),
        lambda key, ran: _checked(pickle.dumps({"key": key, "rows": ((1, 2, (), (), ()),)})),
        lambda key, ran: _checked(pickle.dumps({"key": key, "rows": [["s", "a", [], [], []]]})),
        lambda key, ran: _checked(pickle.dumps({"key": key, "rows": _Runs(ran)})),
    ],
    ids=["empty", "text", "text-checksummed", "list", "wrong-key", "wrong-row", "lists", "code"],
)
def test_a_damaged_entry_is_queried_again_and_rewritten(
    damage: Callable[[str, Path], bytes], example: Path, tmp_path: Path
) -> None:
    expected = uncached(example)
    first_build(example, tmp_path)
    [entry] = (tmp_path / "access-facts").glob("*.pickle")
    content = damage(entry.stem, tmp_path / "code-ran")
    entry.write_bytes(content)
    again = AccessFactsCache(tmp_path / "access-facts")
    assert shown(built(example, again, tmp_path / "evaluations")) == expected
    assert again.misses == 1
    assert entry.read_bytes() != content
    assert not (tmp_path / "code-ran").exists()


def test_a_forged_entry_with_a_valid_checksum_but_another_key_is_a_miss(
    example: Path, tmp_path: Path
) -> None:
    first_build(example, tmp_path)
    [entry] = (tmp_path / "access-facts").glob("*.pickle")
    body = entry.read_bytes().partition(b"\n")[2].replace(entry.stem.encode(), b"0" * 64)
    entry.write_bytes(_checked(body))
    again = AccessFactsCache(tmp_path / "access-facts")
    assert shown(built(example, again, tmp_path / "evaluations")) == uncached(example)
    assert again.misses == 1


def test_an_evaluation_without_an_inputs_digest_is_not_kept(example: Path, tmp_path: Path) -> None:
    catalog = load_catalog(example)
    cache = AccessFactsCache(tmp_path / "access-facts")
    views = CatalogViews(catalog, evaluate(catalog), access_facts=cache)
    assert shown(views) == uncached(example)
    assert not (tmp_path / "access-facts").exists()
