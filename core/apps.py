from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from simple_history.signals import post_create_historical_record, pre_create_historical_record

        from core import checks  # noqa: F401  (registers the deployment checks)
        from core.append_only import register_append_only_triggers
        from core.history import fill_audit_fields, history_written
        from core.sealing import seal_baseline, seal_history_row, seal_history_rows

        pre_create_historical_record.connect(fill_audit_fields, dispatch_uid="core.fill_audit_fields")
        # Every history row written, one by one or in bulk, is sealed in its transaction if its table is sealed.
        post_create_historical_record.connect(seal_history_row, dispatch_uid="core.seal_history_row")
        history_written.connect(seal_history_rows, dispatch_uid="core.seal_history_rows")
        # Every app's models are loaded by now, history models included.
        register_append_only_triggers()
        # After every migrate, once all apps have registered their sealed tables (in their own ready()).
        post_migrate.connect(seal_baseline, sender=self, dispatch_uid="core.seal_baseline")
        # Once per `migrate`, before anything runs and after every app's tables exist.
        pre_migrate.connect(_refuse_runtime_login, sender=self, dispatch_uid="core.refuse_runtime_login")
        post_migrate.connect(_grant_runtime_login, sender=self, dispatch_uid="core.grant_runtime_login")


def _refuse_runtime_login(sender: AppConfig, using: str, **kwargs: Any) -> None:
    from core.database_logins import refuse_migrating_as_runtime

    refuse_migrating_as_runtime(using=using)


def _grant_runtime_login(sender: AppConfig, using: str, **kwargs: Any) -> None:
    from core.append_only import UPDATE_TRIGGER, protected_models
    from core.database_logins import runtime_login_grant

    runtime_login_grant(protected_models(), update_trigger=UPDATE_TRIGGER, using=using)
