"""Credential facts from the details sidecars of imported extracts: when each account's
credentials were last used, rotated and when they expire, and its interactive sign-ins.

``controlbook import`` writes the sidecar (columns :data:`.importers.core.DETAILS_HEADER`)
beside the extract and records it under ``derived_from.details`` with its sha256. The NHI
rules read it here, never the inventory's hand-typed dates, when the newest imported
state of the identity's system shows the account. A sidecar whose bytes no longer have
the recorded sha256 is not read (EVD-2 reports it), so an edited file cannot clear a
finding.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from ..diagnostics import Location
from ..model import Catalog, Extract
from .extractscan import norm
from .importers.core import DETAILS_HEADER, parse_timestamp

MAX_DETAILS_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CredentialFact:
    """One row of a details sidecar: a credential of an account, or one sign-in."""

    account: str
    credential: str
    active: bool | None
    interactive: bool | None
    last_used: datetime | None
    last_rotated: datetime | None
    expires: datetime | None
    where: Location
    last_rotated_text: str = ""
    """The export's own word when there is no date (``N/A``, ``no_information``)."""


@dataclass(frozen=True)
class Sidecar:
    """The readable details of one imported extract."""

    extract: Extract
    file: str
    facts: tuple[CredentialFact, ...]

    def of(self, account: str) -> list[CredentialFact]:
        key = norm(account)
        return [f for f in self.facts if norm(f.account) == key]

    def shows(self, account: str) -> bool:
        return bool(self.of(account))


def _flag(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value.strip().lower())


def _read(text: str, shown: str) -> tuple[CredentialFact, ...] | None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != DETAILS_HEADER:
            return None
        facts = []
        for values in reader:
            if len(values) != len(DETAILS_HEADER):
                return None
            account, credential, active, interactive, used, rotated, expires, _ = values
            facts.append(
                CredentialFact(
                    account.strip(),
                    credential.strip(),
                    _flag(active),
                    _flag(interactive),
                    parse_timestamp(used),
                    parse_timestamp(rotated),
                    parse_timestamp(expires),
                    Location(shown, reader.line_num, 1),
                    rotated.strip(),
                )
            )
    except csv.Error:
        return None
    return tuple(facts)


class CredentialStore:
    """Reads each sidecar at most once; ``None`` for an extract without a trustworthy one."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._read: dict[str, Sidecar | None] = {}

    def sidecar(self, extract: Extract) -> Sidecar | None:
        origin = extract.derived_from
        if origin is None or origin.details is None:
            return None
        rel = origin.details.file
        if rel not in self._read:
            self._read[rel] = self._load(extract, rel, origin.details.sha256)
        return self._read[rel]

    def _load(self, extract: Extract, rel: str, sha256: str) -> Sidecar | None:
        path = self.catalog.resolve(rel)
        try:
            if path is None or not path.is_file() or path.stat().st_size > MAX_DETAILS_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            return None  # EVD-2 reports the change; the rules keep to the inventory
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        facts = _read(text, self.catalog.display_path(rel))
        return None if facts is None else Sidecar(extract, rel, facts)
