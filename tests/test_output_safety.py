"""Where output may go, and how it lands (security review, issue 15).

* ``--out`` never replaces the catalog, the repository (``.git`` included), the home
  folder, ``/`` or any non-empty folder Controlbook did not build; ``pdf --out`` never
  writes into a folder of someone else's files.
* A site switches in with one atomic exchange; a killed build leaves the previous site
  whole, and the next build removes what the killed one left behind.
* ``serve`` answers only to its own addresses (no DNS rebinding).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.publish import serve as serve_module
from generator.publish.build import build
from generator.publish.destination import check_pdf_destination, check_site_destination
from generator.publish.serve import host_allowed, make_server
from generator.render import outdir
from generator.render.outdir import (
    NARRATIVES_MARKER,
    SITE_MARKER,
    OutputFolderError,
    exchange,
    output_lock,
    swap_in,
)
from tests.conftest import EXAMPLE, SCAFFOLD, CatalogDir

pytestmark = pytest.mark.slow

HUNG = 600  # seconds: only a process that never answers gets this far


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (``.git`` included) with its content hash."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding the starter catalog in ``controls/``, and a README."""
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    shutil.copytree(SCAFFOLD, root / "controls", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "README.md").write_text("my repository\n", encoding="utf-8")
    return root


def invoke(cwd: Path, *args: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, list(args))


def assert_refused(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    """Exit 2 with one line on stderr that says each of ``words``."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in result.output


# --- 1. where a site may go ---------------------------------------------------------------


def test_build_out_dot_in_a_repository_is_refused_and_the_work_tree_survives(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(repo)
    result = invoke(repo, "build", "controls", "--out", ".", "--no-pdf", monkeypatch=monkeypatch)
    assert_refused(result, str(repo), "git repository")
    assert snapshot(repo) == before
    assert (repo / ".git" / "HEAD").is_file()


@pytest.mark.parametrize(
    ("cwd", "out", "reason"),
    [
        (".", "controls", "it is the catalog"),
        (".", "controls/site", "it is inside the catalog"),
        (".", "..", "it contains the catalog"),
        (".", ".git/site", "it is inside a .git folder"),
        ("controls", "..", "it is the git repository"),
        ("controls/controls", ".", "it is the current folder"),
        ("controls/controls", "../..", "it is the git repository"),
    ],
)
def test_build_refuses_the_catalog_and_the_repository_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, out: str, reason: str
) -> None:
    before = snapshot(repo.parent)
    catalog = os.path.relpath(repo / "controls", repo / cwd)
    result = invoke(repo / cwd, "build", catalog, "--out", out, "--no-pdf", monkeypatch=monkeypatch)
    assert_refused(result, str((repo / cwd / out).resolve()), reason)
    assert snapshot(repo.parent) == before


def test_build_refuses_the_home_folder(
    starter: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("export KEEP=me\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    result = invoke(
        tmp_path,
        "build",
        str(starter.path),
        "--out",
        str(home),
        "--no-pdf",
        monkeypatch=monkeypatch,
    )
    assert_refused(result, str(home), "your home folder")
    assert (home / ".bashrc").read_text(encoding="utf-8") == "export KEEP=me\n"


def test_the_file_system_root_is_refused_for_sites_and_narratives(starter: CatalogDir) -> None:
    with pytest.raises(OutputFolderError, match="it is the file system root"):
        check_site_destination(Path("/"), starter.path)
    with pytest.raises(OutputFolderError, match="it is the file system root"):
        check_pdf_destination(Path("/"), starter.path)


def test_a_non_empty_folder_controlbook_did_not_build_is_not_replaced(
    starter: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = invoke(
        tmp_path, "build", str(starter.path), "--out", "docs", "--no-pdf", monkeypatch=monkeypatch
    )
    assert_refused(result, str(out), SITE_MARKER, "not empty")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_the_swap_itself_refuses_a_folder_that_is_not_a_controlbook_site(tmp_path: Path) -> None:
    """The check is repeated at the switch, under the lock: a folder filled while the
    build ran (or a caller skipping the early check) is still not replaced."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n", encoding="utf-8")
    staging = tmp_path / ".out.staging-1"
    staging.mkdir()
    (staging / "index.html").write_text("site\n", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="refusing to replace"):
        swap_in(staging, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_an_empty_folder_becomes_a_marked_site_that_the_next_build_replaces(
    starter: CatalogDir, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    build(starter.path, out, pdfs=False)
    marker = (out / SITE_MARKER).read_text(encoding="utf-8")
    assert "built by Controlbook" in marker
    assert "replaces the whole folder" in marker
    starter.replace(
        "controls/UAR-APP-01.yaml",
        "title: Quarterly user access review of the billing application",
        "title: Monthly review of billing access",
    )
    build(starter.path, out, pdfs=False)
    assert "Monthly review of billing access" in (out / "controls/UAR-APP-01.html").read_text()


def test_serve_refuses_the_repository_root(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(repo)
    with pytest.raises(OutputFolderError, match="it is the git repository"):
        make_server(repo / "controls", repo, port=0)
    result = invoke(repo, "serve", "controls", "--out", ".", "--port", "0", monkeypatch=monkeypatch)
    assert_refused(result, str(repo), "git repository")
    assert snapshot(repo) == before


# --- 1. where narratives may go -----------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("controls", "it is the catalog"),
        ("controls/narratives", "it is inside the catalog"),
        (".", "it is the git repository"),
    ],
)
def test_pdf_refuses_the_catalog_and_the_repository_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch, out: str, reason: str
) -> None:
    before = snapshot(repo)
    result = invoke(repo, "pdf", "--catalog", "controls", "--out", out, monkeypatch=monkeypatch)
    assert_refused(result, str((repo / out).resolve()), reason)
    assert snapshot(repo) == before


def test_pdf_refuses_the_home_folder(
    starter: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    result = invoke(
        tmp_path, "pdf", "--catalog", str(starter.path), "--out", str(home), monkeypatch=monkeypatch
    )
    assert_refused(result, str(home), "your home folder")
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"UAR-APP-01.pdf": b"%PDF- my own file"}, NARRATIVES_MARKER),
        ({"notes.txt": b"mine"}, NARRATIVES_MARKER),
        ({NARRATIVES_MARKER: b"", "notes.txt": b"mine"}, "files other than narratives"),
    ],
    ids=["a-foreign-pdf-of-the-same-name", "foreign-files", "marked-but-holding-other-files"],
)
def test_pdf_never_writes_into_a_folder_of_someone_elses_files(
    starter: CatalogDir,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, bytes],
    reason: str,
) -> None:
    out = tmp_path / "papers"
    out.mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    result = invoke(
        tmp_path, "pdf", "--catalog", str(starter.path), "--out", "papers", monkeypatch=monkeypatch
    )
    assert_refused(result, str(out), reason)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files


def test_pdf_output_can_be_rewritten_and_a_site_build_replaces_it(
    starter: CatalogDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defaults work in sequence: ``pdf`` (into site/narratives) twice, then ``build``
    into site/, which holds only what ``pdf`` wrote."""
    for _ in range(2):
        result = invoke(tmp_path, "pdf", "--catalog", str(starter.path), monkeypatch=monkeypatch)
        assert result.exit_code == 0, result.output
    narratives = tmp_path / "site" / "narratives"
    assert sorted(p.name for p in narratives.iterdir()) == [NARRATIVES_MARKER, "UAR-APP-01.pdf"]
    result = invoke(tmp_path, "build", str(starter.path), monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / SITE_MARKER).is_file()
    assert (narratives / "UAR-APP-01.pdf").read_bytes().startswith(b"%PDF-")
    # ...and pdf may write into the narratives folder of a built site
    result = invoke(tmp_path, "pdf", "--catalog", str(starter.path), monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output


# --- 2. one atomic switch, no leftovers ---------------------------------------------------


def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text("A", encoding="utf-8")
    (second / "b.txt").write_text("B", encoding="utf-8")
    inodes = (first.stat().st_ino, second.stat().st_ino)
    if not exchange(first, second):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert [p.name for p in first.iterdir()] == ["b.txt"]
    assert [p.name for p in second.iterdir()] == ["a.txt"]
    assert (first.stat().st_ino, second.stat().st_ino) == inodes[::-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "second"]


def test_exchange_with_a_missing_path_fails_and_moves_nothing(tmp_path: Path) -> None:
    """A two-rename swap would have moved ``first`` away before failing; the exchange
    is one call that either swaps both or changes nothing."""
    first = tmp_path / "first"
    first.mkdir()
    if outdir._RENAMEAT2 is None:
        pytest.skip("renameat2 is not available here")
    with pytest.raises(FileNotFoundError):
        exchange(first, tmp_path / "missing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first"]


def test_without_renameat2_the_swap_falls_back_to_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outdir, "_RENAMEAT2", None)
    out = tmp_path / "site"
    out.mkdir()
    (out / SITE_MARKER).write_text("", encoding="utf-8")
    (out / "old.html").write_text("old", encoding="utf-8")
    staging = tmp_path / ".site.staging-1"
    staging.mkdir()
    (staging / "new.html").write_text("new", encoding="utf-8")
    swap_in(staging, out)
    assert sorted(p.name for p in out.iterdir()) == [SITE_MARKER, "new.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def _finished_pid() -> int:
    """The PID of a process that has exited (a dead build)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=HUNG)
    return process.pid


@pytest.fixture
def running() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing in for a build that is still running."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    yield process
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=HUNG)


def test_leftovers_of_dead_builds_are_removed_by_the_next_build(
    starter: CatalogDir, tmp_path: Path, running: subprocess.Popen[bytes]
) -> None:
    out = tmp_path / "site"
    dead = _finished_pid()
    stale = [
        f".site.staging-{dead}",
        f".site.staging-{dead}.docs",
        f".site.old-{dead}",
        f".site.pdf-{dead}",
    ]
    kept = [f".site.staging-{running.pid}", ".other.staging-1", ".site.staging-notapid"]
    for name in stale + kept:
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "page.html").write_text("x", encoding="utf-8")
    build(starter.path, out, pdfs=False)
    left = {p.name for p in tmp_path.iterdir()}
    assert not left & set(stale)
    assert set(kept) <= left
    assert (out / "index.html").is_file()


def test_a_previous_site_caught_between_the_fallback_renames_is_put_back(tmp_path: Path) -> None:
    """With the two-rename fallback, a kill between the renames leaves only ``.old-PID``:
    the next holder of the lock restores it as the site."""
    out = tmp_path / "site"
    old = tmp_path / f".site.old-{_finished_pid()}"
    old.mkdir()
    (old / SITE_MARKER).write_text("", encoding="utf-8")
    (old / "index.html").write_text("previous", encoding="utf-8")
    with output_lock(out):
        pass
    assert (out / "index.html").read_text(encoding="utf-8") == "previous"
    assert not old.exists()


def test_sigkill_during_mkdocs_keeps_the_previous_site_and_the_next_build_cleans_up(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    build(EXAMPLE, out, pdfs=False)
    before = snapshot(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "build", str(EXAMPLE), "--out", str(out), "--no-pdf"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + HUNG
    for line in process.stdout:
        if "running MkDocs" in line:
            break
        assert time.monotonic() < deadline
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=HUNG)
    leftovers = {p.name for p in tmp_path.iterdir() if str(process.pid) in p.name}
    assert f".site.staging-{process.pid}" in leftovers, "the build finished before the kill"
    assert snapshot(out) == before

    build(EXAMPLE, out, pdfs=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "site"]
    assert snapshot(out) == before  # same inputs, same site


# --- 3. serve answers only to its own addresses ---------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, int]]:
    base = tmp_path_factory.mktemp("serve")
    catalog = base / "catalog"
    shutil.copytree(SCAFFOLD, catalog, ignore=shutil.ignore_patterns("__pycache__"))
    running = make_server(catalog, base / "site", port=0, report=lambda _line: None)
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + HUNG
    while not running.serve_thread.is_alive():
        assert time.monotonic() < deadline, "the server never started"
        time.sleep(0.02)
    try:
        yield running, running.server_address[1]
    finally:
        running.shutdown()


def get(port: int, path: str, host: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HUNG)
    try:
        if host is None:
            connection.putrequest("GET", path, skip_host=True)
            connection.endheaders()
        else:
            connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serve_listens_on_loopback_and_answers_its_own_names(server: tuple[object, int]) -> None:
    running, port = server
    assert running.server_address[0] == "127.0.0.1"  # type: ignore[attr-defined]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        status, body = get(port, "/", host)
        assert status == 200, host
        assert b"Dashboard" in body


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example:{port}",
        "attacker.example",
        "127.0.0.1.attacker.example:{port}",
        "localhost:1",
        "127.0.0.1",
        "127.0.0.1:{port}@attacker.example",
        None,
    ],
    ids=["rebound-name", "no-port", "lookalike", "other-port", "port-80", "junk", "missing"],
)
def test_serve_refuses_a_forged_host_header(server: tuple[object, int], host: str | None) -> None:
    _running, port = server
    forged = host.format(port=port) if host is not None else None
    for path in ("/", "/controls/UAR-APP-01.html", "/livereload/0/0"):
        status, body = get(port, path, forged)
        assert status == 421, (forged, path)
        assert b"Misdirected Request" in body
        assert b"Dashboard" not in body


def test_the_host_given_is_allowed_and_a_wildcard_listener_takes_addresses() -> None:
    assert host_allowed("preview.internal:8000", "preview.internal", 8000)
    assert not host_allowed("preview.internal:8000", "127.0.0.1", 8000)
    assert host_allowed("[2001:db8::1]:8000", "2001:db8::1", 8000)
    assert host_allowed("192.0.2.7:8000", "0.0.0.0", 8000)
    assert not host_allowed("192.0.2.7:8000", "127.0.0.1", 8000)
    assert not host_allowed("attacker.example:8000", "0.0.0.0", 8000)
    assert serve_module.LOOPBACK_NAMES == ("127.0.0.1", "localhost", "::1")
