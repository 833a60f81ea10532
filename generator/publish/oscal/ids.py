"""Names that make the OSCAL export stable: UUIDs, our namespace, CSF catalog IDs, times.

Every UUID is a UUIDv5 of a documented name under :data:`NAMESPACE`, so exporting the
same catalog at the same as-of date twice writes the same bytes. The names are
``<kind>:<our IDs>``, e.g. ``control-implementation:UAR-APP-01`` or
``implemented-requirement:UAR-APP-01:PR.AA-05`` (see docs/oscal.md for the full list).
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from functools import cache
from importlib.resources import files

NS = "urn:controlbook:oscal"
"""The namespace of every prop and facet Controlbook defines (OSCAL ``ns``/``system``)."""

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
"""The UUIDv5 namespace of every UUID in the export: uuid5(NAMESPACE_URL, NS)."""

CSF_IDS_FILE = "nist-csf-2.0-oscal-ids.json"


def oscal_uuid(kind: str, *parts: str) -> str:
    """The UUIDv5 of ``kind:part:part…`` under :data:`NAMESPACE`."""
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *parts))))


def timestamp(day: date) -> str:
    """An OSCAL date-time for a day: its midnight in UTC (the export has no other clock)."""
    return f"{day.isoformat()}T00:00:00Z"


def one_line(text: str | None) -> str:
    """Whitespace collapsed to single spaces: OSCAL titles and prop values are one line
    without leading or trailing blanks."""
    return " ".join((text or "").split())


@cache
def csf_oscal_ids() -> dict[str, str]:
    """CSF 2.0 control ID (``PR.AA-05``) -> the ID of its statement part in NIST's OSCAL
    catalog, for every category and subcategory there (shipped, see the data file)."""
    raw = json.loads(files(__package__).joinpath("data", CSF_IDS_FILE).read_text("utf-8"))
    return {cid: entry["statement"] for cid, entry in raw["controls"].items()}


@cache
def csf_catalog_href() -> str:
    """Where NIST publishes the OSCAL CSF 2.0 catalog (the control implementations' source)."""
    raw = json.loads(files(__package__).joinpath("data", CSF_IDS_FILE).read_text("utf-8"))
    return str(raw["source"])
