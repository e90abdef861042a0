"""Two PostgreSQL logins: the owner migrates, the runtime login serves and owns no table.

Triggers guard history and audit rows only against whoever cannot switch them off, and any login can
(``set_config('pgtrigger.ignore', …)``); the tables' owner can also drop them, and TRUNCATE fires none.
So the application runs as a login that owns nothing and holds only the privileges it needs:
``SELECT, INSERT`` on the audit tables (:func:`core.append_only.protected_models`), plus
``UPDATE (history_user_id)`` on history tables, to NULL only (deleting a login nulls its link, Django's SET_NULL);
``SELECT, INSERT, UPDATE, DELETE`` on every other table of the schema (the chain's head included: every
append moves it); sequences usable (never ``setval``). ``migrate``, run as the owner with
``DATABASE_RUNTIME_ROLE`` naming the runtime login, applies this at its end (:func:`runtime_login_grant`).

An erasure must still scrub personal data out of audit rows; the runtime login does it by calling
``core_audit_scrub``, a function the owner creates here (see its SQL below and :func:`runtime_login_scrub`).
On SQLite, or on PostgreSQL with no runtime login configured, none of this exists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pgtrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from simple_history.models import HistoricalChanges

SCRUB_FUNCTION = "core_audit_scrub"
USER_NULLED_ONLY = "core_history_user_nulled_only"

# Who, when, what and which row: a scrub never changes them. What a scrub may change is the personal data a
# row holds, and what it changes must be sealed again in the audit chain, or verification reports it.
HISTORY_IDENTITY = (
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "history_username",
    "history_origin",
    "history_change_reason",
)
CHAIN_IDENTITY = (
    "seq",
    "at",
    "action",
    "actor",
    "origin",
    "account_id",
    "object_type",
    "object_id",
    "digests",
    "prev_hash",
    "hash",
)


def runtime_role(using: str = DEFAULT_DB_ALIAS) -> str:
    """The runtime login's name when the database is PostgreSQL and one is configured, else ``""``."""
    if connections[using].vendor != "postgresql":
        return ""
    return settings.DATABASE_RUNTIME_ROLE


def _scrubbable_columns(model: type[models.Model]) -> list[str]:
    """The columns of an audit table a scrub may set: of the chain and of history tables, every column but
    the primary key, the identity columns above and the id of the object a history row is about; of any
    other audit table, only the fields its model lists in ``scrubbable_fields`` (none by default: a ledger
    is never scrubbed)."""
    from core.models import AuditEntry

    if model is AuditEntry:
        identity = {model._meta.pk.column, *CHAIN_IDENTITY}
    elif issubclass(model, HistoricalChanges):
        identity = {model._meta.pk.column, *HISTORY_IDENTITY, model.instance_type._meta.pk.column}
    else:
        return sorted(model._meta.get_field(name).column for name in getattr(model, "scrubbable_fields", ()))
    return sorted(field.column for field in model._meta.concrete_fields if field.column not in identity)


def _whitelist(
    connection: BaseDatabaseWrapper, schema: str, audit: Sequence[type[models.Model]], update_trigger: str
) -> dict[str, dict[str, Any]]:
    """What ``core_audit_scrub`` may touch, written into its body at migrate time: per audit table, its
    schema, primary key column and type, the columns a scrub may set, and its append-only triggers."""
    tables = {}
    for model in audit:
        pk = model._meta.pk
        triggers = [trigger.get_pgid(model) for _, trigger in pgtrigger.registered(f"{model._meta.label}:{update_trigger}")]
        tables[model._meta.db_table] = {
            "schema": schema,
            "pk": pk.column,
            "pk_type": pk.rel_db_type(connection),
            "columns": _scrubbable_columns(model),
            "triggers": "{" + ",".join(triggers) + "}",
        }
    return tables


def _scrub_function_sql(quote: Any, schema: str, whitelist: dict[str, dict[str, Any]]) -> str:
    name = f"{quote(schema)}.{SCRUB_FUNCTION}"
    literal = json.dumps(whitelist, sort_keys=True).replace("'", "''")
    return f"""
CREATE OR REPLACE FUNCTION {name}(target text, changes jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $scrub$
-- Sets columns of rows of an audit table as the tables' owner: the one way the runtime login (which may
-- only SELECT and INSERT there) scrubs personal data out of history and audit rows. `changes` lists the
-- rows, by primary key, with the columns each group of them gets:
-- [{{"rows": ["17", "18"], "set": {{"subject": "[redacted]"}}}}, ...], all in one statement.
-- Still safe to hand it: it knows only the audit tables written below at migrate time, finds rows only
-- by primary key, and never sets the identity columns (who, when, what, which row, the chain's links);
-- everything it changes must be sealed again in the audit chain, or verification reports the change.
DECLARE
    tables CONSTANT jsonb := '{literal}';
    entry jsonb := tables -> target;
    refused text;
    assignments text;
    changed integer;
    ignoring text := current_setting('pgtrigger.ignore', true);
BEGIN
    IF entry IS NULL THEN
        RAISE EXCEPTION '{SCRUB_FUNCTION}: % is not an audit table', target USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF jsonb_typeof(changes) IS DISTINCT FROM 'array' OR EXISTS (
        SELECT FROM jsonb_array_elements(changes) AS item
        WHERE jsonb_typeof(item -> 'rows') IS DISTINCT FROM 'array' OR jsonb_typeof(item -> 'set') IS DISTINCT FROM 'object'
           OR item -> 'set' = '{{}}'
    ) THEN
        RAISE EXCEPTION '{SCRUB_FUNCTION}: changes must list rows and the columns to set'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(DISTINCT name, ', ') INTO refused
        FROM jsonb_array_elements(changes) AS item, jsonb_object_keys(item -> 'set') AS name
        WHERE NOT (entry -> 'columns') ? name;
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION '{SCRUB_FUNCTION}: % may not be set on %', refused, target USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Each group sets its own columns; a column only other groups set keeps its value.
    SELECT string_agg(format('%1$I = CASE WHEN item.value -> ''set'' ? %1$L THEN source.%1$I ELSE t.%1$I END', name), ', ')
        INTO assignments FROM (SELECT DISTINCT jsonb_object_keys(item -> 'set') AS name FROM jsonb_array_elements(changes) AS item) AS names;
    IF assignments IS NULL THEN
        RETURN 0;
    END IF;
    -- The rows' own append-only triggers, switched off for this statement only.
    PERFORM set_config('pgtrigger.ignore', entry ->> 'triggers', true);
    EXECUTE format(
        'UPDATE %1$I.%2$I AS t SET %3$s FROM jsonb_array_elements($1) AS item, '
        'jsonb_array_elements_text(item.value -> ''rows'') AS row(pk), '
        'jsonb_populate_record(NULL::%1$I.%2$I, item.value -> ''set'') AS source '
        'WHERE t.%4$I = row.pk::%5$s',
        entry ->> 'schema', target, assignments, entry ->> 'pk', entry ->> 'pk_type'
    ) USING changes;
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM set_config('pgtrigger.ignore', coalesce(ignoring, ''), true);
    RETURN changed;
END
$scrub$;
REVOKE ALL ON FUNCTION {name}(text, jsonb) FROM PUBLIC;
"""


def runtime_login_grant(
    audit_models: Sequence[type[models.Model]], *, update_trigger: str, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Give the runtime login exactly what the application needs (see the module's docstring) and create
    the scrub function it calls. ``audit_models``: the audit tables (:func:`core.append_only.protected_models`),
    whose append-only triggers are named ``update_trigger``. Run as the tables' owner; each run revokes and
    grants everything again, so it is idempotent and a table that became an audit table loses its old
    privileges."""
    role = runtime_role(using)
    if not role:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    audit = {model._meta.db_table: model for model in audit_models}
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _, schema = _check_logins(cursor, role)
        cursor.execute(
            """SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S') AND pg_has_role(c.relowner, 'USAGE')
               ORDER BY c.relname""",
            [schema],
        )
        relations = cursor.fetchall()
        grantee = quote(role)
        statements = [
            f"GRANT USAGE ON SCHEMA {quote(schema)} TO {grantee}",
            f"""CREATE OR REPLACE FUNCTION {quote(schema)}.{USER_NULLED_ONLY}() RETURNS trigger LANGUAGE plpgsql AS $refuse$
            BEGIN
                RAISE EXCEPTION 'history_user_id of % may only be nulled (its login was deleted)', TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END
            $refuse$""",
        ]
        for name, kind in relations:
            qualified = f"{quote(schema)}.{quote(name)}"
            if kind == "S":
                statements += [f"REVOKE ALL ON SEQUENCE {qualified} FROM {grantee}", f"GRANT USAGE, SELECT ON SEQUENCE {qualified} TO {grantee}"]
                continue
            # Revoking a table's privileges revokes its column privileges too: each run starts from nothing.
            statements.append(f"REVOKE ALL ON TABLE {qualified} FROM {grantee}")
            if name in audit:
                statements.append(f"GRANT SELECT, INSERT ON TABLE {qualified} TO {grantee}")
                if any(field.column == "history_user_id" for field in audit[name]._meta.concrete_fields):
                    statements.append(f"GRANT UPDATE (history_user_id) ON TABLE {qualified} TO {grantee}")
                    # The column privilege would also let it name another login; a trigger it cannot
                    # switch off (pgtrigger's can be) lets the column only be nulled.
                    statements += [
                        f"DROP TRIGGER IF EXISTS {USER_NULLED_ONLY} ON {qualified}",
                        f"CREATE TRIGGER {USER_NULLED_ONLY} BEFORE UPDATE OF history_user_id ON {qualified} FOR EACH ROW "
                        "WHEN (NEW.history_user_id IS NOT NULL AND NEW.history_user_id IS DISTINCT FROM OLD.history_user_id) "
                        f"EXECUTE FUNCTION {quote(schema)}.{USER_NULLED_ONLY}()",
                    ]
            elif name == "django_migrations":  # which migrations ran is the owner's to write
                statements.append(f"GRANT SELECT ON TABLE {qualified} TO {grantee}")
            else:
                statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {qualified} TO {grantee}")
        statements.append(_scrub_function_sql(quote, schema, _whitelist(connection, schema, audit_models, update_trigger)))
        statements.append(f"GRANT EXECUTE ON FUNCTION {quote(schema)}.{SCRUB_FUNCTION}(text, jsonb) TO {grantee}")
        cursor.execute(";\n".join(statements))


def _check_logins(cursor: Any, role: str) -> tuple[str, str]:
    """The owner (the login migrating) and the schema; refuses a runtime login that would defeat the grants."""
    cursor.execute(
        """SELECT current_user, current_schema(), r.rolsuper OR r.rolbypassrls, pg_has_role(r.oid, current_user, 'MEMBER'),
                  (SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c
                   WHERE c.relowner = r.oid AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p'))
           FROM pg_roles r WHERE r.rolname = %s""",
        [role],
    )
    row = cursor.fetchone()
    if row is None:
        raise ImproperlyConfigured(f"DATABASE_RUNTIME_ROLE: the database has no role {role!r}; create it (README, Running in production).")
    owner, schema, superuser, member, owned = row
    if owner == role:
        raise CommandError(f"DATABASE_RUNTIME_ROLE: migrate runs as the tables' owner, and DATABASE_URL logs in as {role}.")
    if superuser or member:
        raise ImproperlyConfigured(
            f"DATABASE_RUNTIME_ROLE: {role} is a superuser or may act as {owner}, so it could rewrite audit rows; "
            "give the application a login of its own."
        )
    if owned:
        raise ImproperlyConfigured(
            f"DATABASE_RUNTIME_ROLE: {role} owns tables ({owned}), so it could rewrite or drop them; "
            f"make {owner} their owner (ALTER TABLE … OWNER TO {owner})."
        )
    return owner, schema


def refuse_migrating_as_runtime(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """``migrate`` as the runtime login would create tables it owns, or fail half-way on the grants."""
    role = runtime_role(using)
    if not role:
        return
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            raise CommandError(
                f"migrate runs as the tables' owner: DATABASE_URL logs in as {role}, the runtime login (DATABASE_RUNTIME_ROLE)."
            )


def runtime_login_scrub(model: type[models.Model], changes: Mapping[Any, Mapping[str, Any]]) -> int:
    """Set the given fields of the given rows of an audit table (``{pk: {field: value}}``) through
    ``core_audit_scrub``, in one statement whatever the number of rows; returns how many rows changed.
    Values are sent as their column's database value in JSON, which the function casts to the column's
    type (``jsonb_populate_record``); rows given the same values are sent once, with their keys."""
    connection = connections[router.db_for_write(model)]
    groups: dict[str, dict[str, Any]] = {}
    for pk, values in changes.items():
        columns = {}
        for name, value in values.items():
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"A scrub sets values, not expressions ({name}).")
            field = model._meta.get_field(name)
            columns[field.column] = _json_value(field, value, connection)
        # str() keeps what the JSON encoder would round (a datetime's microseconds); PostgreSQL parses it back.
        text = json.dumps(columns, sort_keys=True, default=str)
        groups.setdefault(text, {"rows": [], "set": json.loads(text)})["rows"].append(str(pk))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {SCRUB_FUNCTION}(%s, %s::jsonb)", [model._meta.db_table, json.dumps(list(groups.values()))])
        return cursor.fetchone()[0]


def _json_value(field: models.Field, value: Any, connection: BaseDatabaseWrapper) -> Any:
    if isinstance(field, models.JSONField):
        # A JSON column takes the value itself (encoded as the field encodes it); None is SQL NULL, as in the ORM.
        return None if value is None else json.loads(json.dumps(value, cls=field.encoder or DjangoJSONEncoder))
    return field.get_db_prep_save(value, connection)
