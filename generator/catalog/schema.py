"""The JSON Schema of catalog files, generated from the models (never written by hand)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from .. import __version__
from ..model import FILE_KINDS

SCHEMA_FILENAME = "controlbook.schema.json"
"""Name of the schema file placed beside a catalog for editors (yaml-language-server)."""


def catalog_schema() -> dict[str, Any]:
    """A JSON Schema (2020-12) accepting any catalog file, discriminated by ``kind``."""
    union = Union[tuple(FILE_KINDS.values())]  # noqa: UP007 - built at run time
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[union, Field(discriminator="kind")])
    schema = adapter.json_schema(ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://controlbook.dev/schema/{__version__}/catalog.json",
        "title": "Controlbook catalog file",
        "description": "One YAML file of a Controlbook catalog; 'kind' says which.",
        **schema,
    }


def schema_json() -> str:
    """The schema as stable, indented JSON text (ends with a newline)."""
    return json.dumps(catalog_schema(), indent=2, ensure_ascii=False) + "\n"
