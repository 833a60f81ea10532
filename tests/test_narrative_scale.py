"""A large narrative: the exceptions to the rule, the keeps of the control's audit sample
(the sample ``controlbook sample`` draws), and every decision attached as CSV (issue 20,
narratives at scale). Whether a narrative prints every decision is decided by the
decisions of all its reviews together, not review by review.

Built from the starter catalog with reviews of many accounts: real WeasyPrint, real
pyHanko, the PDF read back with pypdf; ``controlbook sample`` run through its CLI.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from generator.catalog.loader import load_catalog
from generator.cli import main
from generator.evaluation.evaluate import evaluate
from generator.publish.narratives import render_narratives
from generator.render.decisions import FULL_TABLE_MAX, REVIEWERS_SHOWN_MAX
from generator.render.narrative import MANIFEST_NAME, Narrative, build_narratives
from generator.signing.sign import load_signer
from generator.views import CatalogViews
from tests.conftest import CatalogDir

pytestmark = pytest.mark.slow

ACCOUNTS = 120
CONTROL = "UAR-APP-01"
REVIEW = "UAR-APP-01-2026Q1"
Q2 = "UAR-APP-01-2026Q2"


def decisions(accounts: int, *, revoke: int | None = None, month: str = "04") -> str:
    """The ``items:`` of a review: ``user000`` ... kept, ``user<revoke>`` revoked."""
    items = []
    for n in range(accounts):
        decision = "revoke" if n == revoke else "keep"
        item = (
            f"  - account: user{n:03d}\n    decision: {decision}\n    decided_by: j.okafor\n"
            f"    decided_at: 2026-{month}-10T09:{n % 60:02d}:00Z\n"
        )
        if decision == "revoke":
            item += f"    remediation: {{ticket: CHG-1, completed: 2026-{month}-12}}\n"
        items.append(item)
    return "".join(items)


def large_review(starter: CatalogDir, accounts: int = ACCOUNTS, *, late: bool = True) -> None:
    """The starter's Q1 review with ``accounts`` decisions (``user007`` revoked) and, when
    ``late``, one more decided after the due date."""
    rows = ["account,person,account_type,entitlement"] + [
        f"user{n:03d},m.novak,employee,BILLING_READONLY" for n in range(accounts)
    ]
    data = ("\n".join(rows) + "\n").encode()
    (starter.path / "extracts" / "app-2026-03-31.csv").write_bytes(data)
    items = decisions(accounts, revoke=7)
    if late:
        # decided after the due date (a signed-off review holds no undecided item): a
        # problem, so always shown
        items += (
            "  - account: user999\n    decision: keep\n    decided_by: j.okafor\n"
            "    decided_at: 2026-05-04T10:00:00Z\n"
        )
    review = starter.path / "reviews" / f"{REVIEW}.yaml"
    text = review.read_text()
    text = text[: text.index("items:")] + "items:\n" + items + text[text.index("sign_off:") :]
    text = re.sub(r"records: \d+", f"records: {accounts}", text)
    text = re.sub(r"sha256: \w+", f"sha256: {hashlib.sha256(data).hexdigest()}", text, count=1)
    review.write_text(text)


def second_quarter(starter: CatalogDir, accounts: int) -> None:
    """A Q2 review of the same population with ``accounts`` kept decisions (the as-of date
    moved past it)."""
    starter.replace("catalog.yaml", "as_of: 2026-05-15", "as_of: 2026-08-15")
    text = (starter.path / "reviews" / f"{REVIEW}.yaml").read_text()
    text = text.replace(f"id: {REVIEW}", f"id: {Q2}")
    for old, new in (
        ("due: 2026-04-30", "due: 2026-07-30"),
        ("started: 2026-04-01", "started: 2026-07-01"),
        ("2026-04-14", "2026-07-14"),
        ("{start: 2026-01-01, end: 2026-03-31}", "{start: 2026-04-01, end: 2026-06-30}"),
    ):
        text = text.replace(old, new)
    text = (
        text[: text.index("items:")]
        + "items:\n"
        + decisions(accounts, month="07")
        + (text[text.index("sign_off:") :])
    )
    starter.write(f"reviews/{Q2}.yaml", text)


def narrative_of(starter: CatalogDir) -> Narrative:
    catalog = load_catalog(starter.path)
    (narrative,) = build_narratives(CatalogViews(catalog, evaluate(catalog)))
    return narrative


def sampled_by_cli(starter: CatalogDir) -> list[dict[str, str]]:
    """The rows of ``controlbook sample --control UAR-APP-01 --format csv``."""
    result = CliRunner().invoke(
        main, ["sample", str(starter.path), "--control", CONTROL, "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def narrative(starter: CatalogDir, tmp_path: Path) -> tuple[PdfReader, str]:
    """The starter catalog's one narrative, rendered and signed: the PDF and its text."""
    catalog = load_catalog(starter.path)
    views = CatalogViews(catalog, evaluate(catalog))
    signer = load_signer(catalog.settings, catalog.root, env={}, dev_folder=tmp_path / "dev")
    (result,) = render_narratives(views, tmp_path / "out", signer=signer, jobs=1).results
    reader = PdfReader(result.path)
    return reader, " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_a_large_narrative_shows_the_exceptions_and_the_keeps_controlbook_sample_draws(
    starter: CatalogDir, tmp_path: Path
) -> None:
    large_review(starter)
    reader, text = narrative(starter, tmp_path)

    assert ACCOUNTS + 1 > FULL_TABLE_MAX
    assert "The reviews of the period hold 121 decisions." in text
    assert f"controlbook sample --control {CONTROL}" in text
    # the seed breaks across lines at its hyphens
    assert f"seed{CONTROL}:2026-01-01:2026-12-31" in re.sub(r"\s+", "", text)
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
    # the revoke and the late item are always shown; the keeps shown are the keeps of the
    # auditor's sample, as the sample command draws it
    sample = sampled_by_cli(starter)
    assert len(sample) == 25
    sampled_keeps = {r["account"] for r in sample if r["decision"] == "keep"} - {"user999"}
    assert f"and the {len(sampled_keeps)} of the 119 plain keeps in the audit sample" in text
    shown = set(re.findall(r"user\d{3}", text))
    assert shown == {"user007", "user999"} | sampled_keeps
    assert len(reader.pages) < 12


def test_a_small_review_keeps_its_full_table(starter: CatalogDir, tmp_path: Path) -> None:
    reader, text = narrative(starter, tmp_path)
    assert sorted(reader.attachments) == ["UAR-APP-01.yaml", MANIFEST_NAME]
    assert "plain keeps" not in text
    assert "controlbook sample" not in text
    assert "mnovak" in text
    assert "skim" in text


def test_sixty_decisions_over_two_reviews_are_all_printed(starter: CatalogDir) -> None:
    large_review(starter, 30, late=False)
    second_quarter(starter, 30)
    narrative = narrative_of(starter)

    assert FULL_TABLE_MAX == 60
    assert [len(d.shown) for d in narrative.reviews] == [30, 30]
    assert narrative.sample is None
    assert narrative.attached_lists == ()


def test_sixty_one_decisions_over_two_small_reviews_are_summarised(
    starter: CatalogDir,
) -> None:
    """Each review alone is under the threshold; the narrative, which prints both, is not."""
    large_review(starter, 30, late=False)
    second_quarter(starter, 31)
    narrative = narrative_of(starter)

    assert narrative.sample is not None
    assert narrative.sample.population == 61
    assert narrative.sample.seed == f"{CONTROL}:2026-01-01:2026-12-31"
    assert [d.selection.full_list.rows for d in narrative.reviews if d.selection.full_list] == [
        30,
        31,
    ]
    sampled = {r["account"] + "@" + r["review"] for r in sampled_by_cli(starter)}
    shown = {f"{i.account}@{d.review.id}" for d in narrative.reviews for i in d.shown}
    # the revoke of Q1, and the sampled keeps of each review: nothing else
    assert shown == {f"user007@{REVIEW}"} | sampled
    assert sum(d.selection.keeps_sampled for d in narrative.reviews) == len(
        sampled - {f"user007@{REVIEW}"}
    )


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
    reader, text = narrative(starter, tmp_path)

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
    reader, text = narrative(starter, tmp_path)

    assert MANAGERS - 1 == REVIEWERS_SHOWN_MAX
    assert "Manager 12 (mgr12, Sales manager)" in text
    assert "reviewers-" not in text
    assert sorted(reader.attachments) == ["UAR-APP-01.yaml", MANIFEST_NAME]


def test_a_decision_only_in_the_attached_list_still_changes_the_document_version(
    starter: CatalogDir,
) -> None:
    """The version (and the PDF cache key) takes a large review's decisions by the hash of
    their attached list, not one by one; a change to a decision not printed changes it."""
    large_review(starter)
    before = narrative_of(starter)
    (detail,) = before.reviews
    printed = {i.account for i in detail.shown}
    hidden = next(f"user{n:03d}" for n in range(ACCOUNTS) if f"user{n:03d}" not in printed)
    data = before.data()
    (review,) = data["reviews"]  # type: ignore[misc]
    assert review["items"] == ()
    assert review["selection"]["full_list"]["data"] == detail.selection.full_list.sha256
    assert len(review["shown"]) == len(detail.shown)

    starter.replace(
        f"reviews/{REVIEW}.yaml",
        f"  - account: {hidden}\n    decision: keep\n",
        f"  - account: {hidden}\n    decision: keep\n    comment: Still needed.\n",
    )
    after = narrative_of(starter)
    assert {i.account for i in after.reviews[0].shown} == printed
    assert after.version != before.version


def test_a_small_narrative_takes_every_decision_into_its_version(starter: CatalogDir) -> None:
    before = narrative_of(starter)
    starter.replace(
        f"reviews/{REVIEW}.yaml",
        "comment: Read-only access for IAM to reconcile accounts.",
        "comment: Read-only access for IAM.",
    )
    after = narrative_of(starter)
    assert before.sample is None
    assert after.version != before.version
