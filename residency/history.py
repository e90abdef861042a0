"""Who changed what, and from where: the audit fields every history table carries.

Every tracked model uses :func:`AuditedHistory` instead of ``HistoricalRecords``. Each history row
then stores, besides django-simple-history's own ``history_user`` (a foreign key that is nulled when
the login is deleted), the actor's username as text so it survives the deletion, and the origin of
the change: ``admin`` (the console), ``api``, ``command`` (management commands, cron) or ``task``
(background workers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords


class Origin(models.TextChoices):
    ADMIN = "admin", "Admin console"
    API = "api", "API"
    COMMAND = "command", "Management command"
    TASK = "task", "Background task"
    WEB = "web", "Web page"


class AuditFields(models.Model):
    history_origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.COMMAND)
    history_username = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def origin(self) -> str:
        """Where the change came from, for people (``Admin console``, ``API``…)."""
        return self.get_history_origin_display()

    @property
    def actor(self) -> str:
        """Who made the change; kept as text after their login is deleted."""
        return self.history_username or "-"


AuditedHistory = partial(HistoricalRecords, bases=[AuditFields], user_db_constraint=False)

_origin: ContextVar[str | None] = ContextVar("history_origin", default=None)
_actor: ContextVar[str | None] = ContextVar("history_actor", default=None)


@contextmanager
def history_context(*, origin: str, actor: str | None = None) -> Iterator[None]:
    """Attribute every history row written inside the block to ``origin`` (and ``actor``)."""
    origin_token = _origin.set(origin)
    actor_token = _actor.set(actor)
    try:
        yield
    finally:
        _origin.reset(origin_token)
        _actor.reset(actor_token)


def current_request() -> Any:
    return getattr(HistoricalRecords.context, "request", None)


def current_origin() -> str:
    """The origin of the change being written: explicit context first, else the request's path.

    Without a request (management commands, the shell, cron) it is ``command``.
    """
    explicit = _origin.get()
    if explicit:
        return explicit
    request = current_request()
    if request is None:
        return Origin.COMMAND
    if request.path.startswith("/api/"):
        return Origin.API
    if request.path.startswith("/admin/"):
        return Origin.ADMIN
    return Origin.WEB


def current_actor(history_user: Any = None) -> str:
    """A readable name for who made the change, kept even after their login is deleted."""
    if history_user is not None:
        return history_user.get_username()
    explicit = _actor.get()
    if explicit:
        return explicit
    api_key = getattr(current_request(), "api_key", None)
    if api_key is not None:
        return api_key.label
    return ""


def fill_audit_fields(sender: type, history_instance: Any, history_user: Any = None, **kwargs: Any) -> None:
    """``pre_create_historical_record`` receiver: stamp origin and actor on the history row."""
    if isinstance(history_instance, AuditFields):
        history_instance.history_origin = current_origin()
        history_instance.history_username = current_actor(history_user)
