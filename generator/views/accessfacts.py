"""What the views read of the state of the systems at the as-of date, kept across builds
while nothing the rules read changes: the accounts the system pages list, and the duties
and conflicts the SoD register shows.

They come from the access index the rules build (the rows the rules see: a shared
extract's rows of the system, the account types each extract is the newest for): one row
per account with its holders, types and entitlements joined, the first
:data:`~.types.LISTED` accounts of each system by name, and each system's count; every
duty a person holds; every conflict a person holds, with a granting row of each duty.
At full size (4.7 million rows) the index and the queries take 5 to 8 s of every build,
and a rebuild whose evaluation came from the cache would build the index for these alone.

So :class:`AccessFactsCache` keeps them under ``<cache>/access-facts``, keyed by the
evaluation's inputs (:attr:`~generator.evaluation.evaluate.Evaluation.inputs`: the
records the rules read, every named file's sha256, the as-of date, the evaluation code)
and every file of the package (the query is code too). It holds IDs only: the people's
names are looked up when the view is built, from the catalog being built. An evaluation
without an inputs digest is never cached; a query that fails is not kept.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from ..catalog.cachedir import cache_root, loads_plain, read_checked, write_checked
from ..evaluation.evaluate import Evaluation
from ..evaluation.rules import Context
from ..evidence.access import HeldConflict, Holding
from ..resources import package_digest
from .types import LISTED

KEPT = 4
"""Entries kept: the newest by use."""

Row = tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
"""System, account, holders (person IDs), account types, entitlements: each sorted."""


@dataclass(frozen=True)
class AccessFacts:
    """The listed accounts of every system (in system and account order), how many
    accounts each system has in all, the duties each person holds (person, rule set,
    duty) and the conflicts they hold, as the access index gives them."""

    rows: tuple[Row, ...]
    totals: dict[str, int]
    holdings: tuple[tuple[str, str, str], ...]
    conflicts: tuple[HeldConflict, ...]


def read_access_facts(ctx: Context, listed: int = LISTED) -> AccessFacts:
    """The facts of the state at ``ctx``'s as-of date, from its access index, the first
    ``listed`` accounts of each system; raises what reading the extracts raises
    (``ExtractError``, ``duckdb.Error``)."""
    found = ctx.access.db.execute(
        f"""
        WITH accounts AS (
            SELECT system, account,
                   list_sort(list_distinct(list(person))) AS people,
                   list_sort(list_distinct(list(account_type))) AS types,
                   list_sort(list_distinct(list(nullif(entitlement, '')))) AS grants
            FROM access GROUP BY system, account
        ), numbered AS (
            SELECT *, row_number() OVER (PARTITION BY system ORDER BY account) AS n,
                   count(*) OVER (PARTITION BY system) AS total
            FROM accounts
        )
        SELECT system, account, people, types, grants, total
        FROM numbered WHERE n <= {int(listed)} ORDER BY system, n
        """
    ).fetchall()
    rows: list[Row] = []
    totals: dict[str, int] = {}
    for system, account, people, types, grants, total in found:
        totals[system] = int(total)
        holders = tuple(p for p in people if p)
        rows.append((system, account, holders, tuple(types), tuple(grants)))
    holdings = tuple(ctx.access.holdings)
    return AccessFacts(tuple(rows), totals, holdings, tuple(ctx.access.conflicts))


class AccessFactsCache:
    """:class:`AccessFacts` of evaluated catalogs, kept in ``folder``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_root() / "access-facts"
        self.hits = 0
        self.misses = 0

    def facts(self, evaluation: Evaluation, ctx: Context, listed: int = LISTED) -> AccessFacts:
        """:func:`read_access_facts` of the state ``evaluation`` was made at, from the
        cache when its inputs are those of an entry, else from ``ctx`` (and kept)."""
        if evaluation.inputs is None:
            return read_access_facts(ctx, listed)
        parts = (evaluation.inputs, package_digest(), str(listed))
        key = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
        path = self.folder / f"{key}.pickle"
        body = read_checked(path)
        kept = _parse(loads_plain(body), key) if body is not None else None
        if kept is not None:
            self.hits += 1
            return kept
        self.misses += 1
        found = read_access_facts(ctx, listed)
        same: dict[str, str] = {}  # each distinct string pickled once (entitlements repeat)
        data = {
            "key": key,
            "rows": tuple(_shared(row, same) for row in found.rows),
            "totals": found.totals,
            "holdings": found.holdings,
            "conflicts": tuple(
                (c.person, c.ruleset, c.duties, astuple(c.first), astuple(c.second))
                for c in found.conflicts
            ),
        }
        write_checked(path, pickle.dumps(data, protocol=5), KEPT)
        return found


def _shared(value: Any, same: dict[str, str]) -> Any:
    """``value`` (a string or nested tuples of strings) with every string replaced by
    the first equal one seen: the pickle then holds each distinct string once. At full size
    the entry is 30 MB instead of 82 MB as JSON, and reads in a tenth of the time."""
    if type(value) is str:
        return same.setdefault(value, value)
    return tuple(_shared(v, same) for v in value)


def _parse(data: Any, key: str) -> AccessFacts | None:
    """An entry's facts, or None when it is not the entry for ``key`` or not of the
    expected shape (a damaged or foreign file is a miss, never a listing)."""
    try:
        if type(data) is not dict or data["key"] != key:
            return None
        rows = tuple(_row(r) for r in data["rows"])
        totals = {str(s): int(n) for s, n in data["totals"].items()}
        holdings = tuple(_triple(h) for h in data["holdings"])
        conflicts = tuple(_conflict(c) for c in data["conflicts"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return AccessFacts(rows, totals, holdings, conflicts)


def _row(value: tuple[object, ...]) -> Row:
    system, account, people, types, grants = value
    if not (type(system) is str and type(account) is str):
        raise TypeError("a row names a system and an account")
    return system, account, _strings(people), _strings(types), _strings(grants)


def _strings(value: object) -> tuple[str, ...]:
    if type(value) is not tuple or not all(type(v) is str for v in value):
        raise TypeError("a tuple of strings")
    return value


def _triple(value: object) -> tuple[str, str, str]:
    first, second, third = _strings(value)
    return first, second, third


def _conflict(value: tuple[object, ...]) -> HeldConflict:
    person, ruleset, duties, first, second = value
    a, b = _strings(duties)
    return HeldConflict(
        *_strings((person, ruleset)), (a, b), Holding(*_triple(first)), Holding(*_triple(second))
    )
