"""Small charts as inline SVG: readable without JavaScript, no CDN, deterministic."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup
from markupsafe import escape as _escape

from ..evaluation.coverage import ElementCoverage
from ..views import Bar, HeatRowView, SodView
from .env import visible


def escape(value: object) -> Markup:
    """Text for SVG: bidi and zero-width characters written out, then HTML-escaped."""
    return _escape(visible(str(value)))


COLOURS = {  # the stylesheet's severity colours (controlbook.css)
    "critical": "#b71c1c",
    "high": "#c62828",
    "medium": "#b45309",
    "low": "#1565c0",
    "family": "#5c6bc0",
    "clean": "#2e7d32",
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


HEAT_TONES = {
    "open findings": "open",
    "not assessed": "unassessed",
    "clean": "clean",
    "not covered": "none",
}
"""A heat-map cell's status -> its class (``cb-hm-open`` ...): colours live in the stylesheet,
so they follow the light and dark schemes and print as drawn."""


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def heat_map(rows: Sequence[HeatRowView], title: str, ident: str) -> Markup:
    """CSF functions (rows) by categories (cells): each cell names its category, counts its
    controls and says their worst status in words (colour repeats it, never replaces it),
    and links to the category's row below. ``ident`` makes the title's ID unique."""
    cell_w, cell_h, gap, label_w = 150, 62, 4, 150
    columns = max((len(r.cells) for r in rows), default=1) or 1
    width = label_w + columns * (cell_w + gap)
    height = max(len(rows), 1) * (cell_h + gap)
    parts = [
        f'<svg class="cb-chart cb-heatmap" role="group" aria-labelledby="{ident}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
    ]
    for i, row in enumerate(rows):
        y = i * (cell_h + gap)
        name = f"{row.name.title()} ({row.id})"
        parts.append(
            f'<text x="0" y="{y + cell_h // 2 + 5}" font-size="14" font-weight="700">'
            f"{escape(name)}</text>"
        )
        for j, cell in enumerate(row.cells):
            x = label_w + j * (cell_w + gap)
            tone = HEAT_TONES.get(cell.status, "none")
            count = _count(cell.controls, "control")
            label = f"{cell.id} {cell.name}: {count}, {cell.status}"  # the link's name
            parts.append(
                f'<a href="#{escape(cell.anchor)}" class="cb-hm-{tone}">'
                f"<title>{escape(label)}</title>"
                f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" rx="4"/>'
                f'<text x="{x + 8}" y="{y + 19}" font-size="14" font-weight="700">{escape(cell.id)}</text>'
                f'<text x="{x + 8}" y="{y + 37}" font-size="12">{escape(count)}</text>'
                f'<text x="{x + 8}" y="{y + 54}" font-size="12">{escape(cell.status)}</text>'
                "</a>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def sod_matrix(sod: SodView, title: str, ident: str, root: str = "") -> Markup:
    """People (rows) by duties (columns, grouped by rule set). A dot: the person holds the
    duty; a diamond: one side of a conflict the person holds. Arcs over the duties join the
    pairs that conflict. Each held conflict links (right) to where it is judged: its
    exception in the register, or its finding. Links are relative to ``root``."""
    label_w, col_w, row_h, link_w = 190, 118, 28, 240
    duties = sod.duties
    top = 74  # rule set names, the conflict arcs, duty IDs
    width = label_w + col_w * max(len(duties), 1) + link_w
    height = top + row_h * max(len(sod.rows), 1) + 30
    held_conflicts = sum(len(r.conflicts) for r in sod.rows)
    parts = [
        f'<svg class="cb-chart cb-sodmap" role="group" aria-labelledby="{ident}-title" '
        f'aria-describedby="{ident}-desc" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{len(sod.rows)} people hold duties; '
        f"{_count(held_conflicts, 'conflict')} held. The table below the picture lists the "
        "same.</desc>",
    ]
    column = {(rs, duty): i for i, (rs, duty, _) in enumerate(duties)}

    def centre(i: int) -> int:
        return label_w + i * col_w + col_w // 2

    rulesets: dict[str, list[int]] = {}
    for i, (rs, _, _) in enumerate(duties):
        rulesets.setdefault(rs, []).append(i)
    for rs, indexes in rulesets.items():
        x0, x1 = label_w + indexes[0] * col_w, label_w + (indexes[-1] + 1) * col_w
        parts.append(
            f'<text x="{(x0 + x1) // 2}" y="14" font-size="13" font-weight="700" '
            f'text-anchor="middle">{escape(rs)}</text>'
            f'<line class="cb-sod-rule" x1="{x0 + 6}" y1="20" x2="{x1 - 6}" y2="20"/>'
        )
    for rs, first, second in sod.pairs:
        if (rs, first) not in column or (rs, second) not in column:
            continue
        a, b = sorted((centre(column[(rs, first)]), centre(column[(rs, second)])))
        parts.append(
            f'<path class="cb-sod-pair" d="M {a} 48 Q {(a + b) // 2} 24 {b} 48">'
            f"<title>{escape(f'{rs}: {first} conflicts with {second}')}</title></path>"
        )
    for i, (_, duty, name) in enumerate(duties):
        parts.append(
            f'<text x="{centre(i)}" y="64" font-size="12" text-anchor="middle">'
            f"<title>{escape(name)}</title>{escape(duty)}</text>"
        )
    parts.append(
        f'<text x="{label_w + col_w * len(duties) + 12}" y="64" font-size="12" '
        'font-weight="700">Judged by</text>'
    )
    for r, row in enumerate(sod.rows):
        y = top + r * row_h
        mid = y + row_h // 2
        if r % 2:
            parts.append(
                f'<rect class="cb-sod-band" x="0" y="{y}" width="{width}" height="{row_h}"/>'
            )
        parts.append(f'<text x="4" y="{mid + 4}" font-size="13">{escape(row.person.name)}</text>')
        for i, state in enumerate(row.cells):
            if not state:
                continue
            x = centre(i)
            what = "holds" if state == "held" else "holds, in conflict:"
            tip = f"<title>{escape(f'{row.person.name} {what} {duties[i][1]}')}</title>"
            if state == "held":
                parts.append(
                    f'<circle class="cb-sod-held" cx="{x}" cy="{mid}" r="6">{tip}</circle>'
                )
            else:
                d = 9
                parts.append(
                    f'<path class="cb-sod-conflict" d="M {x} {mid - d} L {x + d} {mid} '
                    f'L {x} {mid + d} L {x - d} {mid} Z">{tip}</path>'
                )
        x = label_w + col_w * len(duties) + 12
        for conflict in row.conflicts:
            label = conflict.link_label
            tip = f"{row.person.name}: {conflict.ruleset} {conflict.duties}, judged in {label}"
            parts.append(
                f'<a href="{escape(root + conflict.link)}" aria-label="{escape(tip)}">'
                f'<text x="{x}" y="{mid + 4}" font-size="13">{escape(label)}</text></a>'
            )
            x += 8 * len(label) + 16
    legend_y = height - 8
    parts.append(
        f'<circle class="cb-sod-held" cx="10" cy="{legend_y - 4}" r="6"/>'
        f'<text x="22" y="{legend_y}" font-size="12">holds the duty</text>'
        f'<path class="cb-sod-conflict" d="M 140 {legend_y - 13} L 149 {legend_y - 4} '
        f'L 140 {legend_y + 5} L 131 {legend_y - 4} Z"/>'
        f'<text x="156" y="{legend_y}" font-size="12">holds both duties of a conflicting pair '
        "(the arcs above join the pairs)</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars(
    columns: Sequence[tuple[str, str, Sequence[int]]],
    series: Sequence[tuple[str, str]],
    title: str,
) -> Markup:
    """Vertical bars, one per column (label, second label, a value per series), stacked
    bottom-up in the order of ``series`` ((name, tone): tone is a :data:`COLOURS` key).
    Every segment of some height writes its value, every bar its total; a legend names
    the series. Meant beside a table with the same figures."""
    col_w, gap, chart_h, left = 78, 34, 170, 10
    width = max(left + len(columns) * (col_w + gap), 320)
    legend_y = chart_h + 74
    height = legend_y + 22
    top = max((sum(values) for _, _, values in columns), default=0) or 1
    scale = (chart_h - 24) / top
    parts = [
        f'<svg class="cb-chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="cb-axis" x1="0" y1="{chart_h}" x2="{width}" y2="{chart_h}"/>',
    ]
    for c, (label, second, values) in enumerate(columns):
        x = left + c * (col_w + gap)
        y = chart_h
        for (_, tone), value in zip(series, values, strict=True):
            h = round(value * scale)
            if not h:
                continue
            y -= h
            parts.append(  # a thin line of the page's colour between segments
                f'<rect class="cb-segment" x="{x}" y="{y}" width="{col_w}" height="{h}" '
                f'fill="{COLOURS.get(tone, "#616161")}"/>'
            )
            if h >= 16:
                parts.append(
                    f'<text class="cb-on-fill" x="{x + col_w // 2}" y="{y + h // 2 + 5}" '
                    f'font-size="13" text-anchor="middle">{value}</text>'
                )
        parts.append(
            f'<text x="{x + col_w // 2}" y="{y - 6}" font-size="13" font-weight="700" '
            f'text-anchor="middle">{sum(values)}</text>'
            f'<text x="{x + col_w // 2}" y="{chart_h + 20}" font-size="13" '
            f'text-anchor="middle">{escape(label)}</text>'
            f'<text x="{x + col_w // 2}" y="{chart_h + 38}" font-size="12" '
            f'text-anchor="middle">{escape(second)}</text>'
        )
    x = left
    for name, tone in series:
        parts.append(
            f'<rect x="{x}" y="{legend_y - 11}" width="12" height="12" '
            f'fill="{COLOURS.get(tone, "#616161")}"/>'
            f'<text x="{x + 17}" y="{legend_y}" font-size="12">{escape(name)}</text>'
        )
        x += 17 + 8 * len(name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))
