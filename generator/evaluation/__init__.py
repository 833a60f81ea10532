"""Stage 3, evaluation: run the rules over the catalog and its evidence.

Takes: a :class:`generator.model.Catalog` and an as-of date. Gives: an
:class:`.evaluate.Evaluation`: every :class:`.findings.Finding` (open or waived), what
was not assessed and why, and framework coverage (:mod:`.coverage`). The rules live in
:mod:`.rules`, one module per family, all registered in one list.
"""
