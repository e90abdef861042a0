"""Background tasks (django-tasks): the same services the commands run, attributed to the task origin."""

from __future__ import annotations

from django_tasks import task

from recordings import services
from residency.history import Origin, history_context


@task()
def run_history_export(*, export_id: int) -> int:
    """Write one queued history export and email its link; returns the number of rows."""
    with history_context(origin=Origin.TASK, actor="history export"):
        return services.history_export_run(export_id=export_id).row_count


@task()
def process_provider_deletions(*, limit: int = 100) -> dict[str, int]:
    """Send the due deletions to the telephony provider (retries included)."""
    with history_context(origin=Origin.TASK, actor="provider deletion worker"):
        result = services.provider_deletions_process(limit=limit)
    return {"done": result.done, "failed": result.failed, "skipped": result.skipped}
