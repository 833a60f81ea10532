"""A narrative's HTML and attachments: the view model (:mod:`.narrative`) through the
``pdf`` templates, with who signs it printed on the cover. :mod:`generator.publish.narratives`
turns these into signed PDFs, in a process pool and through a cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, TemplateError, TemplateSyntaxError

from .. import __version__
from .decisions import DecisionList
from .env import make_environment
from .narrative import MANIFEST_NAME, Narrative
from .pdf import AttachmentData, NarrativeError

TEMPLATE = "narrative.html.j2"
GENERATOR = f"Controlbook {__version__}"


@dataclass(frozen=True)
class SignerInfo:
    """Who signs, as printed on the cover page and returned to the caller (plain data)."""

    subject: str
    issuer: str
    fingerprint: str
    not_after: str
    development: bool
    level: str
    timestamp_url: str | None
    source: str

    @property
    def notice(self) -> str:
        """One plain sentence on what the signature is worth."""
        if self.development:
            return (
                "Development signature, not for production: signed with a local development "
                "certificate that proves nothing about who signed. Configure signing_key or "
                "CONTROLBOOK_SIGNING_KEY for production narratives."
            )
        return f"Signed with {self.source} ({self.level})."


def pdf_environment(overrides: Path | None = None) -> Environment:
    """The shared environment for ``pdf`` (HTML autoescaping, StrictUndefined)."""
    return make_environment("pdf", overrides)


def render_html(
    narrative: Narrative, signer: SignerInfo, env: Environment, created: datetime
) -> str:
    """The narrative's HTML; data is passed to the template, never compiled as one.

    A broken template (an override, typically) raises :class:`NarrativeError` with its
    file and line.
    """
    try:
        return env.get_template(TEMPLATE).render(
            n=narrative,
            signer=signer,
            generator=GENERATOR,
            created=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            manifest_name=MANIFEST_NAME,
        )
    except TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name}:{exc.lineno}"
        raise NarrativeError(f"template {where}: {exc.message}") from None
    except TemplateError as exc:
        raise NarrativeError(f"{narrative.control.id}: template {TEMPLATE}: {exc}") from None


def _described(attached: DecisionList) -> str:
    """The attachment's description: what the CSV holds, of which review."""
    kind, _, review = attached.name.removesuffix(".csv").partition("-")
    what = "Every decision" if kind == "decisions" else "Every assigned reviewer"
    return f"{what} of review {review} ({attached.rows})"


def attachments_of(narrative: Narrative) -> tuple[AttachmentData, ...]:
    """The control's source YAML and the JSON evidence manifest (PDF/A-3 associated files)."""
    return (
        AttachmentData(
            narrative.source_name,
            narrative.source_yaml,
            "application/yaml",
            f"Control definition as in the catalog: {narrative.source_path}",
            "Source",
        ),
        AttachmentData(
            MANIFEST_NAME,
            narrative.manifest_json(),
            "application/json",
            "Evidence manifest: every file relied on, with sha256 as recorded and as found",
            "Data",
        ),
        *(
            AttachmentData(d.name, d.data, "text/csv", _described(d), "Data")
            for d in narrative.attached_lists
        ),
    )
