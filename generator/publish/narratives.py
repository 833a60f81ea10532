"""``render_narratives``: one signed PDF/A-3b narrative per control, rendered on every core,
skipping controls whose inputs have not changed since the last build.

Flow per control: its inputs' digest (:mod:`.narrativekey`) -> cache lookup, done when the
inputs are those of a cached PDF -> view model (:mod:`generator.render.narrative`) -> cache
lookup by the view model's digest -> HTML (Jinja, in this process) -> unsigned PDF
(:func:`generator.render.pdf.render_pdf`, in a worker process) -> signature (in this
process, so the private key never leaves it) -> cache and ``out_dir/<ID>.pdf``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict, Unpack

from ..render.narrative import Narrative, build_narratives, selected_controls
from ..render.narratives import SignerInfo, attachments_of, pdf_environment, render_html
from ..render.pdf import NarrativeError, PdfJob, RenderedPdf, document_date, render_pdf
from ..render.pdf import template_dirs as pdf_template_dirs
from ..render.site import slug
from ..signing.sign import DocumentSigner, secrets_withheld
from ..views import CatalogViews
from .narrativekey import narrative_inputs
from .pdfcache import CachedPdf, PdfCache, batch_key, cache_key

Progress = Callable[[str], None]

AHEAD = 2
"""Jobs per worker submitted to the pool ahead of the results (see :func:`_rendered`)."""


@dataclass(frozen=True)
class NarrativeResult:
    """One narrative written to ``path``; ``cached`` when it was reused unchanged."""

    control: str
    path: Path
    version: str
    pages: int
    cached: bool


@dataclass(frozen=True)
class NarrativeBatch:
    """What :func:`render_narratives` produced, and who signed it."""

    results: tuple[NarrativeResult, ...]
    signer: SignerInfo
    seconds: float
    jobs: int

    @property
    def rendered(self) -> int:
        return sum(1 for r in self.results if not r.cached)

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.cached)

    @property
    def pdfs(self) -> dict[str, Path]:
        """Control ID -> PDF, as :func:`generator.render.site.build_site_into` takes them."""
        return {r.control: r.path for r in self.results}

    @property
    def development(self) -> bool:
        """True when a development signature was used (not for production)."""
        return self.signer.development

    @property
    def summary(self) -> str:
        text = (
            f"{len(self.results)} narrative(s): {self.rendered} rendered and signed, "
            f"{self.cached} unchanged, in {self.seconds:.1f} s; {self.signer.notice}"
        )
        return ("WARNING: " + text) if self.development else text


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _pin_epoch(epoch: str) -> None:
    """Pool worker initializer: the worker's ``SOURCE_DATE_EPOCH`` is the documents' date,
    whatever the environment held when it was spawned (the site build sets it meanwhile)."""
    os.environ["SOURCE_DATE_EPOCH"] = epoch


def _rendered(
    jobs: Iterable[PdfJob], workers: int, count: int, created: datetime, alongside: bool
) -> Iterator[RenderedPdf]:
    """Unsigned PDFs as they are ready: in this process for one worker or one PDF (unless
    this process does other work ``alongside``), else in a process pool (spawned, so no
    lock or thread of this process is inherited).

    At most :data:`AHEAD` jobs per worker are in the pool at a time: the next HTML is
    rendered (and the last PDF signed) in this process while the workers lay out theirs,
    no worker waits for a job, and neither the HTML of every job nor the PDF of every
    result is held at once (1,000 narratives are over a gigabyte of each).

    Workers are started while the pool is created and when a job is submitted, so both
    run with the signing passphrase withheld from the environment: WeasyPrint never holds
    a secret it does not need."""
    if workers <= 1 or count < 1 or (count == 1 and not alongside):
        yield from map(render_pdf, jobs)
        return
    size = min(workers, count)
    context = multiprocessing.get_context("spawn")
    with secrets_withheld():
        pool = ProcessPoolExecutor(
            max_workers=size,
            mp_context=context,
            initializer=_pin_epoch,
            initargs=(str(int(created.timestamp())),),
        )
    with pool:
        pending: dict[Future[RenderedPdf], str] = {}
        source = iter(jobs)
        try:
            while True:
                while len(pending) < AHEAD * size and (job := next(source, None)) is not None:
                    with secrets_withheld():
                        pending[pool.submit(render_pdf, job)] = job.control
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield _result(future, pending.pop(future))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _result(future: Future[RenderedPdf], control: str) -> RenderedPdf:
    try:
        return future.result()
    except NarrativeError:
        raise
    except Exception as exc:  # a crashed worker or a WeasyPrint bug
        raise NarrativeError(f"{control}: rendering failed: {type(exc).__name__}: {exc}") from exc


def _check_file_names(ids: list[str]) -> None:
    """Two IDs that slug to the same file name would overwrite each other's PDF."""
    seen: dict[str, str] = {}
    for control in ids:
        name = slug(control)
        if name in seen:
            raise NarrativeError(
                f"controls {seen[name]!r} and {control!r} would both be written to {name}.pdf"
            )
        seen[name] = control


def _write(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


@dataclass
class NarrativePlan:
    """The narratives one build writes, decided before any is laid out: those unchanged
    since the last build are already in ``out_dir`` (from the cache); :meth:`write` lays
    out, signs and writes the others. :attr:`pdfs` names every file it will have written,
    so the site can link to them (and be built) meanwhile."""

    out_dir: Path
    signer: DocumentSigner
    workers: int
    created: datetime
    organisation: str
    controls: list[str]
    """Every narrative's control, in the catalog's order."""
    versions: dict[str, str]
    """The control version of each narrative to lay out."""
    jobs: Iterator[PdfJob]
    """The narratives to lay out, largest first; each view model is let go once its HTML
    is made (all 1,000 held until the last PDF were 0.9 GB at full size)."""
    keys: dict[str, str]
    inputs: dict[str, str]
    """The inputs digest of each narrative (see :mod:`.narrativekey`); empty without one."""
    cache: PdfCache
    results: dict[str, NarrativeResult]
    started: float

    @property
    def pdfs(self) -> dict[str, Path]:
        """Control ID -> the PDF :meth:`write` leaves in ``out_dir``, for every narrative."""
        return {control: self.out_dir / f"{slug(control)}.pdf" for control in self.controls}

    @property
    def todo(self) -> int:
        """The number of narratives to lay out."""
        return len(self.versions)

    def write(
        self,
        progress: Progress = lambda _: None,
        stop: threading.Event | None = None,
        *,
        alongside: bool = False,
    ) -> NarrativeBatch:
        """Lay out, sign and write every narrative not taken from the cache. With ``stop``
        set (by another thread), stops at the next finished PDF with
        :class:`NarrativesCancelled`; the files already written stay valid. ``alongside``:
        this process does other work meanwhile (the site), so even one narrative is laid
        out in a worker process, on a core this process leaves free."""
        total = len(self.controls)
        for pdf in _rendered(self.jobs, self.workers, self.todo, self.created, alongside):
            if stop is not None and stop.is_set():
                raise NarrativesCancelled("the narratives were stopped")
            signed = self.signer.sign(
                pdf.data, reason=f"Control narrative {pdf.control}", location=self.organisation
            )
            target = self.out_dir / f"{slug(pdf.control)}.pdf"
            _write(target, signed)
            self.cache.put(slug(pdf.control), self.keys[pdf.control], signed, pdf.pages)
            if pdf.control in self.inputs:
                self.cache.remember(
                    slug(pdf.control),
                    self.keys[pdf.control],
                    self.inputs[pdf.control],
                    self.versions[pdf.control],
                )
            self.results[pdf.control] = NarrativeResult(
                pdf.control, target, self.versions[pdf.control], pdf.pages, False
            )
            progress(f"narrative {len(self.results)}/{total} {pdf.control}: rendered and signed")
        ordered = tuple(self.results[control] for control in self.controls)
        seconds = time.perf_counter() - self.started
        return NarrativeBatch(ordered, self.signer.info, seconds, self.workers)


class NarrativesCancelled(NarrativeError):
    """:meth:`NarrativePlan.write` was stopped from another thread (the site build failed)."""


def plan_narratives(
    views: CatalogViews,
    out_dir: Path,
    *,
    signer: DocumentSigner,
    controls: list[str] | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    templates: Path | None = None,
    known_inputs: dict[str, str] | None = None,
    progress: Progress = lambda _: None,
) -> NarrativePlan:
    """The narratives of :func:`render_narratives`, with those unchanged since the last
    build already written to ``out_dir`` from the cache. ``known_inputs`` is
    :func:`~.narrativekey.control_inputs`, when the caller has worked it out."""
    started = time.perf_counter()
    workers = jobs or default_jobs()
    out_dir.mkdir(parents=True, exist_ok=True)
    env = pdf_environment(templates)
    created = document_date(views.as_of)
    dirs = pdf_template_dirs(templates)
    allowed = (*(str(d) for d in dirs), str(views.catalog.root.resolve()))
    signer_id = json.dumps(asdict(signer.info), sort_keys=True)
    batch = batch_key(created, tuple(str(d) for d in dirs), signer_id)
    cache = PdfCache(cache_dir)
    controls = selected_controls(views, controls)
    _check_file_names(controls)
    inputs = narrative_inputs(views, batch, known_inputs) if cache.folder is not None else {}
    total = len(controls)
    results: dict[str, NarrativeResult] = {}

    def unchanged(control: str, version: str, hit: CachedPdf) -> None:
        target = out_dir / f"{slug(control)}.pdf"
        _write(target, hit.data)
        results[control] = NarrativeResult(control, target, version, hit.pages, True)

    rest = []
    for control in controls:  # inputs unchanged: no view model to build
        recalled = cache.recall(slug(control), inputs[control]) if control in inputs else None
        if recalled is None:
            rest.append(control)
        else:
            unchanged(control, recalled[1], recalled[2])
    if results:
        progress(f"{len(results)} of {total} narratives unchanged (inputs as last built)")
    narratives = build_narratives(views, rest) if rest else []
    todo: list[Narrative] = []
    keys: dict[str, str] = {}
    for narrative in narratives:
        control = narrative.control.id
        key = cache_key(narrative.digest, batch)
        hit = cache.get(slug(control), key)
        if hit is not None:  # inputs changed, the narrative did not
            unchanged(control, narrative.version, hit)
            progress(f"narrative {len(results)}/{total} {control}: unchanged")
            if control in inputs:
                cache.remember(slug(control), key, inputs[control], narrative.version)
            continue
        keys[control] = key
        todo.append(narrative)
    todo.sort(key=lambda n: (-n.weight, n.control.id))  # largest first: the workers end together
    versions = {n.control.id: n.version for n in todo}
    del narratives

    def jobs_(waiting: deque[Narrative]) -> Iterator[PdfJob]:
        while waiting:
            n = waiting.popleft()
            yield PdfJob(
                control=n.control.id,
                html=render_html(n, signer.info, env, created),
                base_url=dirs[0].as_uri() + "/",
                created=created,
                attachments=attachments_of(n),
                allowed_roots=allowed,
            )

    return NarrativePlan(
        out_dir=out_dir,
        signer=signer,
        workers=workers,
        created=created,
        organisation=views.catalog.settings.organisation,
        controls=controls,
        versions=versions,
        jobs=jobs_(deque(todo)),
        keys=keys,
        inputs=inputs,
        cache=cache,
        results=results,
        started=started,
    )


class PlanOptions(TypedDict, total=False):
    """The keyword options of :func:`plan_narratives` that :func:`render_narratives` takes."""

    controls: list[str] | None
    cache_dir: Path | None
    jobs: int | None
    templates: Path | None
    progress: Progress


def render_narratives(
    views: CatalogViews, out_dir: Path, *, signer: DocumentSigner, **options: Unpack[PlanOptions]
) -> NarrativeBatch:
    """Write one signed narrative per control (default: all; ``controls`` picks some) to
    ``out_dir/<slug(ID)>.pdf``.

    ``cache_dir`` keeps signed PDFs between builds (``None``: no cache); ``jobs`` is the
    number of worker processes (default: every core); ``templates`` is an override folder
    whose ``pdf/`` templates replace the built-in ones. Raises :class:`NarrativeError`
    (or :class:`~.narrative.UnknownControl`); files already written stay valid.

    Workers are spawned (not forked), so a script calling this with ``jobs > 1`` needs the
    usual ``if __name__ == "__main__":`` guard; the ``controlbook`` entry point has it.
    """
    plan = plan_narratives(views, out_dir, signer=signer, **options)
    return plan.write(options.get("progress", lambda _: None))


__all__ = [
    "NarrativeBatch",
    "NarrativeError",
    "NarrativePlan",
    "NarrativeResult",
    "NarrativesCancelled",
    "plan_narratives",
    "render_narratives",
]
