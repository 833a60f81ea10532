"""Systems and the controls that review them: one control per (system, account kind).

Controls are dealt out kind by kind (every system's user access review first, then the
privileged reviews...), so a catalog with fewer than five controls per system leaves the
last kinds out of some systems, and those systems do not have accounts of those kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .accounts import KINDS
from .people import IAM_TEAM, Directory
from .spec import Spec
from .text import flow, scalar, write_text

PREFIX = {
    "employee": "UAR",
    "privileged": "PAR",
    "service": "SVC",
    "break-glass": "BG",
    "third-party": "TPA",
}
APPROVER = {
    "employee": "manager",
    "privileged": "application-owner",
    "service": "system-owner",
    "break-glass": "control-owner",
    "third-party": "application-owner",
}
TITLE = {
    "employee": "user access review",
    "privileged": "privileged access review",
    "service": "service account recertification",
    "break-glass": "break-glass account review",
    "third-party": "third-party access review",
}
CSF = {
    "employee": ["PR.AA-05", "GV.RR-02"],
    "privileged": ["PR.AA-05", "PR.AA-01"],
    "service": ["PR.AA-05", "PR.AA-01"],
    "break-glass": ["PR.AA-05", "DE.CM-01"],
    "third-party": ["PR.AA-05", "GV.SC-07"],
}
CONTROL_GAPS = ("owner-gap", "team-owner", "no-executor", "unmapped", "csf-1.1", "leaver-owner")
SINCE = date(2023, 1, 1)
HANDOVER = date(2026, 6, 30)


@dataclass(frozen=True)
class System:
    index: int
    id: str
    code: str
    owner: int
    app_owner: int
    admins: list[int]
    kinds: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"Application {self.code}"


@dataclass
class Control:
    id: str
    kind: str
    system: System
    owners: list[tuple[str, date, date | None]]
    gap: str | None
    sod_rulesets: list[str] = field(default_factory=list)

    def owner_on(self, day: date) -> str:
        for person, since, until in self.owners:
            if since <= day and (until is None or day <= until):
                return person
        return self.owners[-1][0]

    @property
    def population(self) -> str:
        return f"{self.system.id}-{self.kind}"


def kinds_per_system(spec: Spec) -> list[tuple[str, ...]]:
    """The account kinds each system has a control for."""
    rounds = [0] * spec.systems
    for n in range(spec.controls):
        rounds[n % spec.systems] += 1
    return [KINDS[:r] for r in rounds]


def make_system(spec: Spec, people: Directory, index: int, kinds: tuple[str, ...]) -> System:
    width = max(3, len(str(spec.systems)))
    rng = spec.rng("system", index)
    owner, app_owner = rng.sample(range(1, people.managers), 2)
    return System(
        index,
        f"sys-{index + 1:0{width}d}",
        f"S{index + 1:0{width}d}",
        owner,
        app_owner,
        rng.sample(people.stayers, 2),
        kinds,
    )


def make_control(spec: Spec, people: Directory, system: System, kind: str) -> Control:
    control_id = f"ITGC-{PREFIX[kind]}-{system.code}"
    rng = spec.rng("control", control_id)
    gap = rng.choice(CONTROL_GAPS) if rng.random() < spec.gap_rate else None
    first, second = (people.id(i) for i in rng.sample(range(1, people.managers), 2))
    owners: list[tuple[str, date, date | None]] = [(first, SINCE, None)]
    if gap == "owner-gap":
        owners = [(first, SINCE, HANDOVER), (second, date(2026, 7, 15), None)]
    elif gap == "team-owner":
        owners = [(IAM_TEAM, SINCE, None)]
    elif gap == "leaver-owner":
        owners = [(people.id(min(people.leavers)), SINCE, None)]
    elif rng.random() < 0.1:
        owners = [(first, SINCE, HANDOVER), (second, date(2026, 7, 1), None)]
    return Control(control_id, kind, system, owners, gap)


def write_control(root: Path, spec: Spec, people: Directory, control: Control) -> None:
    system, kind = control.system, control.kind
    title = f"{spec.frequency.capitalize()} {TITLE[kind]}: {system.name}"
    lines = [
        "kind: control",
        f"id: {control.id}",
        f"title: {scalar(title)}",
        f"objective: {scalar(f'Only people who need it keep {kind} access to {system.name}.')}",
        "risk: Unauthorised access to financial data or transactions goes undetected.",
        f"key: {scalar(kind in ('employee', 'privileged'))}",
        "nature: detective",
        "automation: it-dependent-manual",
        f"frequency: {spec.frequency}",
        "owners:",
    ]
    for person, since, until in control.owners:
        end = f", until: {until.isoformat()}" if until else ""
        lines.append(f"  - {{person: {person}, since: {since.isoformat()}{end}}}")
    if control.gap != "no-executor":
        lines.append(f"executor: {IAM_TEAM}")
    lines += [
        f"roles: {{system_owner: {people.id(system.owner)}, iam_operator: {IAM_TEAM}, "
        f"compliance_validator: {people.id(1)}, application_owner: {people.id(system.app_owner)}}}",
        f"systems: [{system.id}]",
        "populations:",
        f"  - id: {control.population}",
        f"    name: {scalar(f'{system.name} {kind} accounts')}",
        f"    system: {system.id}",
        f"    account_types: [{kind}]",
        f"approval: {{approver: {APPROVER[kind]}}}",
        "procedure: |",
        "  1. IAM extracts every account and entitlement at period end and records the IPE.",
        "  2. Approvers decide keep / revoke / modify per account within ten days.",
        "  3. Revokes are ticketed and removed within the SLA; the next extract shows it.",
        "mappings:",
    ]
    csf = [] if control.gap == "unmapped" else list(CSF[kind])
    if control.gap == "csf-1.1":
        csf.append("PR.AC-4")
    lines.append(f"  csf: {flow(csf)}")
    if kind == "service":
        lines.append("  owasp_nhi: [NHI1:2025, NHI7:2025]")
    if control.sod_rulesets:
        lines.append(f"sod_rulesets: {flow(control.sod_rulesets)}")
    write_text(root / "controls" / f"{control.id}.yaml", lines)
