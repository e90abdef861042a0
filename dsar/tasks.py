"""Background tasks (django-tasks; the worker is ``python manage.py db_worker``). Each is defined beside the
service it runs and gathered here, the path tasks were queued under."""

from dsar.exports import build_export  # noqa: F401 (re-exported)
