"""The directory: who exists, since when, and whether they can be accountable."""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from .base import Day, Id, PersonRef, Prose, Record


class PersonKind(StrEnum):
    """What a directory entry is. Only a ``person`` can own or approve anything."""

    PERSON = "person"
    TEAM = "team"
    MAILBOX = "mailbox"
    SERVICE = "service"


class Workforce(StrEnum):
    """How a person works for the company. Contractors are workforce and are reviewed with
    employees; a provider's staff (external) using their own accounts hold third-party
    accounts, a population of their own (POP-2)."""

    EMPLOYEE = "employee"
    CONTRACTOR = "contractor"
    EXTERNAL = "external"


class Person(Record):
    """A directory entry: a named person, or a team / mailbox / service."""

    id: Id = Field(description="Stable ID used everywhere else, e.g. 'l.chen'.")
    name: Prose = Field(description="Display name.")
    kind: PersonKind = Field(
        default=PersonKind.PERSON,
        description="person, team, mailbox or service. A team or mailbox cannot own a "
        "control (OWN-1).",
    )
    workforce: Workforce = Field(
        default=Workforce.EMPLOYEE,
        description="employee, contractor (workforce, reviewed with employees) or external "
        "(a provider's staff: their accounts are third-party accounts).",
    )
    email: Prose | None = Field(default=None, description="E-mail address.")
    title: Prose | None = Field(default=None, description="Job title.")
    department: Prose | None = Field(default=None, description="Department or cost centre.")
    manager: PersonRef | None = Field(default=None, description="ID of the line manager.")
    employed_from: Day | None = Field(
        default=None, description="First day of employment (or of the engagement)."
    )
    employed_until: Day | None = Field(
        default=None,
        description="Last day of employment; leave empty while employed. Checked by OWN-2, "
        "NHI-1 and the leaver rule.",
    )
    members: list[PersonRef] = Field(
        default_factory=list, description="For a team: the people in it."
    )

    @property
    def is_person(self) -> bool:
        return self.kind == PersonKind.PERSON

    def active_on(self, day: date) -> bool:
        """A named person employed on ``day``."""
        return employed_on(self.employment, day)

    @property
    def employment(self) -> tuple[date, date] | None:
        """The first and last day this named person is employed (open ends as the earliest
        and latest dates); None for a team or a service."""
        if not self.is_person:
            return None
        return (self.employed_from or date.min, self.employed_until or date.max)


def employed_on(employment: tuple[date, date] | None, day: date) -> bool:
    """Whether ``day`` falls in an employment span (:attr:`Person.employment`; None: not a
    named person). The one test of "employed on a day", for a person or a span kept apart."""
    return employment is not None and employment[0] <= day <= employment[1]


class PeopleFile(Record):
    """A file listing directory entries (``kind: people``)."""

    kind: Literal["people"]
    people: list[Person] = Field(description="The directory entries.")
