"""Everything a rule may ask about the catalog at the as-of date (rules never read files)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from ...evidence.access import AccessIndex
from ...evidence.credentials import CredentialFact, CredentialStore, Sidecar
from ...evidence.extracts import ExtractStore, ExtractSummary, StatePart, account_key
from ...evidence.extractscan import norm
from ...model import (
    AccountType,
    Catalog,
    Control,
    Period,
    Population,
    Review,
    ReviewItem,
    Settings,
    population_systems,
)
from ...model.people import employed_on


def end_of(day: date) -> datetime:
    """The last moment of a day, in UTC."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    return date(year, month % 12 + 1, 1)


@dataclass
class Context:
    """The catalog, the as-of date, and derived facts that several rules share."""

    catalog: Catalog
    as_of: date
    extracts: ExtractStore = field(default=None)  # type: ignore[assignment]
    """What the catalog's files hold (hashes, summaries): the same at every as-of date, so
    evaluations of one catalog at several dates may share it."""

    def __post_init__(self) -> None:
        if self.extracts is None:
            self.extracts = ExtractStore(self.catalog)

    @property
    def settings(self) -> Settings:
        return self.catalog.settings

    def close(self) -> None:
        """Free the access tables, if a rule built them, and what the rules kept per review
        item and per extract (an evaluation at a past date is done with them once counted;
        many held at once would not fit in memory). Asked again, each is built again."""
        access = self.__dict__.pop("access", None)
        if access is not None:
            access.close()
        for name in ("_item_keys", "_review_keys", "_holders"):
            self.__dict__.pop(name, None)

    @cached_property
    def access(self) -> AccessIndex:
        """Access across systems at the as-of date (SQL over each system's state)."""
        return AccessIndex(self.catalog, self.extracts, self.states)

    @cached_property
    def states(self) -> dict[str, tuple[StatePart, ...]]:
        """The state of each system at the as-of date (see :meth:`ExtractStore.state`)."""
        return {s: self.extracts.state(s, end_of(self.as_of)) for s in self.catalog.systems}

    @cached_property
    def window(self) -> Period | None:
        """The assessed period up to the as-of date (None when it has not started)."""
        period = self.settings.period
        end = min(period.end, self.as_of)
        if end < period.start:
            return None
        return Period(start=period.start, end=end)

    @cached_property
    def credentials(self) -> CredentialStore:
        return CredentialStore(self.catalog)

    def imported_credentials(self, system: str, account: str) -> Sidecar | None:
        """The details sidecar of the newest imported extract in the state of ``system``
        that shows ``account`` (its credentials' use, rotation and expiry), or None when
        no imported state shows it (the NHI inventory's dates are then what is known)."""
        parts = sorted(
            self.states.get(system, ()),
            key=lambda p: p.extract.extracted_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        for part in parts:
            sidecar = self.credentials.sidecar(part.extract.record)
            if sidecar is not None and sidecar.shows(account):
                return sidecar
        return None

    def interactive_uses(self, system: str, account: str) -> list[tuple[Sidecar, CredentialFact]]:
        """Interactive sign-ins (or a console password's last use) of ``account`` recorded
        in the details of any imported extract of ``system`` (a state or a sign-in log)
        taken by the as-of date."""
        until = end_of(self.as_of)
        found = []
        for listed in self.extracts.by_system.get(system, []):
            if listed.extracted_at is None or listed.extracted_at > until:
                continue
            sidecar = self.credentials.sidecar(listed.record)
            if sidecar is None:
                continue
            found.extend(
                (sidecar, fact)
                for fact in sidecar.of(account)
                if fact.interactive and fact.last_used is not None
            )
        return found

    def active(self, person_id: str | None, day: date) -> bool:
        """Whether ``person_id`` names a person employed on ``day`` (:meth:`Person.active_on`;
        asked for each of hundreds of thousands of decisions, so each person's span is
        looked up once)."""
        return employed_on(self._employment.get(person_id or ""), day)

    @cached_property
    def _employment(self) -> dict[str, tuple[date, date]]:
        spans = ((i, p.employment) for i, p in self.catalog.people.items())
        return {person_id: span for person_id, span in spans if span is not None}

    def due_days(self, control: Control) -> int:
        if control.review_due_days is not None:
            return control.review_due_days
        return self.settings.review_due_days

    def due_date(self, review: Review) -> date:
        control = self.catalog.controls[review.control]
        return review.due or review.period.end + timedelta(days=self.due_days(control))

    def population_of(self, review: Review) -> Population | None:
        return self.catalog.controls[review.control].population(review.population)

    def systems_of(self, review: Review) -> list[str]:
        """The systems a review covers: its evidence's, else its population's."""
        evidence = review.evidence
        if evidence is not None and evidence.systems:
            return list(evidence.systems)
        if evidence is not None and evidence.system:
            return [evidence.system]
        population = self.population_of(review)
        return population_systems(population) if population else []

    def system_of(self, review: Review) -> str | None:
        """The review's system when it covers exactly one (else None: ask per item)."""
        systems = self.systems_of(review)
        return systems[0] if len(systems) == 1 else None

    def item_system(self, review: Review, item: ReviewItem) -> str | None:
        """The system of a review item: its own, else the review's only system."""
        return item.system or self.system_of(review)

    def item_key(self, review: Review, item: ReviewItem) -> str:
        """How the review's extract names the item's account (``system/account`` in an
        extract over several systems, see :attr:`AccessRow.key`), as :func:`norm` makes it."""
        known = self._item_keys.get(id(item))
        if known is not None and known[0] is item:  # rules ask about every item, often
            return known[1]
        key = self._key_of(item, *self._keying(review))
        self._item_keys[id(item)] = (item, key)  # holding the item keeps its id its own
        return key

    def item_keys(self, review: Review) -> list[str]:
        """:meth:`item_key` of every item of ``review``, in order: what a rule walking all
        of a review's items asks (a review holds thousands)."""
        known = self._review_keys.get(review.id)
        if known is None or known[0] is not review:
            shared, system = self._keying(review)
            known = (review, [self._key_of(item, shared, system) for item in review.items])
            self._review_keys[review.id] = known
        return known[1]

    def _keying(self, review: Review) -> tuple[bool, str | None]:
        """Whether the review's extract is over several systems, and its one system."""
        evidence = review.evidence
        shared = bool(evidence and evidence.file and self.extracts.has_system_column(evidence.file))
        return shared, self.system_of(review) if shared else None

    @staticmethod
    def _key_of(item: ReviewItem, shared: bool, system: str | None) -> str:
        return norm(account_key((item.system or system) if shared else None, item.account))

    @cached_property
    def _item_keys(self) -> dict[int, tuple[ReviewItem, str]]:
        return {}

    @cached_property
    def _review_keys(self) -> dict[str, tuple[Review, list[str]]]:
        return {}

    def review_extract(self, review: Review) -> ExtractSummary | None:
        """The summary of the review's population extract, or None when not readable."""
        evidence = review.evidence
        if (
            evidence is None
            or evidence.file is None
            or not self.extracts.check(evidence.file).exists
        ):
            return None
        return self.extracts.summary(evidence.file)

    def accounts_people(self, review: Review) -> Mapping[str, str]:
        """Account (as :func:`norm` makes it) -> the directory ID of the person behind it
        (or the extract's value when it matches nobody), from the review's extract."""
        evidence = review.evidence
        rel = evidence.file if evidence is not None else None
        if rel not in self._holders:  # one map per extract file, however many items ask
            summary = self.review_extract(review)
            people = {} if summary is None else summary.holders
            ids = {p: self.person_id(p) for p in set(people.values())}  # a few per thousand
            self._holders[rel] = {norm(a): ids[p] for a, p in people.items()}
        return self._holders[rel]

    @cached_property
    def _holders(self) -> dict[str | None, dict[str, str]]:
        return {}

    @cached_property
    def _people_by_key(self) -> dict[str, str]:
        return {norm(p): p for p in self.catalog.people}

    def person_id(self, value: str) -> str:
        """The directory ID an extract's person value names (compared as :func:`norm`
        does), else the value itself."""
        return self._people_by_key.get(norm(value), value)

    @cached_property
    def _covering(self) -> dict[tuple[str, AccountType], list[Control]]:
        covering: dict[tuple[str, AccountType], list[Control]] = {}
        for control in self.catalog.controls.values():
            kinds = {
                (s, t)
                for p in control.populations
                for s in population_systems(p)
                for t in p.account_types
            }
            for key in kinds:
                covering.setdefault(key, []).append(control)
        return covering

    def controls_covering(self, system: str, account_type: AccountType) -> list[Control]:
        """Controls with a named population of ``account_type`` accounts on ``system``."""
        return list(self._covering.get((system, account_type), []))

    def control_for_system(self, system: str, account_type: AccountType) -> str | None:
        """The control a system-level finding belongs to (first covering control by ID)."""
        covering = self.controls_covering(system, account_type)
        return covering[0].id if covering else None

    def expected_periods(self, control: Control) -> Iterator[Period]:
        """Review periods of a periodic control inside the assessed period."""
        months = control.frequency.months
        if months is None:
            return
        period = self.settings.period
        start = date(period.start.year, period.start.month, 1)
        while start <= period.end:
            nxt = add_months(start, months)
            yield Period(start=start, end=min(nxt - timedelta(days=1), period.end))
            start = nxt
