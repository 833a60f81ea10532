"""Non-human identities: owned by an employed person, rotated, never used by a human."""

from __future__ import annotations

from collections.abc import Iterator

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

    Fix: rotate, then update ``last_rotated``.
    """
    for nhi in ctx.catalog.nhis.values():
        policy = nhi.rotation_days or ctx.settings.nhi_rotation_days
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
    for nhi in ctx.catalog.nhis.values():
        logins = [i for i in nhi.interactive_logins if window and window.contains(i.at.date())]
        if logins:
            first = min(logins, key=lambda i: i.at)  # logs are often listed newest first
            yield Gap(
                _control(ctx, nhi),
                nhi.id,
                f"{len(logins)} interactive login(s) recorded for {nhi.account} ({nhi.id}), first on {first.at.date()}",
                first.loc("at"),
            )


RULES = (orphaned_nhi, stale_credential, human_use)
