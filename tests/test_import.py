"""``controlbook import``: each format's fixture imported into a copy of the example catalog.

For every format: the catalog still validates, ``check`` gives exactly the findings the
fixture plants on top of the example's own, a second import changes no byte, the
malformed fixture is refused with its line, and an interrupted import leaves nothing.
``check`` re-derives an imported extract from its raw export (EVD-2).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.catalog.loader import load_catalog
from generator.cli import main
from generator.evaluation.evaluate import evaluate
from generator.evidence import catalogwrite
from generator.evidence.extracts import extract_diagnostics
from generator.evidence.importers.register import ImportRequest, run_import
from generator.model import AccountType
from tests.conftest import EXAMPLE, ROOT

DATA = ROOT / "tests" / "data" / "imports"
AWS = DATA / "aws-credential-report"
CSV = DATA / "csv"
K8S = DATA / "k8s-rbac"

K8S_SYSTEM = """
  # The EKS cluster that runs the FINDW loaders (added by the import tests).
  - id: k8s-prod
    name: EKS cluster prod-finance
    sox_in_scope: false
    owner: a.rossi
    administrators: [j.park]
    account_types: [employee, privileged, service]
"""


def findings(catalog: Path) -> set[tuple[str, str]]:
    evaluation = evaluate(load_catalog(catalog))
    return {(f.rule, f.subject) for f in evaluation.findings}


def notes(catalog: Path) -> list[str]:
    return [n.text for n in evaluate(load_catalog(catalog)).not_assessed]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def folders(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def baseline() -> set[tuple[str, str]]:
    """The example catalog's own findings."""
    return findings(EXAMPLE)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(EXAMPLE, target)
    with (target / "systems.yaml").open("a", encoding="utf-8") as handle:
        handle.write(K8S_SYSTEM)
    return target


def import_aws(catalog: Path, *extra: str | Path) -> Result:
    return run(
        "import", "aws-credential-report", AWS / "get-credential-report.json",
        "--catalog", catalog, "--system", "aws",
        "--scope", "privileged,service,break-glass,third-party",
        "--mapping", AWS / "mapping.yaml", *extra,
    )  # fmt: skip


def import_csv(catalog: Path, *extra: str | Path) -> Result:
    return run(
        "import", "csv", CSV / "sap-user-roles.csv", "--catalog", catalog, "--system", "erp",
        "--mapping", CSV / "sap-user-roles.mapping.yaml",
        "--extracted-at", "2026-09-20T21:30:00Z", *extra,
    )  # fmt: skip


def import_k8s(catalog: Path, *extra: str | Path) -> Result:
    return run(
        "import", "k8s-rbac", K8S / "bindings.json", "--catalog", catalog,
        "--system", "k8s-prod", "--mapping", K8S / "mapping.yaml",
        "--extracted-at", "2026-09-21T06:00:00Z", *extra,
    )  # fmt: skip


def assert_valid(catalog: Path) -> None:
    result = run("validate", catalog)
    assert result.exit_code == 0, result.output
    assert extract_diagnostics(load_catalog(catalog)) == []


# --- aws-credential-report ------------------------------------------------------------


AWS_EXTRACT = """\
account,person,account_type,entitlement
<root_account>,,break-glass,root
adm-boconnell,b.oconnell,privileged,console-password
adm-jpark,j.park,privileged,access-key-1
adm-jpark,j.park,privileged,console-password
breakglass-prod-01,,break-glass,console-password
ext-kestrel-dba,v.petrov,third-party,console-password
svc-findw-loader,,service,access-key-1
svc-findw-loader,,service,access-key-2
svc-sap-archive,,service,access-key-1
svc-sap-archive,,service,signing-certificate-1
svc-terraform-ci,,service,access-key-2
"""


def test_aws_credential_report_becomes_the_state_of_its_slice(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_aws(catalog)
    assert result.exit_code == 0, result.output
    assert "imported 11 row(s), 8 account(s), taken at 2026-09-20T08:15:02Z" in result.output
    assert "left out:   1 row(s) outside --scope" in result.output  # legacy-reporting
    extract = catalog / "extracts/aws/2026-09-20-aws-credential-report.csv"
    assert extract.read_text(encoding="utf-8") == AWS_EXTRACT
    raw = catalog / "evidence/raw/aws/2026-09-20-aws-credential-report.json"
    assert raw.read_bytes() == (AWS / "get-credential-report.json").read_bytes()
    details = (extract.parent / "2026-09-20-aws-credential-report.details.csv").read_text()
    assert (
        "svc-sap-archive,access-key-1,true,false,2026-09-19T23:00:41Z,2025-06-14T09:05:13Z,,false"
        in details
    )
    assert "adm-boconnell,access-key-1,false,false," in details  # inactive keys keep their dates
    assert_valid(catalog)
    loaded = load_catalog(catalog)
    record = loaded.systems["aws"].extracts[-1]
    assert record.file == "extracts/aws/2026-09-20-aws-credential-report.csv"
    assert record.scope == [
        AccountType.PRIVILEGED, AccountType.SERVICE, AccountType.BREAK_GLASS,
        AccountType.THIRD_PARTY,
    ]  # fmt: skip
    assert record.records == 11
    assert record.extracted_at is not None
    assert record.derived_from is not None
    assert record.derived_from.importer == "aws-credential-report/2"
    assert [r.file for r in record.derived_from.raw] == [
        "evidence/raw/aws/2026-09-20-aws-credential-report.json"
    ]
    assert findings(catalog) - baseline == {
        ("ORP-1", "aws:v.petrov"),  # the Kestrel DBA the directory does not know
        ("POP-2", "aws:third-party"),  # and no control reviews AWS third-party accounts
        # The report dates the keys; the inventory's hand-typed rotation dates are
        # newer than the keys really are (tests/test_nhi_imported.py has the messages).
        ("NHI-2", "NHI-AWS-01"),
        ("NHI-2", "NHI-AWS-02"),
    }
    assert baseline - findings(catalog) == set()


def test_the_comments_and_the_other_systems_of_systems_yaml_stay_as_they_were(
    catalog: Path,
) -> None:
    before = (catalog / "systems.yaml").read_text(encoding="utf-8")
    assert import_aws(catalog).exit_code == 0
    after = (catalog / "systems.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert after.replace("\n".join(added) + "\n", "", 1) == before
    assert added[0] == "      - file: extracts/aws/2026-09-20-aws-credential-report.csv"
    assert "        extracted_at: 2026-09-20T08:15:02Z" in added


def test_a_second_import_of_the_same_export_changes_no_byte(catalog: Path) -> None:
    assert import_aws(catalog).exit_code == 0
    first = snapshot(catalog)
    again = import_aws(catalog)
    assert again.exit_code == 0, again.output
    assert "already imported" in again.output
    assert "nothing written" in again.output
    assert snapshot(catalog) == first


def test_the_plain_csv_report_needs_the_time_it_was_taken(catalog: Path) -> None:
    before = snapshot(catalog)
    plain = ["import", "aws-credential-report", AWS / "credential-report.csv", "--catalog",
             catalog, "--system", "aws", "--mapping", AWS / "mapping.yaml"]  # fmt: skip
    result = run(*plain)
    assert result.exit_code == 2
    assert "does not say when it was taken: give --extracted-at" in result.output
    assert snapshot(catalog) == before
    result = run(*plain, "--extracted-at", "2026-09-20T08:15:02Z", "--scope", "service")
    assert result.exit_code == 0, result.output
    assert (catalog / "evidence/raw/aws/2026-09-20-aws-credential-report.csv").is_file()


def test_a_time_that_contradicts_the_export_is_refused(catalog: Path) -> None:
    result = import_aws(catalog, "--extracted-at", "2026-09-21T00:00:00Z")
    assert result.exit_code == 2
    assert "generated at 2026-09-20T08:15:02Z, not at --extracted-at" in result.output


def test_a_malformed_credential_report_is_refused_with_its_line(catalog: Path) -> None:
    before = snapshot(catalog)
    result = run(
        "import", "aws-credential-report", AWS / "malformed.csv", "--catalog", catalog,
        "--system", "aws", "--extracted-at", "2026-09-20T08:15:02Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{AWS / 'malformed.csv'}:5:1: mfa_active is 'yes'" in result.output
    assert "Traceback" not in result.output
    assert snapshot(catalog) == before


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (K8S / "bindings.json", "bindings.json:1:1: (document): Content (a string) is missing"),
        (
            EXAMPLE / "extracts/aws/2026-09-15.csv",
            "2026-09-15.csv:1:1: not an IAM credential report",
        ),
    ],
)
def test_a_file_of_another_format_is_refused(catalog: Path, file: Path, expected: str) -> None:
    before = snapshot(catalog)
    result = run(
        "import", "aws-credential-report", file, "--catalog", catalog, "--system", "aws",
        "--extracted-at", "2026-09-20T08:15:02Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert expected in result.output
    assert snapshot(catalog) == before


# --- check re-derives -------------------------------------------------------------------


def test_check_finds_an_extract_edited_after_the_import(catalog: Path) -> None:
    assert import_aws(catalog).exit_code == 0
    extract = catalog / "extracts/aws/2026-09-20-aws-credential-report.csv"
    record = load_catalog(catalog).systems["aws"].extracts[-1]
    text = extract.read_text().replace(
        "ext-kestrel-dba,v.petrov,third-party,console-password\n", ""
    )
    extract.write_text(text)
    import hashlib

    systems = catalog / "systems.yaml"
    new_sha = hashlib.sha256(text.encode()).hexdigest()
    systems.write_text(
        systems.read_text()
        .replace(str(record.sha256), new_sha)
        .replace("records: 11", "records: 10")
    )
    evaluation = evaluate(load_catalog(catalog))
    found = [f for f in evaluation.findings if f.rule == "EVD-2" and f.subject == record.file]
    assert len(found) == 1
    assert "is not what aws-credential-report/2 derives from its raw export" in found[0].message
    assert found[0].location.file.endswith("systems.yaml")


def test_check_finds_a_changed_or_missing_raw_export(catalog: Path) -> None:
    assert import_aws(catalog).exit_code == 0
    raw = catalog / "evidence/raw/aws/2026-09-20-aws-credential-report.json"
    raw.write_bytes(raw.read_bytes().replace(b"08:15:02", b"08:15:03"))
    messages = [f.message for f in evaluate(load_catalog(catalog)).findings if f.rule == "EVD-2"]
    assert any("raw export evidence/raw/aws/2026-09-20-aws-credential-report.json" in m
               and "has changed since the import" in m for m in messages)  # fmt: skip
    raw.unlink()
    messages = [f.message for f in evaluate(load_catalog(catalog)).findings if f.rule == "EVD-2"]
    assert any("2026-09-20-aws-credential-report.json" in m and "is missing" in m for m in messages)


def test_an_extract_of_another_importer_version_is_not_assessed_not_passed(catalog: Path) -> None:
    assert import_aws(catalog).exit_code == 0
    systems = catalog / "systems.yaml"
    systems.write_text(
        systems.read_text().replace("aws-credential-report/2", "aws-credential-report/9")
    )
    assert any(
        "imported with aws-credential-report/9" in n and "was not re-derived" in n
        for n in notes(catalog)
    )


# --- csv -------------------------------------------------------------------------------


def test_a_sap_query_export_with_a_column_mapping(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_csv(catalog)
    assert result.exit_code == 0, result.output
    assert "imported 33 row(s), 26 account(s)" in result.output
    assert "1 row(s) left out by only_rows" in result.output
    text = (catalog / "extracts/erp/2026-09-20-csv.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "account,person,account_type,entitlement"
    assert "ADM_SIVANOV,s.ivanov,privileged,Z_BASIS_ADMIN" in lines  # privileged_entitlements
    assert "FF_FIN_01,,break-glass,Z_FF_FINANCE" in lines  # account_types
    assert "RFC_FINDW,,service,Z_RFC_INTERFACE" in lines  # USTYP C
    assert "VPETROV,v.petrov@kestrel.example,employee,Z_FIN_DISPLAY" in lines  # no match: kept
    assert not any(line.startswith("HSINGH") for line in lines)  # locked: only_rows
    assert "\r" not in text
    assert_valid(catalog)
    mapping = catalog / "evidence/raw/erp/2026-09-20-csv.mapping.json"
    assert '"delimiter": ";"' in mapping.read_text()
    # the same users and roles as the example's ERP extract, but one: findings move with it
    assert findings(catalog) - baseline == {("ORP-1", "erp:v.petrov@kestrel.example")}
    assert baseline - findings(catalog) == set()
    assert (catalog / "evidence/raw/erp/2026-09-20-csv.csv").read_bytes() == (
        CSV / "sap-user-roles.csv"
    ).read_bytes()
    first = snapshot(catalog)
    assert import_csv(catalog).exit_code == 0
    assert snapshot(catalog) == first


def test_a_malformed_csv_is_refused_with_its_line(catalog: Path) -> None:
    before = snapshot(catalog)
    result = run(
        "import", "csv", CSV / "malformed.csv", "--catalog", catalog, "--system", "erp",
        "--mapping", CSV / "sap-user-roles.mapping.yaml", "--extracted-at", "2026-09-20",
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{CSV / 'malformed.csv'}:9:1: expected 9 fields, got 8" in result.output
    assert snapshot(catalog) == before


def test_the_csv_format_needs_a_mapping_that_fits_the_export(catalog: Path, tmp_path: Path) -> None:
    before = snapshot(catalog)
    result = run("import", "csv", CSV / "sap-user-roles.csv", "--catalog", catalog,
                 "--system", "erp", "--extracted-at", "2026-09-20")  # fmt: skip
    assert result.exit_code == 2
    assert "needs --mapping FILE" in result.output
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text((CSV / "sap-user-roles.mapping.yaml").read_text().replace("AGR_NAME", "ROLE"))
    result = import_csv(catalog, "--mapping", wrong)
    assert result.exit_code == 2
    assert "sap-user-roles.csv:3:1: column 'ROLE' (mapping columns.entitlement)" in result.output
    typo = tmp_path / "typo.yaml"
    typo.write_text("columns:\n  account: BNAME\n  acount_type: USTYP\n")
    result = import_csv(catalog, "--mapping", typo)
    assert result.exit_code == 2
    assert (
        f"{typo}:3:3: columns.acount_type: unknown key 'acount_type'; did you mean "
        "'account_type'? (and 1 more problem(s))" in result.output
    )
    assert snapshot(catalog) == before


def test_one_csv_export_over_several_systems_has_a_system_column(
    catalog: Path, tmp_path: Path
) -> None:
    export = tmp_path / "iga-report.csv"
    export.write_text(
        "System,Login,Owner,Kind,Role\n"
        "SAP,ADM_SIVANOV,s.ivanov,privileged,Z_BASIS_ADMIN\n"
        "Workday,ISU_PAYROLL,,service,ISSG_Payroll_Integration\n"
    )
    mapping = tmp_path / "iga.yaml"
    mapping.write_text(
        "columns:\n"
        "  system: {column: System, values: {SAP: erp, Workday: hris}}\n"
        "  account: Login\n  person: Owner\n  account_type: Kind\n  entitlement: Role\n"
    )
    args = ["import", "csv", export, "--catalog", catalog, "--system", "erp", "--system",
            "hris", "--mapping", mapping, "--extracted-at", "2026-09-22T10:00:00Z",
            "--scope", "privileged,service"]  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    text = (catalog / "extracts/erp/2026-09-22-csv.csv").read_text()
    assert text.splitlines() == [
        "system,account,person,account_type,entitlement",
        "erp,ADM_SIVANOV,s.ivanov,privileged,Z_BASIS_ADMIN",
        "hris,ISU_PAYROLL,,service,ISSG_Payroll_Integration",
    ]
    record = load_catalog(catalog).systems["erp"].extracts[-1]
    assert record.systems == ["erp", "hris"]
    assert_valid(catalog)
    assert not [f for f in evaluate(load_catalog(catalog)).findings if f.rule == "EVD-2"
                and f.subject == record.file]  # fmt: skip
    export.write_text(export.read_text() + "CRM,X,,service,Y\n")
    result = run(*args[:-4], "--extracted-at", "2026-09-23T10:00:00Z")
    assert result.exit_code == 2
    assert ":4:1: system 'CRM' is not one of --system erp, hris" in result.output


# --- k8s-rbac -----------------------------------------------------------------------------


K8S_EXTRACT = """\
account,person,account_type,entitlement
group:oidc:finance-analysts,,employee,finance-etl/Role/log-reader
group:oidc:platform-admins,,privileged,ClusterRole/cluster-admin
group:system:masters,,privileged,ClusterRole/cluster-admin
oidc:j.park@nwcomponents.example,j.park,privileged,ClusterRole/cluster-admin
oidc:t.brooks@nwcomponents.example,t.brooks,employee,finance-etl/Role/log-reader
oidc:v.petrov@kestrel.example,v.petrov,employee,finance-etl/Role/log-reader
system:kube-scheduler,,service,ClusterRole/system:kube-scheduler
system:serviceaccount:argocd:argocd-application-controller,,service,ClusterRole/cluster-admin
system:serviceaccount:finance-etl:findw-loader,,service,finance-etl/ClusterRole/edit
system:serviceaccount:kube-system:bootstrap-signer,,service,kube-public/Role/system:controller:bootstrap-signer
"""


def test_kubernetes_bindings_become_accounts_of_the_cluster(
    catalog: Path, baseline: set[tuple[str, str]]
) -> None:
    result = import_k8s(catalog)
    assert result.exit_code == 0, result.output
    assert (
        "1 binding(s) without subjects grant nothing: finance-etl/orphaned-deploy" in result.output
    )
    text = (catalog / "extracts/k8s-prod/2026-09-21-k8s-rbac.csv").read_text()
    assert text == K8S_EXTRACT
    systems = (catalog / "systems.yaml").read_text()
    assert systems.endswith(
        "    account_types: [employee, privileged, service]\n"
        "    extracts:\n"
        "      - file: extracts/k8s-prod/2026-09-21-k8s-rbac.csv\n"
        "        kind: accounts\n"
        "        source: Kubernetes RBAC bindings, kubectl get rolebindings,clusterrolebindings -A -o json\n"
        "        extracted_at: 2026-09-21T06:00:00Z\n"
        "        records: 10\n"
        f"        sha256: {load_catalog(catalog).systems['k8s-prod'].extracts[0].sha256}\n"
        "        derived_from:\n"
        "          importer: k8s-rbac/1\n"
        "          raw:\n"
        "            - file: evidence/raw/k8s-prod/2026-09-21-k8s-rbac.json\n"
        f"              sha256: {_sha(K8S / 'bindings.json')}\n"
        "          mapping:\n"
        "            file: evidence/raw/k8s-prod/2026-09-21-k8s-rbac.mapping.json\n"
        f"            sha256: {_sha(catalog / 'evidence/raw/k8s-prod/2026-09-21-k8s-rbac.mapping.json')}\n"
    )
    assert_valid(catalog)
    assert findings(catalog) - baseline == {("ORP-1", "k8s-prod:v.petrov")}
    first = snapshot(catalog)
    assert import_k8s(catalog).exit_code == 0
    assert snapshot(catalog) == first


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_malformed_binding_is_refused_with_its_line_and_path(catalog: Path) -> None:
    before = snapshot(catalog)
    result = run(
        "import", "k8s-rbac", K8S / "malformed.json", "--catalog", catalog, "--system",
        "k8s-prod", "--extracted-at", "2026-09-21T06:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert (
        f"{K8S / 'malformed.json'}:77:29: items[2].subjects[0].kind: subject kind 'Robot'"
        in result.output
    )
    assert snapshot(catalog) == before


def test_a_credential_report_is_not_a_kubernetes_export(catalog: Path) -> None:
    result = run(
        "import", "k8s-rbac", AWS / "credential-report.csv", "--catalog", catalog,
        "--system", "k8s-prod", "--extracted-at", "2026-09-21T06:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "credential-report.csv:1:1: not JSON" in result.output


# --- all or nothing ----------------------------------------------------------------------


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_an_interrupted_import_leaves_nothing_behind(
    catalog: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    before, dirs = snapshot(catalog), folders(catalog)
    real = catalogwrite.os.replace
    calls = []

    def interrupted(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(catalogwrite.os, "replace", interrupted)
    request = ImportRequest(
        format="aws-credential-report",
        files=(AWS / "get-credential-report.json",),
        catalog=catalog,
        systems=("aws",),
        mapping=AWS / "mapping.yaml",
    )
    with pytest.raises(KeyboardInterrupt):
        run_import(request)
    assert snapshot(catalog) == before
    assert folders(catalog) == dirs


def test_a_full_disk_is_one_line_and_leaves_nothing_behind(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(catalog)
    real = catalogwrite.os.replace

    def full(src: str | Path, dst: str | Path) -> None:
        if str(dst).endswith("systems.yaml"):
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(catalogwrite.os, "replace", full)
    result = import_aws(catalog)
    assert result.exit_code == 2
    assert "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert snapshot(catalog) == before


def test_an_import_never_writes_through_a_link_out_of_the_catalog(
    catalog: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (catalog / "evidence" / "raw").symlink_to(outside, target_is_directory=True)
    before = snapshot(catalog)
    result = import_aws(catalog)
    assert result.exit_code == 2
    assert "leads outside the catalog folder" in result.output
    assert list(outside.iterdir()) == []
    assert snapshot(catalog) == before


def test_pages_of_one_export_make_one_extract_and_people_follow_a_pattern(
    catalog: Path, tmp_path: Path
) -> None:
    import json

    whole = json.loads((K8S / "bindings.json").read_text())
    pages = []
    for number, items in enumerate((whole["items"][:5], whole["items"][5:]), start=1):
        page = tmp_path / f"page{number}.json"
        page.write_text(json.dumps({**whole, "items": items}, indent=4))
        pages.append(page)
    mapping = tmp_path / "k8s.yaml"
    mapping.write_text(
        "person_from_account: 'oidc:(.+)@nwcomponents\\.example'\n"
        "privileged_entitlements: [ClusterRole/cluster-admin]\n"
    )
    result = run(
        "import", "k8s-rbac", *pages, "--catalog", catalog, "--system", "k8s-prod",
        "--mapping", mapping, "--extracted-at", "2026-09-21T06:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 personal account(s) have no person: oidc:v.petrov@kestrel.example" in result.output
    raw = catalog / "evidence/raw/k8s-prod"
    assert sorted(p.name for p in raw.iterdir()) == [
        "2026-09-21-k8s-rbac.mapping.json",
        "2026-09-21-k8s-rbac.part1.json",
        "2026-09-21-k8s-rbac.part2.json",
    ]
    text = (catalog / "extracts/k8s-prod/2026-09-21-k8s-rbac.csv").read_text()
    assert text == K8S_EXTRACT.replace(
        "oidc:v.petrov@kestrel.example,v.petrov,", "oidc:v.petrov@kestrel.example,,"
    )
    record = load_catalog(catalog).systems["k8s-prod"].extracts[0]
    assert record.derived_from is not None
    assert len(record.derived_from.raw) == 2
    assert not [f for f in evaluate(load_catalog(catalog)).findings if f.rule == "EVD-2"
                and f.subject == record.file]  # fmt: skip
