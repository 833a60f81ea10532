"""The registers: SoD rule sets and exceptions, NHI inventory, break-glass log, waivers,
systems and settings. Each system adds its entries; the files are written at the end."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from pathlib import Path

from .accounts import Account, Extract
from .controls import Control, System
from .people import Directory
from .reviews import Late
from .spec import MAX_EXCEPTION_DAYS, PERIOD_END, PERIOD_START, ROTATION_DAYS, SLA_DAYS, Spec
from .text import flow, scalar, write_text

DUTIES = (
    ("create-vendor", "P2P_VENDOR_MAINT", "Create or change vendor master data"),
    ("approve-payment", "P2P_PAYMENT_RELEASE", "Release payment runs"),
    ("create-journal", "R2R_JE_CREATE", "Create journal entries"),
    ("post-journal", "R2R_JE_POST", "Post journal entries"),
)
CONFLICTS = ((0, 1), (2, 3))
SINGLE_HOLDERS = 12
CONFLICT_HOLDERS = 4
EXCEPTION_GAPS = ("none", "expired", "too-long")
NHI_GAPS = ("owner-left", "stale", "interactive")


@dataclass
class Registers:
    """Entries collected system by system."""

    spec: Spec
    people: Directory
    systems: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    waivers: list[str] = field(default_factory=list)
    late: int = 0

    def add_sod(self, root: Path, system: System, uar: Control, accounts: list[Account]) -> None:
        """A rule set for the system; some people hold both duties of a conflict, most of
        them with a valid exception."""
        rng = self.spec.rng("sod", system.id)
        ruleset = f"sod-{system.id}"
        uar.sod_rulesets.append(ruleset)
        roles = [f"{system.code}_{suffix}" for _duty, suffix, _name in DUTIES]
        candidates = [
            a
            for a in accounts
            if a.kind == "employee"
            and a.first == 0
            and a.last == self.spec.current
            and a.person not in self.people.leavers
            and a.person not in (system.owner, system.app_owner)
        ]
        needed = len(DUTIES) * SINGLE_HOLDERS + len(CONFLICTS) * CONFLICT_HOLDERS
        chosen = iter(rng.sample(candidates, min(needed, len(candidates))))
        for role in roles:
            for account in _take(chosen, SINGLE_HOLDERS):
                _grant(account, role)
        for number, (a, b) in enumerate(CONFLICTS):
            for holder, account in enumerate(_take(chosen, CONFLICT_HOLDERS)):
                _grant(account, roles[a])
                _grant(account, roles[b])
                gap = EXCEPTION_GAPS[(system.index + number) % 3] if holder == 0 else None
                if gap != "none":
                    self._exception(rng, system, uar, ruleset, (a, b), account, holder, gap)
        lines = [
            "kind: sod-ruleset",
            f"id: {ruleset}",
            f"name: {scalar(f'Finance duties in {system.name}')}",
            "duties:",
        ]
        for (duty, _suffix, name), role in zip(DUTIES, roles, strict=True):
            lines += [
                f"  - id: {duty}",
                f"    name: {scalar(name)}",
                f"    grants: [{{system: {system.id}, entitlement: {role}}}]",
            ]
        lines.append("conflicts:")
        for a, b in CONFLICTS:
            lines += [
                f"  - duties: [{DUTIES[a][0]}, {DUTIES[b][0]}]",
                "    risk: One person could commit and conceal an error or a fraud.",
            ]
        write_text(root / "sod" / f"{ruleset}.yaml", lines)

    def _exception(
        self,
        rng: random.Random,
        system: System,
        uar: Control,
        ruleset: str,
        pair: tuple[int, int],
        account: Account,
        holder: int,
        gap: str | None,
    ) -> None:
        as_of = self.spec.as_of
        granted = as_of - timedelta(days=rng.randint(30, 90))
        expires = granted + timedelta(days=MAX_EXCEPTION_DAYS - 10)
        if gap == "expired":
            granted = as_of - timedelta(days=200)
            expires = granted + timedelta(days=150)
        elif gap == "too-long":
            expires = granted + timedelta(days=MAX_EXCEPTION_DAYS + 185)
        assert account.person is not None
        ids = self.people.id
        self.exceptions += [
            f"  - id: SODX-{system.code}-{pair[0]}{pair[1]}-{holder}",
            f"    person: {ids(account.person)}",
            f"    ruleset: {ruleset}",
            f"    conflict: [{DUTIES[pair[0]][0]}, {DUTIES[pair[1]][0]}]",
            f"    requester: {ids(system.app_owner)}",
            f"    approver: {ids(system.owner)}",
            f"    business_owner: {ids(system.app_owner)}",
            f"    control_owner: {uar.owner_on(granted)}",
            "    justification: Cover during a vacancy; every posting is reviewed monthly.",
            f"    compensating_control: {uar.id}",
            f"    granted: {granted.isoformat()}",
            f"    expires: {expires.isoformat()}",
        ]

    def write_nhis(self, root: Path, system: System, accounts: list[Account]) -> None:
        """Every service account in the current extract, with its owner and rotation."""
        rng = self.spec.rng("nhi", system.id)
        lines = ["kind: nhi-inventory", "identities:"]
        service = [a for a in accounts if a.kind == "service" and a.present(self.spec.current)]
        for number, account in enumerate(service, start=1):
            gap = rng.choice(NHI_GAPS) if rng.random() < self.spec.gap_rate else None
            owner = min(self.people.leavers) if gap == "owner-left" else system.owner
            age = rng.randint(120, 400) if gap == "stale" else rng.randint(3, ROTATION_DAYS - 5)
            lines += [
                f"  - id: NHI-{system.code}-{number:03d}",
                f"    system: {system.id}",
                f"    account: {account.name}",
                "    type: service-account",
                f"    owner: {self.people.id(owner)}",
                "    purpose: Nightly interface between finance systems.",
                f"    last_rotated: {(self.spec.as_of - timedelta(days=age)).isoformat()}",
            ]
            if gap == "interactive":
                lines.append(
                    "    interactive_logins: [{at: 2026-05-04T10:12:00Z, detail: RDP session}]"
                )
        if service:
            write_text(root / "nhi" / f"{system.id}.yaml", lines)

    def add_break_glass(self, system: System, control: Control, accounts: list[Account]) -> None:
        """Two uses of the system's emergency account during the year."""
        rng = self.spec.rng("break-glass", system.id)
        account = next(a for a in accounts if a.kind == "break-glass")
        for number in (1, 2):
            day = PERIOD_START + timedelta(days=rng.randrange(330))
            started = datetime.combine(day, time(22, 10), tzinfo=UTC)
            ended = started + timedelta(hours=1)
            self.events += [
                f"  - id: BG-{system.code}-{number}",
                f"    system: {system.id}",
                f"    account: {account.name}",
                f"    used_by: {self.people.id(system.admins[0])}",
                f"    control: {control.id}",
                f"    started: {scalar(started)}",
                f"    ended: {scalar(ended)}",
                f"    ticket: INC{system.index:05d}{number}",
                "    justification: Production incident blocking the payment run.",
                f"    accepted_by: {self.people.id(system.owner)}",
            ]
            if rng.random() >= self.spec.gap_rate:  # else BRK-1: never reviewed
                self.events += [
                    f"    reviewed_by: {self.people.id(system.app_owner)}",
                    f"    reviewed_at: {scalar(ended + timedelta(hours=20))}",
                ]

    def add_waiver(self, late: Late) -> None:
        """Accept a third of the late reviews (CAD-2) for a while."""
        self.late += 1
        if self.late % 3 != 1:
            return
        self.waivers += [
            f"  - id: WV-{late.review}",
            "    rule: CAD-2",
            f"    control: {late.control}",
            f"    subject: {late.review}",
            f"    approver: {self.people.id(1)}",
            "    reason: Late during the ERP upgrade freeze; accepted by the audit committee.",
            f"    expires: {(self.spec.as_of + timedelta(days=120)).isoformat()}",
        ]

    def add_system(self, system: System, current: Extract) -> None:
        ids = self.people.id
        self.systems += [
            f"  - id: {system.id}",
            f"    name: {scalar(system.name)}",
            "    sox_in_scope: true",
            f"    owner: {ids(system.owner)}",
            f"    administrators: {flow(ids(a) for a in system.admins)}",
            f"    account_types: {flow(system.kinds)}",
            "    extracts:",
            f"      - file: {current.file}",
            "        source: Scheduled IAM extract of accounts and entitlements (job SOX_EXTRACT)",
            f"        extracted_at: {scalar(self.spec.snapshots[self.spec.current])}",
            f"        records: {current.rows}",
            f"        sha256: {current.sha256}",
        ]

    def write(self, root: Path) -> None:
        spec = self.spec
        write_text(
            root / "catalog.yaml",
            [
                "kind: settings",
                "organisation: Synthetic Holdings, Inc.",
                f"period: {{start: {PERIOD_START.isoformat()}, end: {PERIOD_END.isoformat()}}}",
                f"as_of: {spec.as_of.isoformat()}",
                "evidence_retention_years: 7",
                "fail_on: high",
                f"max_exception_days: {MAX_EXCEPTION_DAYS}",
                "break_glass_review_days: 2",
                f"remediation_sla_days: {SLA_DAYS}",
                "review_due_days: 30",
                f"nhi_rotation_days: {ROTATION_DAYS}",
            ],
        )
        write_text(root / "systems.yaml", ["kind: systems", "systems:", *self.systems])
        write_text(
            root / "exceptions.yaml",
            ["kind: sod-exceptions", "exceptions:", *self.exceptions]
            if self.exceptions
            else ["kind: sod-exceptions", "exceptions: []"],
        )
        events = ["events:", *self.events] if self.events else ["events: []"]
        write_text(root / "break-glass.yaml", ["kind: break-glass-log", *events])
        waivers = self.waivers
        write_text(
            root / "waivers.yaml",
            ["kind: waivers", *(["waivers:", *waivers] if waivers else ["waivers: []"])],
        )


def _take(chosen: Iterator[Account], count: int) -> list[Account]:
    return list(islice(chosen, count))


def _grant(account: Account, role: str) -> None:
    account.protected = True
    if role not in account.entitlements:
        account.entitlements.append(role)
        account.entitlements.sort()
