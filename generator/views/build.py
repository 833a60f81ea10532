"""Builds the view models of a catalog and its evaluation (see :mod:`generator.views`)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import cached_property

import duckdb

from ..diagnostics import Location
from ..evaluation.coverage import Coverage, ElementCoverage
from ..evaluation.coverage import compute as compute_coverage
from ..evaluation.evaluate import Evaluation
from ..evaluation.findings import Finding, fingerprint
from ..evaluation.rules import RULES, RULES_BY_ID, Context, Rule
from ..evaluation.rules.context import add_months
from ..evaluation.status import ControlStatus, control_status
from ..evaluation.trendcache import TrendCache
from ..evidence.extracts import ExtractError
from ..model import AccountType, Catalog, Control, Decision, Period, Person, Review, Severity
from ..model.retention import describe, in_months
from ..model.urls import file_link
from ..references import ResolutionStatus, load_csf, load_owasp_nhi, resolve_csf, resolve_nhi
from . import registers
from .accessfacts import AccessFacts, AccessFactsCache, read_access_facts
from .types import (
    ALL_DECISIONS_MAX,
    LISTED,
    AccountView,
    Bar,
    BreakGlassView,
    ControlRow,
    ControlView,
    DecisionView,
    EvidenceView,
    ExceptionView,
    FindingView,
    HeatCellView,
    HeatRowView,
    MappingView,
    NhiView,
    OwnershipView,
    PersonRolesView,
    PersonView,
    PopulationView,
    ReviewQuarterView,
    ReviewView,
    RoleView,
    RuleView,
    SodView,
    SourceRef,
    StateExtractView,
    SystemView,
    TrendPointView,
    html_id,
)


class CatalogViews:
    """Builds every view model once from a catalog and its evaluation."""

    def __init__(
        self,
        catalog: Catalog,
        evaluation: Evaluation,
        coverage: Coverage | None = None,
        trend_cache: TrendCache | None = None,
        access_facts: AccessFactsCache | None = None,
    ):
        self.catalog = catalog
        self.trend_cache = trend_cache if trend_cache is not None else TrendCache()
        self.access_cache = access_facts
        """Where what the views read of the access index is kept across builds (None:
        read from the index each time)."""
        self.evaluation = evaluation
        self.coverage = coverage or compute_coverage(catalog, evaluation)
        shared = evaluation.context  # what evaluation derived (hashes, access) is reused
        self.ctx = (
            shared
            if shared is not None and shared.catalog is catalog
            else Context(catalog, evaluation.as_of)
        )
        self.as_of = evaluation.as_of
        self._people: dict[str, PersonView] = {}

    def release(self) -> None:
        """Free what the pages and narratives read once they are rendered: the access
        tables (millions of rows in DuckDB at enterprise size), the rules' indexes of the
        extracts and the systems' account lists. A view asked for afterwards is built
        again."""
        self.ctx.close()
        self.ctx.extracts.forget_indexes()
        self.__dict__.pop("systems", None)
        self.__dict__.pop("_state_accounts", None)
        self.__dict__.pop("access_facts", None)

    # -- small helpers -------------------------------------------------------------

    def source(self, location: Location) -> SourceRef:
        """A finding's or record's location, as a repository path with an optional link."""
        path = location.file
        url = None
        base = self.catalog.settings.repo_url
        prefix = self.catalog.display_root.rstrip("/") + "/"
        rel = path[len(prefix) :] if path.startswith(prefix) else path
        if base and not path.startswith("/"):
            url = file_link(base, rel, location.line)
        return SourceRef(path, location.line, url)

    def person(self, person_id: str | None) -> PersonView | None:
        """The view of a directory entry (or of an ID the directory does not know). One
        view per ID: at full size it is asked for millions of times (every decision's
        decider, every account's holder)."""
        if person_id is None:
            return None
        view = self._people.get(person_id)
        if view is None:
            person: Person | None = self.catalog.people.get(person_id)
            view = (
                PersonView(person_id, person_id, "", "unknown", False)
                if person is None
                else PersonView(
                    person.id,
                    person.name,
                    person.title or "",
                    str(person.kind),
                    person.active_on(self.as_of),
                )
            )
            self._people[person_id] = view
        return view

    def owner_id(self, control_id: str | None) -> str:
        if control_id is None or control_id not in self.catalog.controls:
            return ""
        entry = self.catalog.controls[control_id].owner_on(self.as_of)
        return entry.person if entry else ""

    def finding(self, finding: Finding, anchor: str = "") -> FindingView:
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
            anchor=anchor,
        )

    # -- findings and rules --------------------------------------------------------

    @cached_property
    def findings(self) -> tuple[FindingView, ...]:
        """Every finding, open first, most severe first."""
        ordered = sorted(
            self.evaluation.findings,
            key=lambda f: (not f.is_open, f.severity.rank, *f.sort_key()),
        )
        seen: Counter[str] = Counter()
        out = []
        for finding in ordered:
            key = fingerprint(finding)
            seen[key] += 1  # the same rule, control and subject twice: still two anchors
            anchor = f"f-{key[:12]}" + (f"-{seen[key]}" if seen[key] > 1 else "")
            out.append(self.finding(finding, anchor))
        return tuple(out)

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

    @cached_property
    def control_rows(self) -> tuple[ControlRow, ...]:
        """The controls list: a row per control, small enough that the list page's key
        stays cheap (each :class:`ControlView` holds every decision of its reviews)."""
        return tuple(
            ControlRow(c.id, c.title, c.owner, c.frequency, c.key, len(c.open_findings), c.status)
            for c in self.controls
        )

    def control(self, control: Control) -> ControlView:
        period = self.catalog.settings.period
        findings = self._findings_by_control.get(control.id, [])
        open_findings = tuple(f for f in findings if f.open)
        owner_entry = control.owner_on(self.as_of)
        notes = tuple(n.text for n in self.evaluation.not_assessed_for(control.id))
        worst = open_findings[0].severity if open_findings else None
        status = str(control_status(self.catalog, self.evaluation, control))
        roles = control.roles
        months = in_months(control)
        retention = describe(months if months is not None else in_months(self.catalog.settings))
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
            retention=retention,
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
        holders = self.ctx.accounts_people(review)
        listed = items
        if len(items) > ALL_DECISIONS_MAX:  # a large review: what changes access, or is missing
            listed = [i for i in items if i.decision is None or i.decision.needs_remediation]
        decisions_listed = tuple(
            DecisionView(
                account=item.account,
                system=self.ctx.item_system(review, item) or "",
                person=self.person(holders.get(self.ctx.item_key(review, item))),
                entitlement=item.entitlement or "",
                decision=str(item.decision) if item.decision else "",
                decided_by=self.person(item.decided_by),
                remediation=" ".join(
                    part
                    for part in (
                        item.remediation.ticket or "",
                        f"completed {item.remediation.completed}"
                        if item.remediation.completed
                        else "",
                    )
                    if part
                )
                if item.remediation
                else "",
            )
            for item in listed[:LISTED]
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
            decisions=decisions_listed,
            keeps_not_listed=len(items) - len(listed),
            items_file=review.items_file.file if review.items_file else "",
        )

    # -- registers -----------------------------------------------------------------

    @cached_property
    def exceptions(self) -> tuple[ExceptionView, ...]:
        return registers.exception_views(self)

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

    def _heat_cell(self, element: ElementCoverage, prefix: str) -> HeatCellView:
        """A framework element as a heat-map cell: its controls and their worst status."""
        status = {c.id: c.status for c in self.controls}
        worst_first = [str(s) for s in (ControlStatus.OPEN_FINDINGS, ControlStatus.NOT_ASSESSED)]
        held = {status[c] for c in element.controls if c in status}
        worst = (
            next((s for s in worst_first if s in held), str(ControlStatus.CLEAN))
            if element.controls
            else "not covered"
        )
        return HeatCellView(
            id=element.id,
            name=element.title,
            controls=len(element.controls),
            status=worst,
            open_findings=element.open_findings,
            anchor=html_id(element.id, prefix),
        )

    @cached_property
    def nhi_heatmap(self) -> tuple[HeatRowView, ...]:
        """The OWASP NHI Top 10 (2025) risks in one row, as the CSF heat map shows categories."""
        cells = tuple(self._heat_cell(e, "nhi") for e in self.coverage.nhi)
        return (HeatRowView("2025", "top 10", cells),)  # drawn as "Top 10 (2025)"

    @cached_property
    def csf_heatmap(self) -> tuple[HeatRowView, ...]:
        """CSF 2.0 functions (rows) by their categories: how many controls map to each
        category and the worst status among them."""

        rows: list[HeatRowView] = []
        function: ElementCoverage | None = None
        cells: list[HeatCellView] = []
        for element in (*self.coverage.csf, None):
            if element is None or element.level == "function":
                if function is not None:
                    rows.append(HeatRowView(function.id, function.title, tuple(cells)))
                function, cells = element, []
            elif element.level == "category":
                cells.append(self._heat_cell(element, "csf"))
        return tuple(rows)

    # -- the year at a glance ---------------------------------------------------------

    def quarters(self) -> tuple[Period, ...]:
        """The quarters of the assessed period that have started by the as-of date."""
        period = self.catalog.settings.period
        out = []
        start = period.start
        while start <= min(period.end, self.as_of):
            end = min(add_months(start, 3) - timedelta(days=1), period.end)
            out.append(Period(start=start, end=end))
            start = end + timedelta(days=1)
        return tuple(out)

    def _access_done(self) -> None:
        """Before the quarter ends are evaluated (each builds access tables as large as the
        as-of one): what the pages show of the as-of access tables (the systems' accounts,
        the SoD register) is built, then the tables are freed. At full size the quarter ends
        evaluated beside them took the build past 5 GB."""
        _ = self.systems, self.sod
        self.ctx.close()

    @cached_property
    def findings_trend(self) -> tuple[TrendPointView, ...]:
        """Open findings by severity at each quarter end up to the as-of date, and at the
        as-of date: the catalog evaluated again at each of those days (kept in the trend
        cache while nothing a rule reads changes, see :mod:`generator.evaluation.trendcache`)."""
        days = [q.end for q in self.quarters() if q.end < self.as_of]
        past = self.trend_cache.counts_at(
            self.catalog, days, self.ctx.extracts, before_evaluating=self._access_done
        )
        points = []
        for number, (day, counts) in enumerate(zip(days, past, strict=True), 1):
            points.append(
                TrendPointView(f"Q{number} end", day, tuple((str(s), counts[s]) for s in Severity))
            )
        counts = self.evaluation.by_severity()
        ends = [q.end for q in self.quarters()]
        label = f"Q{ends.index(self.as_of) + 1} end, as of" if self.as_of in ends else "as of"
        points.append(
            TrendPointView(label, self.as_of, tuple((str(s), counts[s]) for s in Severity))
        )
        return tuple(points)

    @cached_property
    def review_quarters(self) -> tuple[ReviewQuarterView, ...]:
        """Per quarter, the reviews due in it (each population of a periodic control, each
        period, as CAD-1 expects them): completed on time, late, missing at the as-of date,
        or not due yet."""
        quarters = self.quarters()
        tally = [[0, 0, 0, 0] for _ in quarters]  # on time, late, missing, not yet due
        for control in self.catalog.controls.values():
            reviews = self.catalog.reviews_of(control.id)
            for period in self.ctx.expected_periods(control):
                default_due = period.end + timedelta(days=self.ctx.due_days(control))
                for population in control.populations:
                    matching = [
                        r
                        for r in reviews
                        if r.population == population.id
                        and r.period.start <= period.start
                        and r.period.end >= period.end
                    ]
                    due = self.ctx.due_date(matching[0]) if matching else default_due
                    slot = next(
                        (i for i, q in enumerate(quarters) if q.start <= due <= q.end), None
                    )
                    if slot is None:
                        continue  # due after the as-of date's quarter or the period
                    done = [
                        r.completed
                        for r in matching
                        if r.completed is not None and r.completed <= self.as_of
                    ]
                    if done:
                        tally[slot][0 if min(done) <= due else 1] += 1
                    elif due < self.as_of:
                        tally[slot][2] += 1
                    else:
                        tally[slot][3] += 1
        return tuple(
            ReviewQuarterView(f"Q{n}", q.start, q.end, *counts)
            for n, (q, counts) in enumerate(zip(quarters, tally, strict=True), 1)
        )

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
    def access_facts(self) -> AccessFacts:
        """What the system pages and the SoD register show of the access index (see
        :mod:`.accessfacts`); raises ``ExtractError`` or ``duckdb.Error`` when the
        extracts cannot be read."""
        if self.access_cache is not None:
            return self.access_cache.facts(self.evaluation, self.ctx, LISTED)
        return read_access_facts(self.ctx, LISTED)

    @cached_property
    def _state_accounts(self) -> tuple[dict[str, list[AccountView]], dict[str, int], str]:
        """The accounts of each system's state at the as-of date, the first :data:`LISTED`
        of each system; the number of accounts per system; and why none could be read (""
        when they could)."""
        try:
            found = self.access_facts
        except (ExtractError, duckdb.Error) as exc:
            return {}, {}, f"the accounts could not be read ({exc})"
        labels = {str(t): t.label for t in AccountType}
        listed: dict[str, list[AccountView]] = {}
        for system, account, people, types, grants in found.rows:
            listed.setdefault(system, []).append(
                AccountView(
                    account=account,
                    people=tuple(p for p in map(self.person, people) if p),
                    account_types=", ".join(labels.get(t, t) for t in types),
                    entitlements=grants,
                )
            )
        return listed, found.totals, ""

    @cached_property
    def systems(self) -> tuple[SystemView, ...]:
        by_system: dict[str, list[FindingView]] = {}
        for finding in self.findings:
            if finding.open:
                by_system.setdefault(finding.subject.split(":")[0], []).append(finding)
        accounts, totals, accounts_note = self._state_accounts
        out = []
        for system in self.catalog.systems.values():
            state = tuple(
                StateExtractView(
                    file=part.extract.file,
                    taken=part.extract.extracted_at.isoformat()
                    if part.extract.extracted_at
                    else "",
                    account_types=", ".join(t.label for t in AccountType if t in part.types),
                )
                for part in self.ctx.states.get(system.id, ())
            )
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
                    state=state,
                    findings=tuple(by_system.get(system.id, ())),
                    source=self.source(system.loc("id")),
                    accounts=tuple(accounts.get(system.id, ())),
                    accounts_total=totals.get(system.id, 0),
                    accounts_note=accounts_note if state else "",
                )
            )
        return tuple(out)

    @cached_property
    def sod(self) -> SodView:
        return registers.sod_view(self)

    @cached_property
    def break_glass(self) -> tuple[BreakGlassView, ...]:
        return registers.break_glass_views(self)

    @cached_property
    def nhis(self) -> tuple[NhiView, ...]:
        return registers.nhi_views(self)
