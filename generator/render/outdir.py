"""The site's output folder: one writer at a time, always a whole site, never someone else's folder.

A build renders into a staging folder beside ``out`` (same file system) and switches
it in with :func:`swap_in`. Three promises hold for the folder:

* **Only Controlbook's output is replaced.** Every site carries :data:`SITE_MARKER`;
  a non-empty folder without it (a repository, a home folder, someone's documents) is
  refused, never emptied.
* **The switch is one step.** On Linux (3.15 and later) :func:`exchange` swaps the
  staging folder and ``out`` with one ``renameat2(RENAME_EXCHANGE)`` call: at every
  instant ``out`` is either the whole previous site or the whole new one, even if the
  process is killed. Elsewhere (or on a file system without the flag) it falls back to
  two renames, and the next build puts the previous site back if a kill fell between
  them. A symlink flip would also be atomic, but would turn ``out`` into a link, which
  breaks users who copy, mount or serve the folder; so we do not use one.
* **Nothing piles up.** Under the output lock, :func:`clean_leftovers` removes the
  staging, old, PDF and docs folders of builds of this ``out`` whose process is gone.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import ControlbookError

SITE_MARKER = ".controlbook-site"
"""The file that marks a folder as a site Controlbook built (and may replace)."""

SITE_MARKER_TEXT = (
    "This folder is a site built by Controlbook (controlbook build / serve).\n"
    "The next build replaces the whole folder, so keep nothing else in it.\n"
    "Controlbook refuses to replace a folder that is not empty and lacks this file.\n"
)

NARRATIVES_MARKER = ".controlbook-narratives"
"""The file that marks a folder as one ``controlbook pdf`` writes its narratives into."""

NARRATIVES_MARKER_TEXT = (
    "This folder holds signed control narratives written by Controlbook (controlbook pdf).\n"
    "controlbook pdf overwrites <ID>.pdf files here; it refuses a folder that is not\n"
    "empty unless it carries this file and holds nothing but PDF files.\n"
)

Remover = Callable[[Path], None]


class OutputFolderError(ControlbookError):
    """The output folder cannot be used: it is locked, or it is not Controlbook's to replace."""


# --- the atomic exchange ---------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 1 << 1  # <linux/fs.h>
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}


def _load_renameat2() -> Callable[..., int] | None:
    """glibc's ``renameat2`` (2.28 and later), or None where the C library lacks it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


_RENAMEAT2 = _load_renameat2()


def exchange(first: Path, second: Path) -> bool:
    """Swap what two existing paths name, in one system call; False when the OS cannot.

    Returns False (and changes nothing) where ``renameat2(RENAME_EXCHANGE)`` is missing:
    not Linux, a kernel before 3.15, or a file system without the flag. Any other failure
    (a path is missing, permissions) raises :class:`OSError` and changes nothing.
    """
    if _RENAMEAT2 is None:
        return False
    done = _RENAMEAT2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


# --- whose folder is it ------------------------------------------------------------------


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def pdfs_only(folder: Path) -> bool:
    """True when ``folder`` holds nothing but PDF files and dot files (markers, temporaries)."""
    return all(
        _regular_file(entry) and (entry.suffix == ".pdf" or entry.name.startswith("."))
        for entry in folder.iterdir()
    )


def holds_narratives_only(folder: Path) -> bool:
    """True for a folder ``controlbook pdf`` wrote: its marker, and only PDFs and dot files."""
    return _regular_file(folder / NARRATIVES_MARKER) and pdfs_only(folder)


def replace_refusal(out: Path) -> str | None:
    """Why ``out`` must not be replaced by a site, or None when it may be.

    It may be when it is missing, empty, a site Controlbook built (it has the marker),
    or holds nothing but a ``narratives/`` folder ``controlbook pdf`` wrote (the default
    ``controlbook pdf`` output, before the first build).
    """
    if not os.path.lexists(out):
        return None
    if out.is_symlink() or not out.is_dir():
        return "it is not a folder"
    entries = list(out.iterdir())
    if not entries or _regular_file(out / SITE_MARKER):
        return None
    if all(e.name == "narratives" and holds_narratives_only(e) for e in entries):
        return None
    return (
        f"it is not empty and has no {SITE_MARKER} file, so Controlbook did not build it; "
        "empty it or choose another folder"
    )


def check_replaceable(out: Path) -> None:
    """Raise :class:`OutputFolderError` unless a site may replace ``out``."""
    reason = replace_refusal(out)
    if reason is not None:
        raise OutputFolderError(f"refusing to replace {out}: {reason}")


# --- lock, staging, swap, leftovers ------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OverflowError:
        return False
    return True


_LEFTOVER = re.compile(r"(staging|old|pdf)-([0-9]{1,10})(\.docs)?")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(OSError):
            path.unlink()


def clean_leftovers(out: Path) -> list[Path]:
    """Remove what killed builds of ``out`` left beside it; call with the output lock held.

    Only ``.<out>.staging-PID``, ``.<out>.old-PID``, ``.<out>.pdf-PID`` and their
    ``.docs`` folders are touched, and only when PID is this process (the lock says no
    build of ours is running) or a process that no longer exists: the lock already
    keeps other builds of ``out`` away, and the PID check also spares the folders of a
    build of an unluckily named sibling output. An ``old`` folder that is a marked site,
    when ``out`` is missing, is the previous site caught between the two renames of the
    fallback swap: it is put back rather than removed. Returns what was removed.
    """
    prefix = f".{out.name}."
    removed: list[Path] = []
    try:
        entries = sorted(out.parent.iterdir())
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        found = _LEFTOVER.fullmatch(entry.name[len(prefix) :])
        if found is None:
            continue
        pid = int(found[2])
        if pid != os.getpid() and _alive(pid):
            continue
        if found[1] == "old" and not os.path.lexists(out) and _regular_file(entry / SITE_MARKER):
            os.rename(entry, out)
            continue
        _remove(entry)
        removed.append(entry)
    return removed


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Exclusive lock on the output folder, so that two builds cannot interleave.

    Once held, the leftovers of killed builds of ``out`` are cleaned up.
    """
    import fcntl

    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputFolderError(
                f"another build is writing {out}; try again when it has finished"
            ) from None
        try:
            clean_leftovers(out)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def scratch_dir(out: Path, kind: str) -> Path:
    """A fresh ``.<out>.<kind>-PID`` folder beside ``out``, which :func:`clean_leftovers`
    recognises if this process dies before removing it."""
    scratch = out.parent / f".{out.name}.{kind}-{os.getpid()}"
    if os.path.lexists(scratch):
        _remove(scratch)
    scratch.mkdir(parents=True)
    return scratch


def staging_dir(out: Path) -> Path:
    """A fresh staging folder beside ``out`` (same file system, so the swap is a rename)."""
    return scratch_dir(out, "staging")


def swap_in(staging: Path, out: Path) -> None:
    """Replace ``out`` with ``staging`` (marked as a Controlbook site) in one step.

    Call with the output lock held. The previous site stays whole until the switch and
    is removed after it; ``out`` is checked again here, so a folder that someone filled
    while the build ran is refused rather than replaced.
    """
    check_replaceable(out)
    (staging / SITE_MARKER).write_text(SITE_MARKER_TEXT, encoding="utf-8")
    if not os.path.lexists(out):
        os.rename(staging, out)
    elif exchange(staging, out):
        _remove(staging)  # it now holds the previous site
    else:
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        os.rename(staging, out)
        _remove(old)
