"""Stage 2, evidence: what the account extracts say about who holds what.

Takes: the catalog's extract records and their CSV files. Gives: per-extract summaries
(rows, holders, accounts per type; one DuckDB scan, :mod:`.extractscan` and
:mod:`.extracts`) and the access index the rules query (:mod:`.access`).
"""
