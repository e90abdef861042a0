from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from simple_history.signals import post_create_historical_record, pre_create_historical_record

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
