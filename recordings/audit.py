"""History rows written in bulk, for the changes services make with conditional or bulk updates.

django-simple-history writes one history row per ``save()``/``delete()`` through signals, one query each.
Deletions and erasure work on batches, so they write their history rows here with one ``bulk_create``,
stamped with the same origin and actor fields :mod:`residency.history` stamps on the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from residency.history import current_actor, current_origin


def actor_name(user: Any) -> str:
    """The name history and audit entries keep for ``user`` (a login, or ``None`` for the context's actor)."""
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    return current_actor()


def write_history(
    objs: Iterable[models.Model],
    *,
    history_type: str,
    when: datetime | None = None,
    user_id: int | None = None,
    username: str | None = None,
    reason: str = "",
    extra: dict[str, Any] | None = None,
    per_object: Any = None,
) -> int:
    """Write one history row per object (``+``, ``~`` or ``-``) in one insert; returns how many.

    ``per_object(obj)``, when given, returns extra attributes for that object's row (its own actor,
    reason…), overriding ``extra``.
    """
    objs = list(objs)
    if not objs:
        return 0
    history_model = type(objs[0]).history.model
    when = when or timezone.now()
    origin = current_origin()
    default_username = current_actor() if username is None else username
    rows = []
    for obj in objs:
        attrs: dict[str, Any] = {
            "history_type": history_type,
            "history_date": when,
            "history_user_id": user_id,
            "history_change_reason": reason,
            "history_origin": origin,
            "history_username": default_username,
            **(extra or {}),
        }
        if per_object is not None:
            attrs.update(per_object(obj))
        attrs.update({field.attname: getattr(obj, field.attname) for field in history_model.tracked_fields})
        rows.append(history_model(**attrs))
    history_model.objects.bulk_create(rows, batch_size=500)
    return len(rows)
