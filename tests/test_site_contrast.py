"""Every coloured badge of the site's stylesheet is readable: white text on its background
has at least the 4.5:1 contrast WCAG AA asks of normal text (the browser test runs axe on
the pages; this covers the badges no example page happens to show)."""

from __future__ import annotations

import re

import pytest

from generator.render.svg import COLOURS
from generator.resources import TEMPLATES

CSS = (TEMPLATES / "site" / "assets" / "controlbook.css").read_text(encoding="utf-8")
VARIABLES = dict(re.findall(r"(--cb-[a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS.split("}", 1)[0]))
BADGES = re.findall(r"\.(cb-(?:sev|status|heat)-[a-z-]+)\s*\{\s*background:\s*([^;]+);", CSS)


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def resolve(value: str) -> str:
    found = re.fullmatch(r"var\((--cb-[a-z-]+)\)", value.strip())
    return VARIABLES[found.group(1)] if found else value.strip()


def test_the_stylesheet_has_the_badges() -> None:
    names = {name for name, _ in BADGES}
    assert {"cb-sev-high", "cb-sev-medium", "cb-status-open-findings", "cb-heat-none"} <= names


@pytest.mark.parametrize(("badge", "background"), BADGES, ids=[b for b, _ in BADGES])
def test_white_text_on_every_badge_is_readable(badge: str, background: str) -> None:
    assert contrast("#ffffff", resolve(background)) >= 4.5, badge


def test_problem_and_ok_text_is_readable_on_the_page_light_and_dark() -> None:
    light = {"bad": VARIABLES["--cb-bad-text"], "ok": VARIABLES["--cb-ok-text"]}
    dark = dict(re.findall(r"--cb-(bad|ok)-text:\s*(#[0-9a-fA-F]{6})", CSS.split("slate", 1)[1]))
    for colour in light.values():
        assert contrast(colour, "#ffffff") >= 4.5
    for colour in dark.values():
        assert contrast(colour, "#1e2129") >= 4.5  # the theme's slate background


@pytest.mark.parametrize("tone", ["critical", "high", "medium", "low"])
def test_chart_bars_use_the_badge_colours(tone: str) -> None:
    assert COLOURS[tone].lower() == VARIABLES[f"--cb-{tone}"].lower()
