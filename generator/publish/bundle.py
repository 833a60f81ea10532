"""``controlbook bundle``: one zip an auditor can check offline: the site, the signed
narratives, the catalog, the findings, the samples, the trust anchor and a signed manifest.

The site and the narratives come from :func:`generator.publish.build.build` (so a bundle
is correct from nothing; the narrative cache makes a rebuild cheap). The findings and
sample files are rendered by the caller's :class:`Reports` (the report modules come after
publish in the pipeline). The zip is byte-identical for the same inputs: entries sorted,
every timestamp the as-of date, mode 0644, no extra fields, deflate at a fixed level, and
a deterministic manifest signature (:mod:`.bundlesign`). The narratives' own PAdES
signatures carry the signing clock and a random ECDSA nonce: they are the same bytes
only when the narrative cache holds them (a rebuild after the cache was emptied re-signs).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .. import __version__
from ..catalog.loader import load_catalog
from ..catalog.parsecache import parse_cache
from ..errors import InputError
from ..evaluation.evaluate import Evaluation
from ..evaluation.sampling import Sample, draw
from ..model import Catalog, Severity
from ..model.slugs import slug
from ..render.outdir import OutputFolderError
from ..resources import SOURCE_TREE
from ..signing.sign import load_signer
from .build import build
from .bundlefiles import (
    CATALOG_DIR,
    MANIFEST,
    NARRATIVES_DIR,
    README,
    SIGNATURE,
    SUMS,
    TRUST,
    CatalogSource,
    Manifest,
    ManifestFile,
    SampleRecord,
    SignerRecord,
    readme,
    sha256sums,
)
from .bundlesign import read_trust_file, sign_manifest, trust_anchor
from .destination import location_refusal

Progress = Callable[[str], None]
COMPRESSION_LEVEL = 6
"""zlib level of every deflated member: fixed, so the same zlib gives the same bytes."""
FILE_MODE = 0o100644
"""A regular file, rw-r--r--, for every member."""


@dataclass(frozen=True)
class Reports:
    """How the findings and a sample become files (``generator.report`` renders them)."""

    findings: Callable[[Evaluation, Severity], dict[str, str]]
    """File name (e.g. ``findings.json``) -> text, for ``findings/``."""
    sample_csv: Callable[[Sample], str]


@dataclass(frozen=True)
class BundleResult:
    out: Path
    files: int
    size: int
    narratives: int
    samples: int
    development: bool
    catalog_source: CatalogSource


Source = Path | bytes


def _sha256(source: Source) -> tuple[int, str]:
    if isinstance(source, bytes):
        return len(source), hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _tree(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    """Every file under ``root`` as (``prefix`` + relative path, file), ``.git`` left out;
    a symlink is followed only when it stays inside ``root``."""
    top = root.resolve()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(top):
                raise InputError(f"{path}: a symlink to a file outside the folder; not bundled")
            if path.is_file():
                yield prefix + rel, path


def catalog_source(catalog: Path) -> CatalogSource:
    """The catalog's git commit, and whether its files are exactly that commit's."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(catalog), *args], capture_output=True, text=True, check=False
            )
        except OSError:
            return None
        return done.stdout if done.returncode == 0 else None

    inside = git("rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != "true":
        return CatalogSource(commit=None, clean=False, note="the catalog is not a git repository")
    commit = (git("rev-parse", "--verify", "HEAD") or "").strip() or None
    status = git("status", "--porcelain", "--untracked-files=all", "--", ".")
    if commit is None or status is None:
        return CatalogSource(commit=None, clean=False, note="the catalog's git state is unknown")
    if status.strip():
        return CatalogSource(
            commit=commit,
            clean=False,
            note="uncommitted changes in the catalog: the bundled files are not this commit",
        )
    return CatalogSource(commit=commit, clean=True, note="the bundled catalog is this commit")


def _zip_time(as_of: date) -> tuple[int, int, int, int, int, int]:
    """Midnight of the as-of date (a zip cannot say a date before 1980: then 1980-01-01)."""
    if as_of.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (as_of.year, as_of.month, as_of.day, 0, 0, 0)


def write_zip(out: Path, members: dict[str, Source], as_of: date) -> int:
    """Write ``members`` (sorted by name) into ``out`` via a temporary file; its size."""
    stamp = _zip_time(as_of)
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(
            temp, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL
        ) as zf:
            for name in sorted(members):
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = FILE_MODE << 16
                info.create_system = 3  # Unix, so the mode above is read
                source = members[name]
                with zf.open(info, "w") as sink:
                    if isinstance(source, bytes):
                        sink.write(source)
                    else:
                        with source.open("rb") as handle:
                            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                                sink.write(block)
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return out.stat().st_size


def _check_out(out: Path, catalog: Path) -> Path:
    out = out.resolve()
    if out.suffix.lower() != ".zip":
        raise OutputFolderError(f"refusing to write the bundle to {out}: the name must end in .zip")
    reason = location_refusal(out, catalog)
    if reason is None and out.is_dir():
        reason = "it is a folder"
    if reason is None and out.exists() and not _is_bundle(out):
        reason = "it exists and is not an audit bundle; remove it or choose another name"
    if reason is not None:
        raise OutputFolderError(f"refusing to write the bundle to {out}: {reason}")
    return out


def _is_bundle(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _samples(
    catalog: Catalog, evaluation: Evaluation, reports: Reports
) -> tuple[dict[str, bytes], list[SampleRecord]]:
    files: dict[str, bytes] = {}
    records: list[SampleRecord] = []
    for control in sorted(catalog.controls.values(), key=lambda c: c.id):
        sample = draw(catalog, evaluation, control)
        if not sample.population_size:
            continue
        name = f"samples/{slug(control.id)}.csv"
        files[name] = reports.sample_csv(sample).encode("utf-8")
        records.append(
            SampleRecord(
                control=control.id, file=name, seed=sample.seed, period=sample.period,
                population_size=sample.population_size,
                population_sha256=sample.population_sha256, size=sample.size,
            )
        )  # fmt: skip
    return files, records


def make_bundle(
    catalog_path: Path,
    out: Path,
    *,
    reports: Reports,
    as_of: date | None = None,
    site: Path | None = None,
    trust: Path | None = None,
    templates: Path | None = None,
    strict: bool = False,
    jobs: int | None = None,
    progress: Progress = lambda _: None,
) -> BundleResult:
    """Build the site and narratives (into ``site``, else a temporary folder) and write the
    audit bundle ``out`` (a ``.zip``); nothing is written to ``out`` unless all succeeds.

    ``trust`` is the CA file to ship as ``trust/ca.pem`` (default: the root of the
    signing key's own chain)."""
    out = _check_out(out, catalog_path)
    with tempfile.TemporaryDirectory(prefix="controlbook-bundle-") as scratch:
        target = site if site is not None else Path(scratch) / "site"
        built = build(
            catalog_path, target, as_of=as_of, templates=templates, strict=strict,
            jobs=jobs, progress=progress,
        )  # fmt: skip
        assert built.narratives is not None
        progress("collecting the catalog, findings and samples")
        catalog = load_catalog(catalog_path, strict=strict, cache=parse_cache())
        evaluation = built.evaluation
        signer = load_signer(catalog.settings, catalog.root, forbidden=(SOURCE_TREE, built.out))
        members: dict[str, Source] = {}
        members.update(_tree(built.out, "site/"))
        members.update(_tree(catalog.root, CATALOG_DIR))
        for result in built.narratives.results:
            name = f"{slug(result.control)}.pdf"
            members[NARRATIVES_DIR + name] = built.out / "narratives" / name
        findings = reports.findings(evaluation, catalog.settings.fail_on)
        members.update({f"findings/{k}": v.encode("utf-8") for k, v in findings.items()})
        sample_files, sample_records = _samples(catalog, evaluation, reports)
        members.update(sample_files)
        members[TRUST] = read_trust_file(trust) if trust else trust_anchor(signer)
        development = signer.info.development
        members[README] = readme(
            organisation=catalog.settings.organisation, as_of=evaluation.as_of.isoformat(),
            development=development,
        ).encode("utf-8")  # fmt: skip
        progress(f"hashing {len(members)} files")
        listed = {name: _sha256(source) for name, source in members.items()}
        draft = [ManifestFile(path=n, size=s, sha256=h) for n, (s, h) in sorted(listed.items())]
        members[SUMS] = sha256sums(tuple(draft)).encode("utf-8")
        size, digest = _sha256(members[SUMS])
        files = tuple(sorted([*draft, ManifestFile(path=SUMS, size=size, sha256=digest)],
                             key=lambda f: f.path))  # fmt: skip
        source = catalog_source(catalog.root)
        manifest = Manifest(
            controlbook_version=__version__,
            organisation=catalog.settings.organisation,
            as_of=evaluation.as_of.isoformat(),
            catalog_source=source,
            signer=SignerRecord(
                subject=signer.info.subject,
                fingerprint=signer.info.fingerprint,
                development=development,
            ),
            samples=tuple(sample_records),
            files=files,
        )
        text = json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
        members[MANIFEST] = text.encode("utf-8")
        progress("signing the manifest")
        members[SIGNATURE] = sign_manifest(signer, members[MANIFEST], evaluation.as_of)
        progress(f"writing {out.name}")
        total = write_zip(out, members, evaluation.as_of)
    return BundleResult(
        out=out,
        files=len(members),
        size=total,
        narratives=len(built.narratives.results),
        samples=len(sample_records),
        development=development,
        catalog_source=source,
    )


__all__ = ["BundleResult", "Reports", "catalog_source", "make_bundle", "write_zip"]
