"""`controlbook serve`: a real live-reload server on loopback that rebuilds on change.

Deterministic under load: the test waits for the server's own signals (the watcher is
running, a rebuild was reported), never for a fixed time. The long timeouts only stop
a hung server from hanging the suite.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.publish.serve import make_server
from tests.conftest import CatalogDir

pytestmark = pytest.mark.slow

HUNG = 600  # seconds: only a server that never answers gets this far


class Reports:
    """What the server reports, with a way to wait until a report arrives."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, line: str) -> None:
        with self._changed:
            self.lines.append(line)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[str], bool], after: int = 0) -> str:
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((x for x in self.lines[after:] if predicate(x)), None), timeout=HUNG
            )
        assert found, f"the server never reported it; it said: {self.lines}"
        return found


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HUNG
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.02)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=HUNG) as response:
        return response.read().decode()


def test_serves_on_loopback_and_rebuilds_when_a_control_changes(
    starter: CatalogDir, tmp_path: Path
) -> None:
    reports = Reports()
    server = make_server(starter.path, tmp_path / "site", port=0, report=reports)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        # serve() binds, starts the file watcher (its first snapshot is taken before it
        # returns), then starts the HTTP thread: once that runs, changes are seen.
        wait_until(server.serve_thread.is_alive)
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        url = f"http://127.0.0.1:{port}/controls/UAR-APP-01.html"
        assert "Quarterly user access review of the billing application" in fetch(url)

        starter.replace(
            "controls/UAR-APP-01.yaml",
            "title: Quarterly user access review of the billing application",
            "title: Monthly review of billing access",
        )
        reports.wait_for(lambda line: line.startswith("rebuilt "))
        assert "Monthly review of billing access" in fetch(url)

        seen = len(reports.lines)
        starter.replace("controls/UAR-APP-01.yaml", "frequency: quarterly", "frequency: [")
        reports.wait_for(lambda line: "still serving the last good build" in line, after=seen)
        assert "Monthly review of billing access" in fetch(url)
    finally:
        server.shutdown()
