"""Every status the site can show has a style: a badge without one is white on nothing."""

from __future__ import annotations

import re

import pytest

from generator.evaluation.status import ControlStatus
from generator.model.slugs import slug
from generator.resources import TEMPLATES

CSS = (TEMPLATES / "site" / "assets" / "controlbook.css").read_text(encoding="utf-8")


@pytest.mark.parametrize("status", list(ControlStatus), ids=str)
def test_every_control_status_badge_has_a_colour(status: ControlStatus) -> None:
    rule = re.search(rf"\.cb-status-{re.escape(slug(str(status)))}\s*\{{([^}}]*)\}}", CSS)
    assert rule, f"no style for the '{status}' badge"
    assert "background" in rule.group(1)
