"""Where ``build``, ``serve`` and ``pdf`` may write: never over what the user keeps.

A site build replaces its whole output folder, so ``--out .`` in a repository once
replaced the work tree, ``.git`` included. These checks run before anything is read or
written, on the resolved path:

* the output must not be, contain or sit inside the catalog;
* it must not be or contain the repository root (the git work tree holding the
  catalog, and the one holding the current folder), the current folder, the home
  folder or ``/``; nor sit inside a ``.git`` folder;
* a site may only replace a missing or empty folder or one Controlbook built
  (:func:`generator.render.outdir.replace_refusal`);
* ``controlbook pdf`` writes ``<ID>.pdf`` files into a folder rather than replacing it:
  the folder must be missing, empty, or hold nothing but PDFs and carry the
  :data:`~generator.render.outdir.NARRATIVES_MARKER` it leaves (the ``narratives/``
  folder of a Controlbook site counts too), so a user's own ``<ID>.pdf`` is never
  overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..render.outdir import (
    NARRATIVES_MARKER,
    NARRATIVES_MARKER_TEXT,
    SITE_MARKER,
    OutputFolderError,
    pdfs_only,
    replace_refusal,
)


def repository_root(start: Path) -> Path | None:
    """The git work tree holding ``start`` (the nearest folder with a ``.git``), if any."""
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return None


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):
        return None


def _protected(catalog: Path) -> list[tuple[Path, str]]:
    """The folders an output must not be or contain, each with how to name it."""
    cwd = Path.cwd().resolve()
    folders = [(catalog, "the catalog")]
    for start in (catalog, cwd):
        root = repository_root(start)
        if root is not None:
            folders.append((root, f"the git repository {root}"))
    folders.append((cwd, "the current folder"))
    home = _home()
    if home is not None:
        folders.append((home, "your home folder"))
    folders.append((Path(cwd.anchor), "the file system root"))
    return folders


def location_refusal(out: Path, catalog: Path) -> str | None:
    """Why ``out`` (resolved) is no place for output of ``catalog``, or None."""
    catalog = catalog.resolve()
    protected = _protected(catalog)
    for folder, name in protected:
        if out == folder:
            return f"it is {name}"
    if out.is_relative_to(catalog):
        return "it is inside the catalog"
    if ".git" in out.parts:
        return "it is inside a .git folder"
    for folder, name in protected:
        if folder.is_relative_to(out):
            return f"it contains {name}"
    return None


def check_site_destination(out: Path, catalog: Path) -> Path:
    """``out`` resolved, if a site of ``catalog`` may replace it; else :class:`OutputFolderError`.

    Called before the build starts (so nothing is spent on a build that cannot land);
    :func:`generator.render.outdir.swap_in` checks the folder's contents again under the lock.
    """
    out = out.resolve()
    reason = location_refusal(out, catalog) or replace_refusal(out)
    if reason is not None:
        raise OutputFolderError(f"refusing to write the site to {out}: {reason}")
    return out


def _narratives_refusal(out: Path) -> str | None:
    if not os.path.lexists(out):
        return None
    if out.is_symlink() or not out.is_dir():
        return "it is not a folder"
    if not any(out.iterdir()):
        return None
    in_site = out.name == "narratives" and (out.parent / SITE_MARKER).is_file()
    if not in_site and not (out / NARRATIVES_MARKER).is_file():
        return (
            f"it is not empty and has no {NARRATIVES_MARKER} file, so Controlbook did not "
            "write it; empty it or choose another folder"
        )
    if not pdfs_only(out):
        return "it holds files other than narratives; empty it or choose another folder"
    return None


def check_pdf_destination(out: Path, catalog: Path) -> Path:
    """``out`` resolved, if ``controlbook pdf`` may write narratives of ``catalog`` into it."""
    out = out.resolve()
    reason = location_refusal(out, catalog) or _narratives_refusal(out)
    if reason is not None:
        raise OutputFolderError(f"refusing to write narratives to {out}: {reason}")
    return out


def claim_pdf_destination(out: Path) -> None:
    """Create ``out`` and mark it as a narratives folder (after :func:`check_pdf_destination`)."""
    out.mkdir(parents=True, exist_ok=True)
    marker = out / NARRATIVES_MARKER
    if not marker.is_file():
        marker.write_text(NARRATIVES_MARKER_TEXT, encoding="utf-8")
