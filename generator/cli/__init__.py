"""The ``controlbook`` command line: parse arguments, call the library, print, exit.

Exit codes (see :mod:`generator.errors`): 0 ok, 1 findings at or above the threshold,
2 usage or data errors. :mod:`.base` holds the group and the shared options; each other
module registers the commands of one part of the work.
"""

from . import catalog, evidence, handoff, publishing  # noqa: F401  (they register commands)
from .base import main

__all__ = ["main"]
