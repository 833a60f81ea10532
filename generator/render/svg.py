"""Small charts as inline SVG: readable without JavaScript, no CDN, deterministic."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from ..evaluation.coverage import ElementCoverage
from ..views import Bar

COLOURS = {  # the stylesheet's severity colours (controlbook.css)
    "critical": "#b71c1c",
    "high": "#c62828",
    "medium": "#b45309",
    "low": "#1565c0",
    "family": "#5c6bc0",
}


def bar_chart(bars: Sequence[Bar], title: str, width: int = 520) -> Markup:
    """A horizontal bar chart with the value written next to each bar."""
    row, label_w = 26, 130
    height = row * max(len(bars), 1) + 30
    top = max((b.value for b in bars), default=0) or 1
    parts = [
        f'<svg class="cb-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not bars:
        parts.append('<text x="0" y="20" font-size="13">No open findings</text>')
    for i, bar in enumerate(bars):
        y = 10 + i * row
        w = int((width - label_w - 50) * bar.value / top)
        colour = COLOURS.get(bar.tone, "#757575")
        parts.append(f'<text x="0" y="{y + 14}" font-size="13">{escape(bar.label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="18" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 14}" font-size="13">{bar.value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def heat_cell(element: ElementCoverage) -> Markup:
    """A coverage cell: green when clean, amber with gaps, grey when not covered
    (the colours are the stylesheet's classes: no inline style)."""
    if element.clean:
        tone, text = "clean", "clean"
    elif element.covered:
        tone, text = "gaps", f"{element.open_findings} open"
    else:
        tone, text = "none", "not covered"
    return Markup(f'<span class="cb-heat cb-heat-{tone}">{escape(text)}</span>')
