"""One system's accounts and entitlements, and its extracts (CSV) written as a stream.

An account lives from snapshot ``first`` to snapshot ``last`` (indexes into
:attr:`Spec.snapshots`); a review decision or a leaver ends it earlier, a modify decision
removes one entitlement from a snapshot on. Rows are produced per snapshot and written in
chunks, hashed on the way, never held as one list.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .people import Directory
from .spec import Spec

KINDS = ("employee", "privileged", "service", "break-glass", "third-party")
"""Account kinds, in the order controls are assigned to systems."""
SHARE = {"employee": 0.85, "privileged": 0.06, "service": 0.04, "break-glass": 0.01}
AREAS = ("FI", "CO", "MM", "SD", "HR", "BI", "OPS", "SEC")
HEADER = "account,person,account_type,entitlement\n"
CHUNK = 20_000


@dataclass(slots=True)
class Account:
    name: str
    person: int | None
    kind: str
    entitlements: list[str]
    first: int = 0
    last: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    protected: bool = False
    """Holds SoD duties on purpose: review decisions leave it alone."""

    def present(self, snapshot: int) -> bool:
        """In the extract of ``snapshot``: alive then, with an entitlement left."""
        if not self.first <= snapshot <= self.last:
            return False
        return not self.removed or any(self._held(e, snapshot) for e in self.entitlements)

    def _held(self, entitlement: str, snapshot: int) -> bool:
        return self.removed.get(entitlement, snapshot + 1) > snapshot

    def rows(self, snapshot: int, people: Directory) -> Iterator[str]:
        person = people.id(self.person) if self.person is not None else ""
        for entitlement in self.entitlements:
            if self._held(entitlement, snapshot):
                yield f"{self.name},{person},{self.kind},{entitlement}\n"


@dataclass(frozen=True)
class Extract:
    """A written extract: its catalog path, rows and sha256."""

    file: str
    rows: int
    sha256: str


def counts(spec: Spec, total: int, kinds: tuple[str, ...]) -> dict[str, int]:
    """How many accounts of each present kind a system of ``total`` accounts has."""
    out = {k: max(1, round(total * SHARE.get(k, 0.04))) for k in kinds if k != "employee"}
    if "employee" in kinds:
        out["employee"] = max(1, total - sum(out.values()))
    return out


def make_accounts(
    spec: Spec, people: Directory, index: int, code: str, kinds: tuple[str, ...], admins: list[int]
) -> list[Account]:
    """The accounts of system ``index`` (named with ``code``), sorted by name."""
    total = spec.accounts // spec.systems + (1 if index < spec.accounts % spec.systems else 0)
    rng = spec.rng("accounts", index)
    mean = max(1, spec.entitlement_rows // spec.accounts)
    catalog = [f"{code}_{AREAS[j % len(AREAS)]}_{j:03d}" for j in range(max(40, 3 * mean))]
    admin_roles = [f"{code}_ADMIN_{j:02d}" for j in range(8)]
    holders = {
        "employee": lambda n: rng.sample(range(people.contractors.start), n),
        "privileged": lambda n: admins + rng.sample(people.stayers, max(0, n - len(admins))),
        "third-party": lambda n: rng.sample(people.contractors, min(n, len(people.contractors))),
    }
    accounts: list[Account] = []
    for kind, number in counts(spec, total, kinds).items():
        who: list[int | None] = list(holders[kind](number)) if kind in holders else [None] * number
        for n, person in enumerate(who):
            k = min(len(catalog), rng.randint(1, 2 * mean - 1))
            roles = rng.sample(admin_roles, 2) if kind == "privileged" else []
            account = Account(
                _name(kind, code, n, people.id(person) if person is not None else ""),
                person,
                kind,
                sorted(rng.sample(catalog, k) + roles),
                last=spec.current,
            )
            if rng.random() < 0.03:
                account.first = rng.randint(1, spec.current)
            accounts.append(account)
    _leave(spec, people, accounts, rng)
    return sorted(accounts, key=lambda a: a.name)


def _name(kind: str, code: str, n: int, person: str) -> str:
    match kind:
        case "employee":
            return person.upper()
        case "privileged":
            return f"ADM_{person.upper()}"
        case "third-party":
            return f"EXT_{person.upper()}"
        case "service":
            return f"SVC_{code}_{n:03d}"
    return f"FF_{code}_{n:02d}"


def _leave(spec: Spec, people: Directory, accounts: list[Account], rng: random.Random) -> None:
    """Leavers' accounts end at the last extract before they left, except a few (LVR-1)."""
    for account in accounts:
        left = people.left_on(account.person) if account.person is not None else None
        if left is None or rng.random() < spec.gap_rate:
            continue
        taken = [i for i, t in enumerate(spec.snapshots) if t.date() <= left]
        account.last = taken[-1] if taken else -1


def write_extract(
    root: Path, rel: str, accounts: list[Account], snapshot: int, people: Directory
) -> Extract:
    """Write the extract of ``snapshot``; returns its row count and sha256."""
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    rows = 0
    with target.open("wb") as handle:
        buffer = [HEADER]
        for account in accounts:
            if not account.present(snapshot):
                continue
            for row in account.rows(snapshot, people):
                buffer.append(row)
                rows += 1
            if len(buffer) >= CHUNK:
                _flush(handle, digest, buffer)
        _flush(handle, digest, buffer)
    return Extract(rel, rows, digest.hexdigest())


def _flush(handle: BinaryIO, digest: Any, buffer: list[str]) -> None:
    data = "".join(buffer).encode("utf-8")
    digest.update(data)
    handle.write(data)
    buffer.clear()
