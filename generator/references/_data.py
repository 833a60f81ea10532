"""Read the YAML catalogs shipped in ``generator/references/data``.

The files are package data, read through :mod:`importlib.resources`, so the catalogs
work from an installed wheel or zip as well as from a source checkout.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files

import yaml

try:  # libyaml's parser is several times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DATA_DIR = "data"


class ReferenceDataError(ValueError):
    """A shipped catalog file is missing or does not have the expected shape."""


class Node:
    """One mapping from a catalog file, with typed accessors that name the bad spot."""

    def __init__(self, raw: object, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise ReferenceDataError(f"{where}: expected a mapping, got {type(raw).__name__}")
        self._raw: Mapping[object, object] = raw
        self.where = where

    def _get(self, key: str) -> object:
        if key not in self._raw:
            raise ReferenceDataError(f"{self.where}: missing key {key!r}")
        return self._raw[key]

    def text(self, key: str) -> str:
        """Return the non-empty string stored under ``key``."""
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise ReferenceDataError(f"{self.where}.{key}: expected a non-empty string")
        return value

    def optional_text(self, key: str) -> str:
        """Return the string stored under ``key``, or ``""`` when the key is absent."""
        return self.text(key) if key in self._raw else ""

    def integer(self, key: str) -> int:
        """Return the integer stored under ``key``."""
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ReferenceDataError(f"{self.where}.{key}: expected an integer")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        """Return the list of strings stored under ``key`` as a tuple."""
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ReferenceDataError(f"{self.where}.{key}: expected a list of strings")
        return tuple(value)

    def children(self, key: str) -> tuple[Node, ...]:
        """Return the list of mappings stored under ``key`` as nodes."""
        value = self._get(key)
        if not isinstance(value, list):
            raise ReferenceDataError(f"{self.where}.{key}: expected a list")
        return tuple(Node(item, f"{self.where}.{key}[{index}]") for index, item in enumerate(value))


def load_document(filename: str) -> Node:
    """Parse ``data/<filename>`` from this package and return its top-level mapping."""
    resource = files(__package__).joinpath(DATA_DIR).joinpath(filename)
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ReferenceDataError(f"catalog file {DATA_DIR}/{filename} is not installed") from error
    return Node(yaml.load(text, Loader=_Loader), filename)
