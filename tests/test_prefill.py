"""A cold load parses on every core: worker processes fill the parse cache first, and
the load then reads it. This changes how fast a load is, never what it yields: the
same records and positions, the same errors, and nothing read from outside the catalog.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.make_catalog import generate
from generator.catalog import prefill as prefill_module
from generator.catalog.loader import load_catalog
from generator.catalog.parsecache import ParseCache
from generator.errors import CatalogInvalid
from generator.model import Catalog
from tests.test_benchmarks import SMALL


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prefill") / "catalog"
    generate(SMALL, folder)
    return folder


@pytest.fixture
def workers_for_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test catalogs are far below the size where workers pay off."""
    monkeypatch.setattr(prefill_module, "MIN_FILES", 1)


def _records(catalog: Catalog) -> list[object]:
    reviews = [
        (r.model_dump(), [(i.model_dump(), i.loc("decision")) for i in r.items])
        for r in catalog.reviews.values()
    ]
    controls = [(c.model_dump(), c.loc("owner")) for c in catalog.controls.values()]
    return [reviews, controls, sorted(catalog.people)]


def test_workers_fill_the_cache_and_the_load_reads_only_from_it(
    generated: Path, tmp_path: Path, workers_for_any_size: None
) -> None:
    paths = sorted(generated.rglob("*.yaml"))
    cache = ParseCache(tmp_path / "cache")
    assert prefill_module.prefill(cache, generated, paths, workers=2) == len(paths)
    assert prefill_module.missing(cache, paths) == []
    assert prefill_module.prefill(cache, generated, paths, workers=2) == 0  # warm: no worker
    items = list((tmp_path / "cache" / "items").rglob("*.pickle"))
    assert len(items) == len(list(generated.rglob("*.csv"))) - len(
        list((generated / "extracts").rglob("*.csv"))
    )
    loaded = load_catalog(generated, cache=cache)
    assert cache.misses == 0
    assert cache.hits == len(paths) + len(items)
    assert _records(loaded) == _records(load_catalog(generated))


def test_a_cold_load_with_workers_equals_a_load_without_a_cache(
    generated: Path, tmp_path: Path, workers_for_any_size: None
) -> None:
    cache = ParseCache(tmp_path / "cache")
    with_workers = load_catalog(generated, cache=cache)
    assert cache.misses == 0  # the workers parsed everything
    assert _records(with_workers) == _records(load_catalog(generated))


def test_too_few_files_or_one_core_start_no_workers(generated: Path, tmp_path: Path) -> None:
    paths = sorted(generated.rglob("*.yaml"))
    assert len(paths) < prefill_module.MIN_FILES
    cache = ParseCache(tmp_path / "cache")
    assert prefill_module.prefill(cache, generated, paths, workers=2) == 0
    assert prefill_module.prefill(cache, generated, paths * 100, workers=1) == 0
    assert not (tmp_path / "cache").exists()


def test_bad_files_are_left_to_the_load_which_words_the_same_errors(
    generated: Path, tmp_path: Path, workers_for_any_size: None
) -> None:
    """A syntax error, a file that is not UTF-8, and a review whose items file is a link
    out of the catalog: the workers keep nothing for them (nor for the outside file),
    and the load reports exactly what a load without a cache reports."""
    catalog = tmp_path / "catalog"
    shutil.copytree(generated, catalog, symlinks=True)
    outside = tmp_path / "secret.csv"
    outside.write_text("not,an,items,file\n1,2,3,4\n", encoding="utf-8")
    (catalog / "broken.yaml").write_text("kind: control\nid: [unclosed\n", encoding="utf-8")
    (catalog / "latin1.yaml").write_bytes(b"kind: control\ntitle: caf\xe9\n")
    review = next((catalog / "reviews").rglob("*.yaml"))
    items = review.read_text(encoding="utf-8").split("items_file:")[1].split("file:")[1]
    items_rel = items.splitlines()[0].strip().strip("'\"")
    (catalog / items_rel).unlink()
    (catalog / items_rel).symlink_to(outside)

    def errors(cache: ParseCache | None) -> list[str]:
        with pytest.raises(CatalogInvalid) as raised:
            load_catalog(catalog, cache=cache)
        return [str(d) for d in raised.value.diagnostics]

    cache = ParseCache(tmp_path / "cache")
    assert errors(cache) == errors(None)
    assert any("outside the catalog" in e for e in errors(None))
    assert any("not UTF-8" in e for e in errors(None))
    kept = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*.pickle"))
    assert kept
    assert b"not,an,items,file" not in kept
    assert b"unknown column 'not'" not in kept  # what reading it as items would say


def test_when_no_worker_can_start_the_load_parses_everything_itself(
    generated: Path, tmp_path: Path, workers_for_any_size: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An embedded interpreter may have no executable to start: that only costs speed."""
    monkeypatch.setattr(prefill_module.sys, "executable", str(tmp_path / "no-such-python"))
    paths = sorted(generated.rglob("*.yaml"))
    cache = ParseCache(tmp_path / "cache")
    assert prefill_module.prefill(cache, generated, paths, workers=2) == 0
    loaded = load_catalog(generated, cache=cache)
    assert cache.hits == 0
    assert _records(loaded) == _records(load_catalog(generated))


def test_the_load_reads_each_file_once_its_worker_has_parsed_it(
    generated: Path, tmp_path: Path, workers_for_any_size: None
) -> None:
    """The load follows the workers file by file (its own work runs while they parse the
    next ones): when :meth:`ready` returns, the file's entry is already in the cache."""
    paths = sorted(generated.rglob("*.yaml"))
    cache = ParseCache(tmp_path / "cache")
    with prefill_module.start_prefill(cache, generated, paths, workers=2) as running:
        assert running.given == len(paths)
        for path in paths:
            running.ready(path)
            assert prefill_module.missing(cache, [path]) == [], path
    assert all(p.returncode == 0 for p in running._processes)


def test_an_error_in_the_load_stops_the_workers_at_their_next_file(
    generated: Path, tmp_path: Path, workers_for_any_size: None
) -> None:
    paths = sorted(generated.rglob("*.yaml"))
    cache = ParseCache(tmp_path / "cache")
    started: list[prefill_module.Prefill] = []

    def load_interrupted_after_the_first_file() -> None:
        with prefill_module.start_prefill(cache, generated, paths, workers=2) as running:
            started.append(running)
            running.ready(paths[0])
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_interrupted_after_the_first_file()
    [running] = started
    assert all(p.returncode is not None for p in running._processes)  # waited for, not left
    assert len(prefill_module.missing(cache, paths)) > 0  # stopped before the end


def test_a_worker_that_dies_leaves_its_files_to_the_load(
    generated: Path, tmp_path: Path, workers_for_any_size: None
) -> None:
    """A worker killed (out of memory, say) ends its reports: the load does not wait for
    its files, parses those itself, and yields what a load without a cache yields."""
    paths = sorted(generated.rglob("*.yaml"))
    cache = ParseCache(tmp_path / "cache")
    with prefill_module.start_prefill(cache, generated, paths, workers=2) as running:
        running._processes[0].kill()
        for path in paths:
            running.ready(path)
    assert prefill_module.missing(cache, paths[1::2]) == []  # the other worker's, all done
    loaded = load_catalog(generated, cache=cache)
    assert _records(loaded) == _records(load_catalog(generated))
