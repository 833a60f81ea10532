"""What an audit bundle holds and how it is named: the manifest model, the member-name rule,
the ``SHA256SUMS`` file and the auditor's ``README.md``; shared by the writer
(:mod:`.bundle`) and the checker (:mod:`.bundleverify`).

Layout of a bundle (every path relative, ``/``-separated, sorted in the zip)::

    MANIFEST.json          every other file's path, size and sha256 (not itself, nor the signature)
    MANIFEST.json.p7s      detached CMS signature of MANIFEST.json (DER)
    README.md              how to verify, with and without Controlbook
    SHA256SUMS             ``sha256sum -c`` input for every file of the manifest but itself
    trust/ca.pem           the CA certificate the narratives and the manifest chain to
    catalog/...            every file of the catalog folder
    narratives/<ID>.pdf    the signed narratives
    site/...               the built site
    findings/findings.{json,sarif,csv}
    samples/<ID>.csv       one audit sample per control with a sample population
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.json.p7s"
README = "README.md"
SUMS = "SHA256SUMS"
TRUST = "trust/ca.pem"
CATALOG_DIR = "catalog/"
NARRATIVES_DIR = "narratives/"
FORMAT = "controlbook-audit-bundle"
UNLISTED = frozenset({MANIFEST, SIGNATURE})
"""The only members the manifest does not list (it cannot list itself or its signature)."""

_SEGMENT = re.compile(r"^[^\x00-\x1f\x7f\\:]+$")


def name_problem(name: str) -> str | None:
    """Why ``name`` is no safe member path of a bundle (None: it is one).

    Safe: relative, ``/``-separated, no empty, ``.`` or ``..`` segment, no backslash, colon
    (a Windows drive or stream) or control character."""
    if not name:
        return "an empty name"
    if name.startswith("/"):
        return "an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a path with an empty, '.' or '..' segment (it could escape the folder)"
    if not all(_SEGMENT.match(part) for part in parts):
        return "a backslash, colon or control character in the name"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestFile(_Strict):
    path: str
    size: int
    sha256: str


class CatalogSource(_Strict):
    """The catalog's git commit, when the catalog is a clean git checkout."""

    commit: str | None
    clean: bool
    note: str


class SampleRecord(_Strict):
    control: str
    file: str
    seed: str
    period: str
    population_size: int
    population_sha256: str
    size: int


class SignerRecord(_Strict):
    subject: str
    fingerprint: str
    development: bool


class Manifest(_Strict):
    format: Literal["controlbook-audit-bundle"] = FORMAT
    version: Literal[1] = 1
    controlbook_version: str
    organisation: str
    as_of: str
    catalog_source: CatalogSource
    signer: SignerRecord
    samples: tuple[SampleRecord, ...]
    files: tuple[ManifestFile, ...]


def sha256sums(files: tuple[ManifestFile, ...]) -> str:
    """``sha256sum`` check lines (two spaces: text mode, which GNU and BSD read alike)."""
    return "".join(f"{f.sha256}  {f.path}\n" for f in files if f.path != SUMS)


def readme(*, organisation: str, as_of: str, development: bool) -> str:
    """The auditor's instructions, with the exact commands (``BUNDLE.zip`` stands for the
    file's name, which is not in the bundle: renaming it changes nothing)."""
    warning = (
        "\n**Development signature.** This bundle and its narratives were signed with a local "
        "development certificate (`NOT FOR PRODUCTION`): the checks below prove the files are "
        "intact, not who signed them.\n"
        if development
        else ""
    )
    dev_flag = " --allow-development" if development else ""
    return f"""# Audit bundle: {organisation} control catalog as of {as_of}

Everything an auditor needs, offline: the catalog with its evidence, the signed PDF
narratives, the built site, the findings, the audit samples and how they were drawn.
{warning}
## What is in it

- `MANIFEST.json`: every other file with its size and SHA-256, the Controlbook version,
  the catalog's git commit (when it was a clean checkout) and each sample's seed.
- `MANIFEST.json.p7s`: a detached CMS (PKCS#7) signature of `MANIFEST.json`, by the key
  that signed the narratives.
- `SHA256SUMS`: the same hashes for `sha256sum -c`.
- `trust/ca.pem`: the CA certificate the signatures chain to. Compare its SHA-256
  fingerprint with the one the organisation gave you *outside* this bundle: a bundled CA
  proves the files are as their signer listed them, not who that signer is.
- `catalog/`: every file of the catalog (YAML, extracts, raw evidence, review items).
- `narratives/`: one signed PDF/A narrative per control (the evidence manifest is attached).
- `site/`: the catalog site (open `site/index.html`).
- `findings/`: the findings as JSON, SARIF 2.1.0 and CSV.
- `samples/`: one audit sample per control with review items; the header lines give the
  seed, the population's SHA-256 and the method to draw it again.

## Verify with Controlbook

    controlbook verify --bundle BUNDLE.zip --trust CA-YOU-WERE-GIVEN.pem{dev_flag}

or, to check integrity against the bundled CA only (not identity):

    controlbook verify --bundle BUNDLE.zip --trust-bundled-ca{dev_flag}

It checks the manifest signature, every file's size and SHA-256, that no file is missing
or added, every narrative's signature and its evidence manifest against `catalog/`. Exit
0: all good; 1: a problem (one line per problem, naming the file); 2: not a usable bundle.

## Verify without Controlbook

    mkdir bundle && cd bundle && unzip -q ../BUNDLE.zip
    openssl x509 -in trust/ca.pem -noout -fingerprint -sha256
    openssl cms -verify -binary -inform DER -in MANIFEST.json.p7s -content MANIFEST.json \\
        -CAfile trust/ca.pem -purpose any -out /dev/null
    sha256sum -c --strict --quiet SHA256SUMS
    (cut -c67- SHA256SUMS; printf '%s\\n' SHA256SUMS MANIFEST.json MANIFEST.json.p7s) \\
        | sort > ../listed.txt
    find . -type f | sed 's|^\\./||' | sort | diff ../listed.txt - && echo "no file missing or added"

(`-CAfile` takes the CA you were given, if you have one. `SHA256SUMS` is listed in
`MANIFEST.json` with its hash, so a changed `SHA256SUMS` shows up as a mismatch against the
signed manifest.) Each narrative's signature can be checked with any PAdES validator
(Adobe Acrobat, `pdfsig` from poppler-utils, pyHanko), against the same CA.
"""


__all__ = [
    "CATALOG_DIR",
    "MANIFEST",
    "NARRATIVES_DIR",
    "README",
    "SIGNATURE",
    "SUMS",
    "TRUST",
    "UNLISTED",
    "CatalogSource",
    "Manifest",
    "ManifestFile",
    "SampleRecord",
    "SignerRecord",
    "name_problem",
    "readme",
    "sha256sums",
]
