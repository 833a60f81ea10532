"""A large review in a narrative: the exceptions to the rule, a sample of the keeps that
anyone can draw again, and every decision attached as CSV (issue 20, narratives at scale).

Built from the starter catalog with a 120-account review: real WeasyPrint, real pyHanko,
the PDF read back with pypdf.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.evaluation.sampling import rank
from generator.publish.narratives import render_narratives
from generator.render.decisions import FULL_TABLE_MAX, REVIEWERS_SHOWN_MAX
from generator.render.narrative import MANIFEST_NAME
from generator.signing.sign import load_signer
from generator.views import CatalogViews
from tests.conftest import CatalogDir

pytestmark = pytest.mark.slow

ACCOUNTS = 120
REVIEW = "UAR-APP-01-2026Q1"


def large_review(starter: CatalogDir) -> None:
    rows = ["account,person,account_type,entitlement"] + [
        f"user{n:03d},m.novak,employee,BILLING_READONLY" for n in range(ACCOUNTS)
    ]
    data = ("\n".join(rows) + "\n").encode()
    (starter.path / "extracts" / "app-2026-03-31.csv").write_bytes(data)
    items = []
    for n in range(ACCOUNTS):
        decision = "revoke" if n == 7 else "keep"
        item = (
            f"  - account: user{n:03d}\n    decision: {decision}\n    decided_by: j.okafor\n"
            f"    decided_at: 2026-04-10T09:{n % 60:02d}:00Z\n"
        )
        if decision == "revoke":
            item += "    remediation: {ticket: CHG-1, completed: 2026-04-12}\n"
        items.append(item)
    # decided after the due date (a signed-off review holds no undecided item): a problem,
    # so always shown
    items.append(
        "  - account: user999\n    decision: keep\n    decided_by: j.okafor\n"
        "    decided_at: 2026-05-04T10:00:00Z\n"
    )
    review = starter.path / "reviews" / f"{REVIEW}.yaml"
    text = review.read_text()
    text = (
        text[: text.index("items:")] + "items:\n" + "".join(items) + text[text.index("sign_off:") :]
    )
    text = re.sub(r"records: \d+", f"records: {ACCOUNTS}", text)
    text = re.sub(r"sha256: \w+", f"sha256: {hashlib.sha256(data).hexdigest()}", text, count=1)
    review.write_text(text)


def test_a_large_review_shows_exceptions_a_sample_and_attaches_every_decision(
    starter: CatalogDir, tmp_path: Path
) -> None:
    large_review(starter)
    catalog = load_catalog(starter.path)
    views = CatalogViews(catalog, evaluate(catalog))
    signer = load_signer(catalog.settings, catalog.root, env={}, dev_folder=tmp_path / "dev")
    batch = render_narratives(views, tmp_path / "out", signer=signer, jobs=1)
    (result,) = batch.results
    reader = PdfReader(result.path)
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())

    assert ACCOUNTS + 1 > FULL_TABLE_MAX
    assert "sample of 25 of the 119 plain keeps" in text
    assert f"decisions-{REVIEW}.csv" in text
    listed = reader.attachments[f"decisions-{REVIEW}.csv"][0]
    rows = list(csv.DictReader(io.StringIO(listed.decode())))
    assert len(rows) == ACCOUNTS + 1
    assert {r["decision"] for r in rows} == {"keep", "revoke"}
    manifest = json.loads(reader.attachments[MANIFEST_NAME][0])
    assert manifest["attachments"] == [
        {
            "name": f"decisions-{REVIEW}.csv",
            "sha256": hashlib.sha256(listed).hexdigest(),
            "rows": ACCOUNTS + 1,
            "content": "review decisions",
        }
    ]
    # the revoke and the late item are always shown; the keeps shown are the sample
    # anyone draws with the review ID as seed
    shown = set(re.findall(r"user\d{3}", text))
    keeps = [f"{REVIEW}||user{n:03d}|" for n in range(ACCOUNTS) if n != 7]
    sampled = {key.split("|")[2] for _, key in rank(REVIEW, keeps)[:25]}
    assert shown == {"user007", "user999"} | sampled
    assert len(reader.pages) < 12


def test_a_small_review_keeps_its_full_table(starter: CatalogDir, tmp_path: Path) -> None:
    catalog = load_catalog(starter.path)
    views = CatalogViews(catalog, evaluate(catalog))
    signer = load_signer(catalog.settings, catalog.root, env={}, dev_folder=tmp_path / "dev")
    (result,) = render_narratives(views, tmp_path / "out", signer=signer, jobs=1).results
    reader = PdfReader(result.path)
    assert sorted(reader.attachments) == ["UAR-APP-01.yaml", MANIFEST_NAME]
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "plain keeps" not in text
    assert "mnovak" in text
    assert "skim" in text


MANAGERS = 13


def many_reviewers(starter: CatalogDir) -> None:
    """Thirteen more reviewers (one more than a narrative names), one a leaver."""
    people = [
        f"  - id: mgr{n:02d}\n    name: Manager {n:02d}\n    title: Sales manager\n"
        f"    employed_from: 2020-01-01\n"
        for n in range(MANAGERS)
    ]
    people[3] += "    employed_until: 2026-04-30\n"  # before the as-of date, 2026-05-15
    with (starter.path / "people.yaml").open("a") as handle:
        handle.write("".join(people))
    ids = ", ".join(f"mgr{n:02d}" for n in range(MANAGERS))
    starter.replace(
        f"reviews/{REVIEW}.yaml", "reviewers: [j.okafor]", f"reviewers: [j.okafor, {ids}]"
    )


def test_a_review_with_many_reviewers_names_the_leaver_and_attaches_the_list(
    starter: CatalogDir, tmp_path: Path
) -> None:
    many_reviewers(starter)
    catalog = load_catalog(starter.path)
    views = CatalogViews(catalog, evaluate(catalog))
    signer = load_signer(catalog.settings, catalog.root, env={}, dev_folder=tmp_path / "dev")
    (result,) = render_narratives(views, tmp_path / "out", signer=signer, jobs=1).results
    reader = PdfReader(result.path)
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())

    assert MANAGERS + 1 > REVIEWERS_SHOWN_MAX
    assert f"{MANAGERS + 1} assigned, listed in the attached reviewers-{REVIEW}.csv" in text
    # the leaver is named in the text; the employed reviewers only in the list
    assert "Manager 03 (mgr03, Sales manager) (not employed at the as-of date)" in text
    assert "Manager 04" not in text
    listed = reader.attachments[f"reviewers-{REVIEW}.csv"][0]
    rows = list(csv.DictReader(io.StringIO(listed.decode())))
    assert [r["person"] for r in rows] == ["j.okafor", *(f"mgr{n:02d}" for n in range(MANAGERS))]
    assert [r["person"] for r in rows if r["employed_at_as_of"] == "False"] == ["mgr03"]
    manifest = json.loads(reader.attachments[MANIFEST_NAME][0])
    assert manifest["attachments"] == [
        {
            "name": f"reviewers-{REVIEW}.csv",
            "sha256": hashlib.sha256(listed).hexdigest(),
            "rows": MANAGERS + 1,
            "content": "review reviewers",
        }
    ]


def test_a_review_with_twelve_reviewers_names_every_one(
    starter: CatalogDir, tmp_path: Path
) -> None:
    many_reviewers(starter)
    starter.replace(f"reviews/{REVIEW}.yaml", "j.okafor, mgr00, ", "")
    catalog = load_catalog(starter.path)
    views = CatalogViews(catalog, evaluate(catalog))
    signer = load_signer(catalog.settings, catalog.root, env={}, dev_folder=tmp_path / "dev")
    (result,) = render_narratives(views, tmp_path / "out", signer=signer, jobs=1).results
    reader = PdfReader(result.path)
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())

    assert MANAGERS - 1 == REVIEWERS_SHOWN_MAX
    assert "Manager 12 (mgr12, Sales manager)" in text
    assert "reviewers-" not in text
    assert sorted(reader.attachments) == ["UAR-APP-01.yaml", MANIFEST_NAME]
