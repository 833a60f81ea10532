"""``controlbook verify --bundle``: check an audit bundle offline, catalog not needed.

Members are read from the zip in memory, one at a time and within caps; nothing is
extracted except, after its hash matched, what the narrative check needs (the PDFs and
the catalog files) into a private temporary folder, written by this module under names
already checked. A zip that cannot be read safely is refused whole (:class:`BundleUnusable`,
exit 2): not a zip, an entry with an absolute or ``..`` path, a symlink, a name twice,
encryption, or declared sizes beyond :data:`MAX_TOTAL` / :data:`MAX_RATIO`.
"""

from __future__ import annotations

import hashlib
import json
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..signing.verify import load_trust, verify_pdfs
from .bundlefiles import (
    CATALOG_DIR,
    MANIFEST,
    NARRATIVES_DIR,
    SIGNATURE,
    TRUST,
    UNLISTED,
    Manifest,
    name_problem,
)
from .bundlesign import ManifestSignature, check_manifest_signature

MAX_TOTAL = 4 << 30
"""Largest total uncompressed size a bundle may declare (4 GiB)."""
MAX_RATIO = 200
"""Largest compression ratio of a member over :data:`RATIO_FLOOR` bytes (deflate of real
files rarely passes 20:1; a zip bomb is 1000:1 and more)."""
RATIO_FLOOR = 1 << 20
MAX_ENTRIES = 200_000
MAX_MANIFEST = 64 << 20

BUNDLED_CA_NOTE = (
    "trusting the CA inside the bundle: this proves the files are as their signer listed "
    "them, not who the signer is (compare the CA fingerprint with one given to you "
    "separately, or use --trust)"
)


class BundleUnusable(InputError):
    """The file is not a bundle that can be read safely."""


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class BundleVerdict:
    """What ``verify --bundle`` found."""

    bundle: Path
    files: int
    narratives: int
    signature: ManifestSignature
    trust: str
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [str(p) for p in self.problems]
        if self.signature.signer:
            out.append(f"manifest signed by: {self.signature.signer}")
            out.append(f"  certificate SHA-256: {self.signature.fingerprint}")
        out.append(f"trust: {self.trust}")
        verdict = "OK" if self.ok else f"FAILED ({len(self.problems)} problem(s))"
        out.append(
            f"{self.bundle}: {verdict}: {self.files} file(s) checked, "
            f"{self.narratives} narrative(s) verified"
        )
        return out


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleUnusable(f"{path}: not a readable zip file ({exc})") from None
    except IsADirectoryError:
        raise BundleUnusable(f"{path}: is a folder, not a zip file") from None


def check_entries(path: Path, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Each entry by name, after refusing any that is unsafe to read (raises)."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BundleUnusable(f"{path}: {len(infos)} entries (at most {MAX_ENTRIES})")
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        shown = json.dumps(name)
        problem = name_problem(name.rstrip("/") if info.is_dir() else name)
        if problem:
            raise BundleUnusable(f"{path}: entry {shown} is {problem}; refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BundleUnusable(f"{path}: entry {shown} is a symbolic link; refused")
        if name in entries:
            raise BundleUnusable(f"{path}: entry {shown} appears twice; refused")
        if info.flag_bits & 0x1:
            raise BundleUnusable(f"{path}: entry {shown} is encrypted; refused")
        total += info.file_size
        if total > MAX_TOTAL:
            raise BundleUnusable(
                f"{path}: declares more than {MAX_TOTAL >> 30} GiB uncompressed (a zip bomb?); "
                "refused"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BundleUnusable(
                f"{path}: entry {shown} expands {info.file_size // max(info.compress_size, 1)}"
                f" times (at most {MAX_RATIO}; a zip bomb?); refused"
            )
        entries[name] = info
    return entries


def _digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, str]:
    """Size and sha256 of a member, streamed; a corrupt member is a BundleUnusable."""
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(info) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        return -1, f"unreadable ({exc})"
    return size, digest.hexdigest()


def _read_manifest(path: Path, zf: zipfile.ZipFile, entries: dict[str, Any]) -> tuple[bytes, Any]:
    info = entries.get(MANIFEST)
    if info is None:
        raise BundleUnusable(f"{path}: no {MANIFEST}: not a Controlbook audit bundle")
    if info.file_size > MAX_MANIFEST:
        raise BundleUnusable(f"{path}: {MANIFEST} is larger than {MAX_MANIFEST >> 20} MiB")
    raw = zf.read(info)
    try:
        return raw, Manifest.model_validate(json.loads(raw))
    except ValueError as exc:  # JSONDecodeError and pydantic's ValidationError
        where = ""
        if isinstance(exc, ValidationError) and exc.errors():
            first = exc.errors()[0]
            where = " at " + ".".join(str(p) for p in first["loc"]) + f": {first['msg']}"
        raise BundleUnusable(f"{path}: {MANIFEST} is not a bundle manifest{where}") from None


def _trust_roots(
    zf: zipfile.ZipFile, entries: dict[str, Any], trust: Path | None, bundled: bool, tmp: Path
) -> tuple[Path | None, str]:
    """The CA file to check against (a path, as verify_pdfs takes it) and how it is named."""
    if trust is not None:
        return trust, f"the CA given ({trust})"
    if bundled and TRUST in entries and entries[TRUST].file_size < MAX_MANIFEST:
        ca = tmp / "bundled-ca.pem"
        ca.write_bytes(zf.read(entries[TRUST]))
        return ca, BUNDLED_CA_NOTE
    return None, "none: give --trust CA.pem (or --trust-bundled-ca) to verify the signer"


def verify_bundle(
    path: Path,
    *,
    trust: Path | None = None,
    trust_bundled: bool = False,
    allow_development: bool = False,
) -> BundleVerdict:
    """Check the bundle at ``path``: manifest signature, every file, nothing missing or
    added, every narrative. Raises :class:`BundleUnusable` (exit 2) for a file that is
    not a bundle or not safe to read, :class:`~generator.signing.verify.TrustFileError`
    for an unreadable ``trust``; everything else is a :class:`Problem`."""
    if trust is not None:
        load_trust(trust)  # an unreadable CA file is a usage error, before any work
    if not path.is_file():
        raise BundleUnusable(f"{path}: no such file")
    with _open(path) as zf, tempfile.TemporaryDirectory(prefix="controlbook-verify-") as tmp:
        entries = check_entries(path, zf)
        raw, manifest = _read_manifest(path, zf, entries)
        problems: list[Problem] = []
        ca, trust_text = _trust_roots(zf, entries, trust, trust_bundled, Path(tmp))
        if SIGNATURE not in entries:
            problems.append(Problem(SIGNATURE, "missing: the manifest is not signed"))
            signature = ManifestSignature()
        else:
            roots = load_trust(ca) if ca is not None else []
            signature = check_manifest_signature(
                raw, zf.read(entries[SIGNATURE]), roots, allow_development=allow_development
            )
            problems.extend(Problem(SIGNATURE, p) for p in signature.problems)
        workdir = Path(tmp) / "bundle"
        pdfs: list[Path] = []
        listed: set[str] = set()
        for entry in manifest.files:
            listed.add(entry.path)
            problem = name_problem(entry.path)
            if problem or entry.path in UNLISTED:
                problems.append(Problem(MANIFEST, f"lists {json.dumps(entry.path)}: refused"))
                continue
            info = entries.get(entry.path)
            if info is None:
                problems.append(Problem(entry.path, "missing from the bundle"))
                continue
            size, digest = _digest(zf, info)
            if size != entry.size or digest != entry.sha256:
                problems.append(
                    Problem(entry.path, f"content changed: sha256 {digest}, manifest says "
                            f"{entry.sha256} ({size} bytes, manifest says {entry.size})")
                )  # fmt: skip
                if not entry.path.startswith(CATALOG_DIR):
                    continue  # a changed catalog file is kept: the narratives must see it
            if entry.path.startswith((CATALOG_DIR, NARRATIVES_DIR)):
                target = workdir.joinpath(*entry.path.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, target.open("wb") as sink:
                    for block in iter(lambda s=source: s.read(1 << 20), b""):
                        sink.write(block)
                if entry.path.startswith(NARRATIVES_DIR) and entry.path.endswith(".pdf"):
                    pdfs.append(target)
        for name in sorted(set(entries) - listed - UNLISTED):
            if not entries[name].is_dir():
                problems.append(Problem(name, "not listed in the manifest (an added file)"))
        catalog = workdir / CATALOG_DIR.rstrip("/")
        catalog.mkdir(parents=True, exist_ok=True)
        results = verify_pdfs(
            sorted(pdfs), trust=ca, catalog=catalog, allow_development=allow_development
        )
        for result in results:
            name = result.path.relative_to(workdir).as_posix()
            for change in result.changes:
                problems.append(
                    Problem(name, f"evidence file catalog/{change.path}: {change.what}")
                )
            problems.extend(Problem(name, p) for p in result.problems)
            if result.fingerprint and signature.fingerprint not in ("", result.fingerprint):
                problems.append(Problem(name, "signed by another certificate than the manifest"))
    return BundleVerdict(
        bundle=path,
        files=len(manifest.files),
        narratives=sum(1 for r in results if r.ok),
        signature=signature,
        trust=trust_text,
        problems=tuple(problems),
    )


__all__ = ["BundleUnusable", "BundleVerdict", "Problem", "verify_bundle"]
