"""The exceptions Controlbook raises, and the exit codes they map to.

Exit codes are decided here and only here:

* ``0``: success, nothing at or above the failure threshold;
* ``1``: findings (or verification failures) at or above the threshold;
* ``2``: usage or data errors (the input could not be read or is invalid).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diagnostics import Diagnostic

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class ControlbookError(Exception):
    """Base class of every error Controlbook reports to a user."""

    exit_code = EXIT_ERROR


class CatalogInvalid(ControlbookError):
    """The catalog has errors; ``diagnostics`` lists all of them (and the warnings)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = sum(1 for d in diagnostics if d.level == "error")
        super().__init__(f"the catalog has {errors} error(s)")
        self.diagnostics = diagnostics


class InputError(ControlbookError):
    """A file the user pointed at is missing, unreadable or malformed."""


class InstallationError(ControlbookError):
    """Controlbook's own files (templates, configuration) are missing or unreadable."""
