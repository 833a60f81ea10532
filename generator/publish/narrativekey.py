"""What a control's narrative and site page are made of, as one digest, known before
their view models are built.

A rebuild after one control changed should not build the view model of the 999 others to
find out that their narratives did not change (at full size that is 20 s: every decision of
every review). So beside each cached PDF, :class:`~.pdfcache.PdfCache` keeps the digest of
the inputs it was made from, and :func:`~.narratives.plan_narratives` takes a narrative
whose inputs are unchanged straight from the cache. The inputs of control ``C``:

- everything evaluation reads (:attr:`Evaluation.inputs`: the code of the stages it runs
  on, every record without its descriptive fields, where each record was written, the
  sha256 of every file a record names, the as-of date and the rules run). The findings,
  the not-assessed notes, the audit sample and the access in the state of each system are
  derived from these alone;
- every file of the ``generator`` package (code and reference data) and the batch (the
  documents' date, the PDF templates' files, the libraries, the signer);
- path and sha256 of every catalog file the load read that holds anything but controls
  and reviews: the settings, the people, the systems, the registers and logs, so a
  person's name or a system's description is in;
- path and sha256 of ``C``'s own file and of the files of ``C``'s reviews: its title,
  objective, procedure, every comment of its decisions.

Left out are the files of other controls and of their reviews: what a rule reads of them
is in the evaluation's inputs, and what no rule reads (their descriptive fields) a
narrative of ``C`` does not show. ``tests/test_narrative_keys.py`` holds that: it rewrites
every descriptive field of each control and its reviews and expects every other
narrative's view model unchanged, with its key; and it edits files of each kind on disk
and expects the keys (and only the keys) of the narratives that show them to change.

The same digest without the batch (:func:`control_inputs`) vouches for the control's site
view (:class:`~generator.views.types.ControlView`): the site's page keys take it in place
of the view's pickle (:meth:`~generator.render.pagekey.Fingerprints.vouch`), which at full
size saves pickling every decision of every review on each build. The rewriting test holds
the site views to the same rule as the narratives.

A key is only a shortcut to a PDF cached under its content digest. An evaluation with no
inputs digest (not run through the evaluation cache, or a rule crashed) gives no keys,
and every view model is built and compared as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ..model import Control, Record, Review
from ..render.narrative import catalog_rel
from ..resources import package_digest
from ..views import CatalogViews

VERSION = "controlbook narrative inputs 2"
_PER_CONTROL = frozenset({Control, Review})
"""The kinds of record whose files enter only the keys of their own control."""


def narrative_inputs(
    views: CatalogViews, batch: str, inputs: dict[str, str] | None = None
) -> dict[str, str]:
    """Control ID -> the digest of its narrative's inputs (see the module docstring); empty
    when the evaluation has no inputs digest. ``batch`` is :func:`~.pdfcache.batch_key`;
    ``inputs`` is :func:`control_inputs`, when already worked out."""
    inputs = control_inputs(views) if inputs is None else inputs
    return {
        control: hashlib.sha256(f"{VERSION}\0{batch}\0{digest}".encode()).hexdigest()
        for control, digest in inputs.items()
    }


def control_inputs(views: CatalogViews) -> dict[str, str]:
    """Control ID -> the digest of what its narrative and its site view show, but the
    batch (see the module docstring); empty when the evaluation has no inputs digest."""
    evaluation = views.evaluation
    if evaluation.inputs is None or evaluation.context is None:
        return {}
    catalog = views.catalog
    store = evaluation.context.extracts
    kinds: dict[str, set[type[Record]]] = {}
    for record in catalog.records():
        kinds.setdefault(catalog_rel(catalog, record.source_file), set()).add(type(record))

    def hashed(rels: Iterable[str]) -> bytes:
        parts = []
        for rel in sorted(set(rels)):
            check = store.check(rel)
            parts.append(f"{rel}\0{check.sha256 if check.exists else '-'}\n")
        return "".join(parts).encode("utf-8", "surrogatepass")

    def per_control(rel: str) -> bool:
        found = kinds.get(rel)
        return bool(found) and found <= _PER_CONTROL  # a file of no record is shared

    shared = hashed(rel for rel in {*catalog.files, *kinds} if not per_control(rel))
    common = hashlib.sha256()
    for part in (VERSION, evaluation.inputs, package_digest()):
        common.update(part.encode("utf-8") + b"\0")
    common.update(shared)
    keys = {}
    for control in catalog.controls.values():
        own = [control.source_file, *(r.source_file for r in catalog.reviews_of(control.id))]
        digest = common.copy()
        digest.update(b"\0own\0")
        digest.update(hashed(catalog_rel(catalog, shown) for shown in own))
        keys[control.id] = digest.hexdigest()
    return keys
