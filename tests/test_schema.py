"""The JSON Schema is generated from the models and accepts every real catalog file."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from generator.catalog.schema import SCHEMA_FILENAME, catalog_schema, schema_json
from tests.conftest import EXAMPLE, SCAFFOLD


def _plain(value: Any) -> Any:
    """YAML dates as ISO strings, the way an editor's schema validator sees them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


CATALOG_FILES = sorted([*EXAMPLE.rglob("*.yaml"), *SCAFFOLD.rglob("*.yaml")])


@pytest.mark.parametrize(
    "path", CATALOG_FILES, ids=lambda p: p.relative_to(p.parents[1]).as_posix()
)
def test_every_example_file_validates_against_the_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(catalog_schema())
    document = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    errors = sorted(validator.iter_errors(document), key=str)
    assert errors == [], errors[0].message if errors else ""


def test_the_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(catalog_schema())
    assert not validator.is_valid({"kind": "control", "id": "X"})  # required keys missing
    assert not validator.is_valid({"kind": "people", "people": [], "extra": 1})  # unknown key


@pytest.mark.parametrize("catalog", [EXAMPLE, EXAMPLE.parent / "examples" / "iga-catalog"])
def test_the_schema_file_beside_each_example_is_current(catalog: Path) -> None:
    assert (catalog / SCHEMA_FILENAME).read_text(encoding="utf-8") == schema_json(), (
        f"run `make schema` to regenerate {catalog.name}/{SCHEMA_FILENAME}"
    )


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_json()))
