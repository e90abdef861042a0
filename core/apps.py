from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from core.append_only import register_append_only_triggers
        from core.history import fill_audit_fields

        pre_create_historical_record.connect(fill_audit_fields, dispatch_uid="core.fill_audit_fields")
        # Every app's models are loaded by now, history models included.
        register_append_only_triggers()
