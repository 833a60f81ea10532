"""Read a catalog folder as it is at a git revision, without touching the user's checkout.

The files under the catalog path are listed with ``git ls-tree`` and their content
read with ``git cat-file --batch`` into a temporary folder, byte for byte as
committed (no ``.gitattributes`` filters). Git always runs with ``-C`` on the
repository; nothing here changes the index, the working tree or any ref.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path, PurePosixPath

from ..errors import InputError

DEFAULT_BRANCHES = ("origin/HEAD", "main", "master", "origin/main", "origin/master")
"""Where the default branch is looked for, in this order, to find the merge base."""

_BLOB_MODES = ("100644", "100755")
"""Regular files; symlinks (120000) and submodules (160000) are not read."""


class GitError(InputError):
    """Git could not answer: not a repository, unknown revision, unreadable object."""


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run ``git -C repo args``; raise :class:`GitError` with git's own message on failure."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'no message'}")
    return done.stdout


def repo_root(start: Path) -> Path:
    """The top folder of the git working tree that contains ``start`` (or its nearest parent)."""
    folder = start.absolute()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        top = _git(folder, "rev-parse", "--show-toplevel")
    except GitError:
        raise GitError(f"{start}: not inside a git repository") from None
    return Path(top.decode().strip()).resolve()


def resolve_commit(repo: Path, revision: str) -> str:
    """The full commit ID a revision names (a branch, tag, ``HEAD~1``, a short ID...)."""
    try:
        found = _git(
            repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
        )
    except GitError:
        raise GitError(
            f"unknown revision {revision!r} (in CI, fetch the full history: fetch-depth 0)"
        ) from None
    return found.decode().strip()


def default_base(repo: Path, head: str) -> str:
    """The merge base of commit ``head`` with the default branch (the first that exists of
    ``origin/HEAD``, ``main``, ``master``, ``origin/main``, ``origin/master``)."""
    for branch in DEFAULT_BRANCHES:
        try:
            branch_commit = resolve_commit(repo, branch)
        except GitError:
            continue
        try:
            return _git(repo, "merge-base", branch_commit, head).decode().strip()
        except GitError:
            raise GitError(f"{branch} and {head[:12]} have no common history") from None
    tried = ", ".join(DEFAULT_BRANCHES)
    raise GitError(f"no default branch found (tried {tried}); give BASE explicitly")


def _blobs(repo: Path, commit: str, path: str) -> list[tuple[str, str]]:
    """(object ID, repository path) of every regular file under ``path`` at ``commit``."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", path)
    blobs = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, object_id = meta.decode().split()
        if kind == "blob" and mode in _BLOB_MODES:
            blobs.append((object_id, name.decode("utf-8", "surrogateescape")))
    return blobs


def _contents(repo: Path, object_ids: list[str]) -> list[bytes]:
    """The content of each blob, in order, read in one ``git cat-file --batch``."""
    out = _git(repo, "cat-file", "--batch", stdin="".join(f"{o}\n" for o in object_ids).encode())
    contents, offset = [], 0
    for _ in object_ids:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        start = header_end + 1
        contents.append(out[start : start + size])
        offset = start + size + 1  # content is followed by a newline
    return contents


def _write_tree(repo: Path, commit: str, path: str, dest: Path) -> None:
    """Write the files under ``path`` at ``commit`` into ``dest`` (paths relative to ``path``)."""
    blobs = _blobs(repo, commit, path)
    if not blobs:
        raise GitError(f"{path}: no files at {commit[:12]}")
    prefix = PurePosixPath(path)
    for (_, name), content in zip(blobs, _contents(repo, [o for o, _ in blobs]), strict=True):
        relative = PurePosixPath(name) if path == "." else PurePosixPath(name).relative_to(prefix)
        if ".." in relative.parts or relative.is_absolute():  # git refuses these; be sure
            raise GitError(f"{name}: unsafe path in {commit[:12]}")
        target = dest.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


class PathKind(StrEnum):
    """What a path in the repository is at a revision (or in the working tree)."""

    FOLDER = "folder"
    MISSING = "missing"
    SYMLINK = "symbolic link"
    FILE = "file"
    SUBMODULE = "submodule"


_MODE_KINDS = {"040000": PathKind.FOLDER, "120000": PathKind.SYMLINK, "160000": PathKind.SUBMODULE}


def path_kind(repo: Path, commit: str, path: str) -> tuple[PathKind, str]:
    """What ``path`` is at ``commit``, walking down from the root: the first component that
    is not a folder decides, and is returned with it (``path`` itself for a folder).

    A symbolic link anywhere on the way is reported as such: git stores it as a blob, so
    reading "through" it would silently read another folder, or nothing.
    """
    if path == ".":
        return PathKind.FOLDER, path
    parts = PurePosixPath(path).parts
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        listing = _git(repo, "ls-tree", "-z", "--full-tree", commit, "--", prefix)
        entries = [e.partition(b"\t") for e in listing.split(b"\0") if e]
        modes = [meta.split()[0].decode() for meta, _, name in entries if name == prefix.encode()]
        if not modes:
            return PathKind.MISSING, prefix
        kind = _MODE_KINDS.get(modes[0], PathKind.FILE)
        if kind != PathKind.FOLDER:
            return kind, prefix
    return PathKind.FOLDER, path


@contextmanager
def checkout(repo: Path, commit: str, path: str) -> Iterator[Path]:
    """A temporary folder holding the catalog folder ``path`` as it is at ``commit``.

    ``path`` is relative to the repository root (``.`` for the root itself); the
    folder is removed on exit.
    """
    with tempfile.TemporaryDirectory(prefix="controlbook-") as tmp:
        dest = Path(tmp) / "catalog"
        dest.mkdir()
        _write_tree(repo, commit, path, dest)
        yield dest


__all__ = [
    "GitError",
    "PathKind",
    "checkout",
    "default_base",
    "path_kind",
    "repo_root",
    "resolve_commit",
]
