import pytest

from consular.celery import app as celery_app


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks enqueued on commit run in the test, so their email and SMS land in the outboxes."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
