"""Phone lines: changing one, its auto-delete window above all (what decides which recordings the purge deletes)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from recordings.models import PhoneLine

#: The longest reason a change keeps (the history's change-reason column).
REASON_MAX_LENGTH = 100


@transaction.atomic
def phone_line_update(*, line_id: int, changes: dict[str, Any], reason: str = "", user: Any = None) -> PhoneLine:
    """Change a line's fields (``changes``: field name → new value) and return it; writes nothing when nothing
    changes.

    A change of ``auto_delete_days`` needs a ``reason`` (``ValidationError`` on ``reason`` otherwise): a shorter
    window makes the next purge delete recordings for good. The reason is kept in the line's history with who
    made the change (``user``, else the request's login) and from where.
    """
    line = PhoneLine.objects.select_for_update().get(pk=line_id)
    changed = {name: value for name, value in changes.items() if getattr(line, name) != value}
    if not changed:
        return line
    reason = (reason or "").strip()
    if "auto_delete_days" in changed and not reason:
        raise ValidationError({"reason": "Say why the line's auto-delete window changes."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"At most {REASON_MAX_LENGTH} characters."})
    for name, value in changed.items():
        setattr(line, name, value)
    line.full_clean()
    line._change_reason = reason  # django-simple-history's way to give the history row its reason
    if user is not None and getattr(user, "is_authenticated", False):
        line._history_user = user
    line.save(update_fields=list(changed))
    return line
