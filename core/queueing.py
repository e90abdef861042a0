"""Queueing background tasks so that a worker never runs one before the rows it works on are committed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend


def enqueue_when_committed(task: Task[..., Any], **kwargs: Any) -> None:
    """Queue ``task(**kwargs)`` as part of the current transaction.

    The database backend stores the task in this same transaction, so the rows and their task commit
    together or not at all. A queue outside the database (Redis) is told only once the transaction has
    committed: told earlier, a worker could pick the task up and find no rows yet; a rolled-back
    transaction queues nothing.
    """
    if isinstance(task.get_backend(), DatabaseBackend | ImmediateBackend):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))
