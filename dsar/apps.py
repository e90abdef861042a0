from django.apps import AppConfig


class DsarConfig(AppConfig):
    name = "dsar"
    verbose_name = "Data subject requests"
