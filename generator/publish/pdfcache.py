"""Content-addressed cache of signed narratives, so that an unchanged control is not rendered
and signed again.

The key of a narrative hashes everything its bytes depend on: its view model (everything
shown or attached, the control's YAML by hash), the creation date, the template folders
(templates and CSS), the code that turns the view model into HTML, attachments and a PDF,
the library versions and the signer. The HTML itself is not needed, so a cache hit costs
no template rendering. One entry is kept per control; writing a new one removes the old.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path

from .. import __version__

LIBRARIES = (
    "jinja2",
    "markupsafe",
    "weasyprint",
    "pydyf",
    "tinycss2",
    "tinyhtml5",
    "fonttools",
    "pyhanko",
    "pyhanko-certvalidator",
    "cryptography",
    "asn1crypto",
)
CODE = (
    "generator.render.decisions",
    "generator.render.env",
    "generator.render.narrative",
    "generator.render.narratives",
    "generator.render.pdf",
    "generator.signing.sign",
    "generator.publish.narratives",
)
"""Modules that turn a view model into the narrative's bytes (a missing one fails loudly)."""


@dataclass(frozen=True)
class CachedPdf:
    """A signed PDF from an earlier build."""

    data: bytes
    pages: int


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _environment() -> str:
    """Library versions and rendering code, hashed once per process."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    code = {name: _sha(Path(_source(name)).read_bytes()) for name in CODE}
    return _sha(json.dumps([__version__, versions, code], sort_keys=True).encode())


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(module)
    return spec.origin


def _folder_digest(folders: tuple[str, ...]) -> str:
    """Every file under the template folders (an override may reference images)."""
    entries = []
    for folder in folders:
        root = Path(folder)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                entries.append((path.relative_to(root).as_posix(), _sha(path.read_bytes())))
    return _sha(json.dumps(entries).encode())


def batch_key(created: datetime, template_dirs: tuple[str, ...], signer: str) -> str:
    """What every narrative of one batch shares in its key (the template files are read once):
    ``signer`` identifies the certificate, the signature level and what the cover says."""
    parts = {
        "created": created.isoformat(),
        "templates": _folder_digest(template_dirs),
        "environment": _environment(),
        "signer": signer,
    }
    return _sha(json.dumps(parts, sort_keys=True).encode())


def cache_key(content: str, batch: str) -> str:
    """The key of one signed narrative: ``content`` is the digest of its view model."""
    return _sha(f"{batch}|{content}".encode())


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


class PdfCache:
    """Signed PDFs under ``folder/<control slug>/<key>.pdf``, with ``<key>.json`` (pages and
    sha256) and ``<key>.inputs`` (the inputs digest it was made from and its version);
    ``folder=None`` disables it."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, slug: str, key: str) -> CachedPdf | None:
        if self.folder is None:
            return None
        try:
            info = json.loads((self.folder / slug / f"{key}.json").read_text(encoding="utf-8"))
            data = (self.folder / slug / f"{key}.pdf").read_bytes()
            pages = int(info["pages"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        # a truncated or altered entry is a miss, never a narrative
        return CachedPdf(data, pages) if _sha(data) == info.get("sha256") else None

    def recall(self, slug: str, inputs: str) -> tuple[str, str, CachedPdf] | None:
        """The narrative last cached for ``slug`` from these inputs (see
        :mod:`.narrativekey`): its key, its document version and the PDF."""
        if self.folder is None:
            return None
        try:
            kept = sorted((self.folder / slug).glob("*.inputs"))
        except OSError:
            return None
        for path in kept:
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(info, dict) or info.get("inputs") != inputs:
                continue
            version = info.get("version")
            hit = self.get(slug, path.stem) if isinstance(version, str) else None
            if hit is not None:
                return path.stem, version, hit
        return None

    def remember(self, slug: str, key: str, inputs: str, version: str) -> None:
        """Note that the narrative cached under ``key`` was made from ``inputs``."""
        if self.folder is None or not (self.folder / slug / f"{key}.pdf").is_file():
            return
        info = {"inputs": inputs, "version": version}
        _write_atomic(self.folder / slug / f"{key}.inputs", json.dumps(info).encode())

    def put(self, slug: str, key: str, data: bytes, pages: int) -> None:
        if self.folder is None:
            return
        target = self.folder / slug
        target.mkdir(parents=True, exist_ok=True)
        _write_atomic(target / f"{key}.pdf", data)
        info = {"pages": pages, "sha256": _sha(data)}
        _write_atomic(target / f"{key}.json", json.dumps(info).encode())
        for old in target.iterdir():
            if old.stem != key and not old.name.startswith("."):
                old.unlink(missing_ok=True)
