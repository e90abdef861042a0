from __future__ import annotations

from typing import Any

from django import template

from core.dashboard import Panel, dashboard_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def home_panels(context: dict[str, Any]) -> list[Panel]:
    """The console home page's panels the user may see."""
    return dashboard_panels(context["request"])
