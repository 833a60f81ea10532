"""`controlbook serve`: a real live-reload server on loopback that rebuilds on change."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest

from generator.serve import make_server
from tests.conftest import CatalogDir

pytestmark = pytest.mark.slow


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_serves_on_loopback_and_rebuilds_when_a_control_changes(
    starter: CatalogDir, tmp_path: Path
) -> None:
    messages: list[str] = []
    server = make_server(starter.path, tmp_path / "site", port=0, report=messages.append)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.server_address[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        url = f"http://127.0.0.1:{port}/controls/UAR-APP-01.html"
        assert "Quarterly user access review of the billing application" in fetch(url)
        starter.replace(
            "controls/UAR-APP-01.yaml",
            "title: Quarterly user access review of the billing application",
            "title: Monthly review of billing access",
        )
        deadline = time.monotonic() + 20
        while "Monthly review of billing access" not in fetch(url):
            assert time.monotonic() < deadline, f"no rebuild; server said: {messages}"
            time.sleep(0.3)
        starter.replace("controls/UAR-APP-01.yaml", "frequency: quarterly", "frequency: [")
        deadline = time.monotonic() + 20
        while not any("still serving the last good build" in m for m in messages):
            assert time.monotonic() < deadline, messages
            time.sleep(0.3)
        assert "Monthly review of billing access" in fetch(url)
    finally:
        server.shutdown()
