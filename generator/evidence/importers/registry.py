"""The importers by name, and re-deriving an imported extract from its raw export.

``check`` calls :func:`rederive` for every extract with ``derived_from`` (EVD-2): the raw
files and the mapping must still have their recorded sha256, and the importer of the
recorded version must still turn them into the extract file byte for byte. An extract
edited by hand (with its sha256 updated to match) is caught here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ...errors import InputError
from ...model import Catalog, DerivedFrom, Extract
from . import FORMATS
from .aws import AwsCredentialReport
from .baton import BatonCsv
from .core import AccountMapping, Importer, apply_mapping, merge, normalise
from .generic_csv import CsvImporter
from .github import GitHubMembers, GitHubPats
from .k8s import K8sRbac
from .okta import OktaAppUsers, OktaUsers
from .okta_log import OktaSystemLog

IMPORTERS: dict[str, Importer] = {
    importer.name: importer
    for importer in (
        AwsCredentialReport(),
        OktaUsers(),
        OktaAppUsers(),
        OktaSystemLog(),
        BatonCsv(),
        CsvImporter(),
        GitHubMembers(),
        GitHubPats(),
        K8sRbac(),
    )
}
assert tuple(IMPORTERS) == FORMATS, "generator.evidence.importers.FORMATS is out of date"


def importer_for(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise InputError(f"unknown import format {name!r} (one of: {', '.join(FORMATS)})") from None


@dataclass(frozen=True)
class Rederived:
    """What re-deriving an imported extract found: ``problem`` (an EVD-2 finding) or
    ``not_assessed`` (why it could not be tried), or neither (it matches)."""

    problem: str | None = None
    not_assessed: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rederive(catalog: Catalog, extract: Extract, systems: list[str]) -> Rederived:
    """Re-run the recorded importer on the recorded raw export of ``extract`` (listed for
    ``systems``) and compare the result with the extract file."""
    origin = extract.derived_from
    if origin is None or not extract.file:
        return Rederived()
    name, _, version = origin.importer.partition("/")
    importer = IMPORTERS.get(name)
    if importer is None or str(importer.version) != version:
        installed = f"installs {importer.ident}" if importer else "has no such importer"
        return Rederived(
            not_assessed=f"{extract.file} was imported with {origin.importer}; this "
            f"Controlbook {installed}, so it was not re-derived from its raw export."
        )
    target = catalog.resolve(extract.file)
    if target is None or not target.is_file():
        return Rederived()  # reported as missing by EVD-2 itself
    raws: list[tuple[str, bytes]] = []
    for part in origin.raw:
        path = catalog.resolve(part.file)
        if path is None or not path.is_file():
            return Rederived(f"raw export {part.file} of {extract.file} is missing")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != part.sha256:
            return Rederived(
                f"raw export {part.file} of {extract.file} has changed since the import"
            )
        raws.append((part.file, data))
    if origin.mapping is not None:
        path = catalog.resolve(origin.mapping.file)
        if path is None or not path.is_file():
            return Rederived(f"mapping {origin.mapping.file} of {extract.file} is missing")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != origin.mapping.sha256:
            return Rederived(
                f"mapping {origin.mapping.file} of {extract.file} has changed since the import"
            )
        try:
            mapping: AccountMapping = importer.mapping_model.model_validate_json(data)
        except ValidationError as exc:
            return Rederived(
                f"mapping {origin.mapping.file} of {extract.file} is unreadable ({exc.error_count()} error(s))"
            )
    elif importer.mapping_required:
        return Rederived(f"{extract.file} records no mapping, which {importer.name} needs")
    else:
        mapping = AccountMapping()
    try:
        parsed = merge(
            [importer.parse(data, catalog.display_path(rel), mapping) for rel, data in raws]
        )
        result = normalise(
            apply_mapping(parsed.rows, mapping),
            systems=list(extract.systems) or systems,
            scope=extract.scope,
            details=parsed.details,
        )
    except InputError as exc:
        return Rederived(f"raw export of {extract.file} no longer imports: {exc}")
    except Exception as exc:  # a crafted raw file must not stop the other EVD-2 checks
        return Rederived(
            f"raw export of {extract.file} could not be re-derived ({type(exc).__name__}: {exc})"
        )
    derived = hashlib.sha256(result.csv).hexdigest()
    actual = _sha256(target)
    if derived != actual:
        return Rederived(
            f"{extract.file} is not what {origin.importer} derives from its raw export "
            f"(sha256 {actual[:12]}... != {derived[:12]}...): edited after the import?"
        )
    return _rederive_details(catalog, extract.file, origin, result.details)


def _rederive_details(
    catalog: Catalog, file: str, origin: DerivedFrom, derived: bytes | None
) -> Rederived:
    """The details sidecar (what NHI-2 and NHI-3 read) must still have its recorded
    sha256 and be what the importer derives from the raw export too."""
    recorded = origin.details
    if recorded is None:
        return Rederived()
    path = catalog.resolve(recorded.file)
    if path is None or not path.is_file():
        return Rederived(f"details {recorded.file} of {file} is missing")
    actual = _sha256(path)
    if actual != recorded.sha256:
        return Rederived(f"details {recorded.file} of {file} have changed since the import")
    if derived is None or hashlib.sha256(derived).hexdigest() != actual:
        return Rederived(
            f"details {recorded.file} are not what {origin.importer} derives from the raw "
            f"export of {file}"
        )
    return Rederived()
