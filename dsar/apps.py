from django.apps import AppConfig


class DsarConfig(AppConfig):
    name = "dsar"
    verbose_name = "Data subject requests"

    def ready(self) -> None:
        from dsar.person_source import PersonSource
        from dsar.request_source import RequestRecordsSource
        from dsar.sources import register

        register(RequestRecordsSource())
        register(PersonSource())

        from core import sealing
        from core.append_only import protect
        from dsar.models import Person, Request, RequestEvent

        # The audit tables people read here: the request timeline (append-only, like history), and the history
        # of requests and people.
        protect(RequestEvent)
        sealing.register(RequestEvent, RequestEvent.history.model, Request.history.model, Person.history.model)

        from core.dashboard import register_panel
        from dsar.dashboard import requests_panel

        register_panel("requests", 10, requests_panel)
