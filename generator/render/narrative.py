"""View models of one auditor narrative: the shared :class:`ControlView` plus what only the PDF
shows (each decision of each review, sign-offs, attachments, break-glass approvals) and the
evidence manifest (every file relied on, with its sha256 as recorded and as found).

Everything here is plain, picklable data computed in Python; the template only presents it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from ..diagnostics import did_you_mean
from ..errors import InputError
from ..evaluation.sampling import draw
from ..evaluation.status import ControlStatus
from ..model import AccountType, Catalog, Review, ReviewItem
from ..references import CsfSubcategory, load_csf, load_owasp_nhi
from ..views import (
    BreakGlassView,
    CatalogViews,
    ControlView,
    EvidenceView,
    ExceptionView,
    MappingView,
    PersonView,
    ReviewView,
)
from .decisions import (
    AuditSample,
    DecisionList,
    Reviewers,
    Selection,
    reviewers,
    select,
    summarised,
)

MANIFEST_NAME = "evidence-manifest.json"
MANIFEST_FORMAT = "controlbook-evidence-manifest"


class UnknownControl(InputError):
    """A narrative was asked for a control ID the catalog does not define."""


@dataclass(frozen=True)
class ItemView:
    """One decision of a review, with what was late or missing about it."""

    account: str
    entitlement: str
    decision: str
    decided_by: str
    decided_at: str
    ticket: str
    remediated: str
    comment: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class FileView:
    """An evidence file: its recorded hash, the hash found when the narrative was rendered."""

    path: str
    description: str
    recorded: str
    found: str
    status: str
    ok: bool


@dataclass(frozen=True)
class ReviewDetail:
    """A review of the period with everything an auditor re-performs."""

    review: ReviewView
    started: str
    sign_off: str
    retain_until: str
    items: tuple[ItemView, ...]
    late: tuple[ItemView, ...]
    attachments: tuple[FileView, ...]
    shown: tuple[ItemView, ...]
    """The decisions the table shows: all of them, or in a large narrative the exceptions to
    the rule and the plain keeps of the control's audit sample (see :mod:`.decisions`)."""
    selection: Selection
    reviewers: Reviewers
    """The reviewers named in the text: all, or for a large review those not employed named
    persons, the whole list attached (see :mod:`.decisions`)."""


@dataclass(frozen=True)
class ExceptionRow:
    exception: ExceptionView
    requester: str
    approver: str
    business_owner: str
    control_owner: str


@dataclass(frozen=True)
class BreakGlassRow:
    event: BreakGlassView
    started: str
    ended: str
    accepted_by: str
    reviewed_by: str
    reviewed_at: str


@dataclass(frozen=True)
class SystemRow:
    id: str
    name: str
    owner: str
    in_scope: bool


@dataclass(frozen=True)
class MappingRow:
    """A framework reference with its official name (CSF: the category; OWASP: the risk)."""

    framework: str
    id: str
    name: str
    description: str
    valid: bool


@dataclass(frozen=True)
class IpeRow:
    """The population evidence (IPE) of one review."""

    review: str
    population: str
    evidence: EvidenceView | None
    extracted_at: str


@dataclass(frozen=True)
class ManifestEntry:
    """One file the narrative relies on, catalog-relative."""

    path: str
    roles: tuple[str, ...]
    recorded_sha256: str | None
    sha256: str | None

    @property
    def status(self) -> str:
        if self.sha256 is None:
            return "missing"
        if self.recorded_sha256 is None:
            return "hashed at rendering"
        if self.recorded_sha256 == self.sha256:
            return "matches the recorded hash"
        return "differs from the recorded hash"

    @property
    def ok(self) -> bool:
        return self.sha256 is not None and self.recorded_sha256 in (None, self.sha256)


@dataclass(frozen=True)
class Narrative:
    """Everything one control's narrative shows."""

    control: ControlView
    organisation: str
    classification: str
    period: str
    as_of: date
    status: str
    status_tone: str
    status_notes: tuple[str, ...]
    systems: tuple[SystemRow, ...]
    ipe: tuple[IpeRow, ...]
    reviews: tuple[ReviewDetail, ...]
    sample: AuditSample | None
    """The control's audit sample when the reviews hold too many decisions to print them all
    (its plain keeps are the keeps shown); ``None`` when every decision is shown."""
    exceptions: tuple[ExceptionRow, ...]
    break_glass: tuple[BreakGlassRow, ...]
    mappings: tuple[MappingRow, ...]
    manifest: tuple[ManifestEntry, ...]
    source_path: str
    source_yaml: bytes

    @property
    def source_name(self) -> str:
        return self.source_path.rsplit("/", 1)[-1]

    def data(self) -> dict[str, object]:
        """The narrative as JSON-ready data (the YAML and decision lists by their hash), in
        a stable order.

        A review whose decisions (or reviewers) are attached as CSV enters by that list's
        hash and the rows printed, not decision by decision: converting the 3,300 decisions
        and 3,000 reviewers of a full-size user access review took a third of a second per
        narrative, in the main process of the build. The site's list of a review's decisions
        (:attr:`ReviewView.decisions`) is not printed here, so not hashed either."""
        details = tuple(_digestible(d) for d in self.reviews)
        trimmed = {d.review.id: d.review for d in details}
        control = replace(
            self.control,
            reviews=tuple(
                trimmed.get(r.id) or replace(r, decisions=()) for r in self.control.reviews
            ),
        )
        data = asdict(replace(self, control=control, reviews=details))
        data["source_yaml"] = hashlib.sha256(self.source_yaml).hexdigest()
        for review, detail in zip(data["reviews"], self.reviews, strict=True):
            if detail.selection.full_list is not None:
                review["selection"]["full_list"]["data"] = detail.selection.full_list.sha256
            if detail.reviewers.full_list is not None:
                review["reviewers"]["full_list"]["data"] = detail.reviewers.full_list.sha256
        return data

    @property
    def decision_lists(self) -> tuple[DecisionList, ...]:
        """The complete decision lists of the large reviews (attached as CSV)."""
        return tuple(d.selection.full_list for d in self.reviews if d.selection.full_list)

    @property
    def attached_lists(self) -> tuple[DecisionList, ...]:
        """Every CSV attached: the decision lists and the reviewer lists of large reviews."""
        lists = (x for d in self.reviews for x in (d.selection.full_list, d.reviewers.full_list))
        return tuple(x for x in lists if x is not None)

    @cached_property
    def digest(self) -> str:
        """sha256 of every input shown or attached (the key of its cached PDF)."""
        text = json.dumps(self.data(), sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def version(self) -> str:
        """Document version: a short hash of every input shown or attached."""
        return self.digest[:12]

    @property
    def weight(self) -> int:
        """Rough rendering cost: the rows of its tables (the decisions shown dominate; a large
        review's full list is only attached), to start the largest first."""
        reviews = sum(len(r.shown) + len(r.late) + len(r.attachments) for r in self.reviews)
        rows = len(self.manifest) + len(self.exceptions) + len(self.break_glass)
        return 50 + reviews + rows + len(self.control.open_findings)

    def manifest_json(self) -> bytes:
        """The attached evidence manifest (also what ``verify`` re-hashes)."""
        body = {
            "format": MANIFEST_FORMAT,
            "format_version": 1,
            "organisation": self.organisation,
            "control": self.control.id,
            "as_of": self.as_of.isoformat(),
            "document_version": self.version,
            "source": self.source_path,
            "files": [
                {
                    "path": e.path,
                    "roles": list(e.roles),
                    "sha256_recorded": e.recorded_sha256,
                    "sha256": e.sha256,
                    "status": e.status,
                }
                for e in self.manifest
            ],
        }
        if self.attached_lists:
            body["attachments"] = [
                {"name": d.name, "sha256": d.sha256, "rows": d.rows, "content": d.content}
                for d in self.attached_lists
            ]
        return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _digestible(detail: ReviewDetail) -> ReviewDetail:
    """``detail`` without what only its attached lists hold (each list is in the digest by
    its sha256; the decisions and reviewers printed stay) and without the site's list of
    decisions."""
    review = replace(detail.review, decisions=())
    if detail.reviewers.full_list is not None:
        review = replace(review, reviewers=())
    items = () if detail.selection.full_list is not None else detail.items
    return replace(detail, review=review, items=items)


def catalog_rel(catalog: Catalog, shown: str) -> str:
    """A path as shown in locations (``controls/reviews/x.yaml``), relative to the catalog."""
    if catalog.display_root in ("", "."):
        return shown
    prefix = catalog.display_root.rstrip("/") + "/"
    return shown[len(prefix) :] if shown.startswith(prefix) else shown


def _label(person: PersonView | None, fallback: str = "") -> str:
    return person.label if person else fallback


def _stamp(value: datetime | None) -> str:
    """A timestamp in UTC to the minute (catalog timestamps always carry a zone), as
    ``2026-04-08 16:47 UTC``: the ISO form cut to the minute, which is quicker than
    ``strftime`` (1.3 against 1.6 microseconds, for every decision of every review)."""
    if not value:
        return ""
    return value.astimezone(UTC).isoformat(" ", "minutes").removesuffix("+00:00") + " UTC"


class _Builder:
    """Builds the narratives of one catalog evaluation (shares hashing and lookups)."""

    def __init__(self, views: CatalogViews) -> None:
        self.views = views
        self.catalog = views.catalog
        self.settings = views.catalog.settings
        self.files: dict[str, ManifestEntry] = {}

    def who(self, person_id: str | None) -> str:
        return _label(self.views.person(person_id), "nobody") if person_id else "nobody"

    def source(self, shown: str, role: str) -> None:
        """A catalog file named as shown in locations (its record's ``source_file``)."""
        self.relied_on(catalog_rel(self.catalog, shown), role)

    def relied_on(self, rel: str, role: str, recorded: str | None = None) -> None:
        """A catalog-relative file the narrative relies on, with its hash at sign-off if any."""
        old = self.files.get(rel)
        if old is not None and role in old.roles and recorded in (None, old.recorded_sha256):
            return  # the same entry (asked for every decider of every review)
        check = self.views.ctx.extracts.check(rel)
        roles = tuple(sorted({*(old.roles if old else ()), role}))
        recorded = recorded or (old.recorded_sha256 if old else None)
        self.files[rel] = ManifestEntry(
            rel, roles, recorded, check.sha256 if check.exists else None
        )

    def item(self, item: ReviewItem, due: date) -> ItemView:
        problems: list[str] = []
        decided = item.decided_at.date() if item.decided_at else None
        if item.decision is None:
            problems.append("no decision recorded")
        elif decided and decided > due:
            problems.append(f"decided {(decided - due).days} day(s) after the due date {due}")
        remediation = item.remediation
        if item.decision is not None and item.decision.needs_remediation:
            sla = self.settings.remediation_sla_days
            if remediation is None or remediation.completed is None:
                problems.append("removal of access not recorded as completed")
            elif decided and remediation.completed > decided + timedelta(days=sla):
                days = (remediation.completed - decided).days
                problems.append(f"access removed {days} days after the decision (SLA {sla} days)")
            if remediation is None or not remediation.ticket:
                problems.append("no remediation ticket")
        return ItemView(
            account=item.account,
            entitlement=item.entitlement or "",
            decision=str(item.decision) if item.decision else "",
            decided_by=self.who(item.decided_by) if item.decided_by else "",
            decided_at=_stamp(item.decided_at).removesuffix(" UTC"),  # the column says UTC
            ticket=(remediation.ticket or "") if remediation else "",
            remediated=remediation.completed.isoformat()
            if remediation and remediation.completed
            else "",
            comment=item.comment or "",
            problems=tuple(problems),
        )

    def review(self, review: Review, view: ReviewView, sample: AuditSample | None) -> ReviewDetail:
        self.source(review.source_file, "review record")
        if review.evidence and review.evidence.file:
            self.relied_on(review.evidence.file, "population extract (IPE)", review.evidence.sha256)
        attachments = []
        for attachment in review.attachments:
            self.relied_on(attachment.file, "review attachment", attachment.sha256)
            entry = self.files[attachment.file]
            attachments.append(
                FileView(
                    attachment.file,
                    attachment.description or "",
                    attachment.sha256 or "not recorded",
                    entry.sha256 or "file missing",
                    entry.status,
                    entry.ok and attachment.sha256 is not None,
                )
            )
        for person in {*review.reviewers, *(i.decided_by for i in review.items if i.decided_by)}:
            self.person_file(person)
        items = tuple(self.item(i, view.due) for i in review.items)
        named = {
            f.subject
            for f in self.views.evaluation.for_control(review.control)
            if f.is_open and f.subject.startswith(f"{review.id}:")
        }
        flagged = [
            bool(v.problems) or f"{review.id}:{i.account}" in named
            for i, v in zip(review.items, items, strict=True)
        ]
        selection = select(review, flagged, sample)
        sign_off = review.sign_off
        return ReviewDetail(
            review=view,
            started=review.started.isoformat() if review.started else "",
            sign_off=f"{self.who(sign_off.by)} on {_stamp(sign_off.at)}" if sign_off else "",
            retain_until=review.retain_until.isoformat() if review.retain_until else "",
            items=items,
            late=tuple(i for i in items if i.problems),
            attachments=tuple(attachments),
            shown=tuple(items[i] for i in selection.shown),
            selection=selection,
            reviewers=reviewers(review.id, view.reviewers),
        )

    def person_file(self, person_id: str | None) -> None:
        person = self.catalog.people.get(person_id or "")
        if person is not None:
            self.source(person.source_file, "directory (people and employment dates)")

    def build(self, control: ControlView) -> Narrative:
        self.files = {}
        catalog, views = self.catalog, self.views
        model = catalog.controls[control.id]
        source_rel = catalog_rel(catalog, control.source_file)
        source_path = catalog.resolve(source_rel)
        source_yaml = source_path.read_bytes() if source_path and source_path.is_file() else b""
        self.source(control.source_file, "control definition")
        self.source(self.settings.source_file, "catalog settings (period, policy)")
        for person in (
            *(o.person for o in model.owners),
            model.executor,
            *(getattr(model.roles, r) for r in type(model.roles).model_fields),
        ):
            self.person_file(person)
        period = self.settings.period
        reviews = [
            r
            for r in catalog.reviews_of(control.id)
            if r.period.start <= period.end and r.period.end >= period.start
        ]
        by_id = {r.id: r for r in control.reviews}
        sample = None
        if summarised(sum(len(r.items) for r in reviews)):
            drawn = draw(catalog, views.evaluation, model, period=period)
            sample = AuditSample.of(drawn)
        details = tuple(self.review(r, by_id[r.id], sample) for r in reviews)
        systems = []
        for system_view in views.systems:
            if system_view.id in control.systems:
                system = catalog.systems[system_view.id]
                self.source(system.source_file, "system inventory")
                for part in views.ctx.states.get(system.id, ()):
                    self.relied_on(
                        part.extract.file,
                        "accounts extract in the state of the system (SoD, leavers)",
                    )
                systems.append(
                    SystemRow(
                        system_view.id,
                        system_view.name,
                        _label(system_view.owner, "nobody"),
                        system_view.sox_in_scope,
                    )
                )
        for ruleset in control.sod_rulesets:
            if ruleset in catalog.rulesets:
                self.source(catalog.rulesets[ruleset].source_file, "SoD rule set")
        exceptions = []
        for exc in control.exceptions:
            self.source(exc.source.path, "SoD exception register")
            exceptions.append(
                ExceptionRow(
                    exc,
                    self.who(exc.requester or None),
                    self.who(exc.approver or None),
                    self.who(exc.business_owner or None),
                    self.who(exc.control_owner or None),
                )
            )
        events = []
        by_event = {e.id: e for e in views.break_glass}
        for event in catalog.break_glass.values():
            governing = event.control or views.ctx.control_for_system(
                event.system, AccountType.BREAK_GLASS
            )
            if governing == control.id and event.id in by_event:
                self.source(event.source_file, "break-glass log")
                events.append(
                    BreakGlassRow(
                        event=by_event[event.id],
                        started=_stamp(event.started),
                        ended=_stamp(event.ended),
                        accepted_by=self.who(event.accepted_by),
                        reviewed_by=self.who(event.reviewed_by),
                        reviewed_at=_stamp(event.reviewed_at),
                    )
                )
        for waiver in catalog.waivers.values():
            if waiver.control == control.id and control.waived_findings:
                self.source(waiver.source_file, "waiver register")
        status, tone, notes = _status(control, details)
        return Narrative(
            control=control,
            organisation=self.settings.organisation,
            classification=self.settings.classification,
            period=str(period),
            as_of=views.as_of,
            status=status,
            status_tone=tone,
            status_notes=notes,
            systems=tuple(systems),
            ipe=tuple(
                IpeRow(
                    r.id,
                    r.population,
                    d.review.evidence,
                    _stamp(r.evidence.extracted_at) if r.evidence else "",
                )
                for r, d in zip(reviews, details, strict=True)
            ),
            reviews=details,
            sample=sample,
            exceptions=tuple(exceptions),
            break_glass=tuple(sorted(events, key=lambda e: (e.started, e.event.id))),
            mappings=tuple(_mapping(m) for m in control.mappings),
            manifest=tuple(sorted(self.files.values(), key=lambda e: e.path)),
            source_path=source_rel,
            source_yaml=source_yaml,
        )


def _mapping(mapping: MappingView) -> MappingRow:
    if not mapping.valid:
        return MappingRow(mapping.framework, mapping.id, "", mapping.title, False)
    subcategory = load_csf().get(mapping.id) if mapping.framework.startswith("NIST") else None
    if isinstance(subcategory, CsfSubcategory):
        category = subcategory.category
        name = f"{category.name} ({category.id})"
        return MappingRow(mapping.framework, mapping.id, name, subcategory.description, True)
    risk = load_owasp_nhi().get(mapping.id)
    description = risk.description if risk else ""
    return MappingRow(mapping.framework, mapping.id, mapping.title, description, True)


def _status(
    control: ControlView, reviews: tuple[ReviewDetail, ...]
) -> tuple[str, str, tuple[str, ...]]:
    """The headline of the control's status (decided by
    :func:`generator.evaluation.status.control_status`, as on the site), its style, and the
    notes on what was not assessed."""
    notes = list(control.not_assessed)
    if not reviews:
        notes.insert(
            0,
            "No review of this control is recorded for the period: its operation is not assessed.",
        )
    if control.status == ControlStatus.OPEN_FINDINGS:
        count = len(control.open_findings)
        return (
            f"{count} open finding{'s' if count > 1 else ''} (worst: {control.worst})",
            "bad",
            tuple(notes),
        )
    if control.status == ControlStatus.NOT_ASSESSED:
        return "Not assessed", "warn", tuple(notes)
    return "Clean: no open findings, nothing unassessed", "neutral", tuple(notes)


def selected_controls(views: CatalogViews, controls: list[str] | None = None) -> list[str]:
    """The IDs of ``controls`` (default: every control), in catalog order.

    Raises :class:`UnknownControl` for an ID the catalog does not define.
    """
    wanted = set(controls) if controls else None
    known = [c.id for c in views.controls]
    unknown = sorted((wanted or set()) - set(known))
    if unknown:
        hint = did_you_mean(unknown[0], known)
        raise UnknownControl(f"no control {', '.join(map(repr, unknown))} in the catalog{hint}")
    return [c for c in known if wanted is None or c in wanted]


def build_narratives(views: CatalogViews, controls: list[str] | None = None) -> list[Narrative]:
    """Narratives of ``controls`` (default: every control), in catalog order.

    Raises :class:`UnknownControl` for an ID the catalog does not define.
    """
    wanted = set(selected_controls(views, controls))
    builder = _Builder(views)
    return [builder.build(c) for c in views.controls if c.id in wanted]
