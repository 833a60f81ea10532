"""``controlbook serve``: build, serve on loopback, rebuild when the catalog or templates change.

Uses MkDocs' live-reload server over the built site; each rebuild is a full,
atomic :func:`generator.publish.build.build`, so a broken edit keeps the last good site
on screen and prints the errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

from ..errors import CatalogInvalid, ControlbookError
from ..resources import TEMPLATES
from .build import build

log = logging.getLogger("controlbook.serve")


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

    server = Server(builder=rebuild, host=host, port=port, root=str(out))
    server.watch(str(catalog))
    server.watch(str(TEMPLATES))
    if templates is not None:
        server.watch(str(templates))
    return server
