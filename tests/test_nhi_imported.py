"""NHI-2 and NHI-3 read the imported state, not the inventory's hand-typed dates.

``controlbook import`` writes a details sidecar beside the extract (last use, rotation
and expiry of each credential; interactive sign-ins) and records it with its sha256.
When the newest imported state of an identity's system shows its account, NHI-2 judges
the active credentials' rotation dates from there, and NHI-3 counts interactive use from
every imported extract of the system. The inventory keeps owners, policies and purpose.

The example's AWS identities: NHI-AWS-01 ``svc-findw-loader`` (inventory: rotated
2026-09-01) and NHI-AWS-02 ``svc-sap-archive`` (inventory: rotated 2026-08-17); the
credential report (tests/data/imports/aws-credential-report/) says otherwise. As of
2026-09-30, policy 90 days.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.evaluation.findings import Finding
from tests.conftest import EXAMPLE, ROOT
from tests.test_import import run

AWS = ROOT / "tests" / "data" / "imports" / "aws-credential-report"
REPORT = (AWS / "credential-report.csv").read_text(encoding="utf-8")
DETAILS = "extracts/aws/2026-09-20-aws-credential-report.details.csv"
EXTRACT = "extracts/aws/2026-09-20-aws-credential-report.csv"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(EXAMPLE, target)
    return target


def import_report(catalog: Path, report: str, *mapping_lines: str) -> None:
    """Import a (changed) credential report of the example's AWS account."""
    raw = catalog.parent / "credential-report.csv"
    raw.write_text(report, encoding="utf-8")
    mapping = catalog.parent / "mapping.yaml"
    mapping.write_text(
        (AWS / "mapping.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "account_types:\n", "account_types:\n" + "".join(f"  {m}\n" for m in mapping_lines)
        ),
        encoding="utf-8",
    )
    result = run(
        "import", "aws-credential-report", raw, "--catalog", catalog, "--system", "aws",
        "--scope", "privileged,service,break-glass,third-party", "--mapping", mapping,
        "--extracted-at", "2026-09-20T08:15:02Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def user_row(user: str) -> str:
    return next(line for line in REPORT.splitlines() if line.startswith(f"{user},"))


def with_row(user: str, **changes: str) -> str:
    """The report with some columns of one user's row changed."""
    header = REPORT.splitlines()[0].split(",")
    values = user_row(user).split(",")
    for column, value in changes.items():
        values[header.index(column)] = value
    return REPORT.replace(user_row(user), ",".join(values))


def nhi_findings(catalog: Path, rule: str) -> dict[str, Finding]:
    return {f.subject: f for f in evaluate(load_catalog(catalog)).findings if f.rule == rule}


def test_without_an_import_the_inventory_dates_are_judged() -> None:
    stale = nhi_findings(EXAMPLE, "NHI-2")
    assert "NHI-AWS-01" not in stale
    assert "NHI-AWS-02" not in stale


def test_an_old_access_key_in_the_imported_state_is_nhi2_whatever_the_inventory_says(
    catalog: Path,
) -> None:
    import_report(catalog, REPORT)
    stale = nhi_findings(catalog, "NHI-2")
    loader = stale["NHI-AWS-01"]
    assert loader.message == (
        "svc-findw-loader (NHI-AWS-01): access-key-1 was last rotated 212 days ago "
        f"(imported {EXTRACT}, taken 2026-09-20); the policy is 90 days"
    )
    assert loader.location.file.endswith(DETAILS)
    line = (catalog / DETAILS).read_text().splitlines()[loader.location.line - 1]
    assert line.startswith("svc-findw-loader,access-key-1,true,false,")
    # The oldest active credential is the one named: a signing certificate of 2024.
    assert "signing-certificate-1 was last rotated 972 days ago" in stale["NHI-AWS-02"].message


def test_an_inactive_old_key_is_not_judged_only_the_active_ones(catalog: Path) -> None:
    recent = with_row(
        "svc-findw-loader",
        access_key_1_last_rotated="2026-09-01T06:00:00+00:00",
        access_key_2_active="false",
        access_key_2_last_rotated="2024-01-01T00:00:00+00:00",
    )
    import_report(catalog, recent)
    assert "NHI-AWS-01" not in nhi_findings(catalog, "NHI-2")
    details = (catalog / DETAILS).read_text()
    assert "svc-findw-loader,access-key-2,false,false," in details  # kept, not judged


def test_console_use_of_a_service_user_is_nhi3_with_the_import_named(catalog: Path) -> None:
    assert "NHI-AWS-01" not in nhi_findings(catalog, "NHI-3")
    used = with_row(
        "svc-findw-loader",
        password_enabled="true",
        password_last_used="2026-09-10T22:04:51+00:00",
        password_last_changed="2026-09-01T06:00:00+00:00",
    )
    # A console password makes the report's user look like a person: the mapping says
    # what it is.
    import_report(catalog, used, "svc-findw-loader: service")
    found = nhi_findings(catalog, "NHI-3")["NHI-AWS-01"]
    assert found.message == (
        "1 interactive login(s) recorded for svc-findw-loader (NHI-AWS-01), first on "
        f"2026-09-10 (imported: {DETAILS})"
    )
    assert found.location.file.endswith(DETAILS)


def test_a_console_password_used_before_the_period_is_no_nhi3(catalog: Path) -> None:
    old = with_row(
        "svc-findw-loader",
        password_enabled="true",
        password_last_used="2025-09-10T22:04:51+00:00",
        password_last_changed="2025-09-01T06:00:00+00:00",
    )
    import_report(catalog, old, "svc-findw-loader: service")
    assert "NHI-AWS-01" not in nhi_findings(catalog, "NHI-3")


def test_an_edited_sidecar_is_evd2_and_cannot_clear_the_finding(catalog: Path) -> None:
    import_report(catalog, REPORT)
    record = load_catalog(catalog).systems["aws"].extracts[-1]
    assert record.derived_from is not None
    assert record.derived_from.details is not None
    assert record.derived_from.details.file == DETAILS
    details = catalog / DETAILS
    assert hashlib.sha256(details.read_bytes()).hexdigest() == record.derived_from.details.sha256
    forged = details.read_text().replace(
        "svc-findw-loader,access-key-1,true,false,2026-09-20T06:02:44Z,2026-03-02T06:00:00Z",
        "svc-findw-loader,access-key-1,true,false,2026-09-20T06:02:44Z,2026-09-02T06:00:00Z",
    )
    assert forged != details.read_text()
    details.write_text(forged)
    found = evaluate(load_catalog(catalog)).findings
    assert any(
        f.rule == "EVD-2" and f"details {DETAILS} of {EXTRACT} have changed" in f.message
        for f in found
    )
    # Not read once changed: the inventory's date is judged, and EVD-2 says why.
    assert "NHI-AWS-01" not in {f.subject for f in found if f.rule == "NHI-2"}

    # With its recorded sha256 changed to match, the sidecar is read, and re-deriving
    # it from the raw report shows the forgery.
    systems = catalog / "systems.yaml"
    old_sha = record.derived_from.details.sha256
    new_sha = hashlib.sha256(forged.encode()).hexdigest()
    systems.write_text(systems.read_text().replace(old_sha, new_sha))
    found = evaluate(load_catalog(catalog)).findings
    assert any(
        f.rule == "EVD-2"
        and f"details {DETAILS} are not what aws-credential-report/2 derives" in f.message
        for f in found
    )
