"""OSCAL 1.1.2 export of a catalog's evaluation (``controlbook export oscal``).

Four documents, written by our own small typed builders (:mod:`.model`), never with a
runtime dependency on an OSCAL library: the component definition (how the controls
implement NIST CSF 2.0, :mod:`.component`), the assessment plan and results
(:mod:`.assessment`) and the POA&M (:mod:`.poam`). UUIDs and times come from our IDs and
the as-of date (:mod:`.ids`), so the same inputs give the same bytes. See docs/oscal.md.
"""

from .export import FILES, Written, build_documents, export_oscal

__all__ = ["FILES", "Written", "build_documents", "export_oscal"]
