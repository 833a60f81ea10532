"""Reports for the command line and CI: findings as text, JSON (versioned), SARIF 2.1.0
and CSV, coverage tables, and the pull-request comment and JSON of :mod:`generator.diff`.

Takes: an evaluation (or a change review). Gives: text. Used by ``check``, ``coverage``
and ``diff``; the site and the PDFs use :mod:`generator.views` instead.
"""
