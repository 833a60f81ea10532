"""Controlbook: an IT control catalog kept honest.

Load control definitions and access-review evidence from YAML, evaluate them for
ownership and evidence gaps, and publish the result as a site, signed PDF
narratives and pull-request reviews.
"""

__version__ = "0.1.0"
