"""Who changed what, and from where: the audit fields every history table carries.

Every tracked model uses :func:`AuditedHistory` instead of ``HistoricalRecords``. Each history row
then stores, besides django-simple-history's own ``history_user`` (a foreign key that is nulled when
the login is deleted), the actor's username as text so it survives the deletion, and the origin of
the change: ``admin`` (the console), ``api``, ``command`` (management commands, cron) or ``task``
(background workers).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connections, models, transaction
from django.db.models import F, Value
from django.dispatch import Signal
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Origin(models.TextChoices):
    ADMIN = "admin", "Admin console"
    API = "api", "API"
    COMMAND = "command", "Management command"
    TASK = "task", "Background task"
    WEB = "web", "Web page"


#: How each origin is said to people, in every audit page: where the change was made from. (The stored values and
#: their choices stay as they are: they are in every history table's migrations.)
ORIGIN_WORDS: dict[str, str] = {
    Origin.ADMIN: "Console",
    Origin.API: "API",
    Origin.COMMAND: "Command or schedule",
    Origin.TASK: "Background job",
    Origin.WEB: "Web page",
}


def origin_words(value: str) -> str:
    """``value`` (an origin as stored) as people read it; an unknown value as it is."""
    return ORIGIN_WORDS.get(value, value or "-")


class AuditFields(models.Model):
    history_origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.COMMAND)
    history_username = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def origin(self) -> str:
        """Where the change came from, for people (``Console``, ``API``…)."""
        return origin_words(self.history_origin)

    @property
    def actor(self) -> str:
        """Who made the change; kept as text after their login is deleted."""
        return self.history_username or "-"


AuditedHistory = partial(HistoricalRecords, bases=[AuditFields], user_db_constraint=False)

_origin: ContextVar[str | None] = ContextVar("history_origin", default=None)
_actor: ContextVar[str | None] = ContextVar("history_actor", default=None)
_user_id: ContextVar[int | None] = ContextVar("history_user_id", default=None)
_reason: ContextVar[str | None] = ContextVar("history_reason", default=None)


@contextmanager
def history_context(
    *, origin: str | None = None, actor: str | None = None, user: Any = None, reason: str | None = None
) -> Iterator[None]:
    """Attribute every history row written inside the block to ``origin``, ``actor`` (or the login ``user``, by
    name and id) and ``reason`` (said after each row's own reason: the operation the rows are part of, such as the
    request an erasure answers). What is not given is kept from the enclosing block."""
    if user is not None and getattr(user, "is_authenticated", False):
        actor = actor or user.get_username()
    tokens = [
        (variable, variable.set(value))
        for variable, value in (
            (_origin, origin), (_actor, actor), (_user_id, user_id_of(user)), (_reason, reason)
        )
        if value is not None
    ]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def current_user_id() -> int | None:
    """The login the enclosing :func:`history_context` names, if any."""
    return _user_id.get()


def change_reason(reason: str = "") -> str:
    """A history row's reason: its own, then the enclosing operation's (see :func:`history_context`), in the 100
    characters the column holds."""
    context = _reason.get()
    joined = f"{reason} ({context})" if reason and context else reason or context or ""
    return joined[:100]


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
        if history_user is None and history_instance.history_user_id is None:
            history_instance.history_user_id = current_user_id()
        history_instance.history_change_reason = change_reason(history_instance.history_change_reason or "")


# Changes made with a conditional or bulk ``update()``/``delete()`` (the guarded state changes and the
# batch deletions) skip simple-history's signals: their history rows are written here, in one insert,
# stamped with the same origin and actor as the others.

#: Sent, inside the writing transaction, with the ids of the history rows ``write_history`` and
#: ``write_history_from`` wrote (``sender``: the history model), as simple-history sends
#: ``post_create_historical_record`` for the rows it writes: the seals of audit tables (core/sealing.py) are
#: made in the same transaction from these. (A signal, because sealing stands on the chain, which stands on
#: this module.)
history_written = Signal()


def user_id_of(user: Any) -> int | None:
    """The login's id, for history and audit rows; ``None`` for anonymous callers (API keys) and the system."""
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


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
            "history_user_id": current_user_id() if user_id is None else user_id,
            "history_change_reason": change_reason(reason),
            "history_origin": origin,
            "history_username": default_username,
            **(extra or {}),
        }
        if per_object is not None:
            attrs.update(per_object(obj))
        attrs.update({field.attname: getattr(obj, field.attname) for field in history_model.tracked_fields})
        rows.append(history_model(**attrs))
    with transaction.atomic(savepoint=False):
        history_model.objects.bulk_create(rows, batch_size=500)
        history_written.send(sender=history_model, ids=[row.pk for row in rows])
    return len(rows)


def _insert_select_sql(model: type[models.Model], values: dict[str, Any], rows: models.QuerySet) -> tuple[str, Any]:
    names = list(values)
    aliases = {f"_insert_{index}": expression for index, expression in enumerate(values.values())}
    select = rows.order_by().annotate(**aliases).values_list(*aliases)
    sql, params = select.query.sql_with_params()
    quote = connections[rows.db].ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {sql}", params


def insert_select(model: type[models.Model], values: dict[str, Any], rows: models.QuerySet) -> int:
    """``INSERT INTO model (columns) SELECT expressions FROM rows`` in one statement; returns how many rows.

    ``values`` maps each target field name to an expression over ``rows`` (``F("name")``, ``Value(…)``,
    ``Concat(…)``…). The SELECT is compiled by Django for the database in use, so the statement is portable
    (SQLite, PostgreSQL); nothing is loaded into Python, whatever the number of rows.
    """
    sql, params = _insert_select_sql(model, values, rows)
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_select_returning(model: type[models.Model], values: dict[str, Any], rows: models.QuerySet) -> list[Any]:
    """:func:`insert_select`, returning the new rows' primary keys in key order.

    PostgreSQL returns them (``RETURNING``). SQLite's ``RETURNING`` keeps every row aside until the statement ends,
    which cost as much again as the insert (measured on 60,000 rows); there they are known without it: inside a
    transaction SQLite holds the database's write lock, so the rows above the largest key before the insert are
    this statement's, and when as many keys lie between that key and the last one inserted as rows were
    inserted (as SQLite numbers new rows: one above the largest), they are exactly those keys; else they are read."""
    sql, params = _insert_select_sql(model, values, rows)
    connection = connections[rows.db]
    pk = connection.ops.quote_name(model._meta.pk.column)
    with transaction.atomic(using=rows.db, savepoint=False), connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            cursor.execute(f"{sql} RETURNING {pk}", params)
            return sorted(row[0] for row in cursor.fetchall())
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT coalesce(max({pk}), 0) FROM {table}")
        (before,) = cursor.fetchone()
        cursor.execute(sql, params)
        if cursor.lastrowid is not None and cursor.lastrowid - before == cursor.rowcount:
            return list(range(before + 1, cursor.lastrowid + 1))
        cursor.execute(f"SELECT {pk} FROM {table} WHERE {pk} > %s ORDER BY {pk}", [before])
        return [row[0] for row in cursor.fetchall()]


def write_history_from(
    rows: models.QuerySet,
    *,
    history_type: str,
    when: datetime | None = None,
    user_id: Any = None,
    username: Any = None,
    reason: Any = "",
    extra: dict[str, Any] | None = None,
) -> int:
    """Like :func:`write_history`, set-based: one ``INSERT … SELECT`` of a history row for each row of ``rows``.

    ``user_id``, ``username``, ``reason`` and the values of ``extra`` are constants or expressions over the
    rows (a ticket's deleter, a line's name), so each row can carry its own actor and reason."""
    history_model = rows.model.history.model
    origin = current_origin()

    def expression(value: Any, field_name: str) -> Any:
        if hasattr(value, "resolve_expression"):
            return value
        return Value(value, output_field=history_model._meta.get_field(field_name))

    values: dict[str, Any] = {field.attname: F(field.attname) for field in history_model.tracked_fields}
    values.update(
        {
            "history_type": expression(history_type, "history_type"),
            "history_date": expression(when or timezone.now(), "history_date"),
            "history_user_id": expression(current_user_id() if user_id is None else user_id, "history_user"),
            "history_change_reason": expression(change_reason(reason) if isinstance(reason, str) else reason, "history_change_reason"),
            "history_origin": expression(origin, "history_origin"),
            "history_username": expression(current_actor() if username is None else username, "history_username"),
        }
    )
    for name, value in (extra or {}).items():
        values[name] = expression(value, name)
    with transaction.atomic(using=rows.db, savepoint=False):
        ids = insert_select_returning(history_model, values, rows)
        history_written.send(sender=history_model, ids=ids)
    return len(ids)
