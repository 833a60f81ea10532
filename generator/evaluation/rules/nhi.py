"""Non-human identities: owned by an employed person, rotated, never used by a human."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ...diagnostics import Location
from ...evidence.credentials import Sidecar
from ...model import AccountType, NonHumanIdentity, Severity
from ..findings import Gap
from .base import rule
from .context import Context


def _control(ctx: Context, nhi: NonHumanIdentity) -> str | None:
    return ctx.control_for_system(nhi.system, AccountType.SERVICE)


@rule(
    "NHI-1",
    "Non-human identity without an active human owner",
    "nhi",
    Severity.HIGH,
    hint="Assign an employed person as owner, or decommission the identity.",
)
def orphaned_nhi(ctx: Context) -> Iterator[Gap]:
    """Every service account, key or token has an accountable human owner who is still employed.

    Orphaned machine identities are the first item of the OWASP NHI Top 10
    (Improper Offboarding): nobody rotates, reviews or retires them, and their
    credentials outlive the people who knew about them.

    Fix: name an owner in the NHI inventory, or disable the identity.
    """
    for nhi in ctx.catalog.nhis.values():
        if nhi.owner is None:
            yield Gap(
                _control(ctx, nhi), nhi.id, f"{nhi.account} ({nhi.id}) has no owner", nhi.loc("id")
            )
        elif not ctx.active(nhi.owner, ctx.as_of):
            yield Gap(
                _control(ctx, nhi),
                nhi.id,
                f"{nhi.account} ({nhi.id}) is owned by '{nhi.owner}', who is not an employed person at {ctx.as_of}",
                nhi.loc("owner"),
            )


@rule(
    "NHI-2",
    "Credential older than its rotation policy",
    "nhi",
    Severity.MEDIUM,
    hint="Rotate the credential and record the date.",
)
def stale_credential(ctx: Context) -> Iterator[Gap]:
    """Machine credentials rotate within their policy.

    A long-lived secret is a long-lived opportunity: leaked keys stay valid and
    former staff who saw them keep access (OWASP NHI7, Long-Lived Secrets).

    When the newest imported state of the identity's system shows its account (the
    details of ``controlbook import``), its active credentials' rotation dates are what
    is judged, the oldest first; otherwise the inventory's ``last_rotated``.

    Fix: rotate, then update ``last_rotated`` (or import the system again).
    """
    for nhi in ctx.catalog.nhis.values():
        policy = nhi.rotation_days or ctx.settings.nhi_rotation_days
        sidecar = ctx.imported_credentials(nhi.system, nhi.account)
        if sidecar is not None:
            yield from _stale_imported(ctx, nhi, sidecar, policy)
            continue
        if nhi.last_rotated is None:
            yield Gap(
                _control(ctx, nhi),
                nhi.id,
                f"{nhi.account} ({nhi.id}) has no recorded rotation",
                nhi.loc("id"),
            )
            continue
        age = (ctx.as_of - nhi.last_rotated).days
        if age > policy:
            yield Gap(
                _control(ctx, nhi),
                nhi.id,
                f"{nhi.account} ({nhi.id}) was last rotated {age} days ago; the policy is {policy} days",
                nhi.loc("last_rotated"),
            )


def _taken(sidecar: Sidecar) -> str:
    moment = sidecar.extract.extracted_at
    return f"{sidecar.extract.file}" + (f", taken {moment.date()}" if moment else "")


def _stale_imported(
    ctx: Context, nhi: NonHumanIdentity, sidecar: Sidecar, policy: int
) -> Iterator[Gap]:
    """NHI-2 from an imported state: every active credential must be dated and younger
    than the policy; an inactive one cannot be used and is not judged."""
    active = [f for f in sidecar.of(nhi.account) if f.active]
    undated = [f for f in active if f.last_rotated is None]
    for fact in undated:
        said = f" ({fact.last_rotated_text})" if fact.last_rotated_text else ""
        yield Gap(
            _control(ctx, nhi),
            nhi.id,
            f"{nhi.account} ({nhi.id}): active {fact.credential} has no rotation date{said} "
            f"in the import ({_taken(sidecar)})",
            fact.where,
        )
    dated = [f for f in active if f.last_rotated is not None]
    if not dated:
        return
    oldest = min(dated, key=lambda f: f.last_rotated or datetime.max)
    assert oldest.last_rotated is not None
    age = (ctx.as_of - oldest.last_rotated.date()).days
    if age > policy:
        yield Gap(
            _control(ctx, nhi),
            nhi.id,
            f"{nhi.account} ({nhi.id}): {oldest.credential} was last rotated {age} days ago "
            f"(imported {_taken(sidecar)}); the policy is {policy} days",
            oldest.where,
        )


@rule(
    "NHI-3",
    "Interactive login on a non-human identity",
    "nhi",
    Severity.HIGH,
    hint="Stop people logging in as the service account; give them personal accounts.",
)
def human_use(ctx: Context) -> Iterator[Gap]:
    """Service accounts are not logged into by people.

    When people use a machine identity interactively, their actions cannot be
    attributed and the account's broad rights become a shared back door (OWASP
    NHI10, Human Use of NHI).

    Fix: block interactive logins for the identity and investigate the sessions.
    """
    window = ctx.window
    if window is None:
        return
    for nhi in ctx.catalog.nhis.values():
        uses: dict[datetime, Location] = {}  # one sign-in recorded twice counts once
        for login in nhi.interactive_logins:
            if window.contains(login.at.date()):
                uses.setdefault(login.at, login.loc("at"))
        imported = set()
        for sidecar, fact in ctx.interactive_uses(nhi.system, nhi.account):
            assert fact.last_used is not None
            if window.contains(fact.last_used.date()) and fact.last_used.date() <= ctx.as_of:
                uses.setdefault(fact.last_used, fact.where)
                imported.add(sidecar.file)
        if uses:
            first = min(uses)  # logs are often listed newest first
            source = f" (imported: {', '.join(sorted(imported))})" if imported else ""
            yield Gap(
                _control(ctx, nhi),
                nhi.id,
                f"{len(uses)} interactive login(s) recorded for {nhi.account} ({nhi.id}), "
                f"first on {first.date()}{source}",
                uses[first],
            )


RULES = (orphaned_nhi, stale_credential, human_use)
