from django.apps import AppConfig


class ResidencyConfig(AppConfig):
    name = "residency"
    verbose_name = "Residency"

    def ready(self) -> None:
        from residency.home import register_home_panels

        register_home_panels()
