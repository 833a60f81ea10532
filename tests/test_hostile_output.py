"""Hostile content and hostile conditions on the output side.

Text fields full of HTML, JavaScript, Markdown and Jinja syntax show literally in
the site and the PDFs; signing secrets never reach logs, output or ``site/``; a
build killed midway, a read-only catalog and two builds at once leave every output
whole.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import html
from pypdf import PdfReader

from generator.publish.build import build
from generator.resources import TEMPLATES
from tests.conftest import EXAMPLE, ROOT, CatalogDir

pytestmark = pytest.mark.slow

PAYLOAD = "<script>alert('x')</script> {{ 7*7 }} {% if 1 %}J{% endif %} **bold** [a](javascript:alert(1)) | x"
CONTROL = "controls/UAR-APP-01.yaml"

# Every free-text field of the starter catalog that reaches a page or a PDF.
TEXT_FIELDS = [
    (CONTROL, "title: Quarterly user access review of the billing application"),
    (
        CONTROL,
        "objective: Only people who need it for their job have access to the billing application.",
    ),
    (CONTROL, "risk: Unauthorised changes to invoices or customer credit notes go undetected."),
    (CONTROL, "    name: All billing application accounts"),
    (CONTROL, "    selection: Every enabled account in the quarter-end user export."),
    (
        CONTROL,
        "  description: The application owner decides keep, modify or revoke for every account.",
    ),
    ("people.yaml", "    name: Ana Rivera"),
    ("people.yaml", "    title: Chief Financial Officer"),
    ("systems.yaml", "    name: Billing application"),
    ("catalog.yaml", "organisation: Example Corp"),
    (
        "reviews/UAR-APP-01-2026Q1.yaml",
        "  source: Billing admin console, Users > Export (all enabled accounts)",
    ),
    (
        "reviews/UAR-APP-01-2026Q1.yaml",
        "    comment: Read-only access for IAM to reconcile accounts.",
    ),
]


def poison(starter: CatalogDir) -> None:
    for rel, line in TEXT_FIELDS:
        key = line.split(":", 1)[0]
        starter.replace(rel, line, f'{key}: "{PAYLOAD}"')
    starter.replace(CONTROL, "procedure: |\n", f"procedure: |\n  {PAYLOAD}\n")


def test_hostile_text_shows_literally_in_the_site_and_the_pdf(
    starter: CatalogDir, tmp_path: Path
) -> None:
    poison(starter)
    out = tmp_path / "site"
    build(starter.path, out)
    for page in sorted(out.rglob("*.html")):
        raw = page.read_text()
        assert "<script>alert('x')" not in raw, page
        assert "javascript:alert" not in " ".join(html.fromstring(raw).xpath("//a/@href")), page
    control = html.fromstring((out / "controls/UAR-APP-01.html").read_bytes())
    shown = control.text_content()
    assert shown.count(PAYLOAD) >= 8  # title, objective, risk, population, approval, procedure...
    # {{ 7*7 }} was never evaluated (the page names the catalog's folder, whose temporary
    # name may hold a 49: pytest-549)
    assert "49" not in shown.replace(str(starter.path), "").replace("2049", "")
    assert PAYLOAD in html.fromstring((out / "systems/app.html").read_bytes()).text_content()
    text = " ".join(
        " ".join((p.extract_text() or "").split())
        for p in PdfReader(out / "narratives/UAR-APP-01.pdf").pages
    )
    assert "<script>alert('x')</script> {{ 7*7 }} {% if 1 %}J{% endif %} **bold**" in text


def test_hostile_values_in_an_extract_show_literally_in_the_system_accounts_table(
    tmp_path: Path,
) -> None:
    """The system page's accounts table is raw HTML (fast to convert at 2,000 rows): its
    cells are HTML-escaped only, so Markdown in an extract's values must still show as text."""
    catalog = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, catalog)
    extract = catalog / "extracts/erp/2026-09-15.csv"
    hostile = "**bold** _x_ [a](javascript:alert(1)) <b>b</b> | y"
    before = extract.read_bytes()
    with extract.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([hostile, hostile, "employee", hostile])
    systems = catalog / "systems.yaml"
    systems.write_text(
        systems.read_text(encoding="utf-8")
        .replace(
            hashlib.sha256(before).hexdigest(), hashlib.sha256(extract.read_bytes()).hexdigest()
        )
        .replace("        records: 32\n", "        records: 33\n", 1),
        encoding="utf-8",
    )
    out = tmp_path / "site"
    build(catalog, out, pdfs=False)
    tree = html.fromstring((out / "systems/erp.html").read_bytes())
    heading = "//h2[normalize-space()='Accounts in the state at the as-of date']"
    (table,) = tree.xpath(f"{heading}/following::table[1]")
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in table.xpath(".//tbody/tr")]
    row = next(r for r in rows if r[0] == hostile)
    assert row == [hostile, f"{hostile} (unknown)", "employee", hostile]  # not in the directory
    assert not table.xpath(".//strong | .//em | .//b")
    assert "javascript:" not in " ".join(table.xpath(".//a/@href"))


def _key(folder: Path, passphrase: bytes, *, expired: bool = False) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Corp narratives")])
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(days=400), now - timedelta(days=35))
        if expired
        else (now - timedelta(hours=1), now + timedelta(days=30))
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    path = folder / ("expired.p12" if expired else "signer.p12")
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"k", key, cert, None, serialization.BestAvailableEncryption(passphrase)
        )
    )
    (folder / (path.stem + ".secret")).write_bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def run_build(catalog: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "build", str(catalog), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


def test_the_key_and_passphrase_never_leak(starter: CatalogDir, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    passphrase = "Tr0ub4dor&3-unique-passphrase"
    key = _key(secrets, passphrase.encode())
    out = tmp_path / "site"
    result = run_build(
        starter.path,
        out,
        {"CONTROLBOOK_SIGNING_KEY": str(key), "CONTROLBOOK_SIGNING_PASSPHRASE": passphrase},
    )
    assert result.returncode == 0, result.stderr
    private = (secrets / "signer.secret").read_bytes()
    for output in (result.stdout, result.stderr):
        assert passphrase not in output
    for file in out.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert passphrase.encode() not in data, file
            assert private[-32:] not in data, file  # the raw private scalar


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda s: (s / "missing.p12", "x"), "cannot read the signing key"),
        (
            lambda s: (_key(s, b"right"), "n0t-the-right-one"),
            "wrong passphrase in CONTROLBOOK_SIGNING_PASSPHRASE",
        ),
        (lambda s: (_key(s, b"right", expired=True), "right"), "expired"),
    ],
    ids=["missing-key", "wrong-passphrase", "expired-key"],
)
def test_signing_key_problems_are_clear_errors(
    starter: CatalogDir, tmp_path: Path, setup, message: str
) -> None:  # type: ignore[no-untyped-def]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key, passphrase = setup(secrets)
    out = tmp_path / "site"
    result = run_build(
        starter.path,
        out,
        {"CONTROLBOOK_SIGNING_KEY": str(key), "CONTROLBOOK_SIGNING_PASSPHRASE": passphrase},
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert passphrase not in result.stderr + result.stdout
    assert not out.exists()


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_sigkill_during_pdf_rendering_leaves_the_previous_site_intact(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(EXAMPLE, out, pdfs=False)
    before = snapshot(out)
    env = {**os.environ, "CONTROLBOOK_CACHE_DIR": str(tmp_path / "cold-cache")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            str(EXAMPLE),
            "--out",
            str(out),
            "--jobs",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:
        if "narrative" in line.lower() or "rendering" in line.lower():
            break
        assert time.monotonic() < deadline
    time.sleep(1.0)  # well inside the PDF stage (about 10 s with one process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert snapshot(out) == before


def test_a_build_never_writes_into_the_catalog(starter: CatalogDir, tmp_path: Path) -> None:
    before = snapshot(starter.path)
    mtimes = {p: p.stat().st_mtime_ns for p in starter.path.rglob("*")}
    for path in starter.path.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        build(starter.path, tmp_path / "site")
    finally:
        for path in starter.path.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert snapshot(starter.path) == before
    assert {p: p.stat().st_mtime_ns for p in starter.path.rglob("*")} == mtimes


def test_two_builds_at_once_do_not_corrupt_each_other(starter: CatalogDir, tmp_path: Path) -> None:
    out = tmp_path / "site"
    command = [sys.executable, "-m", "generator", "build", str(starter.path), "--out", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [(p.wait(timeout=300), p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, (_out, err) in results:
        if code == 2:
            assert "another build is writing" in err
    assert (out / "index.html").exists()
    assert (out / "narratives" / "UAR-APP-01.pdf").read_bytes().startswith(b"%PDF-")
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name or ".old-" in p.name]


# -- security review, issue 15: injection and hostile conditions -------------------------------


def controlbook(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a failed run (exit 2, no traceback, not an internal error)."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if "error" in x]
    assert line.startswith("controlbook: error: "), line
    return line


@pytest.mark.parametrize(
    ("kind", "template", "options"),
    [("site", "index.md.j2", ["--no-pdf"]), ("pdf", "narrative.html.j2", [])],
)
def test_an_override_template_cannot_run_python(
    starter: CatalogDir, tmp_path: Path, kind: str, template: str, options: list[str]
) -> None:
    marker = tmp_path / "pwned"
    overrides = tmp_path / "templates"
    (overrides / kind).mkdir(parents=True)
    source = (TEMPLATES / kind / template).read_text(encoding="utf-8")
    attack = f"{{{{ cycler.__init__.__globals__.os.popen('id; touch {marker}').read() }}}}\n"
    (overrides / kind / template).write_text(source + attack, encoding="utf-8")
    line_number = source.count("\n") + 1
    out = tmp_path / "site"
    result = controlbook(
        "build", str(starter.path), "--out", str(out), "--templates", str(overrides), *options
    )
    line = error_line(result)
    assert line.startswith(
        f"controlbook: error: template {overrides / kind / template}:{line_number}: "
        "access to attribute '__init__' of "
    ), line
    assert "run in a sandbox" in line
    assert not marker.exists()
    assert "uid=" not in result.stdout + result.stderr
    assert not out.exists()


def test_a_link_is_built_from_the_repository_url_and_the_file_path(
    starter: CatalogDir, tmp_path: Path
) -> None:
    starter.replace(
        "catalog.yaml",
        "classification: Internal",
        "classification: Internal\nrepo_url: https://git.example/acme/itgc/src/controls?ref=main",
    )
    (starter.path / CONTROL).rename(starter.path / "controls" / "UAR APP 01.yaml")
    result = controlbook("build", "catalog", "--out", "site", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = html.fromstring((tmp_path / "site" / "controls" / "UAR-APP-01.html").read_bytes())
    assert (
        "https://git.example/acme/itgc/src/controls/controls/UAR%20APP%2001.yaml?ref=main#L4"
        in page.xpath("//a/@href")
    )


def test_the_link_filter_refuses_anything_but_one_plain_url() -> None:
    from generator.render.env import link

    injected = "https://git.example/x\n\n![x](https://h/x.png){:onerror=alert(1)}"
    for url in (injected, 'https://git.example/x" onmouseover="alert(1)', "javascript:alert(1)"):
        shown = str(link("catalog.yaml:3", url))
        assert "<a" not in shown
        assert "\n" not in shown
    assert str(link("x_y", "https://git.example/a?b=1&c=2")) == (
        '<a href="https://git.example/a?b=1&amp;c=2">x&#95;y</a>'
    )


def test_bidi_and_zero_width_characters_in_names_show_as_escapes(
    starter: CatalogDir, tmp_path: Path
) -> None:
    starter.replace("people.yaml", "name: James Okafor", "name: James \u202erofakO\u200b")
    out = tmp_path / "site"
    build(starter.path, out)
    for page in out.rglob("*.html"):
        raw = page.read_text(encoding="utf-8")
        assert "\u202e" not in raw, page
        assert "\u200b" not in raw, page
    person = html.fromstring((out / "people/j.okafor.html").read_bytes())
    assert "James \\u202erofakO\\u200b" in person.xpath("//title")[0].text_content()
    assert "James \\u202erofakO\\u200b" in person.text_content()
    text = " ".join(
        (p.extract_text() or "") for p in PdfReader(out / "narratives/UAR-APP-01.pdf").pages
    )
    assert "\u202e" not in text
    assert "James \\u202erofakO\\u200b" in text


def test_the_last_supported_day_builds_site_and_narratives(
    starter: CatalogDir, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = controlbook("build", str(starter.path), "--out", str(out), "--as-of", "2099-12-31")
    assert result.returncode == 0, result.stderr
    assert (out / "narratives" / "UAR-APP-01.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "sarif"])
def test_a_report_to_a_full_disk_is_one_line_and_exit_2(starter: CatalogDir, fmt: str) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    result = controlbook("check", str(starter.path), "--format", fmt, "-o", "/dev/full")
    assert "No space left on device" in error_line(result)


@pytest.fixture
def tiny_mount(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A tmpfs mounted with the options given (root only); else a folder made read-only
    by its mode, when that means something (not for root), else the test is skipped."""
    options: str = request.param
    folder = tmp_path / "mount"
    folder.mkdir()
    if os.geteuid() != 0:
        if "ro" not in options.split(","):
            pytest.skip("filling a disk needs a small tmpfs, which needs root")
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode(errors='replace')}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("tiny_mount", ["ro,size=1m"], indirect=True)
def test_a_report_into_a_read_only_folder_is_one_line_and_exit_2(
    starter: CatalogDir, tiny_mount: Path
) -> None:
    target = tiny_mount / "report.txt"
    line = error_line(controlbook("check", str(starter.path), "-o", str(target)))
    assert line.startswith(f"controlbook: error: {target}: ")
    assert line.endswith(("Read-only file system", "Permission denied"))


@pytest.mark.parametrize("tiny_mount", ["ro,size=1m"], indirect=True)
def test_a_build_into_a_read_only_folder_is_one_line_and_exit_2(
    starter: CatalogDir, tiny_mount: Path
) -> None:
    line = error_line(controlbook("build", str(starter.path), "--out", str(tiny_mount / "site")))
    assert line.endswith(("Read-only file system", "Permission denied"))
    assert not (tiny_mount / "site").exists()


@pytest.mark.parametrize("tiny_mount", ["size=64k"], indirect=True)
def test_a_build_onto_a_full_disk_is_one_line_and_exit_2(
    starter: CatalogDir, tiny_mount: Path
) -> None:
    line = error_line(controlbook("build", str(starter.path), "--out", str(tiny_mount / "site")))
    assert line.endswith("No space left on device")
    assert not (tiny_mount / "site").exists()
