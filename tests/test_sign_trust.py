"""What a signature is worth (security review, issue 15): verification needs a trust anchor,
a development signature is refused unless asked for, the catalog cannot choose where a
build sends timestamp requests, and the render workers never hold the signing passphrase.

Everything is real: an attacker's certificate made here with ``cryptography``, a narrative
altered with pypdf and re-signed with pyHanko, a local HTTP server standing in for a
timestamp authority, and the environment of the render pool's processes read from /proc.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML

from generator.cli import main
from generator.evaluation.evaluate import evaluate
from generator.publish.narratives import render_narratives
from generator.signing.devsigner import DOCUMENT_SIGNING
from generator.signing.sign import KEY_ENV, PASSPHRASE_ENV, TSA_ENV, load_pkcs12, load_signer
from generator.signing.verify import verify_pdfs
from generator.views import CatalogViews
from tests.test_sign import (  # noqa: F401 - fixtures
    Pki,
    Unsigned,
    dev_signed,
    pki,
    production_key,
    unsigned,
    workspace,
)

pytestmark = pytest.mark.slow

FORGED = "APPROVED – NO FINDINGS"
PASSPHRASE = "correct horse battery"


def verify(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", *map(str, args)])
    return result.exit_code, result.output


def _attacker_key(folder: Path) -> tuple[Path, str]:
    """A self-signed certificate with the production signer's name, as a PKCS#12 file;
    and its SHA-256 fingerprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Northwind SOX narratives")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = folder / "attacker.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"attacker", key, cert, None, serialization.BestAvailableEncryption(b"x")
        )
    )
    return path, cert.fingerprint(hashes.SHA256()).hex()


def _forge(original: bytes) -> bytes:
    """``original`` with "APPROVED – NO FINDINGS" stamped over page 1 (attachments kept)."""
    stamp = HTML(
        string=f'<p style="font: bold 28pt sans-serif; color: green">{FORGED}</p>'
    ).write_pdf()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(stamp)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def forged(workspace: Path, unsigned: Unsigned) -> tuple[Path, str]:  # noqa: F811
    """The narrative, altered and re-signed with the attacker's key; and its fingerprint."""
    key, fingerprint = _attacker_key(workspace)
    signer = load_pkcs12(key, "x")
    target = workspace / "forged.pdf"
    target.write_bytes(signer.sign(_forge(unsigned.data), reason="Control narrative"))
    assert FORGED in PdfReader(target).pages[0].extract_text()
    return target, fingerprint


# -- trust ---------------------------------------------------------------------------------


def test_a_forged_narrative_does_not_verify_without_a_trust_anchor(
    forged: tuple[Path, str],
) -> None:
    path, fingerprint = forged
    code, out = verify(path)
    assert code == 1, out
    assert f"{path}: FAILED" in out
    assert "signer not trusted: no trust anchor given (--trust CA.pem)" in out
    assert "signer: Northwind SOX narratives (Common Name: Northwind SOX narratives)" in out
    assert f"certificate SHA-256: {fingerprint}" in out
    assert "0 of 1 narrative(s) verified" in out


def test_a_forged_narrative_does_not_verify_against_the_real_ca(
    forged: tuple[Path, str],
    pki: Pki,  # noqa: F811
) -> None:
    path, fingerprint = forged
    code, out = verify(path, "--trust", pki.folder / "ca.pem")
    assert code == 1, out
    assert "signer not trusted: the certificate does not chain to the trusted CA given" in out
    assert f"certificate SHA-256: {fingerprint}" in out


def test_the_real_narrative_verifies_against_its_ca_and_names_its_certificate(
    production_key: Path,  # noqa: F811
    unsigned: Unsigned,  # noqa: F811
    pki: Pki,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {KEY_ENV: str(production_key), PASSPHRASE_ENV: PASSPHRASE}
    signer = load_signer(unsigned.catalog.settings, unsigned.catalog.root, env=env)
    target = tmp_path / "signed.pdf"
    target.write_bytes(signer.sign(unsigned.data, reason="test"))
    code, out = verify(target, "--trust", pki.folder / "ca.pem")
    assert code == 0, out
    assert f"{target}: OK" in out
    assert f"certificate SHA-256: {signer.info.fingerprint}" in out
    assert "trusted: yes" in out


def test_a_development_signature_fails_unless_allowed(
    dev_signed: Path,  # noqa: F811
    workspace: Path,  # noqa: F811
) -> None:
    ca = workspace / "dev" / "ca.pem"
    code, out = verify(dev_signed, "--trust", ca)
    assert code == 1, out
    assert "development signature, not for production: it proves nothing" in out
    assert "--allow-development accepts it" in out
    code, out = verify(dev_signed, "--trust", ca, "--allow-development")
    assert code == 0, out
    assert "development signature: not for production" in out  # still said


def test_a_broken_narrative_still_names_its_signer(
    dev_signed: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    extended = tmp_path / "extended.pdf"
    extended.write_bytes(dev_signed.read_bytes() + b"\n% appended after signing\n")
    [result] = verify_pdfs([extended])
    assert not result.ok
    assert result.subject.startswith("Common Name: Controlbook development signer")
    assert len(result.fingerprint) == 64
    assert f"  certificate SHA-256: {result.fingerprint}" in result.lines()


# -- the timestamp authority is not the catalog's to choose ---------------------------------


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    """A local HTTP server that records every request it gets; its URL."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        thread.join()


def test_a_timestamp_url_in_the_catalog_is_refused_and_never_contacted(
    workspace: Path,  # noqa: F811
    production_key: Path,  # noqa: F811
    listener: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(workspace / "catalog", catalog)
    settings = catalog / "catalog.yaml"
    settings.write_text(settings.read_text() + f"timestamp_url: {listener}\n")
    line = settings.read_text().count("\n")
    monkeypatch.setenv(KEY_ENV, str(production_key))
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.delenv(TSA_ENV, raising=False)
    result = CliRunner().invoke(
        main, ["pdf", "ITGC-LOG-01", "--catalog", str(catalog), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert f"catalog.yaml:{line}: timestamp_url is not read from the catalog" in result.stderr
    assert f"set {TSA_ENV} in the environment of the build instead" in result.stderr
    assert _Recorder.requests == []


# -- the render workers never hold the passphrase ------------------------------------------


def _children_environ() -> dict[int, bytes]:
    """The environment each child process of this one started with (/proc/<pid>/environ)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid():
                found[int(stat.parent.name)] = (stat.parent / "environ").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_render_workers_do_not_inherit_the_signing_passphrase(
    unsigned: Unsigned,  # noqa: F811
    production_key: Path,  # noqa: F811
    pki: Pki,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, str(production_key))
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    catalog = unsigned.catalog
    signer = load_signer(catalog.settings, catalog.root)  # from os.environ, as a build does
    # children this process already had (e.g. multiprocessing's resource tracker, started
    # by an earlier test in the same worker) were not started by this render
    before = set(_children_environ())
    seen: dict[int, bytes] = {}

    def look(_: str) -> None:  # while the pool is alive
        seen.update({pid: env for pid, env in _children_environ().items() if pid not in before})

    batch = render_narratives(
        CatalogViews(catalog, evaluate(catalog)),
        tmp_path / "out",
        signer=signer,
        controls=["ITGC-LOG-01", "ITGC-ACC-01"],
        jobs=2,
        progress=look,
    )
    assert len(seen) >= 2  # the two workers (and a resource tracker started for them)
    for pid, environ in seen.items():
        assert PASSPHRASE.encode() not in environ, pid
        assert PASSPHRASE_ENV.encode() not in environ, pid
        assert KEY_ENV.encode() in environ  # the rest of the environment is inherited
    assert os.environ[PASSPHRASE_ENV] == PASSPHRASE  # put back for this process
    results = verify_pdfs(batch.pdfs.values(), trust=pki.folder / "ca.pem")
    assert [r.ok for r in results] == [True, True], [r.lines() for r in results]
