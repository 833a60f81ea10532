"""The offline audit bundle: ``controlbook bundle`` writes it, ``controlbook verify --bundle``
checks it, and so do ``unzip``, ``sha256sum -c`` and ``openssl cms -verify`` without us.

One bundle of a copy of the example catalog is built per module with the development
signer (real WeasyPrint, real pyHanko, nothing mocked); tampered copies are re-zipped from
it. Zip structure follows PKWARE's APPNOTE (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT,
4.4.15: the high 16 bits of the external attributes are the Unix mode); the independent
commands are those of the OpenSSL cms manual (https://man.freebsd.org/cms(1)).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import main
from generator.publish.bundle import write_zip
from generator.publish.bundlesign import sign_manifest
from generator.signing.sign import load_dev_signer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 9, 30)
EVIDENCE = "catalog/evidence/2026-Q1/UAR-ERP-2026Q1-signoff.eml"


@dataclass(frozen=True)
class Built:
    base: Path
    zip: Path
    ca: Path
    env: dict[str, str]

    def members(self) -> dict[str, bytes]:
        with zipfile.ZipFile(self.zip) as zf:
            return {name: zf.read(name) for name in zf.namelist()}


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("bundle")
    shutil.copytree(ROOT / "controls", base / "catalog")
    env = {
        "CONTROLBOOK_DEV_SIGNER_DIR": str(base / "dev"),
        "CONTROLBOOK_CACHE_DIR": str(base / "cache"),
        "CONTROLBOOK_SIGNING_KEY": "",
        "CONTROLBOOK_TSA_URL": "",
    }
    out = base / "first.zip"
    result = run(["bundle", str(base / "catalog"), "--out", str(out), "-j", "2"], env)
    assert result.exit_code == 0, result.output
    assert "24 narratives" in result.output
    return Built(base, out, base / "dev" / "ca.pem", env)


def verify(built: Built, bundle: Path, *extra: str) -> Result:
    return run(["verify", "--bundle", str(bundle), *extra], built.env)


def trusted(built: Built, bundle: Path) -> Result:
    return verify(built, bundle, "--trust", str(built.ca), "--allow-development")


def rezip(built: Built, name: str, members: dict[str, bytes]) -> Path:
    """The bundle re-written with ``members`` (same layout rules as the original)."""
    target = built.base / name
    write_zip(target, dict(members), AS_OF)
    return target


# -- what a bundle holds ---------------------------------------------------------------------


def test_a_fresh_bundle_verifies_offline_against_its_ca(built: Built) -> None:
    result = trusted(built, built.zip)
    assert result.exit_code == 0, result.output
    listed = len(built.members()) - 2  # all but the manifest and its signature
    assert f"OK: {listed} file(s) checked, 24 narrative(s) verified" in result.output
    assert "trust: the CA given" in result.output


def test_the_bundle_holds_site_narratives_catalog_findings_samples_and_trust_anchor(
    built: Built,
) -> None:
    members = built.members()
    names = set(members)
    assert {"MANIFEST.json", "MANIFEST.json.p7s", "README.md", "SHA256SUMS"} <= names
    assert "site/index.html" in names
    assert len([n for n in names if n.startswith("narratives/")]) == 24
    assert {"findings/findings.json", "findings/findings.sarif", "findings/findings.csv"} <= names
    assert json.loads(members["findings/findings.sarif"])["version"] == "2.1.0"
    assert members["trust/ca.pem"] == built.ca.read_bytes()
    catalog = built.base / "catalog"
    on_disk = {p.relative_to(catalog).as_posix() for p in catalog.rglob("*") if p.is_file()}
    assert {n.removeprefix("catalog/") for n in names if n.startswith("catalog/")} == on_disk
    assert members[EVIDENCE] == (catalog / EVIDENCE.removeprefix("catalog/")).read_bytes()
    manifest = json.loads(members["MANIFEST.json"])
    listed = [f["path"] for f in manifest["files"]]
    assert listed == sorted(names - {"MANIFEST.json", "MANIFEST.json.p7s"})
    assert manifest["catalog_source"] == {
        "commit": None,
        "clean": False,
        "note": "the catalog is not a git repository",
    }
    sample = next(s for s in manifest["samples"] if s["control"] == "ITGC-UAR-ERP")
    assert sample["seed"] == "ITGC-UAR-ERP:2026-01-01:2026-12-31"
    assert f"# seed: {sample['seed']}" in members[sample["file"]].decode()
    assert "controlbook verify --bundle BUNDLE.zip" in members["README.md"].decode()


def test_zip_entries_are_sorted_dated_as_of_mode_0644_without_extra_fields(built: Built) -> None:
    with zipfile.ZipFile(built.zip) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(2026, 9, 30, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert {i.extra for i in infos} == {b""}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_the_same_inputs_give_the_same_bundle_bytes(built: Built) -> None:
    again = built.base / "elsewhere" / "second.zip"
    again.parent.mkdir()
    args = ["bundle", str(built.base / "catalog"), "--out", str(again), "-j", "2"]
    assert run(args, built.env).exit_code == 0
    assert again.read_bytes() == built.zip.read_bytes()


# -- tampering -------------------------------------------------------------------------------


def test_a_rezipped_unchanged_bundle_still_verifies(built: Built) -> None:
    result = trusted(built, rezip(built, "same.zip", built.members()))
    assert result.exit_code == 0, result.output


def test_a_changed_evidence_file_is_named_with_the_narrative_relying_on_it(built: Built) -> None:
    members = built.members()
    members[EVIDENCE] += b"\nP.S. approved after the fact\n"
    result = trusted(built, rezip(built, "evidence.zip", members))
    assert result.exit_code == 1
    assert f"{EVIDENCE}: content changed" in result.output
    assert f"narratives/ITGC-UAR-ERP.pdf: evidence file {EVIDENCE}: content changed" in (
        result.output
    )


def test_a_changed_pdf_is_named(built: Built) -> None:
    members = built.members()
    pdf = members["narratives/ITGC-LOG-01.pdf"]
    members["narratives/ITGC-LOG-01.pdf"] = pdf.replace(b"/Producer", b"/Producex", 1)
    result = trusted(built, rezip(built, "pdf.zip", members))
    assert result.exit_code == 1
    assert "narratives/ITGC-LOG-01.pdf: content changed" in result.output


def test_a_missing_file_is_named(built: Built) -> None:
    members = built.members()
    del members["samples/ITGC-UAR-ERP.csv"]
    result = trusted(built, rezip(built, "missing.zip", members))
    assert result.exit_code == 1
    assert "samples/ITGC-UAR-ERP.csv: missing from the bundle" in result.output


def test_an_added_file_is_named(built: Built) -> None:
    members = built.members()
    members["catalog/evidence/backdated.eml"] = b"Subject: approved\n"
    result = trusted(built, rezip(built, "extra.zip", members))
    assert result.exit_code == 1
    assert "catalog/evidence/backdated.eml: not listed in the manifest" in result.output


def test_a_changed_manifest_breaks_its_signature(built: Built) -> None:
    members = built.members()
    manifest = json.loads(members["MANIFEST.json"])
    manifest["as_of"] = "2026-12-31"
    members["MANIFEST.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    result = trusted(built, rezip(built, "manifest.zip", members))
    assert result.exit_code == 1
    assert "MANIFEST.json.p7s: MANIFEST.json was changed after signing" in result.output


def test_a_manifest_signed_by_another_key_is_not_trusted(built: Built) -> None:
    members = built.members()
    other = load_dev_signer(built.base / "other-dev")
    members["MANIFEST.json.p7s"] = sign_manifest(other, members["MANIFEST.json"], AS_OF)
    result = trusted(built, rezip(built, "resigned.zip", members))
    assert result.exit_code == 1
    assert "MANIFEST.json.p7s: signer not trusted" in result.output
    assert "signed by another certificate than the manifest" in result.output


# -- trust -----------------------------------------------------------------------------------


def test_without_a_trust_anchor_nothing_verifies(built: Built) -> None:
    result = verify(built, built.zip, "--allow-development")
    assert result.exit_code == 1
    assert "MANIFEST.json.p7s: signer not trusted: no trust anchor given" in result.output


def test_the_bundled_ca_is_trusted_only_on_request_and_says_what_it_proves(built: Built) -> None:
    result = verify(built, built.zip, "--trust-bundled-ca", "--allow-development")
    assert result.exit_code == 0, result.output
    assert "proves the files are as their signer listed them, not who the signer is" in (
        result.output
    )


def test_a_development_signature_fails_unless_allowed(built: Built) -> None:
    result = verify(built, built.zip, "--trust", str(built.ca))
    assert result.exit_code == 1
    assert "MANIFEST.json.p7s: development signature" in result.output


# -- without Controlbook ---------------------------------------------------------------------


def test_unzip_sha256sum_and_openssl_verify_the_bundle_independently(
    built: Built, tmp_path: Path
) -> None:
    for tool in ("unzip", "sha256sum", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    subprocess.run(["unzip", "-q", str(built.zip), "-d", str(tmp_path)], check=True)
    sums = subprocess.run(["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS"], cwd=tmp_path)
    assert sums.returncode == 0
    cms = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "MANIFEST.json.p7s",
        "-content", "MANIFEST.json", "-CAfile", "trust/ca.pem", "-purpose", "any",
        "-out", "/dev/null",
    ]  # fmt: skip
    assert subprocess.run(cms, cwd=tmp_path, capture_output=True).returncode == 0
    # near misses: one changed byte fails each route
    (tmp_path / EVIDENCE).write_bytes((tmp_path / EVIDENCE).read_bytes() + b" ")
    changed = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=tmp_path,
                             capture_output=True, text=True)  # fmt: skip
    assert changed.returncode == 1
    assert EVIDENCE in changed.stdout
    manifest = tmp_path / "MANIFEST.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"2026-09-30", b"2026-12-31", 1))
    assert subprocess.run(cms, cwd=tmp_path, capture_output=True).returncode != 0


# -- hostile input ---------------------------------------------------------------------------


def hostile(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return buffer.getvalue()


def symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = 0o120777 << 16  # S_IFLNK: Info-ZIP stores the target as the data
    return info, target.encode()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("../outside.txt", b"x"), ("MANIFEST.json", b"{}")], "'..' segment"),
        ([("/etc/cron.d/x", b"x"), ("MANIFEST.json", b"{}")], "an absolute path"),
        ([("catalog/a/../../x", b"x")], "'..' segment"),
        ([("catalog\\..\\x", b"x")], "backslash"),
        ([symlink("catalog/link", "/etc/passwd"), ("MANIFEST.json", b"{}")], "symbolic link"),
        ([("MANIFEST.json", b"{}"), ("MANIFEST.json", b"{}")], "appears twice"),
        ([("catalog/zeros.bin", bytes(20 << 20))], "zip bomb"),
        ([("README.md", b"hello")], "no MANIFEST.json"),
        ([("MANIFEST.json", b"{not json")], "MANIFEST.json is not a bundle manifest"),
        ([("MANIFEST.json", b'{"format": "x"}')], "not a bundle manifest at format"),
    ],
    ids=[
        "dotdot",
        "absolute",
        "nested-dotdot",
        "backslash",
        "symlink",
        "duplicate",
        "bomb",
        "no-manifest",
        "manifest-not-json",
        "manifest-wrong-shape",
    ],
)
def test_hostile_zips_are_refused_with_exit_2_and_nothing_extracted(
    built: Built, tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]], message: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    bundle = folder / "hostile.zip"
    bundle.write_bytes(hostile(entries))
    result = verify(built, bundle, "--trust", str(built.ca))
    assert result.exit_code == 2, result.output
    assert f"controlbook: error: {bundle}" in result.output
    assert message in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["hostile.zip", "in"]


def test_a_file_that_is_not_a_zip_is_refused_with_exit_2(built: Built, tmp_path: Path) -> None:
    fake = tmp_path / "bundle.zip"
    fake.write_bytes(b"%PDF-1.7 not a zip")
    result = verify(built, fake)
    assert result.exit_code == 2
    assert "not a readable zip file" in result.output


def test_bundle_refuses_to_overwrite_a_file_that_is_not_a_bundle(
    built: Built, tmp_path: Path
) -> None:
    precious = tmp_path / "thesis.zip"
    precious.write_bytes(hostile([("chapter1.txt", b"years of work")]))
    before = precious.read_bytes()
    result = run(["bundle", str(built.base / "catalog"), "--out", str(precious)], built.env)
    assert result.exit_code == 2
    assert "is not an audit bundle" in result.output
    assert precious.read_bytes() == before
