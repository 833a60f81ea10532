"""The one place that decides whether an SoD exception manages its conflict at a date.

SOD-3 (a conflict without an exception), EXC-3 (an exception expired while the conflict is
held), the exceptions register and the SoD page all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from ..model import Catalog, SodException


class ExceptionStatus(StrEnum):
    NOT_YET_IN_FORCE = "not yet in force"
    IN_FORCE = "in force"
    OPEN_ENDED = "no expiry"
    EXPIRED = "expired"

    @property
    def covers(self) -> bool:
        """Whether an exception in this state manages its conflict today (an open-ended
        one does, and is an EXC-2 finding of its own)."""
        return self in (ExceptionStatus.IN_FORCE, ExceptionStatus.OPEN_ENDED)


def exception_status(exception: SodException, as_of: date) -> ExceptionStatus:
    """The one decision on an exception's validity at the as-of date."""
    if exception.granted > as_of:
        return ExceptionStatus.NOT_YET_IN_FORCE
    if exception.expires is None:
        return ExceptionStatus.OPEN_ENDED
    if exception.expires < as_of:
        return ExceptionStatus.EXPIRED
    return ExceptionStatus.IN_FORCE


def exceptions_for(
    catalog: Catalog, person: str, ruleset: str, duties: Iterable[str]
) -> list[SodException]:
    """Every exception recorded for ``person``'s conflict between ``duties`` in ``ruleset``."""
    pair = frozenset(duties)
    return sorted(
        (
            e
            for e in catalog.exceptions.values()
            if e.person == person and e.ruleset == ruleset and frozenset(e.conflict) == pair
        ),
        key=lambda e: (e.granted, e.id),
    )


def covering_exception(
    catalog: Catalog, person: str, ruleset: str, duties: Iterable[str], as_of: date
) -> SodException | None:
    """The exception that manages the conflict at ``as_of``, if any."""
    return next(
        (
            e
            for e in exceptions_for(catalog, person, ruleset, duties)
            if exception_status(e, as_of).covers
        ),
        None,
    )
