"""Background tasks (django-tasks; the worker is ``python manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from residency.history import Origin, history_context


@task()
def build_export(export_id: int) -> None:
    """Build a portability archive and email its link (see :func:`dsar.exports.export_build`)."""
    from dsar.exports import export_build

    with history_context(origin=Origin.TASK, actor="dsar export worker"):
        export_build(export_id=export_id)
