"""Sign PDF narratives with pyHanko: PAdES B-B (B-T with a timestamp authority), invisible,
as an incremental update so that the PDF/A file underneath stays byte for byte intact.

Where the key comes from, in order:

1. ``CONTROLBOOK_SIGNING_KEY`` (environment): a PKCS#12 file;
2. ``signing_key`` in the catalog settings: a PKCS#12 file;
3. otherwise a local development signer (:mod:`generator.signing.devsigner`), and everything
   that reports on the signature says it is a development signature.

The passphrase of a PKCS#12 file is read from ``CONTROLBOOK_SIGNING_PASSPHRASE`` only,
never from the command line or a file in the repository, and never appears in a message;
:func:`secrets_withheld` keeps it out of the environment of child processes (the PDF
render workers), which need no secret.

The timestamp authority comes from ``CONTROLBOOK_TSA_URL`` only. A ``timestamp_url`` in
the catalog settings is refused: whoever can edit the catalog could otherwise make every
build send requests to an address of their choosing.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.constants import ESIC_EXTENSION_1
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import ControlbookError
from ..model import Settings
from ..render.narratives import SignerInfo
from .devsigner import DEV_MARKER, default_folder, ensure_dev_signer

KEY_ENV = "CONTROLBOOK_SIGNING_KEY"
PASSPHRASE_ENV = "CONTROLBOOK_SIGNING_PASSPHRASE"
TSA_ENV = "CONTROLBOOK_TSA_URL"
FIELD_NAME = "Controlbook"
"""Name of the (invisible) signature field of every narrative."""

SECRET_ENV = (PASSPHRASE_ENV,)
"""Environment variables that child processes must never inherit."""

_ENVIRON_LOCK = threading.RLock()


class SigningError(ControlbookError):
    """The signing key cannot be loaded or a document cannot be signed."""


class _PdfA3Signer(signers.PdfSigner):
    """A PdfSigner that keeps the document at PDF 1.7 (PDF/A-3 is based on PDF 1.7).

    pyHanko declares ISO 32002 and raises the version to PDF 2.0 for ECDSA on a NIST
    curve; for a PAdES signature in a PDF 1.7 file the ESIC extension is the declaration
    (ETSI EN 319 142-1), and readers validate ECDSA there as well.
    """

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))
        pdf_out.register_extension(ESIC_EXTENSION_1)


class DocumentSigner:
    """A loaded key with its certificate chain; signs PDF bytes."""

    def __init__(
        self,
        signer: signers.SimpleSigner,
        info: SignerInfo,
        timestamper: TimeStamper | None = None,
    ) -> None:
        self._signer = signer
        self.info = info
        self._timestamper = timestamper

    @property
    def key(self) -> signers.SimpleSigner:
        """The key and certificate chain as pyHanko holds them (e.g. to sign a manifest)."""
        return self._signer

    def with_timestamper(self, timestamper: TimeStamper, label: str) -> DocumentSigner:
        """The same key, signing PAdES B-T with ``timestamper`` (``label`` names the TSA)."""
        info = replace(self.info, level="PAdES B-T", timestamp_url=label)
        return DocumentSigner(self._signer, info, timestamper)

    def sign(self, pdf: bytes, *, reason: str, location: str | None = None) -> bytes:
        """``pdf`` plus an incremental update holding an invisible PAdES signature."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
        )
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            pdf_signer = _PdfA3Signer(meta, self._signer, timestamper=self._timestamper)
            out = pdf_signer.sign_pdf(writer)
        except Exception as exc:  # pyHanko raises many types; report them in one way
            raise SigningError(f"signing failed: {type(exc).__name__}: {exc}") from None
        return bytes(out.getbuffer())


def _name(cert: x509.Certificate, which: str) -> str:
    return getattr(cert, which).rfc4514_string()


def _info(
    cert: x509.Certificate, *, source: str, timestamp_url: str | None, development: bool
) -> SignerInfo:
    return SignerInfo(
        subject=_name(cert, "subject"),
        issuer=_name(cert, "issuer"),
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        not_after=cert.not_valid_after_utc.date().isoformat(),
        development=development,
        level="PAdES B-T" if timestamp_url else "PAdES B-B",
        timestamp_url=timestamp_url,
        source=source,
    )


def _der(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _make(
    key: PrivateKeyTypes,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    info: SignerInfo,
    timestamper: TimeStamper | None,
) -> DocumentSigner:
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    simple = signers.SimpleSigner(
        signing_cert=_der(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([_der(c) for c in chain]),
    )
    return DocumentSigner(simple, info, timestamper)


def _check_validity(cert: x509.Certificate, where: str) -> None:
    now = datetime.now(cert.not_valid_after_utc.tzinfo)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SigningError(
            f"the signing certificate in {where} is not valid now (valid "
            f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})"
        )


def _check_usage(cert: x509.Certificate, where: str) -> None:
    """A certificate whose key usage excludes signatures would give unverifiable narratives."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SigningError(
            f"the certificate in {where} may not sign documents (key usage has neither "
            "digitalSignature nor nonRepudiation)"
        )


def load_pkcs12(
    path: Path, passphrase: str | None, *, timestamp_url: str | None = None
) -> DocumentSigner:
    """A signer from a PKCS#12 file; errors name the file and never the passphrase."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror}") from None
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError):
        hint = (
            "wrong passphrase in " + PASSPHRASE_ENV
            if passphrase
            else f"it needs a passphrase: set {PASSPHRASE_ENV}"
        )
        raise SigningError(
            f"cannot open the signing key {path}: not a PKCS#12 file, or {hint}"
        ) from None
    if key is None or cert is None:
        raise SigningError(f"the signing key {path} holds no private key and certificate")
    _check_validity(cert, str(path))
    _check_usage(cert, str(path))
    development = any(
        a.value == DEV_MARKER
        for a in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    )
    info = _info(
        cert,
        source=f"the PKCS#12 key {path.name}",
        timestamp_url=timestamp_url,
        development=development,
    )
    return _make(key, cert, list(extra), info, _timestamper(timestamp_url))


def load_dev_signer(
    folder: Path | None = None,
    *,
    timestamp_url: str | None = None,
    forbidden: tuple[Path, ...] = (),
) -> DocumentSigner:
    """The local development signer (created on first use, reused afterwards)."""
    files = ensure_dev_signer(folder, forbidden=forbidden)
    try:
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningError(
            f"the development signer in {files.folder} is unreadable ({exc}); delete the "
            "folder to issue a new one"
        ) from None
    info = _info(
        cert,
        source=f"the development signer in {files.folder}",
        timestamp_url=timestamp_url,
        development=True,
    )
    return _make(key, cert, [ca], info, _timestamper(timestamp_url))


def _timestamper(url: str | None) -> TimeStamper | None:
    if url and not url.startswith(("https://", "http://")):
        raise SigningError(f"the timestamp authority URL {url!r} is not an http(s) URL")
    return HTTPTimeStamper(url) if url else None


@contextmanager
def secrets_withheld() -> Iterator[None]:
    """Remove :data:`SECRET_ENV` from ``os.environ`` while the block runs, and put them back.

    A process started meanwhile (``spawn``, ``subprocess``) gets a copy of the environment
    without them: not even ``/proc/<pid>/environ`` of the child shows them, which an
    initializer deleting them in the child could not achieve. Keep the block short (the
    creation of a process pool and its submissions): other threads of this process do not
    see the variables while it runs.
    """
    with _ENVIRON_LOCK:
        saved = {name: os.environ.pop(name) for name in SECRET_ENV if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


def _refuse_settings_tsa(settings: Settings) -> None:
    if settings.timestamp_url:
        where = settings.loc("timestamp_url")
        raise SigningError(
            f"{where.file}:{where.line}: timestamp_url is not read from the catalog (anyone "
            "who can edit it could make every build send requests to any address): remove "
            f"it, and set {TSA_ENV} in the environment of the build instead"
        )


def load_signer(
    settings: Settings,
    catalog_root: Path,
    *,
    env: Mapping[str, str] | None = None,
    dev_folder: Path | None = None,
    forbidden: tuple[Path, ...] = (),
) -> DocumentSigner:
    """The signer a build uses: the configured PKCS#12 key, else the development signer.

    ``catalog_root`` resolves a relative ``signing_key`` and is never allowed to hold the
    key; ``forbidden`` adds more such folders (the site output). The timestamp authority is
    ``CONTROLBOOK_TSA_URL`` in ``env``; ``timestamp_url`` in the settings is refused.
    """
    env = os.environ if env is None else env
    _refuse_settings_tsa(settings)
    tsa = env.get(TSA_ENV) or None
    configured = env.get(KEY_ENV) or settings.signing_key
    never_inside = (catalog_root, *forbidden)
    if not configured:
        folder = dev_folder or default_folder(dict(env))
        return load_dev_signer(folder, timestamp_url=tsa, forbidden=never_inside)
    path = Path(configured).expanduser()
    if not path.is_absolute():
        path = catalog_root / path
    resolved = path.resolve()
    for root in never_inside:
        if resolved.is_relative_to(root.resolve()):
            raise SigningError(
                f"the signing key {path} is inside {root}: keep private keys out of the "
                "repository and the site (e.g. in a secrets store mounted at build time)"
            )
    return load_pkcs12(resolved, env.get(PASSPHRASE_ENV), timestamp_url=tsa)
