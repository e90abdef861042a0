from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "recordings"
    verbose_name = "Telephony records"

    def ready(self) -> None:
        from recordings.sources import register_source

        register_source()

        from core.dashboard import register_panel
        from recordings.dashboard import recordings_panel

        register_panel("recordings", 20, recordings_panel)
