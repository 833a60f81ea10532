"""Extract summaries are kept by the file's sha256: a kept summary equals a fresh scan, a
changed file is scanned again, and a damaged entry or a malformed file is never trusted.

The extracts are the project's own format (``account,person,account_type,entitlement``,
optionally with a ``system`` column first), plain CSV as RFC 4180 describes it:
https://www.rfc-editor.org/rfc/rfc4180
"""

from __future__ import annotations

import hashlib
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.make_catalog import generate
from generator.catalog.loader import load_catalog
from generator.evidence.extracts import ExtractError, ExtractStore
from generator.evidence.extractscan import ExtractSummary
from generator.evidence.summarycache import SummaryCache
from generator.model import Catalog
from tests.conftest import EXAMPLE, ROOT, CatalogDir
from tests.test_benchmarks import SMALL

REL = "extracts/app-2026-03-31.csv"
HEADER = "account,person,account_type,entitlement"


def _summaries(catalog: Catalog, cache: SummaryCache | None) -> dict[str, ExtractSummary]:
    store = ExtractStore(catalog, cache, cache=cache is not None)
    files = sorted({e.file for extracts in store.by_system.values() for e in extracts})
    return {rel: store.summary(rel) for rel in files if store.path(rel) is not None}


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pickle"))


@pytest.mark.parametrize("name", ["controls", "iga-catalog", "generated"])
def test_kept_summaries_equal_a_fresh_scan_for_whole_catalogs(tmp_path: Path, name: str) -> None:
    if name == "generated":
        generate(SMALL, tmp_path / "catalog")
        folder = tmp_path / "catalog"
    else:
        folder = EXAMPLE if name == "controls" else ROOT / "examples" / "iga-catalog"
    catalog = load_catalog(folder)
    fresh = _summaries(catalog, None)
    assert len(fresh) >= 3
    assert sum(s.rows for s in fresh.values()) > 10
    cold, warm = SummaryCache(tmp_path / "cache"), SummaryCache(tmp_path / "cache")
    assert _summaries(catalog, cold) == fresh
    assert (cold.hits, cold.misses) == (0, len(fresh))
    assert 0 < len(_entries(tmp_path / "cache")) <= len(fresh)  # one per distinct content
    assert _summaries(catalog, warm) == fresh
    assert (warm.hits, warm.misses) == (len(fresh), 0)
    kept = next(iter(_summaries(catalog, warm).values()))
    assert kept.types_of == next(iter(fresh.values())).types_of


def _catalog(starter: CatalogDir, text: str) -> Catalog:
    (starter.path / REL).write_text(text, encoding="utf-8")
    return starter.load()


def test_a_changed_extract_gets_a_new_summary_and_the_old_one_is_kept_by_content(
    starter: CatalogDir, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache")
    one = f"{HEADER}\nskim,s.kim,employee,AP\n"
    two = f"{HEADER}\nskim,s.kim,employee,AP\nsvc,,service,API\n"
    assert ExtractStore(_catalog(starter, one), cache).summary(REL).rows == 1
    changed = ExtractStore(_catalog(starter, two), cache).summary(REL)
    assert (changed.rows, changed.by_type["service"]) == (2, frozenset({"svc"}))
    back = SummaryCache(tmp_path / "cache")
    assert ExtractStore(_catalog(starter, one), back).summary(REL).rows == 1
    assert back.hits >= 1


def test_a_summary_read_by_the_python_reader_is_kept_too(
    starter: CatalogDir, tmp_path: Path
) -> None:
    quoted = f'{HEADER}\n"skim","s.kim",employee,"AP, all"\nskim,j.doe,employee,GL\n'
    catalog = _catalog(starter, quoted)
    fresh = ExtractStore(catalog, cache=False).summary(REL)
    assert ExtractStore(catalog, SummaryCache(tmp_path / "c")).summary(REL) == fresh
    warm = SummaryCache(tmp_path / "c")
    assert ExtractStore(catalog, warm).summary(REL) == fresh
    assert fresh.holders == {"skim": "j.doe"}
    assert warm.misses == 0


def test_a_malformed_extract_is_never_kept_and_fails_every_time(
    starter: CatalogDir, tmp_path: Path
) -> None:
    catalog = _catalog(starter, f"{HEADER}\nskim,s.kim,employee,AP\nsvc,,robot,API\n")
    for _ in range(2):
        cache = SummaryCache(tmp_path / "cache")
        with pytest.raises(ExtractError, match=r"app-2026-03-31.csv:3:1: unknown account_type"):
            ExtractStore(catalog, cache).summary(REL)
    sha = hashlib.sha256((starter.path / REL).read_bytes()).hexdigest()
    assert SummaryCache(tmp_path / "cache").get(sha) is None


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("tampered cache ran code",))


def test_a_damaged_or_tampered_entry_is_scanned_again_and_runs_no_code(
    starter: CatalogDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog(starter, f"{HEADER}\nskim,s.kim,employee,AP\nsvc,,service,API\n")
    fresh = ExtractStore(catalog, cache=False).summary(REL)
    ExtractStore(catalog, SummaryCache(tmp_path / "cache")).summary(REL)
    sha = hashlib.sha256((starter.path / REL).read_bytes()).hexdigest()
    entry = SummaryCache(tmp_path / "cache")._entry(sha)
    good = entry.read_bytes()
    body = pickle.dumps((_Payload(), {}, {}))
    wrong = pickle.dumps((2, {"skim": "s.kim"}, {"employee": ["skim"]}))  # a list, not a set
    for blob in [
        good[:-2],
        b"\0" * 32 + good[32:],
        hashlib.sha256(body).digest() + body,
        hashlib.sha256(wrong).digest() + wrong,
    ]:
        entry.write_bytes(blob)
        cache = SummaryCache(tmp_path / "cache")
        assert ExtractStore(catalog, cache).summary(REL) == fresh
        assert (cache.hits, cache.misses) == (0, 1)
        assert cache.get(sha) == fresh  # written again
    assert "tampered" not in capsys.readouterr().out


def test_the_store_uses_the_cache_folder_of_the_environment(
    starter: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTROLBOOK_CACHE_DIR", str(tmp_path / "env-cache"))
    catalog = _catalog(starter, f"{HEADER}\nskim,s.kim,employee,AP\n")
    store = ExtractStore(catalog)
    store.summary(REL)
    assert store.summaries is not None
    assert store.summaries.folder == tmp_path / "env-cache" / "summaries"
    assert _entries(tmp_path / "env-cache" / "summaries")
    assert ExtractStore(catalog, cache=False).summaries is None


def test_summarising_the_current_state_scans_only_its_files_and_the_rest_once_later(
    tmp_path: Path,
) -> None:
    """A question about the current state (SoD, leavers, orphans) needs the newest
    extract of each system, not every past snapshot: those are scanned when first asked
    for, once, and never a file twice."""
    generate(SMALL, tmp_path / "catalog")
    catalog = load_catalog(tmp_path / "catalog")
    cache = SummaryCache(tmp_path / "cache")
    store = ExtractStore(catalog, cache)
    files = sorted({e.file for extracts in store.by_system.values() for e in extracts})
    now = datetime(2100, 1, 1, tzinfo=UTC)
    state = sorted({p.extract.file for s in store.by_system for p in store.state(s, now)})
    assert 0 < len(state) < len(files)
    store.summarise(state)
    assert (cache.hits, cache.misses) == (0, len(state))
    past = next(rel for rel in files if rel not in state)
    assert store.summary(past).rows > 0  # the others, in one scan
    assert (cache.hits, cache.misses) == (0, len(files))
    fresh = _summaries(catalog, None)
    assert {rel: store.summary(rel) for rel in files} == fresh
    assert (cache.hits, cache.misses) == (0, len(files))
