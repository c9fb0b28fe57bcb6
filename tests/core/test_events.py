from dataclasses import dataclass

import pytest
from django.db import transaction

from core import events


@dataclass(frozen=True)
class SomethingHappened:
    thing_id: int


@pytest.fixture
def received():
    seen: list[SomethingHappened] = []
    events.subscribe(SomethingHappened, seen.append)
    yield seen
    events.unsubscribe(SomethingHappened, seen.append)


@pytest.mark.django_db(transaction=True)
def test_event_is_delivered_after_commit(received):
    with transaction.atomic():
        events.publish(SomethingHappened(thing_id=1))
        assert received == []

    assert received == [SomethingHappened(thing_id=1)]


@pytest.mark.django_db(transaction=True)
def test_event_of_a_rolled_back_transaction_is_never_delivered(received):
    def publish_then_fail() -> None:
        with transaction.atomic():
            events.publish(SomethingHappened(thing_id=2))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        publish_then_fail()

    assert received == []
