"""The audit bundle's manifest signature: a detached CMS (PKCS#7) ``SignedData`` over the
bytes of ``MANIFEST.json``, made by pyHanko with the key and certificate that sign the
narratives, and checked by pyHanko offline.

The signature is deterministic, so that the same inputs give the same bundle bytes:

* the ``signingTime`` attribute is the as-of date (midnight UTC), not the clock;
* ECDSA uses deterministic nonces (RFC 6979, ``cryptography``'s ``deterministic_signing``);
  RSA PKCS#1 v1.5 and EdDSA are deterministic by nature. RSA-PSS is not (a random salt):
  a PSS key gives a valid signature whose bytes differ from build to build.

``openssl cms -verify -binary -inform DER -in MANIFEST.json.p7s -content MANIFEST.json
-CAfile trust/ca.pem -purpose any`` verifies the same file without Controlbook.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from ..errors import InputError
from ..signing.devsigner import DEV_MARKER
from ..signing.sign import DocumentSigner, SigningError
from ..signing.verify import quiet_loggers


class _DeterministicSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with RFC 6979 nonces for ECDSA (the rest is unchanged)."""

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "ecdsa":
            return super().sign_raw(data, digest_algorithm)
        key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        assert isinstance(key, EllipticCurvePrivateKey)
        algorithm = ECDSA(get_pyca_cryptography_hash(digest_algorithm), deterministic_signing=True)
        return key.sign(data, algorithm)


def signing_moment(as_of: date) -> datetime:
    """The signing time written into the manifest signature: the as-of date, midnight UTC."""
    return datetime.combine(as_of, time(0, 0), tzinfo=UTC)


def sign_manifest(signer: DocumentSigner, manifest: bytes, as_of: date) -> bytes:
    """A detached CMS signature (DER) over ``manifest``, deterministic for the same inputs."""
    inner = signer.key
    deterministic = _DeterministicSigner(
        signing_cert=inner.signing_cert,
        signing_key=inner.signing_key,
        cert_registry=inner.cert_registry,
    )
    settings = PdfCMSSignedAttributes(signing_time=signing_moment(as_of))
    try:
        signed = asyncio.run(
            deterministic.async_sign_general_data(
                manifest, "sha256", detached=True, signed_attr_settings=settings
            )
        )
    except Exception as exc:  # pyHanko raises many types; report them in one way
        raise SigningError(
            f"signing the bundle manifest failed: {type(exc).__name__}: {exc}"
        ) from None
    return bytes(signed.dump())


def trust_anchor(signer: DocumentSigner) -> bytes:
    """The self-signed CA certificate (PEM) the signing certificate chains to, from the
    signer's own chain; :class:`InputError` when the chain holds none (give ``--trust``)."""
    inner = signer.key
    roots = [c for c in inner.cert_registry if c.self_signed != "no"]
    if not roots:
        raise InputError(
            "the signing key's chain holds no root CA certificate to put in the bundle: "
            "give the CA the narratives chain to with --trust CA.pem"
        )
    root: asn1_x509.Certificate = sorted(roots, key=lambda c: c.sha256)[0]
    return _pem(root.dump())


def _pem(der: bytes) -> bytes:
    from asn1crypto import pem

    return bytes(pem.armor("CERTIFICATE", der))


def read_trust_file(path: Path) -> bytes:
    """The CA file given with ``--trust``, as PEM (a DER file is converted)."""
    from ..signing.verify import load_trust

    certs = load_trust(path)
    return b"".join(_pem(c.dump()) for c in certs)


@dataclass(frozen=True)
class ManifestSignature:
    """What the manifest signature check found."""

    signer: str = ""
    fingerprint: str = ""
    development: bool = False
    signing_time: datetime | None = None
    problems: tuple[str, ...] = ()


def check_manifest_signature(
    manifest: bytes,
    signature: bytes,
    trust_roots: list[Any],
    *,
    allow_development: bool,
) -> ManifestSignature:
    """Check ``signature`` over ``manifest`` offline; ``trust_roots`` (asn1crypto
    certificates) is what the signer must chain to (empty: nothing is trusted)."""
    from pyhanko.sign.validation import async_validate_detached_cms
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        signed_data = info["content"]
        signed_data.native  # noqa: B018 - parse it all now, not in the middle of validation
    except Exception as exc:
        return ManifestSignature(problems=(f"not a CMS signature: {exc}",))
    context = ValidationContext(
        trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    usage = KeyUsageConstraints(
        key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
    )
    try:
        with quiet_loggers("pyhanko", "pyhanko_certvalidator"):
            status = asyncio.run(
                async_validate_detached_cms(
                    manifest,
                    signed_data,
                    signer_validation_context=context,
                    key_usage_settings=usage,
                )
            )
    except Exception as exc:  # a mangled signature can fail in many ways
        return ManifestSignature(problems=(f"signature unreadable: {exc}",))
    cert = status.signing_cert
    subject = cert.subject.human_friendly
    problems = []
    if not status.intact:
        problems.append("MANIFEST.json was changed after signing (digest mismatch)")
    elif not status.valid:
        problems.append("the signature does not verify with the signer's certificate")
    if not trust_roots:
        problems.append("signer not trusted: no trust anchor given (--trust CA.pem)")
    elif status.intact and status.valid and not status.trusted:
        problems.append("signer not trusted: the certificate does not chain to the CA given")
    development = DEV_MARKER in subject
    if development and not allow_development:
        problems.append(
            "development signature, not for production (--allow-development accepts it)"
        )
    return ManifestSignature(
        signer=subject,
        fingerprint=hashlib.sha256(cert.dump()).hexdigest(),
        development=development,
        signing_time=status.signer_reported_dt,
        problems=tuple(problems),
    )


__all__ = [
    "ManifestSignature",
    "check_manifest_signature",
    "read_trust_file",
    "sign_manifest",
    "trust_anchor",
]
