from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "recordings"
    verbose_name = "Telephony records"

    def ready(self) -> None:
        from recordings.sources import register_source

        register_source()

        from core import sealing
        from recordings.models import HistoricalRecording, LegalHold, PhoneLine

        # The audit tables people read here: the recording deletions (the recordings' history), and the history
        # of legal holds and phone lines.
        sealing.register(HistoricalRecording, LegalHold.history.model, PhoneLine.history.model)

        from core.dashboard import register_panel
        from recordings.dashboard import recordings_panel

        register_panel("recordings", 20, recordings_panel)
