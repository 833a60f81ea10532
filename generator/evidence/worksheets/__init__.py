"""Reviewer worksheets for companies without an IGA tool (``controlbook review``).

:mod:`.routing` gives each item of a review's population to its decider, :mod:`.writing`
writes one worksheet per decider, :mod:`.reading` reads the returned ones back, and
:mod:`.collecting` validates them and records the decisions as the review's items file.
"""
