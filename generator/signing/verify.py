"""``verify_pdfs``: is each narrative's signature intact, over the whole file, by whom, and
trusted; and do the catalog files it relied on still hash as they did then?

Nothing is fetched: certificates are checked offline against the CA file given (``trust``).
Without one, nothing can be trusted: anyone can make a certificate with any name and
re-sign an altered narrative, and the signature would be intact. So a result is ``ok``
only when the signature is valid, covers the whole file, chains to the given CA, is not
a development signature (unless ``allow_development``), and no file of the evidence
manifest changed in the catalog given (if any). Every verdict names the signer's subject
and certificate SHA-256 fingerprint, so a reader can compare it with the one expected.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..render.narrative import MANIFEST_FORMAT, MANIFEST_NAME
from .devsigner import DEV_MARKER


class TrustFileError(InputError):
    """The CA file given with ``--trust`` cannot be read."""


@dataclass(frozen=True)
class FileChange:
    """A file of the evidence manifest that is not what it was at signing."""

    path: str
    signed: str | None
    current: str | None

    @property
    def what(self) -> str:
        if self.current is None:
            return "missing now"
        if self.signed is None:
            return "was missing at signing, present now"
        return "content changed since signing"


@dataclass(frozen=True)
class VerifyResult:
    """What ``verify`` found for one PDF."""

    path: Path
    signed: bool = False
    intact: bool = False
    valid: bool = False
    whole_file: bool = False
    trusted: bool | None = None
    signer: str = ""
    subject: str = ""
    fingerprint: str = ""
    issuer: str = ""
    signing_time: datetime | None = None
    timestamp: datetime | None = None
    development: bool = False
    control: str = ""
    document_version: str = ""
    files_checked: int = 0
    changes: tuple[FileChange, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """A readable report, first line ``path: OK`` or ``path: FAILED``."""
        out = [f"{self.path}: {'OK' if self.ok else 'FAILED'}"]
        if self.subject:
            out.append(f"  signer: {self.signer} ({self.subject})")
            out.append(f"  certificate SHA-256: {self.fingerprint}")
            out.append(f"  issuer: {self.issuer}")
        if self.signed:
            if self.development:
                out.append("  development signature: not for production")
            when = self.timestamp or self.signing_time
            source = "timestamp authority" if self.timestamp else "claimed by the signer"
            out.append(f"  signed at: {when.isoformat() if when else 'unknown'} ({source})")
            trust = {None: "no (no --trust CA given)", True: "yes", False: "no"}
            out.append(f"  trusted: {trust[self.trusted]}")
        if self.control:
            out.append(f"  control: {self.control}, document version {self.document_version}")
        if self.files_checked:
            out.append(
                f"  evidence files re-hashed: {self.files_checked}, changed: {len(self.changes)}"
            )
        out.extend(f"  changed: {c.path} ({c.what})" for c in self.changes)
        out.extend(f"  problem: {p}" for p in self.problems)
        return out


def load_trust(path: Path) -> list[Any]:
    """The CA certificates of a PEM or DER file."""
    from pyhanko.keys import load_certs_from_pemder

    try:
        certs = list(load_certs_from_pemder([str(path)]))
    except (OSError, ValueError) as exc:
        raise TrustFileError(f"cannot read CA certificates from {path}: {exc}") from None
    if not certs:
        raise TrustFileError(f"{path} holds no certificate")
    return certs


def _embedded_file(root: Any, name: str) -> bytes | None:
    """The bytes of the attachment called ``name`` under the document catalog ``root``."""
    try:
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return None
    for index in range(0, len(names) - 1, 2):
        spec = names[index + 1].get_object()
        label = str(spec.get("/UF", spec.get("/F", "")))
        if label == name:
            return bytes(spec["/EF"]["/F"].get_object().data)
    return None


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _changes(manifest: dict[str, Any], catalog: Path) -> tuple[int, list[FileChange], list[str]]:
    """Re-hash every manifest file under ``catalog``: (files checked, changes, problems)."""
    root = catalog.resolve()
    changes: list[FileChange] = []
    problems: list[str] = []
    files = manifest.get("files") or []
    for entry in files:
        rel = str(entry.get("path", ""))
        target = (root / rel).resolve()
        if not rel or not target.is_relative_to(root):
            problems.append(f"manifest names a file outside the catalog: {rel!r}")
            continue
        current = _sha256(target)
        if current != entry.get("sha256"):
            changes.append(FileChange(rel, entry.get("sha256"), current))
    if changes:
        problems.append(
            f"{len(changes)} catalog file(s) changed since signing: the narrative is out of date"
        )
    return len(files), changes, problems


def _who(cert: Any) -> dict[str, str]:
    """The signer's names and certificate fingerprint (an asn1crypto certificate)."""
    subject = cert.subject.human_friendly
    return {
        "signer": str(cert.subject.native.get("common_name", subject)),
        "subject": subject,
        "fingerprint": hashlib.sha256(cert.dump()).hexdigest(),
        "issuer": cert.issuer.human_friendly,
    }


UNTRUSTED_NO_ANCHOR = (
    "signer not trusted: no trust anchor given (--trust CA.pem); without one, anyone can "
    "sign an altered copy with a certificate of any name"
)
UNTRUSTED_CHAIN = "signer not trusted: the certificate does not chain to the trusted CA given"
DEVELOPMENT_REFUSED = (
    "development signature, not for production: it proves nothing about who signed "
    "(--allow-development accepts it for testing)"
)


def _verify_one(
    path: Path,
    context: Any,
    trusted_check: bool,
    catalog: Path | None,
    allow_development: bool = False,
) -> VerifyResult:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        reader = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
        signatures = reader.embedded_signatures
    except OSError as exc:
        return VerifyResult(path, problems=(f"cannot read the file: {exc.strerror}",))
    except (PdfError, ValueError, KeyError) as exc:
        return VerifyResult(path, problems=(f"not a readable PDF: {exc}",))
    if not signatures:
        return VerifyResult(path, problems=("the PDF is not signed",))
    problems: list[str] = []
    if len(signatures) > 1:
        problems.append(f"{len(signatures)} signatures; a narrative carries exactly one")
    signature = signatures[-1]
    try:
        who = _who(signature.signer_cert)
    except Exception:
        who = {}
    usage = KeyUsageConstraints(
        key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
    )
    try:
        status = validate_pdf_signature(
            signature, signer_validation_context=context, key_usage_settings=usage
        )
    except Exception as exc:  # a mangled signature can fail in many ways
        return VerifyResult(path, signed=True, problems=(f"signature unreadable: {exc}",), **who)
    who = _who(status.signing_cert)
    development = DEV_MARKER in who["subject"]
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not status.intact:
        problems.append("the signed bytes were changed after signing (digest mismatch)")
    elif not status.valid:
        problems.append("the signature does not verify with the signer's certificate")
    if not whole:
        problems.append("the file was changed or extended after signing")
    if not trusted_check:
        problems.append(UNTRUSTED_NO_ANCHOR)
    elif not status.trusted:
        problems.append(UNTRUSTED_CHAIN)
    if development and not allow_development:
        problems.append(DEVELOPMENT_REFUSED)
    control = version = ""
    checked = 0
    changes: list[FileChange] = []
    raw = _embedded_file(reader.get_historical_root(signature.signed_revision), MANIFEST_NAME)
    manifest: dict[str, Any] = {}
    if raw is None:
        problems.append(f"no {MANIFEST_NAME} attached")
    else:
        try:
            manifest = json.loads(raw)
        except ValueError:
            problems.append(f"{MANIFEST_NAME} is not valid JSON")
        if manifest.get("format") != MANIFEST_FORMAT:
            problems.append(f"{MANIFEST_NAME} is not a Controlbook evidence manifest")
        control = str(manifest.get("control", ""))
        version = str(manifest.get("document_version", ""))
        if catalog is not None and manifest:
            checked, changes, more = _changes(manifest, catalog)
            problems.extend(more)
    stamp = status.timestamp_validity
    return VerifyResult(
        path=path,
        signed=True,
        intact=status.intact,
        valid=status.valid,
        whole_file=whole,
        trusted=bool(status.trusted) if trusted_check else None,
        signing_time=status.signer_reported_dt,
        timestamp=stamp.timestamp if stamp is not None else None,
        development=development,
        control=control,
        document_version=version,
        files_checked=checked,
        changes=tuple(changes),
        problems=tuple(problems),
        **who,
    )


def verify_pdfs(
    paths: Iterable[Path],
    *,
    trust: Path | None = None,
    catalog: Path | None = None,
    allow_development: bool = False,
) -> list[VerifyResult]:
    """Verify each narrative; ``trust`` is a CA file (PEM/DER) the signer must chain to
    (without it no result is ``ok``), ``catalog`` the catalog folder whose files are
    re-hashed against the attached manifest, ``allow_development`` accepts a development
    signature (for tests and local previews).

    Raises only for a bad ``trust`` file or a missing ``catalog`` folder; a bad PDF is a
    failed result.
    """
    from pyhanko_certvalidator import ValidationContext

    if catalog is not None and not catalog.is_dir():
        raise InputError(f"{catalog}: no such catalog folder")
    roots = load_trust(trust) if trust is not None else []
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    with quiet_loggers("pyhanko", "pyhanko_certvalidator"):
        return [
            _verify_one(Path(p), context, trust is not None, catalog, allow_development)
            for p in paths
        ]


@contextmanager
def quiet_loggers(*names: str) -> Iterator[None]:
    """pyHanko logs a traceback for every untrusted chain; the result already says it."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


__all__ = ["FileChange", "TrustFileError", "VerifyResult", "verify_pdfs"]
