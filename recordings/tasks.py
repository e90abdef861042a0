"""Background tasks (django-tasks; the worker is ``python manage.py db_worker``). Each is defined beside the
service it runs and gathered here, the path tasks were queued under."""

from recordings.history_exports import run_history_export  # noqa: F401 (re-exported)
from recordings.provider_outbox import process_provider_deletions  # noqa: F401 (re-exported)
