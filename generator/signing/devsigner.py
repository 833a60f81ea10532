"""A local development CA and signing certificate, created once per user, never in the repository.

Without a configured signing key, narratives are still signed (so that signing and
verification are exercised on every build), by a certificate that says in its own
subject that it is not for production. The folder holds:

* ``ca.pem``: the development root (ECDSA P-256, ``CA:TRUE``), to pass to ``verify --trust``
  (with ``--allow-development``: a development signature is refused otherwise);
* ``signer.pem``: the leaf (documentSigning and emailProtection extended key usages);
* ``signer.key``: the leaf's private key (PKCS#8 PEM, mode 0600, unencrypted: it is a
  development key that proves nothing about who signed).
"""

from __future__ import annotations

import fcntl
import getpass
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import ControlbookError

DIR_ENV = "CONTROLBOOK_DEV_SIGNER_DIR"
"""Environment variable naming the folder of the development signer (tests use a temp dir)."""

DEV_MARKER = "NOT FOR PRODUCTION"
"""Organisational unit of every development certificate: how verification recognises them."""

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336)."""

CA_DAYS = 3650
LEAF_DAYS = 825


class DevSignerError(ControlbookError):
    """The development signer folder cannot be created or read."""


@dataclass(frozen=True)
class DevSignerFiles:
    """Where the development CA and signer live."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.folder / "signer.pem"

    @property
    def key(self) -> Path:
        return self.folder / "signer.key"

    def complete(self) -> bool:
        return self.ca.is_file() and self.cert.is_file() and self.key.is_file()


def default_folder(env: dict[str, str] | None = None) -> Path:
    """``$CONTROLBOOK_DEV_SIGNER_DIR``, else ``$XDG_CONFIG_HOME/controlbook/dev-signer``,
    else ``~/.config/controlbook/dev-signer``."""
    env = dict(os.environ) if env is None else env
    if env.get(DIR_ENV):
        return Path(env[DIR_ENV]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "controlbook" / "dev-signer"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Controlbook development signature"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_MARKER),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(now: datetime) -> tuple[bytes, bytes, bytes]:
    """A fresh (CA cert, leaf cert, leaf key) triple, PEM encoded."""
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"Controlbook development CA ({who})")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Controlbook development signer ({who})"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem


def _write(path: Path, data: bytes, mode: int) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)


def _expired(cert_file: Path, now: datetime) -> bool:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return cert.not_valid_after_utc <= now + timedelta(days=1)


def ensure_dev_signer(
    folder: Path | None = None, *, forbidden: tuple[Path, ...] = ()
) -> DevSignerFiles:
    """The development signer in ``folder`` (default: :func:`default_folder`), created on first
    use and re-issued when its certificate has expired; reused otherwise.

    ``forbidden`` lists folders the signer must not live in (the catalog, the site output):
    a private key there could end up in git or on a web server.
    """
    folder = (folder or default_folder()).expanduser().resolve()
    for root in forbidden:
        if folder.is_relative_to(root.resolve()):
            raise DevSignerError(
                f"the development signer folder {folder} is inside {root}; set "
                f"{DIR_ENV} to a folder outside the repository and the site"
            )
    files = DevSignerFiles(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two builds at once create one signer, not two
            now = datetime.now(UTC)
            if files.complete() and not _expired(files.cert, now):
                return files
            ca, cert, key = _issue(now)
            _write(files.key, key, 0o600)
            _write(files.cert, cert, 0o644)
            _write(files.ca, ca, 0o644)
            (folder / "README.txt").write_text(
                "Controlbook development signer: NOT FOR PRODUCTION.\n"
                "Created because no signing key was configured (settings signing_key or\n"
                "CONTROLBOOK_SIGNING_KEY). Delete this folder to issue a new one.\n"
                "Verify development PDFs with:\n"
                "  controlbook verify --trust ca.pem --allow-development PDF...\n",
                encoding="utf-8",
            )
            return files
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DevSignerError(
            f"cannot prepare the development signer in {folder}: {reason}"
        ) from None
