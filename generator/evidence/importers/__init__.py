"""Importers: a tool's own export (AWS credential report, Kubernetes RBAC, any CSV with a
column mapping) → the catalog's account extract, with the raw export kept beside it.

``controlbook import`` runs :func:`.register.run_import`; ``check`` re-derives every
imported extract with :func:`.registry.rederive` (EVD-2). Each format is one module
(:mod:`.aws`, :mod:`.generic_csv`, :mod:`.k8s`) on the shared :mod:`.core`.

This module stays light (the command line reads :data:`FORMATS` to list the choices).
"""

FORMATS = (
    "aws-credential-report",
    "okta-users",
    "okta-app-users",
    "okta-system-log",
    "baton-csv",
    "csv",
    "github-members",
    "github-pats",
    "k8s-rbac",
)
"""The formats ``controlbook import`` reads, in the order the guide documents them."""

REVIEW_FORMATS = ("sailpoint-campaign",)
"""Formats that import a review's decisions (``--review ID``), not an account extract: an
IGA tool's certification campaign reports (:mod:`.sailpoint`, :mod:`.sailpoint_review`)."""
