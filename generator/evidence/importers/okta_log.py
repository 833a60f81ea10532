"""``okta-system-log``: interactive sign-ins from the Okta System Log.

Reads the JSON array of LogEvent objects that the System Log API returns,
``GET /api/v1/logs``
(https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/#tag/SystemLog/operation/listLogEvents),
one file per page, with the event types of the Event Types catalog
(https://developer.okta.com/docs/reference/api/event-types/).

A log is evidence of *use*, not a state: import it with ``--kind events``. It feeds NHI-3
(interactive sign-in of a non-human identity) through the details sidecar, and is
evidence for the review that reads it; it never says who holds access.

Interactive sign-ins are the events ``user.session.start`` (a sign-in to Okta) and
``user.authentication.sso`` (a sign-in to an application through Okta) whose
``outcome.result`` is ``SUCCESS``; every other event is skipped and counted in a note.
One row per actor and what it signed in to:

* account: ``actor.alternateId`` (the Okta login);
* entitlement: ``sign-in:okta`` for ``user.session.start``; ``sso:<app>`` for
  ``user.authentication.sso``, the app being the ``AppInstance`` target's ``displayName``
  (``sso:unknown-app`` without one);
* account_type: employee (the log does not tell); the mapping's ``account_types`` marks
  service accounts; person: the mapping's ``people`` or ``person_from_account``.

Details: one row per successful sign-in, credential ``<eventType>:<uuid>`` (so that
events stay distinct), interactive ``true``, ``last_used`` = ``published``.

Time: the log says nothing about when it was exported, but it shows every event up to
its latest ``published``: that is the extraction time (the log is complete up to then,
and no later event is in it). ``--extracted-at`` is refused when it differs.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from ...diagnostics import Location
from ...model import AccountType
from .core import AccountMapping, Details, Importer, JsonPlaces, Parsed, Row, parse_timestamp
from .okta import JsonPath, other_format, read_page, text_at, time_at

SIGN_INS = {"user.session.start": "sign-in:okta", "user.authentication.sso": "sso"}


class OktaSystemLog(Importer):
    name = "okta-system-log"
    version = 1
    title = "Okta System Log sign-ins (GET /api/v1/logs)"
    docs = (
        "https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/#tag/SystemLog/operation/listLogEvents",
        "https://developer.okta.com/docs/reference/api/event-types/",
    )

    def suffix(self, raw: bytes) -> str:
        return ".json"

    def parse(self, raw: bytes, shown: str, mapping: AccountMapping) -> Parsed:
        items, places = read_page(raw, shown, "System Log events")
        rows: list[Row] = []
        details: list[tuple[str, ...]] = []
        skipped: Counter[str] = Counter()
        latest: datetime | None = None
        for index, item in enumerate(items):
            path: JsonPath = (index,)
            event_type, published, moment = _event(item, path, places)
            latest = moment if latest is None or moment > latest else latest
            outcome = item.get("outcome")
            result = outcome.get("result") if isinstance(outcome, dict) else None
            if event_type not in SIGN_INS or result != "SUCCESS":
                skipped[f"{event_type} {result}" if event_type in SIGN_INS else event_type] += 1
                continue
            actor = item.get("actor")
            if not isinstance(actor, dict):
                raise places.error((*path, "actor"), "a sign-in has an actor")
            account = text_at(
                places, (*path, "actor", "alternateId"), actor.get("alternateId"), "alternateId"
            )
            uuid = text_at(places, (*path, "uuid"), item.get("uuid"), "uuid")
            entitlement = SIGN_INS[event_type]
            if entitlement == "sso":
                entitlement = f"sso:{_app(item, path, places)}"
            rows.append(
                Row(
                    account,
                    "",
                    AccountType.EMPLOYEE,
                    entitlement,
                    Location(shown),
                    path=path,
                    places=places,
                )
            )
            details.append((account, f"{event_type}:{uuid}", "", "true", published, "", "", ""))
        notes = []
        if skipped:
            counted = ", ".join(f"{n} {what}" for what, n in sorted(skipped.items()))
            notes.append(
                f"{sum(skipped.values())} event(s) are not a successful interactive "
                f"sign-in and are skipped: {counted}"
            )
        if not items:
            notes.append(f"{shown} is an empty page (the last page of a paginated export)")
        return Parsed(rows, latest, details=Details(details), notes=notes, time_is_lower_bound=True)


def _event(item: Any, path: JsonPath, places: JsonPlaces) -> tuple[str, str, datetime]:
    if not isinstance(item, dict):
        raise places.error(path, "expected a System Log event (LogEvent object)")
    if "eventType" not in item or "published" not in item:
        hint = other_format(item) or ": it has no eventType and published"
        raise places.error(path, f"not a System Log event{hint}")
    event_type = text_at(places, (*path, "eventType"), item["eventType"], "eventType")
    published = time_at(places, (*path, "published"), item["published"], "published")
    moment = parse_timestamp(published) if published else None
    if moment is None:
        raise places.error((*path, "published"), "an event has a published time")
    return event_type, published, moment


def _app(item: dict[str, Any], path: JsonPath, places: JsonPlaces) -> str:
    """The application an SSO sign-in went to: its AppInstance target's display name."""
    targets = item.get("target")
    if targets is None:
        return "unknown-app"
    if not isinstance(targets, list):
        raise places.error((*path, "target"), "target must be a list")
    for position, target in enumerate(targets):
        if isinstance(target, dict) and target.get("type") == "AppInstance":
            name = target.get("displayName") or target.get("alternateId")
            return text_at(places, (*path, "target", position, "displayName"), name, "the app")
    return "unknown-app"
