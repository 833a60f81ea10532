"""Auditor narratives on the example catalog: real WeasyPrint, real pyHanko, real files.

One module-scoped build renders all 24 narratives with the process pool; the tests read
the PDFs back with pypdf and check what an auditor relies on.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.catalog.loader import load_catalog
from generator.evaluation.evaluate import evaluate
from generator.publish.narratives import NarrativeBatch, default_jobs, render_narratives
from generator.render.narrative import MANIFEST_NAME, build_narratives
from generator.render.narratives import attachments_of, pdf_environment, render_html
from generator.render.pdf import (
    NarrativeError,
    PdfJob,
    document_date,
    local_fetcher,
    render_pdf,
    template_dirs,
)
from generator.resources import TEMPLATES
from generator.signing.sign import DocumentSigner, load_signer
from generator.signing.verify import verify_pdfs
from generator.views import CatalogViews

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "controls"


def views_of(catalog_dir: Path) -> CatalogViews:
    """The example catalog as the CLI sees it (shown as ``controls``, as of its settings)."""
    catalog = load_catalog(catalog_dir, display_root="controls")
    return CatalogViews(catalog, evaluate(catalog))


def text_of(path: Path) -> str:
    """All page text, whitespace collapsed (tables wrap names across lines)."""
    reader = PdfReader(path)
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def packed(text: str) -> str:
    """Text without any whitespace: hashes break across lines in narrow columns."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("narratives")
    shutil.copytree(EXAMPLE, base / "catalog")
    return base


@pytest.fixture(scope="module")
def signer(workspace: Path) -> DocumentSigner:
    catalog = load_catalog(workspace / "catalog")
    return load_signer(catalog.settings, catalog.root, env={}, dev_folder=workspace / "dev")


@pytest.fixture(scope="module")
def views(workspace: Path) -> CatalogViews:
    return views_of(workspace / "catalog")


@pytest.fixture(scope="module")
def batch(workspace: Path, views: CatalogViews, signer: DocumentSigner) -> NarrativeBatch:
    """All 24 narratives, rendered by the process pool into a fresh cache."""
    messages: list[str] = []
    result = render_narratives(
        views,
        workspace / "out",
        signer=signer,
        cache_dir=workspace / "cache",
        jobs=max(2, default_jobs()),
        progress=messages.append,
    )
    assert len(messages) == 24
    return result


def pdf(batch: NarrativeBatch, control: str) -> Path:
    return batch.pdfs[control]


def test_every_control_gets_one_signed_pdf(batch: NarrativeBatch) -> None:
    assert len(batch.results) == 24
    assert batch.rendered == 24
    assert batch.cached == 0
    for result in batch.results:
        assert result.path.name == f"{result.control}.pdf"
        assert result.path.read_bytes().startswith(b"%PDF-1.7")
        assert result.pages >= 3
        assert len(PdfReader(result.path).pages) == result.pages


def test_narrative_shows_owner_history_findings_and_status(batch: NarrativeBatch) -> None:
    log = text_of(pdf(batch, "ITGC-LOG-01"))
    assert "Information Security team" in log
    assert "team, not a named person" in log
    assert "OWN-1" in log
    assert re.search(r"Status at 2026-09-30: \d+ open findings? \(worst: (critical|high)\)", log)
    assert "No open findings" not in log
    uar = text_of(pdf(batch, "ITGC-UAR-ERP"))
    assert "Rohan Patel" in uar
    assert "Jennifer Whitaker" in uar
    assert "2023-01-01 2026-04-30" in uar  # effective-dated history: r.patel until the hand-over
    assert "Compliance validator" in uar


def test_control_without_reviews_says_not_assessed(
    batch: NarrativeBatch, views: CatalogViews
) -> None:
    unreviewed = [c for c in views.controls if not c.reviews]
    assert "ITGC-ACC-01" in {c.id for c in unreviewed}
    for control in unreviewed:
        text = text_of(pdf(batch, control.id))
        assert "its operation is not assessed" in text, control.id
        assert "No open findings" not in text, control.id
        if not control.open_findings:
            assert "Status at 2026-09-30: Not assessed" in text, control.id


def test_waived_finding_names_approver_and_expiry(batch: NarrativeBatch) -> None:
    text = text_of(pdf(batch, "ITGC-UAR-ENTRA"))
    assert "CAD-2" in text
    assert "waived" in text
    assert "Waived by m.okafor until 2026-12-31 (WVR-2026-001)" in text


def test_review_evidence_ipe_and_late_items(batch: NarrativeBatch) -> None:
    text = text_of(pdf(batch, "ITGC-UAR-ERP"))
    assert "UAR-ERP-2026Q1" in text
    assert "UAR-ERP-2026Q2" in text
    assert "b56587043b69fb8d453391de279f08edb80dfdc7cc0ec5bbbb344bd078f97000" in packed(text)
    assert "RSUSR002" in text
    findb = text_of(pdf(batch, "ITGC-UAR-FINDB"))
    assert "completed late (6 days)" in findb
    hris = text_of(pdf(batch, "ITGC-UAR-HRIS"))
    assert "no remediation ticket" in hris  # the EVD-1 item, listed as late or incomplete


def test_tampered_evidence_is_shown_as_differing(batch: NarrativeBatch) -> None:
    text = text_of(pdf(batch, "ITGC-PAR-ERP"))
    assert "differs from the recorded hash" in text
    assert "17707ca831887b72bb8815b210ba9965a865193662e7760230399ade37a020b1" in packed(text)


def test_the_manifest_prints_a_hash_once_unless_recorded_and_found_differ(
    batch: NarrativeBatch, views: CatalogViews
) -> None:
    (narrative,) = build_narratives(views, ["ITGC-PAR-ERP"])
    text = packed(text_of(pdf(batch, "ITGC-PAR-ERP")))
    manifest = text[text.index("9.Evidencemanifest") :]
    matching = [e for e in narrative.manifest if e.sha256 and e.recorded_sha256 == e.sha256]
    differing = [e for e in narrative.manifest if e.status == "differs from the recorded hash"]
    assert matching
    assert differing
    for entry in matching:
        assert manifest.count(entry.sha256 or "") == 1, entry.path
    for entry in differing:
        assert manifest.count(entry.recorded_sha256 or "") == 1, entry.path
        assert manifest.count(entry.sha256 or "") == 1, entry.path


def test_framework_mapping_shows_names(batch: NarrativeBatch) -> None:
    text = text_of(pdf(batch, "ITGC-NHI-01"))
    assert "PR.AA-05" in text
    assert "Identity Management, Authentication, and Access Control (PR.AA)" in text
    assert "NHI5:2025 Overprivileged NHI" in text
    hris = text_of(pdf(batch, "ITGC-UAR-HRIS"))
    assert "PR.AC-4" in hris
    assert "PR.AA-05" in hris


def test_break_glass_events_of_the_control(batch: NarrativeBatch) -> None:
    text = text_of(pdf(batch, "ITGC-BG-01"))
    assert "BG-2026-004" in text
    assert "incomplete" in text
    assert "INC0087114" in text
    assert "BG-2026-001" not in text_of(pdf(batch, "ITGC-UAR-ERP"))


def test_cover_and_running_header_footer(batch: NarrativeBatch, views: CatalogViews) -> None:
    reader = PdfReader(pdf(batch, "ITGC-PAR-ERP"))
    cover = reader.pages[0].extract_text()
    assert "Northwind Components, Inc." in cover
    assert "2026-01-01 to 2026-12-31" in cover
    assert "DEVELOPMENT SIGNATURE, NOT FOR PRODUCTION" in " ".join(cover.split())
    last = reader.pages[-1].extract_text()
    count = len(reader.pages)
    assert f"Page {count} of {count}" in last
    assert "ITGC-PAR-ERP" in last
    assert "Confidential - Internal Audit" in last
    version = next(n.version for n in build_narratives(views, ["ITGC-PAR-ERP"]))
    assert f"Document version {version}" in last


def test_pdfa_3b_declared_in_xmp_and_info_agrees(batch: NarrativeBatch) -> None:
    reader = PdfReader(pdf(batch, "ITGC-LOG-01"))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp)
    producer = re.search(r'pdf:Producer="([^"]*)"|<pdf:Producer>([^<]*)<', xmp)
    assert producer is not None
    info = reader.metadata
    assert info is not None
    assert info["/Producer"] == (producer.group(1) or producer.group(2))
    assert info["/CreationDate"].startswith("D:20260930000000")
    assert "/ModDate" not in info or "xmp:ModifyDate" in xmp
    assert reader.trailer["/Root"].get("/Version") in (None, "/1.7")


def test_attachments_are_the_control_yaml_and_the_manifest(
    batch: NarrativeBatch, workspace: Path
) -> None:
    reader = PdfReader(pdf(batch, "ITGC-UAR-ERP"))
    attachments = reader.attachments
    assert sorted(attachments) == ["ITGC-UAR-ERP.yaml", MANIFEST_NAME]
    source = workspace / "catalog" / "controls" / "ITGC-UAR-ERP.yaml"
    assert attachments["ITGC-UAR-ERP.yaml"] == [source.read_bytes()]
    manifest = json.loads(attachments[MANIFEST_NAME][0])
    assert manifest["control"] == "ITGC-UAR-ERP"
    files = {f["path"]: f for f in manifest["files"]}
    assert "controls/ITGC-UAR-ERP.yaml" in files
    extract = files["extracts/erp/2026-03-31.csv"]
    assert extract["sha256_recorded"] == extract["sha256"]
    assert (
        extract["sha256"]
        == hashlib.sha256(
            (workspace / "catalog" / "extracts/erp/2026-03-31.csv").read_bytes()
        ).hexdigest()
    )
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in manifest["files"])
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    specs = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    yaml_spec = specs["ITGC-UAR-ERP.yaml"]
    assert yaml_spec["/AFRelationship"] == "/Source"
    stream = yaml_spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/application/yaml"
    assert stream["/Params"]["/ModDate"].startswith("D:20260930")


def test_unsigned_pdf_is_deterministic_and_signing_only_appends(
    batch: NarrativeBatch, views: CatalogViews, signer: DocumentSigner, workspace: Path
) -> None:
    narrative = build_narratives(views, ["ITGC-LOG-01"])[0]
    created = document_date(views.as_of)
    dirs = template_dirs()
    job = PdfJob(
        "ITGC-LOG-01",
        render_html(narrative, signer.info, pdf_environment(), created),
        dirs[0].as_uri() + "/",
        created,
        attachments_of(narrative),
        (*map(str, dirs), str(workspace / "catalog")),
    )
    first, second = render_pdf(job).data, render_pdf(job).data
    assert first == second
    assert b"/CreationDate (D:20260930000000" in first or b"D:20260930000000" in first
    signed = pdf(batch, "ITGC-LOG-01").read_bytes()
    # rendered in a worker process of the pool, then signed as an incremental update
    assert signed[: len(first)] == first
    assert len(signed) > len(first)


def small_job(body: str) -> PdfJob:
    dirs = template_dirs()
    return PdfJob(
        "ITGC-TEST",
        f"<html><head>{body}</head><body>{'<p>decision</p>' * 200}</body></html>",
        dirs[0].as_uri() + "/",
        datetime(2026, 9, 30, tzinfo=UTC),
        (),
        tuple(map(str, dirs)),
    )


@pytest.mark.parametrize("enabled", [True, False])
def test_rendering_collects_the_documents_garbage_once_and_restores_the_collector(
    enabled: bool,
) -> None:
    """The collector is paused while WeasyPrint lays out (it walked the same objects over
    and over, a quarter of the CPU), and the document's garbage is collected at the end."""
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        render_pdf(small_job(""))
        assert gc.isenabled() is enabled
        # what is left uncollected is a few objects, not the document's many thousands
        assert gc.get_count()[0] < 500
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.usefixtures("no_network")
def test_a_failed_rendering_restores_the_collector() -> None:
    assert gc.isenabled()
    with pytest.raises(NarrativeError, match="refused to fetch"):
        render_pdf(small_job('<img src="http://example.com/x.png">'))
    assert gc.isenabled()


def test_creation_date_honours_source_date_epoch() -> None:
    assert document_date(date(2026, 9, 30), {}) == datetime(2026, 9, 30, tzinfo=UTC)
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}
    assert document_date(date(2026, 9, 30), epoch) == datetime.fromtimestamp(1700000000, UTC)
    with pytest.raises(NarrativeError, match="SOURCE_DATE_EPOCH"):
        document_date(date(2026, 9, 30), {"SOURCE_DATE_EPOCH": "soon"})


def test_cache_rerenders_only_the_changed_control(
    batch: NarrativeBatch, workspace: Path, signer: DocumentSigner
) -> None:
    copy = workspace / "edited"
    shutil.copytree(workspace / "catalog", copy)
    out = workspace / "out-2"
    again = render_narratives(
        views_of(copy), out, signer=signer, cache_dir=workspace / "cache", jobs=2
    )
    assert (again.rendered, again.cached) == (0, 24)
    assert again.pdfs["ITGC-LOG-01"].read_bytes() == pdf(batch, "ITGC-LOG-01").read_bytes()
    control = copy / "controls" / "ITGC-ACC-01.yaml"
    control.write_text(
        control.read_text(encoding="utf-8").replace("title:", "title: Revised -", 1),
        encoding="utf-8",
    )
    changed = render_narratives(
        views_of(copy), out, signer=signer, cache_dir=workspace / "cache", jobs=2
    )
    assert (changed.rendered, changed.cached) == (1, 23)
    assert [r.control for r in changed.results if not r.cached] == ["ITGC-ACC-01"]
    assert "Revised -" in text_of(changed.pdfs["ITGC-ACC-01"])
    [entry] = (workspace / "cache" / "ITGC-PWD-01").glob("*.pdf")
    entry.write_bytes(entry.read_bytes()[:-10])  # a damaged cache entry is a miss
    repaired = render_narratives(
        views_of(copy), out, signer=signer, cache_dir=workspace / "cache", jobs=2
    )
    assert [r.control for r in repaired.results if not r.cached] == ["ITGC-PWD-01"]
    [verified] = verify_pdfs(
        [repaired.pdfs["ITGC-PWD-01"]], trust=workspace / "dev" / "ca.pem", allow_development=True
    )
    assert verified.ok, verified.lines()


def test_only_the_requested_controls(
    workspace: Path, views: CatalogViews, signer: DocumentSigner
) -> None:
    out = workspace / "some"
    result = render_narratives(
        views, out, signer=signer, controls=["ITGC-PWD-01"], cache_dir=workspace / "cache"
    )
    assert [r.control for r in result.results] == ["ITGC-PWD-01"]
    assert sorted(p.name for p in out.iterdir()) == ["ITGC-PWD-01.pdf"]
    with pytest.raises(Exception, match="did you mean 'ITGC-PWD-01'"):
        render_narratives(views, out, signer=signer, controls=["ITGC-PWD-1"])


def test_user_text_is_escaped_never_compiled(
    workspace: Path, signer: DocumentSigner, tmp_path: Path
) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(workspace / "catalog", copy)
    control = copy / "controls" / "ITGC-ACC-01.yaml"
    hostile = "<img src='http://example.com/x.png'> {{ 7*7 }} <script>x</script>"
    text = control.read_text(encoding="utf-8")
    control.write_text(re.sub(r"(?m)^title:.*$", f'title: "{hostile}"', text), encoding="utf-8")
    views = views_of(copy)
    narrative = build_narratives(views, ["ITGC-ACC-01"])[0]
    html = render_html(narrative, signer.info, pdf_environment(), document_date(views.as_of))
    assert "<img src='http" not in html
    assert "<script>" not in html
    assert "&lt;img src=&#39;http://example.com/x.png&#39;&gt; {{ 7*7 }}" in html
    result = render_narratives(
        views, tmp_path / "out", signer=signer, controls=["ITGC-ACC-01"], cache_dir=None
    )
    assert "{{ 7*7 }}" in text_of(result.pdfs["ITGC-ACC-01"])


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Any attempt to open a connection is recorded and fails."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts
    assert attempts == []


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/x.png", "never load anything from the network"),
        ("https://example.com/x.css", "never load anything from the network"),
        ("ftp://example.com/x", "never load anything from the network"),
        ("file:///etc/passwd", "only load files from the templates folder and the catalog"),
        ("file://server/share/x.png", "remote file URLs"),
    ],
)
def test_url_fetcher_refuses_outside_resources(url: str, message: str) -> None:
    fetcher = local_fetcher(tuple(str(d) for d in template_dirs()))
    with pytest.raises(fetcher.refused, match=message):
        fetcher.fetch(url)


@pytest.mark.usefixtures("no_network")
def test_url_fetcher_allows_templates_and_data() -> None:
    fetcher = local_fetcher(tuple(str(d) for d in template_dirs()))
    css = fetcher.fetch((TEMPLATES / "pdf" / "narrative.css").as_uri())
    assert b"@page" in css.read()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    "markup",
    [
        '<img src="http://example.com/x.png">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        "<style>@import url(http://example.com/x.css);</style>",
    ],
)
def test_a_template_loading_outside_resources_fails_clearly(markup: str) -> None:
    dirs = template_dirs()
    job = PdfJob(
        "ITGC-TEST",
        f"<html><head>{markup}</head><body><p>x</p></body></html>",
        dirs[0].as_uri() + "/",
        datetime(2026, 9, 30, tzinfo=UTC),
        (),
        tuple(map(str, dirs)),
    )
    with pytest.raises(NarrativeError, match=r"^ITGC-TEST: refused to fetch"):
        render_pdf(job)


def test_template_override_is_used_and_confined(
    workspace: Path, views: CatalogViews, signer: DocumentSigner, tmp_path: Path
) -> None:
    overrides = tmp_path / "templates"
    (overrides / "pdf").mkdir(parents=True)
    original = (TEMPLATES / "pdf" / "narrative.html.j2").read_text(encoding="utf-8")
    (overrides / "pdf" / "narrative.html.j2").write_text(
        original.replace("<body>", '<body><img src="file:///etc/hostname">'), encoding="utf-8"
    )
    with pytest.raises(NarrativeError, match="file:///etc/hostname"):
        render_narratives(
            views, tmp_path / "out", signer=signer, controls=["ITGC-PWD-01"], templates=overrides
        )


def test_broken_template_override_names_file_and_line(
    views: CatalogViews, signer: DocumentSigner, tmp_path: Path
) -> None:
    overrides = tmp_path / "templates"
    (overrides / "pdf").mkdir(parents=True)
    (overrides / "pdf" / "narrative.html.j2").write_text(
        "<html>\n<body>\n{% if %}\n</body></html>\n", encoding="utf-8"
    )
    with pytest.raises(NarrativeError, match=r"^template .*narrative\.html\.j2:3: "):
        render_narratives(views, tmp_path / "out", signer=signer, templates=overrides)
    (overrides / "pdf" / "narrative.html.j2").write_text("{{ n.no_such_field }}", encoding="utf-8")
    with pytest.raises(NarrativeError, match="no_such_field"):
        render_narratives(views, tmp_path / "out", signer=signer, templates=overrides)
