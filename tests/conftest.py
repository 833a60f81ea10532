"""Shared fixtures: a small valid catalog in a temp folder that tests break on purpose."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.errors import CatalogInvalid
from generator.model import Catalog

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "controls"
SCAFFOLD = ROOT / "generator" / "catalog" / "starter"
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"


@dataclass
class CatalogDir:
    """A catalog folder with helpers to edit its files and read its diagnostics."""

    path: Path

    def write(self, rel: str, text: str) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def replace(self, rel: str, old: str, new: str) -> None:
        target = self.path / rel
        text = target.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        target.write_text(text.replace(old, new, 1), encoding="utf-8")

    def load(self, *, strict: bool = False) -> Catalog:
        return load_catalog(self.path, strict=strict)

    def problems(self, *, strict: bool = False) -> list[str]:
        """Every diagnostic as ``file:line:col: level: message``, paths relative to the catalog."""
        try:
            diagnostics = self.load(strict=strict).warnings
        except CatalogInvalid as exc:
            diagnostics = exc.diagnostics
        prefix = self.path.as_posix() + "/"
        return [str(d).split("\n")[0].removeprefix(prefix) for d in diagnostics]


@pytest.fixture(scope="session", autouse=True)
def isolated_signer_and_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the development signer and the PDF cache of the tests out of the user's folders."""
    base = tmp_path_factory.mktemp("controlbook-home")
    saved = {k: os.environ.get(k) for k in ("CONTROLBOOK_DEV_SIGNER_DIR", "CONTROLBOOK_CACHE_DIR")}
    os.environ["CONTROLBOOK_DEV_SIGNER_DIR"] = str(base / "dev-signer")
    os.environ["CONTROLBOOK_CACHE_DIR"] = str(base / "cache")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def starter(tmp_path: Path) -> CatalogDir:
    """A copy of the ``controlbook init`` catalog: small and valid."""
    target = tmp_path / "catalog"
    shutil.copytree(SCAFFOLD, target, ignore=shutil.ignore_patterns("__pycache__"))
    return CatalogDir(target)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the example catalog (``controls/``) that a test may edit."""
    target = tmp_path / "catalog"
    shutil.copytree(Path(__file__).resolve().parents[1] / "controls", target)
    return target


@pytest.fixture
def pickled_by_page_keys(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every value the site's page keys pickle to hash it, in order (clear it to start
    counting anew)."""
    from generator.render import pagekey

    written: list[object] = []
    real = pagekey.pickled

    def counting(value: object) -> bytes:
        written.append(value)
        return real(value)

    monkeypatch.setattr(pagekey, "pickled", counting)
    return written
