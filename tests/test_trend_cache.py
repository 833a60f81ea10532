"""The dashboard's quarter-end trend is kept across builds while nothing a rule reads changes.

Its key leaves out the fields the model marks ``Descriptive`` (titles, objectives,
descriptions, comments). The first tests hold the rules to that: the example catalogs,
evaluated with every such field rewritten (to text that looks like the IDs of people,
systems, controls and reviews, to nothing, or to what hypothesis makes up), give the
same findings and not-assessed notes at the as-of date and at every quarter end. A rule
that starts reading such a field fails them (shown with a rule that does). The last
tests change what rules do read (an owner, a date, an extract, an items CSV) and expect
the cached trend to be the trend of a clean evaluation, and never the stale one.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import Evaluation, evaluate
from generator.evaluation.findings import Gap
from generator.evaluation.rules import RULES, Rule
from generator.evaluation.trendcache import TrendCache, catalog_digest
from generator.evidence.extracts import ExtractStore
from generator.model import Catalog, Record, Severity
from generator.model.base import descriptive_fields, nested_fields
from generator.model.catalog import COLLECTIONS
from generator.views import CatalogViews

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [ROOT / "controls", ROOT / "examples" / "iga-catalog"]


# -- rewriting every descriptive field ------------------------------------------------


def records(catalog: Catalog, files: Callable[[str], bool] = lambda _: True) -> Iterator[Record]:
    """Every record of the catalog, nested ones included (a control's populations...); with
    ``files``, those of the records written in a file it accepts (``source_file``)."""

    def walk(record: Record) -> Iterator[Record]:
        yield record
        for name in nested_fields(type(record)):
            value = getattr(record, name)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, Record):
                    yield from walk(child)

    for record in catalog.records():
        if files(record.source_file):
            yield from walk(record)


def identifiers(catalog: Catalog) -> list[str]:
    """Text a rule could mistake for a reference: IDs of people, systems, controls,
    reviews and rule sets, accounts, and rule IDs."""
    found = [*catalog.people, *catalog.systems, *catalog.controls, *catalog.reviews]
    found += [*catalog.rulesets, *(n.account for n in catalog.nhis.values())]
    found += [i.account for r in catalog.reviews.values() for i in r.items[:3]]
    return [*found, "OWN-1", "EVD-2", "2026-03-31", "keep", "revoke", "privileged"]


def rewrite(
    catalog: Catalog,
    text: Callable[[Record, str], str | None],
    files: Callable[[str], bool] = lambda _: True,
) -> int:
    """Set every descriptive field (of the records written in ``files``) to
    ``text(record, field)``; the number of fields set."""
    count = 0
    for record in list(records(catalog, files)):
        for name in sorted(descriptive_fields(type(record))):
            setattr(record, name, text(record, name))
            count += 1
    return count


def optional(record: Record, name: str) -> bool:
    return not type(record).model_fields[name].is_required()


def results(catalog: Catalog, day: date, rules: tuple[Rule, ...] = RULES) -> tuple[Any, ...]:
    evaluation = evaluate(catalog, day, rules=rules)
    return evaluation.findings, evaluation.not_assessed


def days_of(catalog: Catalog) -> list[date]:
    """The as-of date and every quarter end the trend evaluates at."""
    as_of = catalog.settings.as_of
    assert as_of is not None
    views = CatalogViews(catalog, evaluate(catalog, as_of), trend_cache=TrendCache())
    return [q.end for q in views.quarters() if q.end < as_of] + [as_of]


def as_ids(catalog: Catalog) -> Callable[[Record, str], str | None]:
    cycle = itertools.cycle(identifiers(catalog))
    return lambda record, name: next(cycle)


def as_nothing(record: Record, name: str) -> str | None:
    return None if optional(record, name) else ""


def as_prose(record: Record, name: str) -> str | None:
    return f"Rewritten {name} of a {type(record).__name__}: see j.doe, erp and ITGC-UAR-ERP."


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("scramble", [as_ids, as_nothing, as_prose], ids=lambda f: f.__name__)
def test_rewriting_every_descriptive_field_changes_no_finding_and_no_note(
    example: Path, scramble: Callable[..., Any]
) -> None:
    original = load_catalog(example)
    changed = load_catalog(example)
    text = scramble(changed) if scramble is as_ids else scramble
    assert rewrite(changed, text) > 100  # titles, names, comments...: the test touches them
    for day in days_of(original):
        assert results(changed, day) == results(original, day), day


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_rewriting_every_descriptive_field_leaves_the_trend_key_as_it_was(example: Path) -> None:
    original = load_catalog(example)
    changed = load_catalog(example)
    rewrite(changed, as_ids(changed))
    assert catalog_digest(changed, ExtractStore(changed)) == catalog_digest(
        original, ExtractStore(original)
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_in_the_descriptive_fields_gives_the_same_findings(data: st.DataObject) -> None:
    original = load_catalog(EXAMPLES[0])
    changed = load_catalog(EXAMPLES[0])
    pool = st.one_of(st.sampled_from(identifiers(changed)), st.text(max_size=40))

    def text(record: Record, name: str) -> str | None:
        nothing = st.none() if optional(record, name) else st.just("")
        return data.draw(st.one_of(pool, nothing))

    rewrite(changed, text)
    day = original.settings.as_of
    assert day is not None
    assert results(changed, day) == results(original, day)


def test_a_rule_that_reads_a_descriptive_field_fails_the_rewriting_test() -> None:
    """The guard can fail: a rule that reports controls whose title mentions "access"."""

    def check(ctx: Any) -> Iterator[Gap]:
        for control in ctx.catalog.controls.values():
            if "access" in (control.title or "").lower():
                yield Gap(control.id, control.id, "title mentions access", control.loc("id"))

    reads_title = Rule("TST-1", "Reads a title", "test", Severity.LOW, "", check)
    original = load_catalog(EXAMPLES[0])
    changed = load_catalog(EXAMPLES[0])
    rewrite(changed, as_ids(changed))
    day = original.settings.as_of
    assert day is not None
    rules = (*RULES, reads_title)
    assert results(changed, day, rules) != results(original, day, rules)


def test_a_field_that_is_not_marked_descriptive_changes_the_trend_key() -> None:
    """A system's name appears in POP-2's and SOD-3's messages: it is no descriptive field."""
    original = load_catalog(EXAMPLES[0])
    changed = load_catalog(EXAMPLES[0])
    next(iter(changed.systems.values())).name = "Renamed system"
    assert catalog_digest(changed, ExtractStore(changed)) != catalog_digest(
        original, ExtractStore(original)
    )


def test_the_trend_key_covers_every_record_collection_of_a_catalog() -> None:
    dicts = {f.name for f in dataclasses.fields(Catalog) if str(f.type).startswith("dict[")}
    assert dicts == set(COLLECTIONS)


# -- the cache across builds -----------------------------------------------------------


def trend(folder: Path, cache: TrendCache) -> list[tuple[date, tuple[tuple[str, int], ...]]]:
    catalog = load_catalog(folder)
    views = CatalogViews(catalog, evaluate(catalog), trend_cache=cache)
    return [(p.day, p.by_severity) for p in views.findings_trend]


def clean_trend(folder: Path, tmp_path: Path) -> list[tuple[date, tuple[tuple[str, int], ...]]]:
    return trend(folder, TrendCache(tmp_path / "clean-cache"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_new_title_reuses_every_quarter_end_and_gives_the_trend_of_a_clean_build(
    example: Path, tmp_path: Path
) -> None:
    cache = TrendCache(tmp_path / "cache")
    before = trend(example, cache)
    assert (cache.hits, cache.misses) == (0, 2)  # Q1 and Q2 ends; Q3 end is the as-of date
    edit(example / "controls/ITGC-ACC-01.yaml", "title: Annual", "title: Yearly")
    edit(example / "people.yaml", "name: ", "name: Dr. ")
    again = TrendCache(tmp_path / "cache")
    assert trend(example, again) == before == clean_trend(example, tmp_path)
    assert (again.hits, again.misses) == (2, 0)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line)


def _drop_last_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


CHANGES: dict[str, Callable[[Path], None]] = {
    "an owner": lambda root: edit(
        root / "controls/ITGC-ACC-01.yaml", "- person: f.haddad", "- person: it-security-team"
    ),
    "the date an ownership starts": lambda root: edit(
        root / "controls/ITGC-ACC-01.yaml", "since: 2022-01-01", "since: 2026-05-01"
    ),
    "a row added to an extract": lambda root: _append(
        root / "extracts/erp/2026-03-31.csv", "zz.extra,j.doe,employee,AP_CLERK\n"
    ),
    "a decision dropped from an items CSV": lambda root: _drop_last_line(
        root / "reviews/2026-Q1/UAR-ENTRA-2026Q1.items.csv"
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=lambda name: name.replace(" ", "-"))
def test_a_change_a_rule_reads_evaluates_the_quarter_ends_again(
    change: str, example: Path, tmp_path: Path
) -> None:
    cache = TrendCache(tmp_path / "cache")
    stale = trend(example, cache)
    CHANGES[change](example)
    again = TrendCache(tmp_path / "cache")
    fresh = trend(example, again)
    assert (again.hits, again.misses) == (0, 2)
    assert fresh == clean_trend(example, tmp_path)
    assert fresh[:-1] != stale[:-1]  # the change shows at the quarter ends: a stale hit would fail


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[1, 2]", '{"critical": 1}', '{"critical": -1, "high": 0, "medium": 0, '
     '"low": 0}', '{"critical": true, "high": 0, "medium": 0, "low": 0}',
     '{"critical": "9", "high": 0, "medium": 0, "low": 0}', "\udcff"],
    ids=["empty", "text", "list", "missing-severities", "negative", "bool", "string", "bad-utf8"],
)  # fmt: skip
def test_a_damaged_entry_is_evaluated_again_and_rewritten(
    content: str, example: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    expected = trend(example, TrendCache(folder))
    entries = sorted(folder.glob("*.json"))
    assert len(entries) == 2
    for entry in entries:
        entry.write_bytes(content.encode("utf-8", "surrogateescape"))
    again = TrendCache(folder)
    assert trend(example, again) == expected
    assert (again.hits, again.misses) == (0, 2)
    assert all(set(json.loads(e.read_text())) == {str(s) for s in Severity} for e in entries)


def test_a_cache_folder_that_cannot_be_written_only_costs_the_evaluations(
    example: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    cache = TrendCache(blocked / "trend")
    assert trend(example, cache) == clean_trend(example, tmp_path)
    assert cache.misses == 2
    assert blocked.read_text(encoding="utf-8") == "not a folder"


def test_the_trend_of_a_catalog_still_being_assessed_in_its_first_quarter_needs_no_cache(
    example: Path, tmp_path: Path
) -> None:
    edit(example / "catalog.yaml", "as_of: 2026-09-30", "as_of: 2026-02-15")
    cache = TrendCache(tmp_path / "cache")
    points = trend(example, cache)
    assert [p[0] for p in points] == [date(2026, 2, 15)]
    assert (cache.hits, cache.misses) == (0, 0)
    assert not (tmp_path / "cache").exists()


def test_an_evaluation_result_the_views_already_hold_is_what_the_last_point_shows(
    example: Path, tmp_path: Path
) -> None:
    catalog = load_catalog(example)
    evaluation: Evaluation = evaluate(catalog)
    views = CatalogViews(catalog, evaluation, trend_cache=TrendCache(tmp_path / "cache"))
    last = views.findings_trend[-1]
    assert last.label == "Q3 end, as of"
    assert dict(last.by_severity) == {str(s): n for s, n in evaluation.by_severity().items()}


def test_each_quarter_end_evaluation_frees_its_access_tables_once_counted(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At enterprise size an evaluation's access tables hold millions of rows: the
    quarter ends must not keep theirs until the garbage collector runs (five evaluations
    held at once went past 4 GB)."""
    from generator.evaluation import trendcache

    done: list[Evaluation] = []

    def evaluating(*args: Any, **kwargs: Any) -> Evaluation:
        result = evaluate(*args, **kwargs)
        assert result.context is not None
        assert result.context.access.conflicts is not None  # built, as SOD-2 builds it
        done.append(result)
        return result

    monkeypatch.setattr(trendcache, "evaluate", evaluating)
    catalog = load_catalog(example)
    views = CatalogViews(catalog, evaluate(catalog), trend_cache=TrendCache(tmp_path / "c"))
    assert len(views.findings_trend) == 3
    assert len(done) == 2
    for evaluation in done:
        assert evaluation.context is not None
        assert "access" not in vars(evaluation.context)
    # the as-of tables were freed before the quarter ends were evaluated, after what the
    # pages read of them was built; a later question builds them again
    assert "access" not in vars(views.ctx)
    fresh = CatalogViews(catalog, evaluate(catalog))
    assert views.sod == fresh.sod
    assert views.systems == fresh.systems
    assert views.ctx.access.conflicts == fresh.ctx.access.conflicts
    assert [(p.day, p.by_severity) for p in views.findings_trend] == clean_trend(example, tmp_path)
