"""`controlbook export oscal`: OSCAL 1.1.2 documents an OSCAL tool accepts, and that say
what the evaluation found.

The field names follow NIST's OSCAL 1.1.2 JSON reference
(https://pages.nist.gov/OSCAL-Reference/models/v1.1.2/component-definition/json-reference/,
.../assessment-plan/json-reference/, .../assessment-results/json-reference/,
.../plan-of-action-and-milestones/json-reference/). compliance-trestle
(https://pypi.org/p/compliance-trestle) validates them in its own virtual environment
under build/ (its pins conflict with ours, so it is a test tool, never a dependency).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.publish.oscal import build_documents, export_oscal
from generator.publish.oscal.ids import NAMESPACE, csf_oscal_ids
from generator.references import load_csf
from tests.conftest import EXAMPLE, ROOT, SHARED_REFERENCE, CatalogDir

CONTROL = "controls/UAR-APP-01.yaml"
TRESTLE = "compliance-trestle==5.2.0"
"""The newest trestle when this was written; its models are OSCAL 1.2.1, a superset of
the 1.1.2 constructs we write, and it checks every field, enum and pattern."""
TRESTLE_VENV = ROOT / "build" / "trestle-venv"
# where `trestle validate -f` expects each model (a workspace made by `trestle init`)
TRESTLE_PLACES = {
    "component-definition.json": "component-definitions/cb/component-definition.json",
    "assessment-plan.json": "assessment-plans/cb/assessment-plan.json",
    "assessment-results.json": "assessment-results/cb/assessment-results.json",
    "poam.json": "plan-of-action-and-milestones/cb/plan-of-action-and-milestones.json",
}


def export(catalog: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "export",
            "oscal",
            str(catalog),
            "--out",
            str(out),
            *list(args),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def documents(catalog: Path, as_of: str | None = None) -> dict[str, dict[str, Any]]:
    loaded = load_catalog(catalog)
    day = None if as_of is None else date.fromisoformat(as_of)
    texts = build_documents(loaded, evaluate(loaded, day))
    return {name: json.loads(text) for name, text in texts.items()}


def results_of(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return docs["assessment-results.json"]["assessment-results"]["results"][0]


def prop_value(item: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in item.get("props", []) if p["name"] == name]


def walk_uuids(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (path, value) of a ``uuid`` key in a document."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uuid" and isinstance(value, str):
                found.append((path, value))
            found.extend(walk_uuids(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(walk_uuids(value, f"{path}[{index}]"))
    return found


@pytest.fixture
def gap(starter: CatalogDir) -> CatalogDir:
    """The starter catalog with one high finding: the control is owned by a team (OWN-1)."""
    people = starter.path / "people.yaml"
    people.write_text(
        people.read_text() + "  - id: finance-team\n    name: Finance\n    kind: team\n"
    )
    starter.replace(CONTROL, "  - person: j.okafor", "  - person: finance-team")
    return starter


# --- validated by an OSCAL tool ------------------------------------------------------------


@pytest.fixture(scope="session")
def trestle() -> Path:
    """The trestle command, installed with pip into build/trestle-venv on first use."""
    command = TRESTLE_VENV / "bin" / "trestle"
    if not command.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(TRESTLE_VENV)],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"could not create {TRESTLE_VENV}: {made.stderr[-300:]}")
        pip = [str(TRESTLE_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        done = subprocess.run([*pip, TRESTLE], capture_output=True, text=True)
        if done.returncode != 0 or not command.exists():
            shutil.rmtree(TRESTLE_VENV, ignore_errors=True)  # try again next run
            pytest.skip(f"could not install {TRESTLE} (no network?): {done.stderr[-300:]}")
    return command


def trestle_validate(trestle: Path, folder: Path, work: Path) -> dict[str, str]:
    """Each exported file -> trestle's verdict ('VALID' or its error) in a fresh workspace."""
    work.mkdir()
    init = subprocess.run([str(trestle), "init"], cwd=work, capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    verdicts = {}
    for name in sorted(p.name for p in folder.glob("*.json")):
        target = work / TRESTLE_PLACES[name]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / name, target)
        run = subprocess.run(
            [str(trestle), "validate", "-f", str(target)], cwd=work, capture_output=True, text=True
        )
        output = run.stdout + run.stderr
        verdicts[name] = "VALID" if run.returncode == 0 and "VALID:" in output else output
    return verdicts


@pytest.mark.parametrize("catalog", ["example", "gap"])
def test_trestle_validates_every_exported_document(
    catalog: str, gap: CatalogDir, trestle: Path, tmp_path: Path
) -> None:
    source = EXAMPLE if catalog == "example" else gap.path
    out = tmp_path / "oscal"
    run = export(source, out)
    assert run.returncode == 0, run.stderr
    verdicts = trestle_validate(trestle, out, tmp_path / "workspace")
    assert verdicts == dict.fromkeys(TRESTLE_PLACES, "VALID")


def test_trestle_rejects_a_not_assessed_state_so_the_validation_can_fail(
    gap: CatalogDir, trestle: Path, tmp_path: Path
) -> None:
    out = tmp_path / "oscal"
    assert export(gap.path, out).returncode == 0
    results = out / "assessment-results.json"
    doc = json.loads(results.read_text())
    finding = doc["assessment-results"]["results"][0]["findings"][0]
    finding["target"]["status"]["state"] = "not-assessed"  # what OSCAL has no word for
    results.write_text(json.dumps(doc))
    verdicts = trestle_validate(trestle, out, tmp_path / "workspace")
    assert "not-assessed" in verdicts["assessment-results.json"]
    assert verdicts["component-definition.json"] == "VALID"


def test_hostile_names_still_give_valid_one_line_titles(
    starter: CatalogDir, trestle: Path, tmp_path: Path
) -> None:
    starter.replace(
        "catalog.yaml", "organisation: Example Corp", 'organisation: " Acme\\n\\tCorp "'
    )
    starter.replace(
        "people.yaml",
        "name: ",
        'name: "  \\u202eEvil\\nName " #',
    )
    out = tmp_path / "oscal"
    run = export(starter.path, out)
    assert run.returncode == 0, run.stderr
    component = json.loads((out / "component-definition.json").read_text())
    assert component["component-definition"]["metadata"]["title"] == (
        "Acme Corp: control implementations"
    )
    names = [p["name"] for p in component["component-definition"]["metadata"]["parties"]]
    assert "\u202eEvil Name" in names
    verdicts = trestle_validate(trestle, out, tmp_path / "workspace")
    assert set(verdicts.values()) == {"VALID"}


# --- what the documents say --------------------------------------------------------------


def test_a_finding_becomes_an_observation_with_its_file_and_line_and_fails_its_control(
    gap: CatalogDir,
) -> None:
    docs = documents(gap.path)
    result = results_of(docs)
    observation = next(o for o in result["observations"] if prop_value(o, "rule") == ["OWN-1"])
    assert observation["title"] == "OWN-1: Control without a named owner"
    assert "owner 'finance-team' is a team" in observation["description"]
    assert observation["types"] == ["finding"]
    assert prop_value(observation, "control-id") == ["UAR-APP-01"]
    assert prop_value(observation, "severity") == ["high"]
    assert prop_value(observation, "subject") == ["finance-team"]
    evidence = observation["relevant-evidence"][0]
    assert evidence["href"] == CONTROL
    assert evidence["description"].startswith(f"{CONTROL}:13:13")
    assert prop_value(evidence, "line") == ["13"]

    [finding] = [f for f in result["findings"] if prop_value(f, "control-id") == ["UAR-APP-01"]]
    assert finding["target"] == {
        "type": "statement-id",
        "target-id": "PR.AA-05_statement",
        "status": {"state": "not-satisfied", "reason": "fail"},
    }
    assert {"observation-uuid": observation["uuid"]} in finding["related-observations"]
    component = docs["component-definition.json"]["component-definition"]
    [implementation] = component["components"][0]["control-implementations"]
    [requirement] = implementation["implemented-requirements"]
    assert requirement["control-id"] == "PR.AA-05"
    assert finding["implementation-statement-uuid"] == requirement["uuid"]


def test_a_clean_control_is_satisfied(starter: CatalogDir) -> None:
    result = results_of(documents(starter.path))
    [finding] = result["findings"]
    assert finding["target"]["status"] == {"state": "satisfied", "reason": "pass"}
    assert prop_value(finding, "control-status") == ["clean"]
    # the calendar's note (review not due yet) is an observation, not a failure
    [note] = [o for o in result["observations"] if prop_value(o, "assessment")]
    assert prop_value(note, "missing-evidence") == ["false"]
    assert "not due until 2026-07-30" in note["description"]


def test_a_control_whose_reviews_are_overdue_is_not_satisfied(
    starter: CatalogDir,
) -> None:
    result = results_of(documents(starter.path, as_of="2026-12-31"))
    [finding] = result["findings"]
    assert finding["target"]["status"]["state"] == "not-satisfied"
    assert prop_value(finding, "control-status") != ["clean"]


def test_the_component_names_owner_frequency_and_nhi_risks(starter: CatalogDir) -> None:
    starter.replace(
        CONTROL, "  csf: [PR.AA-05]", "  csf: [PR.AA-05, PR.AA-01]\n  owasp_nhi: [NHI1:2025]"
    )
    component = documents(starter.path)["component-definition.json"]["component-definition"]
    parties = {p["uuid"]: p for p in component["metadata"]["parties"]}
    [implementation] = component["components"][0]["control-implementations"]
    assert implementation["source"].endswith("nist.gov/CSF/v2.0/json/NIST_CSF_v2.0_catalog.json")
    requirements = implementation["implemented-requirements"]
    assert [r["control-id"] for r in requirements] == ["PR.AA-01", "PR.AA-05"]
    requirement = requirements[0]
    assert requirement["description"].startswith("Quarterly user access review")
    assert prop_value(requirement, "frequency") == ["quarterly"]
    assert prop_value(requirement, "owasp-nhi-risk") == ["NHI1:2025"]
    assert requirement["links"][0]["rel"] == "reference"
    assert requirement["links"][0]["text"] == "NHI1:2025 Improper Offboarding"
    roles = {r["role-id"]: r["party-uuids"] for r in requirement["responsible-roles"]}
    owner = parties[roles["control-owner"][0]]
    assert (owner["type"], prop_value(owner, "person-id")) == ("person", ["j.okafor"])
    assert parties[roles["control-executor"][0]]["type"] == "organization"  # iam-team


def test_waived_findings_are_observed_but_only_open_ones_are_poam_items() -> None:
    loaded = load_catalog(EXAMPLE)
    evaluation = evaluate(loaded)
    assert evaluation.waived, "the example catalog has a waived finding"
    docs = {k: json.loads(v) for k, v in build_documents(loaded, evaluation).items()}
    observations = results_of(docs)["observations"]
    assert sum(prop_value(o, "finding-status") == ["waived"] for o in observations) == len(
        evaluation.waived
    )
    poam = docs["poam.json"]["plan-of-action-and-milestones"]
    assert len(poam["poam-items"]) == len(evaluation.open)
    risk_by_uuid = {r["uuid"]: r for r in poam["risks"]}
    for item in poam["poam-items"]:
        [risk] = [risk_by_uuid[r["risk-uuid"]] for r in item["related-risks"]]
        facet = risk["characterizations"][0]["facets"][0]
        assert facet["name"] == "severity"
        assert facet["value"] == prop_value(item, "severity")[0]
        assert facet["value"] in {"critical", "high", "medium", "low"}
    observed = {o["uuid"] for o in observations}
    assert {o["uuid"] for o in poam["observations"]} <= observed  # the same observations


def test_no_open_finding_means_no_poam_and_a_stale_one_is_removed(
    starter: CatalogDir, tmp_path: Path
) -> None:
    out = tmp_path / "oscal"
    out.mkdir()
    (out / "poam.json").write_text("{}")
    run = export(starter.path, out)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "assessment-plan.json",
        "assessment-results.json",
        "component-definition.json",
    ]
    assert "no open finding: no POA&M" in run.stdout


def test_the_plan_lists_the_rules_as_activities_and_the_as_of_date(gap: CatalogDir) -> None:
    plan = documents(gap.path)["assessment-plan.json"]["assessment-plan"]
    titles = [a["title"] for a in plan["local-definitions"]["activities"]]
    assert "OWN-1: Control without a named owner" in titles
    assert titles == sorted(titles)
    [task] = plan["tasks"]
    assert task["timing"] == {"on-date": {"date": "2026-05-15T00:00:00Z"}}
    selection = plan["reviewed-controls"]["control-selections"][0]
    assert selection["include-controls"] == [{"control-id": "PR.AA-05"}]
    results = documents(gap.path)["assessment-results.json"]["assessment-results"]
    assert results["import-ap"] == {"href": "assessment-plan.json"}


# --- stable output ---------------------------------------------------------------------------


def test_a_re_export_is_byte_identical_and_another_as_of_date_is_not(
    gap: CatalogDir, tmp_path: Path
) -> None:
    first, second, later = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert export(gap.path, first).returncode == 0
    assert export(gap.path, second).returncode == 0
    assert export(gap.path, later, "--as-of", "2026-06-30").returncode == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(TRESTLE_PLACES)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "assessment-results.json").read_bytes() != (
        later / "assessment-results.json"
    ).read_bytes()
    text = (later / "assessment-results.json").read_text()
    assert "2026-06-30T00:00:00Z" in text
    assert "2026-05-15T00:00:00Z" not in text


def test_uuids_are_uuidv5_of_documented_names_and_unique_per_document(gap: CatalogDir) -> None:
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:controlbook:oscal") == NAMESPACE
    docs = documents(gap.path)
    component = docs["component-definition.json"]["component-definition"]
    implementation = component["components"][0]["control-implementations"][0]
    assert implementation["uuid"] == str(uuid.uuid5(NAMESPACE, "control-implementation:UAR-APP-01"))
    requirement = implementation["implemented-requirements"][0]
    assert requirement["uuid"] == str(
        uuid.uuid5(NAMESPACE, "implemented-requirement:UAR-APP-01:PR.AA-05")
    )
    observation = next(
        o for o in results_of(docs)["observations"] if prop_value(o, "rule") == ["OWN-1"]
    )
    assert observation["uuid"] == str(
        uuid.uuid5(NAMESPACE, "observation:OWN-1:UAR-APP-01:finance-team")
    )
    for name, doc in docs.items():
        found = walk_uuids(doc)
        assert all(uuid.UUID(value).version == 5 for _, value in found), name
        values = [value for _, value in found]
        # a POA&M repeats no UUID; the results repeat none either
        assert len(values) == len(set(values)), name


# --- the CSF IDs are NIST's OSCAL IDs --------------------------------------------------------


def test_every_csf_2_subcategory_we_ship_exists_in_nist_s_oscal_catalog() -> None:
    shipped = csf_oscal_ids()
    ours = {s.id for s in load_csf().subcategories}
    assert ours <= set(shipped)
    assert all(shipped[c] == f"{c}_statement" for c in ours)
    assert "PR.AC-01" in shipped  # NIST's OSCAL catalog keeps the withdrawn 1.1 placeholders
    assert "PR.AA-5" not in shipped
    assert "pr.aa-05" not in shipped


@pytest.mark.skipif(
    not (SHARED_REFERENCE / "nist-csf-2.0.yaml").exists(), reason="no shared reference copy"
)
def test_the_shared_csf_reference_agrees_with_the_oscal_id_map() -> None:
    reference = yaml.safe_load((SHARED_REFERENCE / "nist-csf-2.0.yaml").read_text())
    ids = {
        s["id"] for f in reference["functions"] for c in f["categories"] for s in c["subcategories"]
    }
    assert len(ids) == 106
    assert ids <= set(csf_oscal_ids())


@pytest.mark.parametrize("catalog", [EXAMPLE, ROOT / "examples" / "iga-catalog"])
def test_every_exported_csf_id_exists_in_the_oscal_catalog(catalog: Path) -> None:
    docs = documents(catalog)
    component = docs["component-definition.json"]["component-definition"]
    exported = {
        r["control-id"]
        for i in component["components"][0]["control-implementations"]
        for r in i["implemented-requirements"]
    }
    assert exported
    assert exported <= set(csf_oscal_ids())
    targets = {f["target"]["target-id"] for f in results_of(docs)["findings"]}
    assert targets == {f"{c}_statement" for c in exported}


# --- bad input ----------------------------------------------------------------------------------


def test_out_naming_a_file_is_a_one_line_error(starter: CatalogDir, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    run = export(starter.path, target)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert target.read_text() == "not a folder"


def test_an_invalid_catalog_writes_nothing(starter: CatalogDir, tmp_path: Path) -> None:
    starter.replace(CONTROL, "frequency: quarterly", "frequency: sometimes")
    out = tmp_path / "oscal"
    run = export(starter.path, out)
    assert run.returncode == 2
    assert f"{CONTROL}:" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_the_catalog_folder_itself_is_refused_as_out(starter: CatalogDir) -> None:
    run = export(starter.path, starter.path)
    assert run.returncode == 2
    assert "is the catalog folder" in run.stderr
    assert not (starter.path / "component-definition.json").exists()


def test_export_writes_through_the_library_too(starter: CatalogDir, tmp_path: Path) -> None:
    loaded = load_catalog(starter.path)
    written = export_oscal(loaded, evaluate(loaded), tmp_path / "x")
    assert [p.name for p in written.written] == [
        "component-definition.json",
        "assessment-plan.json",
        "assessment-results.json",
    ]
    assert not list((tmp_path / "x").glob(".*.tmp"))
