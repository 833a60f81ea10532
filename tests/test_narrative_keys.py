"""A narrative whose inputs did not change is taken from the cache without its view model.

The key of a control's narrative (:mod:`generator.publish.narrativekey`) leaves out the
files of the other controls and of their reviews. The first tests hold the narratives to
that: every descriptive field of one control and its reviews is rewritten (to text that
looks like IDs, to prose, to nothing) and every other narrative must keep its view model
and its key; a narrative that starts showing another control's text fails them (shown
with one that does). The next tests edit the example's files on disk and expect exactly
the keys of the narratives that show the edit to change. The last ones build signed
narratives twice and follow which view models a rebuild builds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation.evalcache import EvaluationCache
from generator.evaluation.evaluate import evaluate
from generator.model import Catalog
from generator.publish import narratives as planner
from generator.publish.narrativekey import narrative_inputs
from generator.publish.narratives import render_narratives
from generator.render import narrative as builder
from generator.render.narrative import Narrative, build_narratives
from generator.render.pagekey import pickled
from generator.signing.sign import DocumentSigner, load_signer
from generator.views import CatalogViews
from generator.views.types import ControlView
from tests.test_trend_cache import (
    CHANGES,
    EXAMPLES,
    as_ids,
    as_nothing,
    as_prose,
    edit,
    rewrite,
)

BATCH = "batch"
"""The batch part of the keys (the PDFs' date, templates, signer): the same throughout."""


def views_of(catalog: Catalog, evaluations: Path) -> CatalogViews:
    """The views a build makes: evaluated through the evaluation cache, which gives the
    evaluation its inputs digest."""
    return CatalogViews(catalog, EvaluationCache(evaluations).evaluate(catalog))


def own_files(catalog: Catalog, control: str) -> set[str]:
    """The files only the key of ``control`` hashes: its own and its reviews'."""
    reviews = catalog.reviews_of(control)
    return {catalog.controls[control].source_file, *(r.source_file for r in reviews)}


def digests(views: CatalogViews, controls: list[str] | None = None) -> dict[str, str]:
    return {n.control.id: n.digest for n in build_narratives(views, controls)}


# -- what a key leaves out, no narrative shows ------------------------------------------


def site_views(views: CatalogViews) -> dict[str, bytes]:
    """Each control's site view as the page keys would pickle it."""
    return {view.id: pickled(view) for view in views.controls}


def others_unchanged(example: Path, tmp_path: Path, scramble: Callable[..., Any]) -> int:
    """Rewrite the descriptive fields of each control and its reviews in turn; assert that
    every narrative whose key leaves their files out keeps its key and its view model, and
    so does the control's site view (the site's page keys take the same inputs for it).
    The number of (rewritten control, other narrative) pairs compared."""
    original = views_of(load_catalog(example), tmp_path / "evaluation")
    keys, before = narrative_inputs(original, BATCH), digests(original)
    site_before = site_views(original)
    assert len(set(keys.values())) == len(keys) > 1
    compared = 0
    for control in original.catalog.controls:
        changed = load_catalog(example)
        files = own_files(changed, control)
        text = scramble(changed) if scramble is as_ids else scramble
        assert rewrite(changed, text, files.__contains__) > 0
        views = views_of(changed, tmp_path / "evaluation")
        assert views.evaluation.inputs == original.evaluation.inputs  # nothing a rule reads
        assert digests(views, [control]) != {control: before[control]}  # the rewrite shows
        others = [c for c in changed.controls if not own_files(changed, c) & files]
        after = narrative_inputs(views, BATCH)
        site_after = site_views(views)
        assert site_after[control] != site_before[control]
        for other, digest in digests(views, others).items():
            assert after[other] == keys[other]
            assert site_after[other] == site_before[other], f"{other}'s page shows {control}"
            assert digest == before[other], f"{other}'s narrative shows text of {control}"
            compared += 1
    return compared


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("scramble", [as_ids, as_prose, as_nothing], ids=lambda f: f.__name__)
def test_rewriting_a_control_and_its_reviews_changes_no_other_narrative(
    example: Path, scramble: Callable[..., Any], tmp_path: Path
) -> None:
    controls = len(load_catalog(example).controls)
    assert others_unchanged(example, tmp_path, scramble) >= controls * (controls - 2)


def test_a_narrative_that_shows_another_controls_title_fails_the_rewriting_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard can fail: narratives that list every control's title in their notes."""
    build = builder._Builder.build

    def with_titles(self: Any, control: Any) -> Narrative:
        made = build(self, control)
        titles = tuple(c.title or "" for c in self.catalog.controls.values())
        return replace(made, status_notes=made.status_notes + titles)

    monkeypatch.setattr(builder._Builder, "build", with_titles)
    with pytest.raises(AssertionError, match="shows text of"):
        others_unchanged(EXAMPLES[0], tmp_path, as_prose)


def test_a_site_view_that_shows_another_controls_title_fails_the_rewriting_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard holds the site views too: one that lists every control's title fails."""
    control = CatalogViews.control

    def with_titles(self: CatalogViews, record: Any) -> ControlView:
        made = control(self, record)
        titles = tuple(c.title or "" for c in self.catalog.controls.values())
        return replace(made, not_assessed=made.not_assessed + titles)

    monkeypatch.setattr(CatalogViews, "control", with_titles)
    with pytest.raises(AssertionError, match="page shows"):
        others_unchanged(EXAMPLES[0], tmp_path, as_prose)


# -- edits on disk: the keys of the narratives that show them, and no other -------------


def keys_of(folder: Path, evaluations: Path) -> dict[str, str]:
    return narrative_inputs(views_of(load_catalog(folder), evaluations), BATCH)


def changed_keys(folder: Path, tmp_path: Path, change: Callable[[Path], None]) -> set[str]:
    before = keys_of(folder, tmp_path / "evaluation")
    change(folder)
    after = keys_of(folder, tmp_path / "evaluation")
    assert after.keys() == before.keys()
    return {c for c in before if before[c] != after[c]}


def _add_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line)


ONE_CONTROL: dict[str, tuple[Callable[[Path], None], str]] = {
    "its title": (
        lambda root: edit(root / "controls/ITGC-ACC-01.yaml", "title: Annual", "title: Yearly"),
        "ITGC-ACC-01",
    ),
    "a YAML comment at the end of its file": (
        lambda root: _add_line(
            root / "controls/ITGC-ACC-01.yaml", "# reviewed by internal audit\n"
        ),
        "ITGC-ACC-01",
    ),
    "a comment on a decision of its review": (
        lambda root: edit(
            root / "reviews/2026-Q1/UAR-HRIS-2026Q1.yaml", "Covered the merit", "Covered all merit"
        ),
        "ITGC-UAR-HRIS",
    ),
}


@pytest.mark.parametrize("change", ONE_CONTROL, ids=lambda name: name.replace(" ", "-"))
def test_an_edit_to_a_controls_own_files_changes_its_key_only(
    change: str, example: Path, tmp_path: Path
) -> None:
    edit_files, control = ONE_CONTROL[change]
    assert changed_keys(example, tmp_path, edit_files) == {control}


EVERY_CONTROL: dict[str, Callable[[Path], None]] = {
    "a person's name": lambda root: edit(root / "people.yaml", "name: ", "name: Dr. "),
    "a system's description": lambda root: edit(
        root / "systems.yaml", "description: >-", "description: >-\n      Renamed."
    ),
    "the catalog's settings": lambda root: _add_line(root / "catalog.yaml", "# audited\n"),
    **CHANGES,  # what rules read: an owner, a date, an extract's rows, an items CSV
}


@pytest.mark.parametrize("change", EVERY_CONTROL, ids=lambda name: name.replace(" ", "-"))
def test_an_edit_to_a_shared_file_or_to_what_rules_read_changes_every_key(
    change: str, example: Path, tmp_path: Path
) -> None:
    assert changed_keys(example, tmp_path, EVERY_CONTROL[change]) == set(
        load_catalog(example).controls
    )


def test_an_evaluation_without_an_inputs_digest_gives_no_key() -> None:
    catalog = load_catalog(EXAMPLES[0])
    assert narrative_inputs(CatalogViews(catalog, evaluate(catalog)), BATCH) == {}


# -- rebuilding signed narratives --------------------------------------------------------

PICKED = ["ITGC-ACC-01", "ITGC-LOG-01", "ITGC-UAR-ERP"]


@pytest.fixture
def signer(example: Path, tmp_path: Path) -> DocumentSigner:
    catalog = load_catalog(example)
    return load_signer(catalog.settings, catalog.root, env={}, dev_folder=tmp_path / "dev")


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The controls whose view models the narratives' plan builds, in order."""
    made: list[str] = []

    def recording(views: CatalogViews, controls: list[str] | None = None) -> list[Narrative]:
        found = build_narratives(views, controls)
        made.extend(n.control.id for n in found)
        return found

    monkeypatch.setattr(planner, "build_narratives", recording)
    return made


@pytest.mark.slow
def test_a_rebuild_builds_the_view_model_of_the_changed_control_only(
    example: Path, tmp_path: Path, signer: DocumentSigner, built: list[str]
) -> None:
    def run() -> tuple[planner.NarrativeBatch, list[str]]:
        views = views_of(load_catalog(example), tmp_path / "evaluation")
        built.clear()
        batch = render_narratives(
            views, tmp_path / "out", signer=signer, controls=PICKED, cache_dir=cache, jobs=1
        )
        clean = {n.control.id: n.version for n in build_narratives(views, PICKED)}
        assert {r.control: r.version for r in batch.results} == clean  # as a build without cache
        return batch, list(built)

    cache = tmp_path / "pdf"
    first, made = run()
    assert (first.rendered, made) == (3, PICKED)
    pdfs = {r.control: r.path.read_bytes() for r in first.results}

    again, made = run()
    assert (again.rendered, again.cached, made) == (0, 3, [])
    assert {r.control: r.path.read_bytes() for r in again.results} == pdfs

    edit(example / "controls/ITGC-ACC-01.yaml", "title: Annual", "title: Yearly")
    changed, made = run()
    assert made == ["ITGC-ACC-01"]
    assert [r.control for r in changed.results if not r.cached] == ["ITGC-ACC-01"]

    # A row added to the ERP extract changes what rules read, so every key: each view
    # model is built and compared, the narratives that do not show the extract are found
    # in the cache, and their new keys are noted for the next build.
    CHANGES["a row added to an extract"](example)
    noted, made = run()
    assert made == PICKED
    assert [r.control for r in noted.results if not r.cached] == ["ITGC-UAR-ERP"]
    _, made = run()
    assert made == []


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["inputs", "pdf"])
def test_a_damaged_entry_builds_the_view_model_again(
    damage: str, example: Path, tmp_path: Path, signer: DocumentSigner, built: list[str]
) -> None:
    cache = tmp_path / "pdf"

    def run() -> planner.NarrativeBatch:
        views = views_of(load_catalog(example), tmp_path / "evaluation")
        built.clear()
        return render_narratives(
            views, tmp_path / "out", signer=signer, controls=PICKED, cache_dir=cache, jobs=1
        )

    run()
    [entry] = (cache / "ITGC-LOG-01").glob(f"*.{damage}")
    entry.write_bytes(b"not json" if damage == "inputs" else entry.read_bytes()[:-10])
    again = run()
    assert built == ["ITGC-LOG-01"]
    assert [r.control for r in again.results if not r.cached] == (
        [] if damage == "inputs" else ["ITGC-LOG-01"]
    )
    run()
    assert built == []


def _children() -> set[int]:
    """The processes this one started that are alive now (/proc/<pid>/stat)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("alongside", [True, False], ids=["beside-the-site", "alone"])
def test_one_narrative_is_laid_out_in_a_worker_only_beside_other_work(
    alongside: bool, example: Path, tmp_path: Path, signer: DocumentSigner
) -> None:
    """After a one-control change a build lays out that narrative in a worker process,
    on the core the site's pages leave free; alone (``controlbook narratives`` of one
    control), starting a worker would only cost time."""
    views = views_of(load_catalog(example), tmp_path / "evaluation")
    plan = planner.plan_narratives(
        views, tmp_path / "out", signer=signer, controls=["ITGC-LOG-01"], jobs=2,
        cache_dir=tmp_path / "pdf",
    )  # fmt: skip
    before = _children()
    started: set[int] = set()

    def look(_: str) -> None:  # called once the PDF is signed, while any worker is alive
        started.update(_children() - before)

    batch = plan.write(look, alongside=alongside)
    assert [r.control for r in batch.results if not r.cached] == ["ITGC-LOG-01"]
    assert bool(started) == alongside
