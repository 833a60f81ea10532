"""The framework catalogs shipped in ``generator.references``, and how mapping IDs resolve.

Read top to bottom:

1. the shape of the shipped catalogs (they need nothing outside the package);
2. agreement with the checked reference copies in ``/work/shared/reference``, when that
   folder exists (these tests skip otherwise);
3. the descriptions are Controlbook's own words, not NIST's or OWASP's;
4. one row per resolution case, then properties that hold for every ID.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.references import (
    Change,
    CsfCatalog,
    CsfCategory,
    CsfFunction,
    CsfLevel,
    CsfSubcategory,
    NhiCatalog,
    Resolution,
    ResolutionStatus,
    load_csf,
    load_owasp_nhi,
    resolve_csf,
    resolve_nhi,
)

REFERENCE_DIR = Path(__file__).parents[2] / "shared" / "reference"
DATA_FILES = ("nist-csf-2.0.yaml", "nist-csf-1.1-to-2.0.yaml", "owasp-nhi-top10-2025.yaml")
MAX_SIMILARITY = 0.75
"""A description may share words with the official text, but not most of its wording."""

EXACT = ResolutionStatus.EXACT
IMPRECISE = ResolutionStatus.IMPRECISE
OUTDATED = ResolutionStatus.OUTDATED
NONCANONICAL = ResolutionStatus.NONCANONICAL
UNKNOWN = ResolutionStatus.UNKNOWN


@pytest.fixture(scope="module")
def csf() -> CsfCatalog:
    return load_csf()


@pytest.fixture(scope="module")
def nhi() -> NhiCatalog:
    return load_owasp_nhi()


def _reference(name: str) -> Any:
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"checked reference copies are not available ({REFERENCE_DIR} is absent)")
    return yaml.safe_load((REFERENCE_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def nist_core() -> Any:
    return _reference("nist-csf-2.0.yaml")


@pytest.fixture(scope="module")
def nist_crosswalk() -> Any:
    return _reference("nist-csf-1.1-to-2.0.yaml")


@pytest.fixture(scope="module")
def owasp_nhi() -> Any:
    return _reference("owasp-nhi-top10-2025.yaml")


# ------------------------------------------------------------------ shipped catalogs


def test_data_files_ship_inside_the_package() -> None:
    data = files("generator.references") / "data"
    for name in DATA_FILES:
        assert (data / name).is_file(), name


def test_loaders_parse_once_and_cache(csf: CsfCatalog, nhi: NhiCatalog) -> None:
    assert load_csf() is csf
    assert load_owasp_nhi() is nhi


def test_csf_2_0_has_6_functions_22_categories_and_106_subcategories(csf: CsfCatalog) -> None:
    assert csf.version == "2.0"
    assert csf.source_url.startswith("https://")
    assert [f.id for f in csf.functions] == ["GV", "ID", "PR", "DE", "RS", "RC"]
    assert len(csf.categories) == 22
    assert len(csf.subcategories) == 106
    assert len(csf.ids) == 6 + 22 + 106


def test_ids_are_written_in_canonical_csf_2_0_form(csf: CsfCatalog) -> None:
    assert all(re.fullmatch(r"[A-Z]{2}", f.id) for f in csf.functions)
    assert all(re.fullmatch(r"[A-Z]{2}\.[A-Z]{2}", c.id) for c in csf.categories)
    assert all(re.fullmatch(r"[A-Z]{2}\.[A-Z]{2}-\d{2}", s.id) for s in csf.subcategories)


def test_every_subcategory_knows_its_category_and_function(csf: CsfCatalog) -> None:
    for sub in csf.subcategories:
        assert sub.id.startswith(f"{sub.category.id}-")
        assert sub.category.id.startswith(f"{sub.function.id}.")
        assert sub.function is sub.category.function
    assert csf.subcategories_of("PR.AA")[4].id == "PR.AA-05"
    assert len(csf.subcategories_of("GV")) == 31
    assert [c.id for c in csf.categories_of("DE")] == ["DE.CM", "DE.AE"]


def test_get_finds_functions_categories_and_subcategories_by_exact_id(csf: CsfCatalog) -> None:
    govern = csf.get("GV")
    access = csf.get("PR.AA")
    least_privilege = csf.get("PR.AA-05")
    assert isinstance(govern, CsfFunction)
    assert govern.name == "GOVERN"
    assert isinstance(access, CsfCategory)
    assert access.name == "Identity Management, Authentication, and Access Control"
    assert isinstance(least_privilege, CsfSubcategory)
    assert least_privilege.category is access
    assert least_privilege.level is CsfLevel.SUBCATEGORY
    for not_an_exact_2_0_id in ("PR.AC-1", "PR.AA-5", "pr.aa-05", "PR.AC", ""):
        assert csf.get(not_an_exact_2_0_id) is None


def test_crosswalk_covers_all_of_csf_1_1(csf: CsfCatalog) -> None:
    levels = [entry.level for entry in csf.transitions]
    assert levels.count(CsfLevel.FUNCTION) == 5
    assert levels.count(CsfLevel.CATEGORY) == 23
    assert levels.count(CsfLevel.SUBCATEGORY) == 108
    subcategories = [e for e in csf.transitions if e.level is CsfLevel.SUBCATEGORY]
    assert sum(e.withdrawn for e in subcategories) == 79
    assert sum(not e.withdrawn for e in subcategories) == 29


def test_crosswalk_answers_the_classic_access_control_questions(csf: CsfCatalog) -> None:
    assert csf.crosswalk["PR.AC-1"] == ("PR.AA-01", "PR.AA-05")
    assert csf.crosswalk["PR.AC-4"] == ("PR.AA-05",)
    assert csf.crosswalk["ID.AM-1"] == ("ID.AM-01",)
    assert csf.crosswalk["PR.AC"] == ("PR.AA",)
    assert csf.transition("PR.AC-4").change is Change.MOVED
    assert csf.transition("PR.AC-1").change is Change.INCORPORATED


def test_crosswalk_targets_are_live_csf_2_0_ids(csf: CsfCatalog) -> None:
    for entry in csf.transitions:
        assert all(csf.get(target) is not None for target in entry.targets), entry


def test_kept_csf_1_1_ids_point_first_at_their_own_two_digit_form(csf: CsfCatalog) -> None:
    for entry in csf.transitions:
        if entry.change is Change.KEPT:
            assert entry.targets[0] == entry.placeholder_id, entry


def test_withdrawn_placeholders_never_reuse_a_live_csf_2_0_id(csf: CsfCatalog) -> None:
    for entry in csf.transitions:
        if entry.withdrawn:
            assert csf.get(entry.placeholder_id) is None, entry
            assert entry.targets or entry.change is Change.WITHDRAWN, entry


def test_owasp_nhi_has_10_risks_in_rank_order(nhi: NhiCatalog) -> None:
    assert nhi.version == "2025"
    assert nhi.source_url.startswith("https://owasp.org/")
    assert [risk.id for risk in nhi.risks] == [f"NHI{rank}:2025" for rank in range(1, 11)]
    assert [risk.rank for risk in nhi.risks] == list(range(1, 11))
    assert all(risk.url.startswith(nhi.source_url) for risk in nhi.risks)
    assert nhi.get("NHI1:2025").title == "Improper Offboarding"
    assert nhi.get("NHI-01") is None
    assert nhi.by_rank(10).title == "Human Use of NHI"
    assert nhi.by_rank(11) is None


def test_every_description_is_one_short_sentence(csf: CsfCatalog, nhi: NhiCatalog) -> None:
    descriptions = [e.description for e in (*csf.functions, *csf.categories, *csf.subcategories)]
    descriptions += [risk.description for risk in nhi.risks]
    for text in descriptions:
        assert text.endswith("."), text
        assert text.count(". ") == 0, text
        assert "\n" not in text
        assert 20 <= len(text) <= 200, text
    assert len(set(descriptions)) == len(descriptions)


# ------------------------------------------- agreement with the checked reference copies


def test_function_ids_and_names_match_nist(csf: CsfCatalog, nist_core: Any) -> None:
    expected = [(f["id"], f["name"]) for f in nist_core["functions"]]
    assert [(f.id, f.name) for f in csf.functions] == expected


def test_category_ids_names_and_functions_match_nist(csf: CsfCatalog, nist_core: Any) -> None:
    expected = [
        (c["id"], c["name"], f["id"]) for f in nist_core["functions"] for c in f["categories"]
    ]
    assert [(c.id, c.name, c.function.id) for c in csf.categories] == expected
    assert [c.id for c in csf.categories] == nist_core["category_ids"]


def test_subcategory_ids_and_parents_match_nist(csf: CsfCatalog, nist_core: Any) -> None:
    expected = [
        (s["id"], c["id"])
        for f in nist_core["functions"]
        for c in f["categories"]
        for s in c["subcategories"]
    ]
    assert [(s.id, s.category.id) for s in csf.subcategories] == expected
    assert [s.id for s in csf.subcategories] == nist_core["subcategory_ids"]


def test_withdrawn_placeholders_match_nist(csf: CsfCatalog, nist_core: Any) -> None:
    withdrawn = {e.placeholder_id for e in csf.transitions if e.withdrawn}
    withdrawn_subcategories = set(nist_core["withdrawn"]["subcategory_ids"])
    withdrawn_categories = set(nist_core["withdrawn"]["category_ids"])
    assert withdrawn == withdrawn_subcategories | withdrawn_categories


def _nist_mappings(nist_crosswalk: Any) -> list[dict[str, Any]]:
    sections = ("function_mappings", "category_mappings", "subcategory_mappings")
    return [mapping for section in sections for mapping in nist_crosswalk[section]]


def test_crosswalk_targets_match_nist_for_every_csf_1_1_id(
    csf: CsfCatalog, nist_crosswalk: Any
) -> None:
    mappings = _nist_mappings(nist_crosswalk)
    expected = {
        m["csf_1_1_id"]: tuple(m.get("csf_2_0_targets", m["informative_reference_targets"]))
        for m in mappings
    }
    assert dict(csf.crosswalk) == expected
    subcategories = nist_crosswalk["subcategory_mappings"]
    assert len(subcategories) == 108
    for mapping in subcategories:
        assert csf.crosswalk[mapping["csf_1_1_id"]] == tuple(mapping["csf_2_0_targets"])


def test_crosswalk_change_matches_nist_status(csf: CsfCatalog, nist_crosswalk: Any) -> None:
    for mapping in _nist_mappings(nist_crosswalk):
        entry = csf.transition(mapping["csf_1_1_id"])
        assert entry is not None
        if mapping["csf_2_0_status"] == "retained":
            assert entry.change is Change.KEPT, entry
        elif not entry.targets:
            assert entry.change is Change.WITHDRAWN, entry
        else:
            relation = {"moved_to": Change.MOVED, "incorporated_into": Change.INCORPORATED}
            assert entry.change is relation[mapping["relation"]], entry


def test_nhi_ids_ranks_titles_and_urls_match_owasp(nhi: NhiCatalog, owasp_nhi: Any) -> None:
    expected = [(r["id"], r["rank"], r["title"], r["url"]) for r in owasp_nhi["risks"]]
    assert [(r.id, r.rank, r.title, r.url) for r in nhi.risks] == expected
    assert nhi.source_url == owasp_nhi["list"]["website"]


# -------------------------------------------------- descriptions are our own words


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def _similarity(ours: str, theirs: str) -> float:
    return SequenceMatcher(None, _words(ours).split(), _words(theirs).split()).ratio()


def _nist_texts(nist_core: Any) -> dict[str, str]:
    texts: dict[str, str] = {}
    for function in nist_core["functions"]:
        texts[function["id"]] = function["text"]
        for category in function["categories"]:
            texts[category["id"]] = category["text"]
            texts.update((s["id"], s["text"]) for s in category["subcategories"])
    return texts


def test_csf_descriptions_are_not_nist_outcome_statements(csf: CsfCatalog, nist_core: Any) -> None:
    nist = _nist_texts(nist_core)
    elements = (*csf.functions, *csf.categories, *csf.subcategories)
    copied = [e.id for e in elements if _words(e.description) == _words(nist[e.id])]
    assert copied == []
    close = {e.id: _similarity(e.description, nist[e.id]) for e in elements}
    assert {i: r for i, r in close.items() if r >= MAX_SIMILARITY} == {}


def test_nhi_descriptions_are_not_the_reference_summaries(nhi: NhiCatalog, owasp_nhi: Any) -> None:
    summaries = {r["id"]: r["summary"] for r in owasp_nhi["risks"]}
    copied = [r.id for r in nhi.risks if _words(r.description) == _words(summaries[r.id])]
    assert copied == []
    close = {r.id: _similarity(r.description, summaries[r.id]) for r in nhi.risks}
    assert {i: s for i, s in close.items() if s >= MAX_SIMILARITY} == {}


# ------------------------------------------------------------- resolution, case by case

CSF_CASES = [
    pytest.param("PR.AA-05", EXACT, (), "PR.AA-05 is a NIST CSF 2.0 subcategory", id="subcategory"),
    pytest.param(
        "PR.AA",
        IMPRECISE,
        ("PR.AA-01", "PR.AA-02", "PR.AA-03", "PR.AA-04", "PR.AA-05", "PR.AA-06"),
        "PR.AA is a CSF 2.0 category (Identity Management, Authentication, and Access Control),"
        " not a subcategory; it is accepted but imprecise, so prefer one of its 6 subcategories",
        id="category-is-imprecise",
    ),
    pytest.param(
        "GV",
        IMPRECISE,
        ("GV.OC", "GV.RM", "GV.RR", "GV.PO", "GV.OV", "GV.SC"),
        "GV is a CSF 2.0 function (GOVERN), not a subcategory; it is accepted but imprecise,"
        " so prefer a subcategory from one of its 6 categories",
        id="function-is-imprecise",
    ),
    pytest.param(
        "PR.AC-4",
        OUTDATED,
        ("PR.AA-05",),
        "PR.AC-4 is a CSF 1.1 ID; in CSF 2.0 it moved to PR.AA-05",
        id="csf-1.1-moved",
    ),
    pytest.param(
        "PR.AC-1",
        OUTDATED,
        ("PR.AA-01", "PR.AA-05"),
        "PR.AC-1 is a CSF 1.1 ID; in CSF 2.0 it was incorporated into PR.AA-01, PR.AA-05",
        id="csf-1.1-incorporated",
    ),
    pytest.param(
        "PR.AC-01",
        OUTDATED,
        ("PR.AA-01", "PR.AA-05"),
        "PR.AC-01 is NIST's placeholder for the withdrawn CSF 1.1 ID PR.AC-1;"
        " in CSF 2.0 it was incorporated into PR.AA-01, PR.AA-05",
        id="withdrawn-placeholder-written-padded",
    ),
    pytest.param(
        "pr.ac-4",
        OUTDATED,
        ("PR.AA-05",),
        "pr.ac-4 is the CSF 1.1 ID PR.AC-4; in CSF 2.0 it moved to PR.AA-05",
        id="csf-1.1-lowercase",
    ),
    pytest.param(
        "PR.AC",
        OUTDATED,
        ("PR.AA",),
        "PR.AC is a CSF 1.1 ID; in CSF 2.0 it moved to PR.AA",
        id="csf-1.1-category",
    ),
    pytest.param("PR.IP", OUTDATED, (), None, id="csf-1.1-category-without-successor"),
    pytest.param(
        "PR.AA-5",
        NONCANONICAL,
        ("PR.AA-05",),
        "PR.AA-5 is not the canonical form; write PR.AA-05",
        id="unpadded-2.0-id",
    ),
    pytest.param(
        "ID.AM-1",
        NONCANONICAL,
        ("ID.AM-01",),
        "ID.AM-1 is not the canonical form; write ID.AM-01"
        " (CSF 2.0 kept this CSF 1.1 ID and gave it a two-digit number)",
        id="kept-csf-1.1-id",
    ),
    pytest.param("pr.aa-05", NONCANONICAL, ("PR.AA-05",), None, id="lowercase"),
    pytest.param(" PR.AA-05 ", NONCANONICAL, ("PR.AA-05",), None, id="surrounding-spaces"),
    pytest.param("PR.AA\u201305", NONCANONICAL, ("PR.AA-05",), None, id="en-dash"),
    pytest.param("gv", NONCANONICAL, ("GV",), None, id="lowercase-function"),
    pytest.param(
        "PR.AA-07",
        UNKNOWN,
        ("PR.AA-01", "PR.AA-02", "PR.AA-03"),
        "PR.AA-07 does not exist in NIST CSF 2.0; did you mean PR.AA-01, PR.AA-02 or PR.AA-03?",
        id="no-such-subcategory",
    ),
    pytest.param(
        "",
        UNKNOWN,
        (),
        "No NIST CSF reference given; write a CSF 2.0 subcategory ID such as PR.AA-05",
        id="empty",
    ),
    pytest.param(
        "{{7*7}}",
        UNKNOWN,
        (),
        "{{7*7}} is not a NIST CSF ID; write a CSF 2.0 subcategory ID such as PR.AA-05",
        id="garbage",
    ),
]


@pytest.mark.parametrize(("ref", "status", "suggestions", "message"), CSF_CASES)
def test_resolve_csf(
    ref: str,
    status: ResolutionStatus,
    suggestions: tuple[str, ...],
    message: str | None,
) -> None:
    result = resolve_csf(ref)
    assert result.ref == ref
    assert result.status is status
    assert result.suggestions == suggestions
    if message is not None:
        assert result.message == message


NHI_CASES = [
    pytest.param(
        "NHI3:2025",
        EXACT,
        (),
        "NHI3:2025 is an OWASP NHI Top 10 (2025) risk: Vulnerable Third-Party NHI",
        id="owasp-id",
    ),
    pytest.param(
        "NHI-03",
        NONCANONICAL,
        ("NHI3:2025",),
        "NHI-03 is not OWASP's ID form; write NHI3:2025 (Vulnerable Third-Party NHI)",
        id="hyphen-and-zero-padding",
    ),
    pytest.param("NHI3", NONCANONICAL, ("NHI3:2025",), None, id="no-year"),
    pytest.param("NHI03", NONCANONICAL, ("NHI3:2025",), None, id="zero-padded"),
    pytest.param("nhi-3", NONCANONICAL, ("NHI3:2025",), None, id="lowercase-hyphen"),
    pytest.param("nhi3:2025", NONCANONICAL, ("NHI3:2025",), None, id="lowercase"),
    pytest.param(
        "NHI3:2025 ",
        NONCANONICAL,
        ("NHI3:2025",),
        "'NHI3:2025 ' is not OWASP's ID form; write NHI3:2025 (Vulnerable Third-Party NHI)",
        id="trailing-space",
    ),
    pytest.param("NHI:3", NONCANONICAL, ("NHI3:2025",), None, id="release-notes-form"),
    pytest.param("NHI10", NONCANONICAL, ("NHI10:2025",), None, id="rank-ten"),
    pytest.param("Improper Offboarding", NONCANONICAL, ("NHI1:2025",), None, id="title-only"),
    pytest.param(
        "NHI11:2025",
        UNKNOWN,
        (),
        "NHI11:2025 is not in the OWASP NHI Top 10 (2025), which runs from NHI1:2025 to NHI10:2025",
        id="rank-out-of-range",
    ),
    pytest.param("NHI-0", UNKNOWN, (), None, id="rank-zero"),
    pytest.param("NHI3:2024", UNKNOWN, ("NHI3:2025",), None, id="wrong-edition"),
    pytest.param(
        "",
        UNKNOWN,
        (),
        "No OWASP NHI reference given; write an ID such as NHI5:2025",
        id="empty",
    ),
    pytest.param(
        "{{7*7}}",
        UNKNOWN,
        (),
        "{{7*7}} is not in the OWASP NHI Top 10 (2025); write an ID such as NHI5:2025",
        id="garbage",
    ),
]


@pytest.mark.parametrize(("ref", "status", "suggestions", "message"), NHI_CASES)
def test_resolve_nhi(
    ref: str,
    status: ResolutionStatus,
    suggestions: tuple[str, ...],
    message: str | None,
) -> None:
    result = resolve_nhi(ref)
    assert result.ref == ref
    assert result.status is status
    assert result.suggestions == suggestions
    if message is not None:
        assert result.message == message


def test_only_exact_and_imprecise_references_are_accepted() -> None:
    assert resolve_csf("PR.AA-05").accepted
    assert resolve_csf("PR.AA").accepted
    assert not resolve_csf("PR.AA-5").accepted
    assert not resolve_csf("PR.AC-4").accepted
    assert not resolve_nhi("NHI-03").accepted


# --------------------------------------------------------- resolution, for every ID


def test_every_csf_2_0_subcategory_is_exact(csf: CsfCatalog) -> None:
    for sub in csf.subcategories:
        assert resolve_csf(sub.id) == Resolution(
            sub.id, EXACT, (), f"{sub.id} is a NIST CSF 2.0 subcategory"
        )


def test_every_csf_1_1_subcategory_resolves_by_what_2_0_did_with_it(csf: CsfCatalog) -> None:
    for entry in csf.transitions:
        if entry.level is not CsfLevel.SUBCATEGORY:
            continue
        for written in (entry.csf11_id, entry.placeholder_id):
            result = resolve_csf(written)
            if entry.withdrawn:
                assert (result.status, result.suggestions) == (OUTDATED, entry.targets), written
            elif written == entry.csf11_id:
                expected = (NONCANONICAL, (entry.placeholder_id,))
                assert (result.status, result.suggestions) == expected, written
            else:
                assert result.status is EXACT, written


def test_every_nhi_rank_resolves_from_its_common_misspellings(nhi: NhiCatalog) -> None:
    for risk in nhi.risks:
        for written in (f"NHI-{risk.rank:02d}", f"NHI{risk.rank}", f"nhi-{risk.rank}"):
            result = resolve_nhi(written)
            assert (result.status, result.suggestions) == (NONCANONICAL, (risk.id,)), written
            assert risk.title in result.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gets_a_verdict_and_only_real_ids_as_suggestions(text: str) -> None:
    csf, nhi = load_csf(), load_owasp_nhi()
    for result in (resolve_csf(text), resolve_nhi(text)):
        assert result.ref == text
        assert result.message
        if result.status is EXACT:
            assert result.suggestions == ()
    assert all(csf.get(s) is not None for s in resolve_csf(text).suggestions)
    assert all(nhi.get(s) is not None for s in resolve_nhi(text).suggestions)
