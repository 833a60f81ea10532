"""What a site page's Markdown depends on, as a digest: the key of its cached Markdown.

A page is rendered from one template with the values :func:`~.site.render_pages` gives
it (view models: frozen dataclasses of strings, numbers, dates and tuples). Its key is a
SHA-256 of:

- the environment: every file of the ``generator`` package (filters, view model
  properties, the page function, reference data), the Jinja and MarkupSafe versions, Python's, every
  file of the template folders (the override folder first), whether templates run in
  the sandbox, and every global but Jinja's own (sets sorted);
- the page: its path, title, template name and layout, and every value it receives,
  by name, in order.

A value is written as :mod:`pickle` writes it, without its memo (``Pickler.fast``): the
bytes say every object's class (``Markup`` is not ``str``: it is not escaped) and
contents, dicts in their order (a template shows them in that order), and do not depend
on which equal objects happen to be one object. Two values with the same bytes unpickle
to equal values, so they render alike. A value pickle cannot write makes the page
uncacheable (rendered every time). A set would be written in an order that differs from
one process to the next, which only costs cache misses; the view models hold none. A
value given to several pages is written once per build: its digest is kept by identity,
with a reference to the value so that no other object can take its ``id``. A list or tuple (exactly those
types) is written item by item: its digest is a SHA-256 of its type, its length and its
items' digests, so an item also given to a page of its own (each person of the
accountability list) is written once, not once in the list and again for its page. Equal
digests still mean equal values: same type, same length, equal items. The pickle is only
hashed, never kept nor read back: the cache holds the Markdown (see
:class:`~.sitecache.PageCache`).

A control's view holds every decision of its reviews; pickling all of them took 2 s of
each build at full size. :func:`~.site.render_pages` therefore looks a page up first under
a key where each control's view is known by the digest of its inputs
(:meth:`Fingerprints.vouch`, :func:`~generator.publish.narrativekey.control_inputs`, held
to showing nothing else by ``tests/test_narrative_keys.py``), and only on a miss under the
key from its values, which it pickles then. A page is kept under both keys, so an edit to
a file every control's inputs hash (a system's description) still finds the control pages
that do not show it.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..resources import package_digest

_LIBRARIES = ("jinja2", "markupsafe")
_SEQUENCES: dict[type, bytes] = {list: b"\0controlbook list\0", tuple: b"\0controlbook tuple\0"}
"""Digest prefixes of the sequences written item by item. A pickle starts with its
protocol byte (``\\x80``), so no pickle's bytes begin like these."""
_VOUCHED = b"\0controlbook vouched\0"
"""Digest prefix of a value known by its inputs (:meth:`Fingerprints.vouch`)."""


def pickled(value: Any) -> bytes:
    """The value as pickle writes it without a memo (raises what pickle raises)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: equal values give equal bytes, shared or not
    pickler.dump(value)
    return buffer.getvalue()


class Fingerprints:
    """Digests of values as templates receive them (see the module docstring)."""

    def __init__(self, base: Fingerprints | None = None) -> None:
        self._memo: dict[int, tuple[Any, bytes | None]] = {}
        self._base = base
        """Another instance whose digests of values but lists and tuples this one takes
        (each value is pickled once for both), while values vouched for here differ."""

    def vouching(self, vouched: Iterable[tuple[Any, str]]) -> Fingerprints:
        """Digests that take the given inputs for these values (pairs of a value and its
        inputs digest, see :meth:`vouch`) and share this instance's other digests."""
        fast = Fingerprints(base=self)
        for value, inputs in vouched:
            fast.vouch(value, inputs)
        return fast

    def of(self, value: Any) -> bytes | None:
        """The value's digest, or None when pickle cannot write it (or one of its items)."""
        kept = self._memo.get(id(value))
        if kept is not None and kept[0] is value:
            return kept[1]
        digest: bytes | None
        if type(value) in _SEQUENCES:
            try:
                digest = self._sequence(value)
            except RecursionError:
                digest = None
        elif self._base is not None:
            digest = self._base.of(value)
        else:
            try:
                digest = hashlib.sha256(pickled(value)).digest()
            except (pickle.PicklingError, TypeError, ValueError, AttributeError, RecursionError):
                digest = None
        self._memo[id(value)] = (value, digest)
        return digest

    def vouch(self, value: Any, inputs: str) -> None:
        """Take ``inputs`` as ``value``'s digest instead of its pickle: a digest of what the
        value is made of, which the caller proves determines it (a control's site view and
        :func:`~generator.publish.narrativekey.control_inputs`)."""
        digest = hashlib.sha256(_VOUCHED + inputs.encode("utf-8", "surrogatepass")).digest()
        self._memo[id(value)] = (value, digest)

    def _sequence(self, value: list[Any] | tuple[Any, ...]) -> bytes | None:
        """A list or tuple: its type, length and its items' digests (see the module
        docstring); an item given to a page of its own is then written once."""
        digest = hashlib.sha256(_SEQUENCES[type(value)])
        digest.update(len(value).to_bytes(8, "big"))
        for item in value:
            written = self.of(item)
            if written is None:
                return None
            digest.update(written)
        return digest.digest()


@cache
def _code() -> str:
    """Every file of the package, the template libraries' versions and Python's."""
    digest = hashlib.sha256(package_digest().encode())
    for name in _LIBRARIES:
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "-"
        digest.update(f"{name}={found}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def environment_digest(
    folders: list[Path], sandboxed: bool, globals_: dict[str, Any]
) -> str | None:
    """The digest of what every page of one build depends on besides its own values:
    the code, the template folders (in search order) and the ``globals_`` pages read;
    None when pickle cannot write a global."""
    digest = hashlib.sha256(_code().encode())
    digest.update(b"sandbox" if sandboxed else b"trusted")
    for folder in folders:
        files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        listing = [(p.relative_to(folder).as_posix(), p.read_bytes()) for p in files]
        digest.update(pickled((str(folder), listing)))
    plain = [
        (name, sorted(v) if isinstance(v, set | frozenset) else v) for name, v in globals_.items()
    ]
    try:
        digest.update(pickled(plain))
    except (pickle.PicklingError, TypeError, ValueError, AttributeError, RecursionError):
        return None
    return digest.hexdigest()


def page_key(
    fingerprints: Fingerprints,
    environment: str,
    head: tuple[str, str, str, bool],
    values: dict[str, Any],
) -> str | None:
    """The key of one page: ``head`` is its path, title, template and layout, ``values``
    what the template receives. None when a value is one pickle cannot write."""
    digest = hashlib.sha256(environment.encode())
    for part in (head, *(x for item in values.items() for x in item)):
        written = fingerprints.of(part)
        if written is None:
            return None
        digest.update(written)
    return digest.hexdigest()
