"""View models: everything a page or a PDF shows, computed in Python, typed and sorted.

Templates receive these and only present them: every count, status and label is
decided here, so the site and the auditor narratives can never disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from .coverage import Coverage, ElementCoverage
from .coverage import compute as compute_coverage
from .diagnostics import Location
from .evaluate import Evaluation
from .findings import Finding
from .model import AccountType, Catalog, Control, Decision, Person, Review, Severity
from .references import ResolutionStatus, load_csf, load_owasp_nhi, resolve_csf, resolve_nhi
from .rules import RULES, RULES_BY_ID, Context, Rule

SEVERITY_ORDER = tuple(Severity)


@dataclass(frozen=True)
class SourceRef:
    """Where a fact comes from: a catalog file and line, with a web link when configured."""

    path: str
    line: int
    url: str | None

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class PersonView:
    id: str
    name: str
    title: str
    kind: str
    active: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class FindingView:
    rule: str
    rule_name: str
    severity: str
    open: bool
    control: str | None
    owner: str
    subject: str
    message: str
    hint: str
    source: SourceRef
    waiver: str | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class OwnershipView:
    person: PersonView
    since: date
    until: date | None
    in_period: bool
    valid: bool


@dataclass(frozen=True)
class RoleView:
    role: str
    person: PersonView | None


@dataclass(frozen=True)
class PopulationView:
    id: str
    name: str
    system: str
    account_types: tuple[str, ...]
    selection: str
    special: bool


@dataclass(frozen=True)
class EvidenceView:
    """The population extract of a review (IPE) and whether it still matches."""

    system: str
    source: str
    extracted_at: str
    records: str
    file: str
    sha256: str
    verified: bool | None


@dataclass(frozen=True)
class ReviewView:
    id: str
    population: str
    period: str
    due: date
    completed: date | None
    status: str
    on_time: bool
    reviewers: tuple[PersonView, ...]
    evidence: EvidenceView | None
    items: int
    kept: int
    revoked: int
    modified: int
    undecided: int
    remediation: str
    findings: int
    source: SourceRef


@dataclass(frozen=True)
class MappingView:
    framework: str
    id: str
    title: str
    valid: bool


@dataclass(frozen=True)
class ExceptionView:
    id: str
    person: PersonView
    ruleset: str
    conflict: str
    requester: str
    approver: str
    business_owner: str
    control_owner: str
    justification: str
    compensating_control: str
    granted: date
    expires: date | None
    age_days: int
    status: str
    source: SourceRef


@dataclass(frozen=True)
class ControlView:
    id: str
    title: str
    objective: str
    risk: str
    key: bool
    nature: str
    automation: str
    frequency: str
    owner: PersonView | None
    owner_history: tuple[OwnershipView, ...]
    executor: PersonView | None
    roles: tuple[RoleView, ...]
    systems: tuple[str, ...]
    populations: tuple[PopulationView, ...]
    approval: str
    procedure: str
    retention_years: int | None
    reviews: tuple[ReviewView, ...]
    sod_rulesets: tuple[str, ...]
    exceptions: tuple[ExceptionView, ...]
    open_findings: tuple[FindingView, ...]
    waived_findings: tuple[FindingView, ...]
    mappings: tuple[MappingView, ...]
    not_assessed: tuple[str, ...]
    status: str
    worst: str | None
    source: SourceRef
    source_file: str

    @property
    def severity_counts(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.open_findings)
        return {str(s): counts.get(str(s), 0) for s in Severity}


@dataclass(frozen=True)
class RuleView:
    id: str
    name: str
    family: str
    severity: str
    summary: str
    doc: str
    hint: str
    open: int
    waived: int


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str


@dataclass(frozen=True)
class PersonRolesView:
    person: PersonView
    roles: tuple[tuple[str, tuple[str, ...]], ...]
    open_findings: tuple[FindingView, ...]
    can_own: bool

    def roles_of(self, what: str) -> tuple[str, ...]:
        return next((items for name, items in self.roles if name == what), ())


@dataclass(frozen=True)
class SystemView:
    id: str
    name: str
    description: str
    sox_in_scope: bool
    owner: PersonView | None
    administrators: tuple[PersonView, ...]
    account_types: tuple[str, ...]
    controls: tuple[str, ...]
    current_extract: str
    current_extract_at: str
    findings: tuple[FindingView, ...]
    source: SourceRef


@dataclass(frozen=True)
class ConflictView:
    person: PersonView
    ruleset: str
    duties: str
    via: str
    has_exception: bool


@dataclass(frozen=True)
class SodView:
    duties: tuple[tuple[str, str, str], ...]
    matrix: tuple[tuple[PersonView, tuple[bool, ...]], ...]
    conflicts: tuple[ConflictView, ...]


@dataclass(frozen=True)
class BreakGlassView:
    id: str
    system: str
    account: str
    used_by: PersonView
    started: str
    ended: str
    ticket: str
    justification: str
    accepted_by: str
    reviewed_by: str
    reviewed_at: str
    status: str
    source: SourceRef


@dataclass(frozen=True)
class NhiView:
    id: str
    system: str
    account: str
    type: str
    owner: PersonView | None
    owner_ok: bool
    purpose: str
    credential_age_days: int | None
    rotation_days: int
    rotation_ok: bool
    last_interactive: str
    source: SourceRef


class CatalogViews:
    """Builds every view model once from a catalog and its evaluation."""

    def __init__(self, catalog: Catalog, evaluation: Evaluation, coverage: Coverage | None = None):
        self.catalog = catalog
        self.evaluation = evaluation
        self.coverage = coverage or compute_coverage(catalog, evaluation)
        shared = evaluation.context  # what evaluation derived (hashes, access) is reused
        self.ctx = (
            shared
            if shared is not None and shared.catalog is catalog
            else Context(catalog, evaluation.as_of)
        )
        self.as_of = evaluation.as_of

    # -- small helpers -------------------------------------------------------------

    def source(self, location: Location) -> SourceRef:
        """A finding's or record's location, as a repository path with an optional link."""
        path = location.file
        url = None
        base = self.catalog.settings.repo_url
        prefix = self.catalog.display_root.rstrip("/") + "/"
        rel = path[len(prefix) :] if path.startswith(prefix) else path
        if base and not path.startswith("/"):
            url = f"{base.rstrip('/')}/{rel}" + (f"#L{location.line}" if location.line else "")
        return SourceRef(path, location.line, url)

    def person(self, person_id: str | None) -> PersonView | None:
        if person_id is None:
            return None
        person: Person | None = self.catalog.people.get(person_id)
        if person is None:
            return PersonView(person_id, person_id, "", "unknown", False)
        return PersonView(
            person.id,
            person.name,
            person.title or "",
            str(person.kind),
            person.active_on(self.as_of),
        )

    def owner_id(self, control_id: str | None) -> str:
        if control_id is None or control_id not in self.catalog.controls:
            return ""
        entry = self.catalog.controls[control_id].owner_on(self.as_of)
        return entry.person if entry else ""

    def finding(self, finding: Finding) -> FindingView:
        rule = RULES_BY_ID.get(finding.rule)
        waiver = finding.waiver
        waiver_text = (
            f"Waived by {waiver.approver} until {waiver.expires} ({waiver.id}): {waiver.reason}"
            if waiver and not finding.is_open
            else None
        )
        return FindingView(
            rule=finding.rule,
            rule_name=rule.name if rule else "Internal error",
            severity=str(finding.severity),
            open=finding.is_open,
            control=finding.control,
            owner=self.owner_id(finding.control),
            subject=finding.subject,
            message=finding.message,
            hint=finding.hint,
            source=self.source(finding.location),
            waiver=waiver_text,
            notes=finding.notes,
        )

    # -- findings and rules --------------------------------------------------------

    @cached_property
    def findings(self) -> tuple[FindingView, ...]:
        """Every finding, open first, most severe first."""
        ordered = sorted(
            self.evaluation.findings,
            key=lambda f: (not f.is_open, f.severity.rank, *f.sort_key()),
        )
        return tuple(self.finding(f) for f in ordered)

    @cached_property
    def _findings_by_control(self) -> dict[str | None, list[FindingView]]:
        by_control: dict[str | None, list[FindingView]] = {}
        for finding in self.findings:
            by_control.setdefault(finding.control, []).append(finding)
        return by_control

    @cached_property
    def _open_index(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """Open findings (positions in :attr:`findings`) by control, and by subject and every
        part of a subject after a colon (``REV-2026Q1:j.doe`` is also under ``j.doe``)."""
        by_control: dict[str, list[int]] = {}
        by_subject: dict[str, list[int]] = {}
        for number, finding in enumerate(self.findings):
            if not finding.open:
                continue
            if finding.control:
                by_control.setdefault(finding.control, []).append(number)
            subject = finding.subject
            keys = {subject} | {subject[i + 1 :] for i, c in enumerate(subject) if c == ":"}
            for key in keys:
                by_subject.setdefault(key, []).append(number)
        return by_control, by_subject

    @cached_property
    def rules(self) -> tuple[RuleView, ...]:
        open_counts = Counter(f.rule for f in self.evaluation.open)
        waived = Counter(f.rule for f in self.evaluation.waived)
        return tuple(self._rule(r, open_counts[r.id], waived[r.id]) for r in RULES)

    @staticmethod
    def _rule(rule: Rule, open_count: int, waived: int) -> RuleView:
        return RuleView(
            rule.id, rule.name, rule.family, str(rule.severity), rule.summary, rule.doc, rule.hint,
            open_count, waived,
        )  # fmt: skip

    # -- controls ------------------------------------------------------------------

    @cached_property
    def controls(self) -> tuple[ControlView, ...]:
        return tuple(self.control(c) for c in self.catalog.controls.values())

    def control(self, control: Control) -> ControlView:
        period = self.catalog.settings.period
        findings = self._findings_by_control.get(control.id, [])
        open_findings = tuple(f for f in findings if f.open)
        owner_entry = control.owner_on(self.as_of)
        notes = tuple(n for n in self.evaluation.not_assessed if n.startswith(f"{control.id}:"))
        worst = open_findings[0].severity if open_findings else None
        if open_findings:
            status = "gaps"
        elif control.populations and not self.catalog.reviews_of(control.id):
            status = "not assessed"
        else:
            status = "no open findings"
        roles = control.roles
        retention = control.evidence_retention_years
        if retention is None:
            retention = self.catalog.settings.evidence_retention_years
        return ControlView(
            id=control.id,
            title=control.title,
            objective=control.objective or "",
            risk=control.risk or "",
            key=control.key,
            nature=str(control.nature),
            automation=str(control.automation),
            frequency=str(control.frequency),
            owner=self.person(owner_entry.person) if owner_entry else None,
            owner_history=tuple(
                OwnershipView(
                    person=self.person(o.person),  # type: ignore[arg-type]
                    since=o.since,
                    until=o.until,
                    in_period=o.since <= period.end
                    and (o.until is None or o.until >= period.start),
                    valid=self.catalog.people[o.person].is_person,
                )
                for o in sorted(control.owners, key=lambda o: o.since)
            ),
            executor=self.person(control.executor),
            roles=(
                RoleView("System owner", self.person(roles.system_owner)),
                RoleView("IAM operator", self.person(roles.iam_operator)),
                RoleView("Compliance validator", self.person(roles.compliance_validator)),
                RoleView("Application owner", self.person(roles.application_owner)),
            ),
            systems=tuple(control.systems),
            populations=tuple(
                PopulationView(
                    p.id,
                    p.name,
                    self.catalog.systems[p.system].name if p.system else "(no system)",
                    tuple(t.label for t in p.account_types),
                    p.selection or "",
                    any(t != AccountType.EMPLOYEE for t in p.account_types),
                )
                for p in control.populations
            ),
            approval=self._approval_text(control),
            procedure=control.procedure or "",
            retention_years=retention,
            reviews=tuple(self.review(r) for r in self.catalog.reviews_of(control.id)),
            sod_rulesets=tuple(control.sod_rulesets),
            exceptions=tuple(
                e
                for e in self.exceptions
                if e.compensating_control == control.id or e.ruleset in control.sod_rulesets
            ),
            open_findings=open_findings,
            waived_findings=tuple(f for f in findings if not f.open),
            mappings=self._mappings(control),
            not_assessed=notes,
            status=status,
            worst=worst,
            source=self.source(control.loc("id")),
            source_file=control.source_file,
        )

    @staticmethod
    def _approval_text(control: Control) -> str:
        if control.approval is None:
            return ""
        rule = control.approval
        who = {
            "manager": "the account holder's manager",
            "application-owner": "the application owner",
            "system-owner": "the system owner",
            "control-owner": "the control owner",
            "named": "one of: " + ", ".join(rule.people),
        }[str(rule.approver)]
        return f"Decided by {who}." + (f" {rule.description}" if rule.description else "")

    def _mappings(self, control: Control) -> tuple[MappingView, ...]:
        csf, nhi = load_csf(), load_owasp_nhi()
        out: list[MappingView] = []
        for ref in control.mappings.csf:
            result = resolve_csf(ref)
            element = (
                csf.get(ref)
                if result.status in (ResolutionStatus.EXACT, ResolutionStatus.IMPRECISE)
                else None
            )
            title = (
                getattr(element, "name", None) or getattr(element, "description", "")
                if element
                else result.message
            )
            out.append(MappingView("NIST CSF 2.0", ref, title, element is not None))
        for ref in control.mappings.owasp_nhi:
            result = resolve_nhi(ref)
            risk = nhi.get(ref) if result.status == ResolutionStatus.EXACT else None
            out.append(
                MappingView(
                    "OWASP NHI Top 10 (2025)",
                    ref,
                    risk.title if risk else result.message,
                    risk is not None,
                )
            )
        return tuple(out)

    def review(self, review: Review) -> ReviewView:
        due = self.ctx.due_date(review)
        items = review.items
        decisions = Counter(i.decision for i in items)
        revokes = [i for i in items if i.decision is not None and i.decision.needs_remediation]
        done = [i for i in revokes if i.remediation and i.remediation.completed]
        if review.completed is None:
            status = "overdue" if due < self.as_of else "in progress"
        elif review.completed > due:
            status = f"completed late ({(review.completed - due).days} days)"
        else:
            status = "completed on time"
        evidence = review.evidence
        evidence_view = None
        if evidence is not None:
            verified = None
            if evidence.file:
                check = self.ctx.extracts.check(evidence.file)
                verified = check.exists and (
                    evidence.sha256 is None or check.sha256 == evidence.sha256
                )
            evidence_view = EvidenceView(
                system=self.ctx.system_of(review) or "",
                source=evidence.source or "",
                extracted_at=evidence.extracted_at.isoformat() if evidence.extracted_at else "",
                records=str(evidence.records) if evidence.records is not None else "",
                file=evidence.file or "",
                sha256=evidence.sha256 or "",
                verified=verified,
            )
        remediation = (
            f"{len(done)} of {len(revokes)} revoke/modify decisions remediated"
            if revokes
            else "no access removed"
        )
        subjects = {review.id} | {f"{review.id}:{i.account}" for i in items}
        related = sum(
            1
            for f in self._findings_by_control.get(review.control, [])
            if f.open and (f.subject in subjects or f.subject.startswith(f"{review.id}:"))
        )
        return ReviewView(
            id=review.id,
            population=review.population,
            period=str(review.period),
            due=due,
            completed=review.completed,
            status=status,
            on_time=review.completed is not None and review.completed <= due,
            reviewers=tuple(p for p in (self.person(r) for r in review.reviewers) if p),
            evidence=evidence_view,
            items=len(items),
            kept=decisions.get(Decision.KEEP, 0),
            revoked=decisions.get(Decision.REVOKE, 0),
            modified=decisions.get(Decision.MODIFY, 0),
            undecided=decisions.get(None, 0),
            remediation=remediation,
            findings=related,
            source=self.source(review.loc("id")),
        )

    # -- registers -----------------------------------------------------------------

    @cached_property
    def exceptions(self) -> tuple[ExceptionView, ...]:
        out = []
        for exc in self.catalog.exceptions.values():
            if exc.expires is None:
                status = "no expiry"
            elif exc.expires < self.as_of:
                status = "expired"
            elif exc.granted > self.as_of:
                status = "not yet in force"
            else:
                status = f"expires in {(exc.expires - self.as_of).days} days"
            out.append(
                ExceptionView(
                    id=exc.id,
                    person=self.person(exc.person),  # type: ignore[arg-type]
                    ruleset=exc.ruleset,
                    conflict=" + ".join(exc.conflict),
                    requester=exc.requester or "",
                    approver=exc.approver or "",
                    business_owner=exc.business_owner or "",
                    control_owner=exc.control_owner or "",
                    justification=exc.justification or "",
                    compensating_control=exc.compensating_control or "",
                    granted=exc.granted,
                    expires=exc.expires,
                    age_days=max((self.as_of - exc.granted).days, 0),
                    status=status,
                    source=self.source(exc.loc("id")),
                )
            )
        return tuple(out)

    # -- dashboard -----------------------------------------------------------------

    @cached_property
    def severity_bars(self) -> tuple[Bar, ...]:
        counts = self.evaluation.by_severity()
        return tuple(Bar(str(s), counts[s], str(s)) for s in Severity)

    @cached_property
    def family_bars(self) -> tuple[Bar, ...]:
        families = {r.id: r.family for r in RULES}
        counts = Counter(families.get(f.rule, "internal") for f in self.evaluation.open)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(Bar(name, n, "family") for name, n in ordered)

    @cached_property
    def worst_controls(self) -> tuple[ControlView, ...]:
        """Controls with open findings, most critical first (at most ten)."""
        with_gaps = [c for c in self.controls if c.open_findings]
        ranked = sorted(
            with_gaps,
            key=lambda c: (
                tuple(-c.severity_counts[str(s)] for s in Severity),
                c.id,
            ),
        )
        return tuple(ranked[:10])

    @cached_property
    def ownership_health(self) -> tuple[int, int, int]:
        """(controls with a valid owner today, controls without, controls with an ownership finding)."""
        valid = sum(
            1
            for c in self.controls
            if c.owner is not None and c.owner.kind == "person" and c.owner.active
        )
        flagged = {f.control for f in self.evaluation.open if f.rule.startswith("OWN-")}
        return valid, len(self.controls) - valid, len(flagged)

    def coverage_rows(self, framework: str) -> tuple[ElementCoverage, ...]:
        return self.coverage.csf if framework == "csf" else self.coverage.nhi

    # -- people, systems, registers --------------------------------------------------

    @cached_property
    def people(self) -> tuple[PersonRolesView, ...]:
        """Everyone who holds a role, controls without a valid owner first."""
        roles: dict[str, dict[str, set[str]]] = {}

        def add(person: str | None, what: str, item: str) -> None:
            if person:
                roles.setdefault(person, {}).setdefault(what, set()).add(item)

        for control in self.catalog.controls.values():
            entry = control.owner_on(self.as_of)
            add(entry.person if entry else None, "owns", control.id)
            add(control.executor, "executes", control.id)
            for role in (
                "system_owner",
                "iam_operator",
                "compliance_validator",
                "application_owner",
            ):
                add(getattr(control.roles, role), role.replace("_", " "), control.id)
        for review in self.catalog.reviews.values():
            for person in {i.decided_by for i in review.items} | set(review.reviewers):
                add(person, "reviews", review.id)
        for exc in self.catalog.exceptions.values():
            add(exc.approver, "approves", exc.id)
        for waiver in self.catalog.waivers.values():
            add(waiver.approver, "approves", waiver.id)
        for event in self.catalog.break_glass.values():
            add(event.accepted_by, "approves", event.id)
        for nhi in self.catalog.nhis.values():
            add(nhi.owner, "owns NHI", nhi.account)
        out = []
        for person_id, held in roles.items():
            view = self.person(person_id)
            assert view is not None
            owned = held.get("owns", set())
            by_control, by_subject = self._open_index
            numbers = set(by_subject.get(person_id, ()))
            for control_id in owned:
                numbers.update(by_control.get(control_id, ()))
            related = tuple(self.findings[n] for n in sorted(numbers))
            out.append(
                PersonRolesView(
                    person=view,
                    roles=tuple(
                        (what, tuple(sorted(items))) for what, items in sorted(held.items())
                    ),
                    open_findings=related,
                    can_own=view.kind == "person" and view.active,
                )
            )
        return tuple(
            sorted(out, key=lambda p: (not (p.roles_of("owns") and not p.can_own), p.person.id))
        )

    @cached_property
    def unowned(self) -> tuple[ControlView, ...]:
        """Controls without a valid owner today (none, a team, or someone who left)."""
        return tuple(
            c
            for c in self.controls
            if c.owner is None or c.owner.kind != "person" or not c.owner.active
        )

    @cached_property
    def systems(self) -> tuple[SystemView, ...]:
        by_system: dict[str, list[FindingView]] = {}
        for finding in self.findings:
            if finding.open:
                by_system.setdefault(finding.subject.split(":")[0], []).append(finding)
        out = []
        for system in self.catalog.systems.values():
            current = self.ctx.current_extract(system.id)
            covering = sorted(
                {
                    c.id
                    for c in self.catalog.controls.values()
                    for p in c.populations
                    if p.system == system.id
                }
            )
            out.append(
                SystemView(
                    id=system.id,
                    name=system.name,
                    description=system.description or "",
                    sox_in_scope=system.sox_in_scope,
                    owner=self.person(system.owner),
                    administrators=tuple(
                        p for p in (self.person(a) for a in system.administrators) if p
                    ),
                    account_types=tuple(t.label for t in system.account_types),
                    controls=tuple(covering),
                    current_extract=current.file if current else "",
                    current_extract_at=current.extracted_at.isoformat()
                    if current and current.extracted_at
                    else "",
                    findings=tuple(by_system.get(system.id, ())),
                    source=self.source(system.loc("id")),
                )
            )
        return tuple(out)

    @cached_property
    def sod(self) -> SodView:
        conflicts = self.ctx.access.conflicts
        excepted = {
            (e.person, e.ruleset, frozenset(e.conflict)) for e in self.catalog.exceptions.values()
        }
        rows = tuple(
            ConflictView(
                person=self.person(c.person),  # type: ignore[arg-type]
                ruleset=c.ruleset,
                duties=" + ".join(c.duties),
                via=f"{c.first.entitlement} ({c.first.account}), {c.second.entitlement} ({c.second.account})",
                has_exception=(c.person, c.ruleset, frozenset(c.duties)) in excepted,
            )
            for c in conflicts
        )
        duties = tuple(
            (rs.id, duty.id, duty.name)
            for rs in self.catalog.rulesets.values()
            for duty in rs.duties
        )
        held: dict[str, set[tuple[str, str]]] = {}
        for person, ruleset, duty in self.ctx.access.holdings:
            held.setdefault(person, set()).add((ruleset, duty))
        matrix = tuple(
            (self.person(p), tuple((rs, d) in held[p] for rs, d, _ in duties))  # type: ignore[misc]
            for p in sorted(held)
        )
        return SodView(duties=duties, matrix=matrix, conflicts=rows)

    @cached_property
    def break_glass(self) -> tuple[BreakGlassView, ...]:
        limit = self.catalog.settings.break_glass_review_days
        out = []
        for event in self.catalog.break_glass.values():
            end = event.ended or event.started
            if not (
                event.justification
                and event.accepted_by
                and event.reviewed_by
                and event.reviewed_at
            ):
                status = "incomplete"
            elif (event.reviewed_at - end).days > limit:
                status = "reviewed late"
            else:
                status = "reviewed"
            out.append(
                BreakGlassView(
                    id=event.id,
                    system=event.system,
                    account=event.account,
                    used_by=self.person(event.used_by),  # type: ignore[arg-type]
                    started=event.started.isoformat(),
                    ended=event.ended.isoformat() if event.ended else "",
                    ticket=event.ticket or "",
                    justification=event.justification or "",
                    accepted_by=event.accepted_by or "",
                    reviewed_by=event.reviewed_by or "",
                    reviewed_at=event.reviewed_at.isoformat() if event.reviewed_at else "",
                    status=status,
                    source=self.source(event.loc("id")),
                )
            )
        return tuple(sorted(out, key=lambda e: e.started, reverse=True))

    @cached_property
    def nhis(self) -> tuple[NhiView, ...]:
        out = []
        for nhi in self.catalog.nhis.values():
            policy = nhi.rotation_days or self.catalog.settings.nhi_rotation_days
            age = (self.as_of - nhi.last_rotated).days if nhi.last_rotated else None
            last_login = max((i.at for i in nhi.interactive_logins), default=None)
            owner = self.person(nhi.owner)
            out.append(
                NhiView(
                    id=nhi.id,
                    system=nhi.system,
                    account=nhi.account,
                    type=str(nhi.type),
                    owner=owner,
                    owner_ok=owner is not None and owner.kind == "person" and owner.active,
                    purpose=nhi.purpose or "",
                    credential_age_days=age,
                    rotation_days=policy,
                    rotation_ok=age is not None and age <= policy,
                    last_interactive=last_login.isoformat() if last_login else "",
                    source=self.source(nhi.loc("id")),
                )
            )
        return tuple(out)
