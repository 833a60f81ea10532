"""``controlbook serve``: build, serve on loopback, rebuild when the catalog or templates change.

Uses MkDocs' live-reload server over the built site; each rebuild is a full,
atomic :func:`generator.publish.build.build`, so a broken edit keeps the last good site
on screen and prints the errors.

The server answers only requests addressed to it by name: a web page on another
origin can point its own DNS name at 127.0.0.1 (DNS rebinding) and read the catalog
through the victim's browser, so a request whose ``Host`` header is not one of the
server's addresses gets ``421 Misdirected Request`` (see :func:`host_allowed`).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from ..errors import CatalogInvalid, ControlbookError
from ..resources import TEMPLATES
from .build import build

log = logging.getLogger("controlbook.serve")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("", "0.0.0.0", "::")


_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[^:\[\]/@\s]+))(?::(?P<port>[0-9]{1,5}))?")


def _split_host(header: str) -> tuple[str, int | None] | None:
    """``Host`` header -> (lower-case name or address, port or None); None if malformed."""
    found = _HOST.fullmatch(header.strip().lower())
    if found is None:
        return None
    port = found["port"]
    return found["v6"] or found["name"], int(port) if port else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(header: str | None, host: str, port: int) -> bool:
    """Whether a request with this ``Host`` header is addressed to a server on ``host:port``.

    Allowed names: 127.0.0.1, localhost, [::1] and the ``--host`` given, each with the
    port the server listens on (or none when that port is 80). A server listening on
    every interface (``--host 0.0.0.0`` or ``::``) is reached by whatever address or
    name the machine has, so it also takes any IP address and the machine's host name:
    a rebinding attack needs the attacker's own DNS name in ``Host``, never an address.
    """
    if not header:
        return False
    parsed = _split_host(header)
    if parsed is None:
        return False
    name, asked = parsed
    if asked is None:
        asked = 80
    if asked != port:
        return False
    if name in LOOPBACK_NAMES or name == host.strip("[]").lower():
        return True
    if host in WILDCARDS:
        return _is_ip(name) or name == socket.gethostname().lower()
    return False


def _misdirected(start_response: Callable[..., object]) -> Iterable[bytes]:
    body = (
        b"421 Misdirected Request: this Controlbook preview answers only to its own "
        b"address (e.g. http://127.0.0.1:PORT/), not to another host name.\n"
    )
    start_response(
        "421 Misdirected Request",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def make_server(
    catalog: Path,
    out: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    as_of: date | None = None,
    templates: Path | None = None,
    report: Callable[[str], None] = print,
):  # type: ignore[no-untyped-def]
    """Build once and return a live-reload server (call ``.serve()``; ``.shutdown()`` to stop)."""
    from mkdocs.livereload import LiveReloadServer

    build(catalog, out, as_of=as_of, templates=templates)

    def rebuild() -> None:
        try:
            result = build(catalog, out, as_of=as_of, templates=templates)
        except CatalogInvalid as exc:
            report("\n".join(str(d) for d in exc.diagnostics))
            report("controlbook: the catalog is invalid; still serving the last good build")
            return
        except ControlbookError as exc:
            report(f"controlbook: error: {exc}; still serving the last good build")
            return
        report(f"rebuilt {result.pages} pages in {result.seconds:.1f} s")

    class Server(LiveReloadServer):
        def server_bind(self) -> None:
            super().server_bind()
            # MkDocs computes the URL before binding: with port 0 it would print ":0".
            bound_host, bound_port = self.server_address[:2]
            self.url = f"http://{bound_host}:{bound_port}/"

        def serve_request(self, environ, start_response):  # type: ignore[no-untyped-def]
            if not host_allowed(environ.get("HTTP_HOST"), host, self.server_address[1]):
                log.warning("refused a request for Host %r", environ.get("HTTP_HOST"))
                return _misdirected(start_response)
            return super().serve_request(environ, start_response)

    server = Server(builder=rebuild, host=host, port=port, root=str(out))
    server.watch(str(catalog))
    server.watch(str(TEMPLATES))
    if templates is not None:
        server.watch(str(templates))
    return server
