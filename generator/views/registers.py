"""The register views: SoD matrix and exceptions, break-glass use, non-human identities."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Protocol

from ..diagnostics import Location
from ..evaluation.rules import Context
from ..evaluation.validity import (
    ExceptionStatus,
    covering_exception,
    exception_status,
    exceptions_for,
)
from ..model import Catalog
from .types import (
    BreakGlassView,
    ConflictView,
    ExceptionView,
    FindingView,
    NhiView,
    PersonView,
    SodRowView,
    SodView,
    SourceRef,
    html_id,
)


class CatalogViews(Protocol):
    """What the registers need of :class:`generator.views.CatalogViews`."""

    catalog: Catalog
    ctx: Context
    as_of: date

    @property
    def findings(self) -> tuple[FindingView, ...]: ...

    def source(self, location: Location) -> SourceRef: ...

    def person(self, person_id: str | None) -> PersonView | None: ...


def exception_views(views: CatalogViews) -> tuple[ExceptionView, ...]:
    """SoD exceptions with their status on the as-of date."""
    out = []
    for exc in views.catalog.exceptions.values():
        state = exception_status(exc, views.as_of)
        status = str(state)
        if state is ExceptionStatus.IN_FORCE and exc.expires is not None:
            status = f"expires in {(exc.expires - views.as_of).days} days"
        out.append(
            ExceptionView(
                id=exc.id,
                person=views.person(exc.person),  # type: ignore[arg-type]
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
                age_days=max((views.as_of - exc.granted).days, 0),
                status=status,
                source=views.source(exc.loc("id")),
            )
        )
    return tuple(out)


# -- dashboard -----------------------------------------------------------------


def exception_anchor(exception_id: str) -> str:
    """The fragment of an exception's row in the exceptions register."""
    return html_id(exception_id, "exc")


def _judged_by(
    views: CatalogViews, person: str, ruleset: str, duties: tuple[str, str]
) -> tuple[str, str]:
    """Where a held conflict is judged, as (link from the site root, label): the exception
    in force, else the open finding about it (SOD-3 without an exception, an EXC rule on its
    expired one), else the findings page."""
    covering = covering_exception(views.catalog, person, ruleset, duties, views.as_of)
    if covering is not None:
        return f"exceptions.html#{exception_anchor(covering.id)}", f"exception {covering.id}"
    recorded = {e.id for e in exceptions_for(views.catalog, person, ruleset, duties)}
    unexcepted = f"holds conflicting duties {duties[0]} and {duties[1]} ({ruleset}:"
    for finding in views.findings:
        if not finding.open:
            continue
        if (
            finding.rule == "SOD-3" and finding.subject == person and unexcepted in finding.message
        ) or (finding.rule.startswith("EXC-") and finding.subject in recorded):
            return f"findings/index.html#{finding.anchor}", f"finding {finding.rule}"
    return "findings/index.html", "findings"


def sod_view(views: CatalogViews) -> SodView:
    """The duties matrix (who holds which duty) and the held conflicts."""
    conflicts = views.access_facts.conflicts

    def exception_note(person: str, ruleset: str, duties: tuple[str, str]) -> str:
        covering = covering_exception(views.catalog, person, ruleset, duties, views.as_of)
        if covering is not None:
            until = f" until {covering.expires}" if covering.expires else ", no expiry"
            return f"{covering.id}{until}"
        return ""

    def conflict_view(c: Any) -> ConflictView:
        link, label = _judged_by(views, c.person, c.ruleset, c.duties)
        return ConflictView(
            person=views.person(c.person),  # type: ignore[arg-type]
            ruleset=c.ruleset,
            duties=" + ".join(c.duties),
            via=f"{c.first.entitlement} ({c.first.account}), {c.second.entitlement} ({c.second.account})",
            exception=exception_note(c.person, c.ruleset, c.duties),
            duty_ids=(c.duties[0], c.duties[1]),
            link=link,
            link_label=label,
        )

    rows = tuple(conflict_view(c) for c in conflicts)
    duties = tuple(
        (rs.id, duty.id, duty.name) for rs in views.catalog.rulesets.values() for duty in rs.duties
    )
    held: dict[str, set[tuple[str, str]]] = {}
    for person, ruleset, duty in views.access_facts.holdings:
        held.setdefault(person, set()).add((ruleset, duty))
    matrix = tuple(
        (views.person(p), tuple((rs, d) in held[p] for rs, d, _ in duties))  # type: ignore[misc]
        for p in sorted(held)
    )
    picture = []
    for person, cells in matrix:
        own = tuple(c for c in rows if c.person.id == person.id)
        in_conflict = {(c.ruleset, d) for c in own for d in c.duty_ids}
        states = tuple(
            ("conflict" if (rs, d) in in_conflict else "held") if cell else ""
            for (rs, d, _), cell in zip(duties, cells, strict=True)
        )
        picture.append(SodRowView(person=person, cells=states, conflicts=own))
    pairs = tuple(
        (rs.id, conflict.duties[0], conflict.duties[1])
        for rs in views.catalog.rulesets.values()
        for conflict in rs.conflicts
    )
    return SodView(duties=duties, matrix=matrix, conflicts=rows, rows=tuple(picture), pairs=pairs)


def break_glass_views(views: CatalogViews) -> tuple[BreakGlassView, ...]:
    """Break-glass uses with their review status."""
    limit = views.catalog.settings.break_glass_review_days
    out = []
    for event in views.catalog.break_glass.values():
        end = event.ended or event.started
        if not (
            event.justification and event.accepted_by and event.reviewed_by and event.reviewed_at
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
                used_by=views.person(event.used_by),  # type: ignore[arg-type]
                started=event.started.isoformat(),
                ended=event.ended.isoformat() if event.ended else "",
                ticket=event.ticket or "",
                justification=event.justification or "",
                accepted_by=event.accepted_by or "",
                reviewed_by=event.reviewed_by or "",
                reviewed_at=event.reviewed_at.isoformat() if event.reviewed_at else "",
                status=status,
                source=views.source(event.loc("id")),
                times=(_utc(event.started), _utc(event.ended), _utc(event.reviewed_at)),
            )
        )
    return tuple(sorted(out, key=lambda e: e.started, reverse=True))


def _utc(value: datetime | None) -> tuple[str, str]:
    """A timestamp in UTC to the minute as (day, time), as the narratives print it
    (catalog timestamps always carry a zone)."""
    if value is None:
        return ("", "")
    utc = value.astimezone(UTC)
    return (utc.strftime("%Y-%m-%d"), utc.strftime("%H:%M UTC"))


def nhi_views(views: CatalogViews) -> tuple[NhiView, ...]:
    """Non-human identities with owner, rotation and use."""
    out = []
    for nhi in views.catalog.nhis.values():
        policy = nhi.rotation_days or views.catalog.settings.nhi_rotation_days
        age = (views.as_of - nhi.last_rotated).days if nhi.last_rotated else None
        last_login = max((i.at for i in nhi.interactive_logins), default=None)
        owner = views.person(nhi.owner)
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
                source=views.source(nhi.loc("id")),
            )
        )
    return tuple(out)
