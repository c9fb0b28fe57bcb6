"""Tasks enqueued by their registered name, after the transaction commits.

An app's tasks are thin adapters over its services, so a service that enqueues one cannot
import it without the two importing each other. It names the task instead; the app's
`AppConfig.ready()` imports its tasks, so every process that enqueues (the web's included)
knows them, and `task_always_eager` still runs them at once."""

from typing import Any

from celery import current_app
from django.db import transaction


def enqueue(
    name: str, *args: Any, queue: str | None = None, countdown: float | None = None
) -> None:
    """Enqueue now. `queue` overrides the task's own; `countdown` holds it back that many
    seconds."""
    task = current_app.tasks[name]
    options: dict[str, Any] = {}
    if queue is not None:
        options["queue"] = queue
    if countdown is not None:
        options["countdown"] = countdown
    if options:
        task.apply_async(args=args, **options)
    else:
        task.delay(*args)


def enqueue_after_commit(name: str, *args: Any) -> None:
    """Enqueue once the current transaction commits (at once outside one): a rollback leaves
    nothing queued, and the worker never reads an uncommitted row."""
    transaction.on_commit(lambda: enqueue(name, *args))
