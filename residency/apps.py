from django.apps import AppConfig


class ResidencyConfig(AppConfig):
    name = "residency"
    verbose_name = "Residency"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from residency.append_only import register_append_only_triggers
        from residency.history import fill_audit_fields

        pre_create_historical_record.connect(fill_audit_fields, dispatch_uid="residency.fill_audit_fields")
        # Every app's models are loaded by now, history models included.
        register_append_only_triggers()

        from residency.home import register_home_panels

        register_home_panels()
