"""One narrative as a PDF/A-3b file: HTML -> PDF (WeasyPrint), in a worker process.

The output is deterministic: the dates come from the as-of date (or ``SOURCE_DATE_EPOCH``),
attachments carry the same fixed dates, the file identifier is a hash of the content, fonts
are the system's DejaVu faces, and nothing is fetched from outside the project: the URL
fetcher refuses network URLs and files outside the templates and the catalog.

:func:`render_pdf` takes a :class:`PdfJob` of plain data (HTML text and attachment bytes),
so that it can run in a worker process; this module imports nothing heavier than WeasyPrint.
"""

from __future__ import annotations

import base64
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import ControlbookError
from ..resources import TEMPLATES

PDF_VARIANT = "pdf/a-3b"


class NarrativeError(ControlbookError):
    """A narrative could not be rendered (a refused resource, a template error...)."""


@dataclass(frozen=True)
class AttachmentData:
    """A file embedded in the PDF (PDF/A-3 associated file)."""

    name: str
    data: bytes
    mime: str
    description: str
    relationship: str


@dataclass(frozen=True)
class PdfJob:
    """Everything needed to produce one unsigned PDF, as plain (picklable) data."""

    control: str
    html: str
    base_url: str
    created: datetime
    attachments: tuple[AttachmentData, ...]
    allowed_roots: tuple[str, ...]


@dataclass(frozen=True)
class RenderedPdf:
    """The unsigned PDF of one narrative and its page count."""

    control: str
    data: bytes
    pages: int


def template_dirs(overrides: Path | None = None) -> tuple[Path, ...]:
    """Folders the PDF templates (and anything they reference) may come from."""
    dirs = [TEMPLATES / "pdf", TEMPLATES / "shared"]
    if overrides is not None:
        dirs.insert(0, overrides / "pdf")
    return tuple(d.resolve() for d in dirs)


def document_date(as_of: date, environ: dict[str, str] | None = None) -> datetime:
    """The creation date of every narrative: ``SOURCE_DATE_EPOCH`` when set, else midnight
    UTC of the as-of date (never the clock)."""
    epoch = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise NarrativeError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time") from None
    return datetime.combine(as_of, time.min, tzinfo=UTC)


# -- WeasyPrint ------------------------------------------------------------------------------
# Imported lazily: the module is also used by code that only builds jobs.


@cache
def _fetcher_class() -> type:
    """The fetcher class (built on first use, so that importing this module stays light)."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class RefusedURL(FatalURLFetchingError):
        """A resource outside the project: rendering stops (BaseException, so WeasyPrint
        does not turn it into a warning)."""

    class LocalOnlyFetcher(URLFetcher):
        """Fetches ``data:`` URLs and ``file:`` URLs under the allowed folders; refuses the
        rest before any request is made."""

        refused = RefusedURL

        def __init__(self, allowed_roots: tuple[str, ...]) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
            self.roots = tuple(Path(r) for r in allowed_roots)

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                parts = urlsplit(url)
                if parts.netloc not in ("", "localhost"):
                    raise RefusedURL(f"refused to fetch {url}: remote file URLs are not allowed")
                target = Path(unquote(parts.path)).resolve()
                if any(target.is_relative_to(root) for root in self.roots):
                    return super().fetch(url, headers)
                raise RefusedURL(
                    f"refused to fetch {url}: narratives may only load files from the "
                    "templates folder and the catalog"
                )
            raise RefusedURL(
                f"refused to fetch {url[:200]}: narratives never load anything from the network"
            )

    return LocalOnlyFetcher


def local_fetcher(allowed_roots: tuple[str, ...]) -> Any:
    """A WeasyPrint URL fetcher restricted to ``data:`` and files under ``allowed_roots``."""
    return _fetcher_class()(allowed_roots)


def _finisher(_document: Any, pdf: Any) -> None:
    """Drop /Info entries that signing rewrites (Producer, ModDate) so that /Info and the
    XMP metadata never disagree (PDF/A); the XMP packet keeps both."""
    for key in ("Producer", "ModDate"):
        pdf.info.pop(key, None)


@contextmanager
def _one_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the block runs, and one collection
    after it.

    WeasyPrint allocates hundreds of thousands of objects per document (styles, boxes,
    line boxes) and keeps most of them until the PDF is written: the collector, triggered
    by allocations, walked them over and over, a quarter of the CPU time of a narrative
    (measured on the full-size benchmark catalog). One collection per document frees the
    same garbage, and memory stays bounded by one document."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect(0)


def render_pdf(job: PdfJob) -> RenderedPdf:
    """The unsigned PDF/A-3b of one narrative (runs in worker processes)."""
    with _one_collection():
        return _render(job)


def _render(job: PdfJob) -> RenderedPdf:
    from weasyprint import HTML, Attachment

    fetcher = local_fetcher(job.allowed_roots)
    try:
        attachments = [
            Attachment(
                url=f"data:{a.mime};base64,{base64.b64encode(a.data).decode('ascii')}",
                url_fetcher=fetcher,
                name=a.name,
                description=a.description,
                created=job.created,
                modified=job.created,
                relationship=a.relationship,
            )
            for a in job.attachments
        ]
        options: dict[str, Any] = {"pdf_variant": PDF_VARIANT, "attachments": attachments}
        document = HTML(string=job.html, base_url=job.base_url, url_fetcher=fetcher).render(
            **options
        )
        data = document.write_pdf(finisher=_finisher, **options)
    except fetcher.refused as exc:
        raise NarrativeError(f"{job.control}: {exc}") from None
    return RenderedPdf(job.control, data, len(document.pages))
