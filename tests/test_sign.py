"""Signing and verifying narratives: pyHanko signs, pyHanko *and* poppler's pdfsig verify.

Keys are made here with ``cryptography`` (a development signer in a temp folder, a
"production" PKCS#12 with a passphrase, a timestamp authority); nothing is mocked.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper
from pypdf import PdfReader

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.model import Catalog
from generator.render.narrative import build_narratives
from generator.render.narratives import attachments_of, pdf_environment, render_html
from generator.render.pdf import PdfJob, document_date, render_pdf, template_dirs
from generator.signing.devsigner import DIR_ENV, DOCUMENT_SIGNING, DevSignerError
from generator.signing.sign import KEY_ENV, PASSPHRASE_ENV, TSA_ENV, SigningError, load_signer
from generator.signing.verify import verify_pdfs
from generator.views import CatalogViews

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "controls"
CONTROL = "ITGC-LOG-01"


@dataclass(frozen=True)
class Unsigned:
    """One rendered, unsigned narrative and the catalog it came from."""

    catalog: Catalog
    data: bytes


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("signing")
    shutil.copytree(EXAMPLE, base / "catalog")
    return base


@pytest.fixture(scope="module")
def unsigned(workspace: Path) -> Unsigned:
    catalog = load_catalog(workspace / "catalog", display_root="controls")
    views = CatalogViews(catalog, evaluate(catalog))
    narrative = build_narratives(views, [CONTROL])[0]
    signer = load_signer(catalog.settings, catalog.root, env={}, dev_folder=workspace / "dev")
    created = document_date(views.as_of)
    dirs = template_dirs()
    job = PdfJob(
        CONTROL,
        render_html(narrative, signer.info, pdf_environment(), created),
        dirs[0].as_uri() + "/",
        created,
        attachments_of(narrative),
        (*map(str, dirs), str(catalog.root)),
    )
    return Unsigned(catalog, render_pdf(job).data)


@pytest.fixture(scope="module")
def dev_signed(workspace: Path, unsigned: Unsigned) -> Path:
    signer = load_signer(
        unsigned.catalog.settings, unsigned.catalog.root, env={}, dev_folder=workspace / "dev"
    )
    target = workspace / f"{CONTROL}.pdf"
    target.write_bytes(signer.sign(unsigned.data, reason="test"))
    return target


def pdfsig(path: Path) -> str:
    """poppler's verdict; pdfsig exits 0 even for a broken signature, so read its output."""
    if shutil.which("pdfsig") is None:
        pytest.skip("poppler-utils (pdfsig) is not installed: scripts/bootstrap.sh --test")
    run = subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True)
    return run.stdout + run.stderr


# -- development signer ---------------------------------------------------------------------


def test_dev_signer_is_created_outside_the_repo_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsigned: Unsigned
) -> None:
    folder = tmp_path / "config" / "dev-signer"
    monkeypatch.setenv(DIR_ENV, str(folder))
    monkeypatch.delenv(KEY_ENV, raising=False)
    settings, root = unsigned.catalog.settings, unsigned.catalog.root
    first = load_signer(settings, root, forbidden=(ROOT,))
    assert first.info.development
    assert "development signature, not for production" in first.info.notice.lower()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "README.txt",
        "ca.pem",
        "signer.key",
        "signer.pem",
    ]
    assert stat.S_IMODE((folder / "signer.key").stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf = x509.load_pem_x509_certificate((folder / "signer.pem").read_bytes())
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION}
    public = leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    second = load_signer(settings, root, forbidden=(ROOT,))
    assert second.info.fingerprint == first.info.fingerprint
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_dev_signer_refuses_a_folder_inside_the_catalog(
    monkeypatch: pytest.MonkeyPatch, unsigned: Unsigned
) -> None:
    inside = unsigned.catalog.root / ".dev-signer"
    monkeypatch.setenv(DIR_ENV, str(inside))
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(DevSignerError, match="outside the repository"):
        load_signer(unsigned.catalog.settings, unsigned.catalog.root)
    assert not inside.exists()


def test_dev_signed_pdf_says_so(dev_signed: Path) -> None:
    cover = " ".join(PdfReader(dev_signed).pages[0].extract_text().split())
    assert "DEVELOPMENT SIGNATURE, NOT FOR PRODUCTION" in cover
    assert "development signature" in cover.lower()
    [result] = verify_pdfs([dev_signed])
    assert result.development
    assert "development signature: not for production" in [x.strip() for x in result.lines()]


# -- validity, tampering, metadata ------------------------------------------------------------


def test_signature_validates_with_pyhanko_and_pdfsig(dev_signed: Path, workspace: Path) -> None:
    [result] = verify_pdfs([dev_signed], trust=workspace / "dev" / "ca.pem", allow_development=True)
    assert result.ok, result.lines()
    assert (result.signed, result.intact, result.valid, result.whole_file) == (
        True,
        True,
        True,
        True,
    )
    assert result.trusted is True
    assert result.signer.startswith("Controlbook development signer")
    assert result.control == CONTROL
    assert result.signing_time is not None
    assert abs(result.signing_time - datetime.now(UTC)) < timedelta(minutes=10)
    out = pdfsig(dev_signed)
    assert "Signature is Valid." in out
    assert "Total document signed" in out


def _byte_range(data: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", data)
    assert match is not None
    a, b, c, d = (int(x) for x in match.groups())
    return a, b, c, d


@pytest.mark.parametrize("where", ["header", "middle", "signature reason"])
def test_one_changed_byte_breaks_the_signature_everywhere(
    dev_signed: Path, tmp_path: Path, where: str
) -> None:
    data = bytearray(dev_signed.read_bytes())
    start, length, second, second_length = _byte_range(bytes(data))
    reason = data.find(b"/Reason (test)") + len(b"/Reason (t")
    offset = {"header": 10, "middle": length // 2, "signature reason": reason}[where]
    assert start < offset < length or second <= offset < second + second_length  # signed bytes
    data[offset] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    out = pdfsig(tampered)
    assert "Signature is Valid." not in out
    assert "Digest Mismatch." in out or "Signature is Invalid." in out
    [result] = verify_pdfs([tampered])
    assert not result.ok
    assert not (result.intact and result.valid)


def test_appended_update_is_reported(dev_signed: Path, tmp_path: Path) -> None:
    data = dev_signed.read_bytes()
    extended = tmp_path / "extended.pdf"
    extended.write_bytes(data + b"\n% appended after signing\n")
    [result] = verify_pdfs([extended])
    assert not result.ok
    assert "the file was changed or extended after signing" in result.problems


def test_signing_keeps_pdf_a_metadata_consistent(dev_signed: Path, unsigned: Unsigned) -> None:
    data = dev_signed.read_bytes()
    assert data.startswith(unsigned.data)  # incremental update: the PDF/A file is untouched
    reader = PdfReader(dev_signed)
    assert reader.pdf_header == "%PDF-1.7"
    assert reader.trailer["/Root"].get("/Version") in (None, "/1.7")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    producer = re.search(r'pdf:Producer="([^"]+)"', xmp)
    assert producer is not None
    info = reader.metadata
    assert info is not None
    assert info["/Producer"] == producer.group(1)
    assert "/ModDate" not in info
    assert 'xmp:CreateDate="2026-09-30T00:00:00Z"' in xmp
    assert info["/CreationDate"].startswith("D:20260930000000")
    assert info["/Title"].startswith(CONTROL)


# -- trust and evidence -----------------------------------------------------------------------


def test_trust_is_checked_against_the_given_ca(
    dev_signed: Path, workspace: Path, tmp_path: Path, unsigned: Unsigned
) -> None:
    [trusted] = verify_pdfs(
        [dev_signed], trust=workspace / "dev" / "ca.pem", allow_development=True
    )
    assert trusted.ok
    assert trusted.trusted is True
    mine = load_signer(
        unsigned.catalog.settings, unsigned.catalog.root, env={}, dev_folder=workspace / "dev"
    )
    other = load_signer(
        unsigned.catalog.settings, unsigned.catalog.root, env={}, dev_folder=tmp_path / "other"
    )
    assert other.info.fingerprint != mine.info.fingerprint
    [untrusted] = verify_pdfs(
        [dev_signed], trust=tmp_path / "other" / "ca.pem", allow_development=True
    )
    assert untrusted.trusted is False
    assert not untrusted.ok
    assert "signer not trusted: the certificate does not chain to the trusted CA given" in (
        untrusted.problems
    )


def test_changed_catalog_files_are_reported(
    dev_signed: Path, workspace: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(workspace / "catalog", catalog)
    trust = workspace / "dev" / "ca.pem"
    [same] = verify_pdfs([dev_signed], catalog=catalog, trust=trust, allow_development=True)
    assert same.ok, same.lines()
    assert same.files_checked >= 5
    assert same.changes == ()
    people = catalog / "people.yaml"
    people.write_text(people.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (catalog / "controls" / f"{CONTROL}.yaml").unlink()
    [changed] = verify_pdfs([dev_signed], catalog=catalog, trust=trust, allow_development=True)
    assert not changed.ok
    assert {(c.path, c.what) for c in changed.changes} == {
        ("people.yaml", "content changed since signing"),
        (f"controls/{CONTROL}.yaml", "missing now"),
    }
    assert "2 catalog file(s) changed since signing: the narrative is out of date" in (
        changed.problems
    )


def test_unsigned_or_broken_files_fail(unsigned: Unsigned, tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(unsigned.data)
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf")
    results = verify_pdfs([plain, junk])
    assert [r.ok for r in results] == [False, False]
    assert results[0].problems == ("the PDF is not signed",)
    assert results[1].problems[0].startswith("not a readable PDF")


# -- a configured PKCS#12 key -----------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    folder: Path

    def issue(
        self,
        name: str,
        usage: list[x509.ObjectIdentifier],
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None,
    ) -> tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x509.Certificate]:
        key = key or ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
            )
            .add_extension(x509.ExtendedKeyUsage(usage), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        return key, cert


@pytest.fixture(scope="module")
def pki(workspace: Path) -> Pki:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Northwind Signing CA")])
    now = datetime.now(UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = workspace / "secrets"
    folder.mkdir()
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return Pki(ca, key, folder)


@pytest.fixture(scope="module")
def production_key(pki: Pki) -> Path:
    key, cert = pki.issue("Northwind SOX narratives", [DOCUMENT_SIGNING])
    data = pkcs12.serialize_key_and_certificates(
        b"narratives",
        key,
        cert,
        [pki.ca],
        serialization.BestAvailableEncryption(b"correct horse battery"),
    )
    path = pki.folder / "signer.p12"
    path.write_bytes(data)
    return path


def test_configured_pkcs12_signs_a_production_narrative(
    production_key: Path, unsigned: Unsigned, pki: Pki, tmp_path: Path
) -> None:
    env = {KEY_ENV: str(production_key), PASSPHRASE_ENV: "correct horse battery"}
    signer = load_signer(unsigned.catalog.settings, unsigned.catalog.root, env=env)
    assert not signer.info.development
    assert signer.info.level == "PAdES B-B"
    target = tmp_path / "signed.pdf"
    target.write_bytes(signer.sign(unsigned.data, reason="test"))
    [result] = verify_pdfs([target], trust=pki.folder / "ca.pem")
    assert result.ok, result.lines()
    assert result.signer == "Northwind SOX narratives"
    assert not result.development
    assert "Signature is Valid." in pdfsig(target)


@pytest.mark.parametrize(
    ("passphrase", "expected"),
    [
        ("wrong passphrase 8713", "wrong passphrase in CONTROLBOOK_SIGNING_PASSPHRASE"),
        (None, "it needs a passphrase: set CONTROLBOOK_SIGNING_PASSPHRASE"),
    ],
)
def test_wrong_passphrase_is_a_clear_error(
    production_key: Path, unsigned: Unsigned, passphrase: str | None, expected: str
) -> None:
    env = {KEY_ENV: str(production_key)}
    if passphrase is not None:
        env[PASSPHRASE_ENV] = passphrase
    with pytest.raises(SigningError) as caught:
        load_signer(unsigned.catalog.settings, unsigned.catalog.root, env=env)
    message = str(caught.value)
    assert message == (
        f"cannot open the signing key {production_key}: not a PKCS#12 file, or {expected}"
    )
    assert "Traceback" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_settings_key_inside_the_catalog_is_refused(
    unsigned: Unsigned, production_key: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(production_key, catalog / "signer.p12")
    settings = unsigned.catalog.settings.model_copy(update={"signing_key": "signer.p12"})
    with pytest.raises(SigningError, match="keep private keys out of the repository"):
        load_signer(settings, catalog, env={})


def test_timestamp_authority_gives_pades_b_t(
    production_key: Path, unsigned: Unsigned, pki: Pki, tmp_path: Path
) -> None:
    env = {KEY_ENV: str(production_key), PASSPHRASE_ENV: "correct horse battery"}
    signer = load_signer(unsigned.catalog.settings, unsigned.catalog.root, env=env)
    tsa_key, tsa_cert = pki.issue(
        "Northwind TSA", [ExtendedKeyUsageOID.TIME_STAMPING], rsa.generate_private_key(65537, 2048)
    )  # pyHanko's in-process TSA signs with RSA only
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    stamped = signer.with_timestamper(stamper, "test TSA")
    assert stamped.info.level == "PAdES B-T"
    target = tmp_path / "stamped.pdf"
    target.write_bytes(stamped.sign(unsigned.data, reason="test"))
    [result] = verify_pdfs([target], trust=pki.folder / "ca.pem")
    assert result.ok, result.lines()
    assert result.timestamp is not None
    assert "timestamp authority" in "\n".join(result.lines())
    assert "Signature is Valid." in pdfsig(target)


def test_timestamp_url_must_be_http(production_key: Path, unsigned: Unsigned) -> None:
    env = {
        KEY_ENV: str(production_key),
        PASSPHRASE_ENV: "correct horse battery",
        TSA_ENV: "file:///tmp/tsa",
    }
    with pytest.raises(SigningError, match="is not an http"):
        load_signer(unsigned.catalog.settings, unsigned.catalog.root, env=env)


def test_passphrase_never_comes_from_the_settings() -> None:
    from generator.model import Settings

    fields = set(Settings.model_fields)
    assert "signing_key" in fields
    assert not any("passphrase" in f or "password" in f for f in fields)
