"""A build hashes the catalog's files while the catalog loads (:class:`HashAhead`), and
takes a hash only for a file that is still the one that was read.

The evaluation and every sha256 it reports are the same with and without hashing ahead;
a file changed after it was hashed (even back to its size and modification time) is
hashed again, and so is one changed too lately before its hash began to tell a later
change by its times.
"""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

from generator.catalog.loader import load_catalog
from generator.evaluation.evalcache import EvaluationCache
from generator.evidence.extracts import ExtractStore
from generator.evidence.filehash import HashAhead, hash_file
from generator.model import Catalog

EXTRACT = "extracts/erp/2026-09-15.csv"


def every_check(catalog: Catalog, store: ExtractStore) -> dict[str, tuple[bool, str | None]]:
    """What the store says of every extract the catalog names."""
    files = sorted({e.file for extracts in store.by_system.values() for e in extracts})
    assert EXTRACT in files
    return {rel: (store.check(rel).exists, store.check(rel).sha256) for rel in files}


def test_hashes_taken_ahead_are_those_of_a_fresh_read(example: Path, tmp_path: Path) -> None:
    catalog = load_catalog(example)
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        ahead.wait()
        store = ExtractStore(catalog, cache=False, ahead=ahead)
        checks = every_check(catalog, store)
        assert ahead.taken == len(checks)  # every one came from the threads
    assert checks == every_check(catalog, ExtractStore(catalog, cache=False))


def test_an_evaluation_with_hashes_ahead_equals_one_without(example: Path, tmp_path: Path) -> None:
    catalog = load_catalog(example)
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        ahead.wait()
        found = EvaluationCache(tmp_path / "a").evaluate(catalog, ahead=ahead)
        assert ahead.taken > 0
    plain = EvaluationCache(tmp_path / "b").evaluate(catalog)
    assert (found.findings, found.not_assessed, found.inputs) == (
        plain.findings,
        plain.not_assessed,
        plain.inputs,
    )


def test_a_file_changed_after_its_hash_is_hashed_again(example: Path) -> None:
    catalog = load_catalog(example)
    target = (example / EXTRACT).resolve()
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        ahead.wait()
        assert ahead.take(target) == hash_file(target)  # unchanged: taken
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        store = ExtractStore(catalog, cache=False, ahead=ahead)
        ahead.wait()
        before = hash_file(target).sha256
        with target.open("ab") as handle:
            handle.write(b"ERP_X,k.dubois,employee,ROLE_X\n")
        after = store.check(EXTRACT).sha256
        assert after == hash_file(target).sha256 != before
        assert ahead.taken == len(every_check(catalog, store)) - 1  # all but the changed one


def test_a_change_that_keeps_the_size_and_the_modification_time_is_seen(example: Path) -> None:
    """Rewriting bytes in place and setting the modification time back leaves the
    change time: a write cannot set it back."""
    target = example / EXTRACT
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        before = os.stat(target)
        data = bytearray(target.read_bytes())
        data[-2:-1] = b"Z" if data[-2:-1] != b"Z" else b"Y"
        ahead.wait()
        target.write_bytes(bytes(data))
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert os.stat(target).st_size == before.st_size
        assert ahead.take(target.resolve()) is None


def test_a_file_changed_just_before_its_hash_began_is_not_hashed_ahead(example: Path) -> None:
    target = (example / EXTRACT).resolve()
    target.write_bytes(target.read_bytes())  # changed now: within the settling time
    with closing(HashAhead(example)) as ahead:
        ahead.wait()
        assert ahead.take(target) is None


def test_links_hidden_folders_and_yaml_are_not_hashed_ahead(example: Path) -> None:
    (example / ".git").mkdir()
    (example / ".git" / "objects.csv").write_text("x\n")
    (example / "linked.csv").symlink_to(example / EXTRACT)
    (example / "odd\udcff name.csv").write_bytes(b"a,b\n")  # not UTF-8: kept as is
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        ahead.wait()
        files = set(ahead.files)
    root = os.path.realpath(example)
    assert os.path.join(root, EXTRACT) in files
    assert os.path.join(root, "odd\udcff name.csv") in files
    assert not {f for f in files if f.endswith((".yaml", ".yml"))}
    assert os.path.join(root, ".git", "objects.csv") not in files
    assert os.path.join(root, "linked.csv") not in files


def test_leaving_stops_the_worker(example: Path) -> None:
    for n in range(300):  # enough files that the worker is still at work when the block ends
        (example / f"attachment-{n:03}.txt").write_bytes(b"x" * 100_000)
    with closing(HashAhead(example, settled_ns=0)) as ahead:
        worker = ahead._worker
        assert worker is not None
    assert worker.returncode is not None  # ended and reaped: no process is left behind
    assert ahead.files == []
