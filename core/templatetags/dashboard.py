from __future__ import annotations

from typing import Any

from django import template

from core.audit_pages import Operation, recent_operations
from core.dashboard import Panel, dashboard_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def home_panels(context: dict[str, Any]) -> list[Panel]:
    """The console home page's panels the user may see."""
    return dashboard_panels(context["request"])


@register.simple_tag(takes_context=True)
def audited_operations(context: dict[str, Any]) -> list[Operation]:
    """The audit chain's newest operations, for those who may read the chain."""
    if not context["request"].user.has_perm("core.view_auditentry"):
        return []
    return recent_operations()
