"""Controlbook as a user installs it: a wheel in a fresh virtual environment, run from a
folder that has nothing to do with this repository.

The wheel is built from this checkout by the pinned build backend and installed with
pip; its dependencies come from the locked environment the suite runs in (a ``.pth``
file: the site-packages of a folder are added, its editable install of this checkout is
not), so the test needs no network and proves the *package* is complete.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    home: Path  # an unrelated folder: the user's own catalog repository lives here

    @property
    def controlbook(self) -> str:
        return str(self.venv / "bin" / "controlbook")

    @property
    def package(self) -> Path:
        out = subprocess.run(
            [self.venv / "bin" / "python", "-c", "import generator; print(generator.__file__)"],
            capture_output=True,
            text=True,
            check=True,
            cwd=self.home,
        )
        return Path(out.stdout.strip()).parent

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CONTROLBOOK_DEV_SIGNER_DIR": str(self.home.parent / "signer"),
            "CONTROLBOOK_CACHE_DIR": str(self.home.parent / "cache"),
            "PYTHONPATH": "",
        }

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.controlbook, *args],
            capture_output=True,
            text=True,
            cwd=cwd or self.home,
            env=self.env(),
            timeout=900,
            check=False,
        )


def _install(base: Path) -> Installed:
    dist = base / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("controlbook-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "locked-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    home = base / "elsewhere" / "my-catalog-repo"
    shutil.copytree(REPO / "controls", home / "controls")
    return Installed(wheel, venv, home)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return _install(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_carries_the_templates_and_the_mkdocs_configuration(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for source in [*(REPO / "templates").rglob("*"), REPO / "mkdocs.yml"]:
        if source.is_file():
            packaged = "generator/_data/" + source.relative_to(REPO).as_posix()
            assert packaged in names, f"{packaged} is not in the wheel"
    assert "generator/references/data/nist-csf-2.0.yaml" in names
    assert "generator/catalog/starter/catalog.yaml" in names
    assert not [n for n in names if n.startswith(("tests/", "controls/", "benchmarks/"))]


def test_the_installed_package_is_the_wheel_not_this_checkout(installed: Installed) -> None:
    assert installed.package.is_relative_to(installed.venv)
    assert (installed.package / "_data" / "templates" / "site" / "control.md.j2").is_file()


def test_validate_check_build_pdf_verify_from_an_unrelated_folder(installed: Installed) -> None:
    validated = installed.run("validate", "controls")
    assert validated.returncode == 0, validated.stderr
    assert "controls: valid (24 controls" in validated.stdout

    checked = installed.run("check", "controls", "--format", "json")
    assert checked.returncode == 1, checked.stderr  # the example has critical findings
    assert '"rule": "SOD-3"' in checked.stdout

    built = installed.run("build", "controls", "--out", "site")
    assert built.returncode == 0, built.stderr
    page = (installed.home / "site" / "controls" / "ITGC-LOG-01.html").read_text()
    assert "ITGC-LOG-01" in page
    assert (installed.home / "site" / "narratives" / "ITGC-LOG-01.pdf").stat().st_size > 10_000

    rendered = installed.run("pdf", "ITGC-LOG-01", "--catalog", "controls", "--out", "pdfs")
    assert rendered.returncode == 0, rendered.stderr
    ca = installed.home.parent / "signer" / "ca.pem"
    trust = ("--trust", str(ca), "--allow-development")  # the development signer
    verified = installed.run("verify", "pdfs/ITGC-LOG-01.pdf", "--catalog", "controls", *trust)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 of 1 narrative(s) verified" in verified.stdout


def test_diff_reviews_a_change_in_the_users_own_repository(installed: Installed) -> None:
    repo = installed.home

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    if not (repo / ".git").exists():
        git("init", "-q", "-b", "main")
        (repo / ".gitignore").write_text("site/\npdfs/\n")
        git("add", ".")
        git("commit", "-qm", "catalog")
    control = repo / "controls" / "controls" / "ITGC-UAR-ERP.yaml"
    original = control.read_text()
    control.write_text(original.replace("frequency: quarterly", "frequency: annual", 1))
    try:
        reviewed = installed.run("diff", "main", ".", "controls")
    finally:
        control.write_text(original)
    assert reviewed.returncode == 1, reviewed.stderr
    assert "weakens 1 control" in reviewed.stdout
    assert "Traceback" not in reviewed.stderr


def test_serve_answers_on_loopback(installed: Installed) -> None:
    server = subprocess.Popen(
        [installed.controlbook, "serve", "controls", "--port", "0", "--out", "served"],
        cwd=installed.home,
        env=installed.env(),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stderr is not None
        url = None
        for line in server.stderr:  # the server says where it listens once it does
            if found := re.search(r"Serving on (http://127\.0\.0\.1:\d+/)", line):
                url = found.group(1)
                break
        assert url, "serve exited without listening"
        with urllib.request.urlopen(url + "controls/ITGC-LOG-01.html", timeout=60) as page:
            assert "ITGC-LOG-01" in page.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=60)


COMMANDS = {
    "validate": ["validate", "controls"],
    "check": ["check", "controls"],
    "build": ["build", "controls", "--out", "broken-site"],
    "pdf": ["pdf", "ITGC-LOG-01", "--catalog", "controls", "--out", "broken-pdfs"],
    "coverage": ["coverage", "controls"],
    "schema": ["schema"],
    "init": ["init", "new-catalog"],
    "diff": ["diff", "HEAD", ".", "controls"],
    "verify": ["verify", "missing.pdf"],
}


def test_a_broken_installation_never_prints_a_traceback(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """With templates missing from the install, every command exits 2 with one line
    naming what failed; exit 1 would read as "findings" in CI."""
    broken = _install(tmp_path_factory.mktemp("broken"))
    for git in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "catalog"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *git],
            cwd=broken.home,
            check=True,
        )
    for name in ("diff/comment.md.j2", "pdf/narrative.html.j2", "site/control.md.j2"):
        (broken.package / "_data" / "templates" / name).unlink()
    for name, args in COMMANDS.items():
        result = broken.run(*args)
        assert "Traceback" not in result.stderr, f"{name}: {result.stderr}"
        if name in ("validate", "check", "coverage", "schema", "init"):
            continue  # need no template: they work (check exits 1 on the example's findings)
        assert result.returncode == 2, f"{name} exited {result.returncode}: {result.stderr}"
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(("controlbook: ", "Error: ")), f"{name}: {last}"
        if name in ("build", "pdf", "diff"):
            assert "is missing" in last, f"{name}: {last}"
