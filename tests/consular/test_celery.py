import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kombu import Queue

from consular.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_celery_speaks_json_only_and_acknowledges_late():
    conf = app.conf

    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert {queue.name for queue in conf.task_queues} == {"default", "email", "sms"}


@pytest.mark.broker
def test_a_real_worker_consumes_from_the_real_broker():
    """Publish to a fresh queue, start a worker process on it, and see the queue drained."""
    queue = Queue(f"smoke-{uuid.uuid4().hex[:8]}", auto_delete=False)
    with app.connection_for_write() as conn:
        app.send_task("celery.ping", queue=queue, connection=conn)
        assert queue(conn.default_channel).queue_declare(passive=True).message_count == 1

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consular",
            "worker",
            "--queues",
            queue.name,
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        remaining = 1
        while remaining and time.monotonic() < deadline:
            time.sleep(0.5)
            with app.connection_for_write() as conn:
                remaining = queue(conn.default_channel).queue_declare(passive=True).message_count
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        with app.connection_for_write() as conn:
            queue(conn.default_channel).delete()

    assert remaining == 0


def test_a_worker_loads_what_alerts_are_rendered_with_before_its_pool_forks():
    from celery.signals import worker_init
    from django.urls import clear_url_caches, get_resolver

    from consular.celery import _preload_alert_rendering

    clear_url_caches()
    resolver = get_resolver()
    assert not resolver._reverse_dict  # Built lazily, per language, on first use.

    _preload_alert_rendering(signal=worker_init)

    assert {"en", "fr"} <= set(resolver._reverse_dict)
