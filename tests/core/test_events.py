import datetime
import logging
import threading
import time
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from advisories.events import Notify, RegionAdviceChange, RegionLevelChange, RiskLevelChanged
from core import events
from core.models import OutboxEvent
from notifications.events import InboundSmsReceived

pytestmark = pytest.mark.django_db


@events.register("tests.something_happened")
@dataclass(frozen=True)
class SomethingHappened:
    thing_id: int


@pytest.fixture
def received():
    seen: list[SomethingHappened] = []
    events.subscribe(SomethingHappened, seen.append)
    yield seen
    events.unsubscribe(SomethingHappened, seen.append)


class HandlerFailed(Exception):
    pass


@pytest.fixture
def failing_handler():
    def fail(event: SomethingHappened) -> None:
        raise HandlerFailed("could not reach awa@example.org")

    events.subscribe(SomethingHappened, fail)
    yield fail
    events.unsubscribe(SomethingHappened, fail)


def publish_and_crash(event: object, callbacks) -> OutboxEvent:
    """Publish and commit, then die before the fast path: its on-commit callback never runs."""
    with callbacks(execute=False):
        events.publish(event)
    return OutboxEvent.objects.get()


def after(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


# --- payloads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        RiskLevelChanged(
            advisory_id="4b6f1a52-6a4e-4c57-9d3b-64f0d0b0f6a1",
            country_code="ML",
            changes=(
                RegionLevelChange(region_code="ML-7", old_level=None, new_level=4),
                RegionLevelChange(region_code="ML-1", old_level=2, new_level=3),
            ),
        ),
        RiskLevelChanged(
            advisory_id="4b6f1a52-6a4e-4c57-9d3b-64f0d0b0f6a1",
            country_code="ML",
            changes=(),
            notify_code=Notify.CHANGED_REGIONS,
            advice_changes=(RegionAdviceChange(region_code="ML-7", new_level=4),),
        ),
        InboundSmsReceived(message_id="0f4cf4c5-0e37-4bd1-a1c9-2f2b5a9e1bb1", citizen_id=None),
        InboundSmsReceived(
            message_id="0f4cf4c5-0e37-4bd1-a1c9-2f2b5a9e1bb1",
            citizen_id="9a1d8f0e-6f59-4d3a-a4b0-6c1f1a2b3c4d",
        ),
    ],
)
def test_an_event_round_trips_through_its_stored_payload(event):
    name, payload = events.encode(event)

    stored = OutboxEvent.objects.create(name=name, payload=payload, next_attempt_at=after(0))
    stored.refresh_from_db()

    assert events.decode(stored.name, stored.payload) == event


def test_a_row_written_before_an_event_gained_fields_reads_with_their_defaults():
    stored = OutboxEvent.objects.create(
        name="advisories.risk_level_changed",
        payload={
            "advisory_id": "4b6f1a52-6a4e-4c57-9d3b-64f0d0b0f6a1",
            "country_code": "ML",
            "changes": [{"region_code": "ML-7", "old_level": 3, "new_level": 4}],
        },
        next_attempt_at=after(0),
    )

    event = events.decode(stored.name, stored.payload)

    assert event == RiskLevelChanged(
        advisory_id="4b6f1a52-6a4e-4c57-9d3b-64f0d0b0f6a1",
        country_code="ML",
        changes=(RegionLevelChange(region_code="ML-7", old_level=3, new_level=4),),
        notify_code=Notify.LEVEL_CHANGES,
        advice_changes=(),
    )


def test_a_row_missing_a_field_without_default_does_not_read():
    with pytest.raises(TypeError):
        events.decode("advisories.risk_level_changed", {"advisory_id": "x", "country_code": "ML"})


@pytest.mark.parametrize(
    "annotation",
    [
        pytest.param({"email": str}, id="a field named like personal data"),
        pytest.param({"citizen_id": dict}, id="a free-form field"),
        pytest.param({"notes": tuple[str, ...]}, id="free text in a tuple"),
    ],
)
def test_an_event_with_a_field_other_than_ids_codes_and_levels_is_refused(annotation):
    namespace = {"__annotations__": annotation}
    event_type = dataclass(frozen=True)(type("Leaky", (), namespace))

    with pytest.raises(TypeError, match="ids, codes and levels only"):
        events.register("tests.leaky")(event_type)


def test_an_event_that_is_not_frozen_or_takes_a_name_twice_is_refused():
    @dataclass
    class Mutable:
        thing_id: int

    with pytest.raises(TypeError, match="frozen"):
        events.register("tests.mutable")(Mutable)
    with pytest.raises(ValueError, match="registered as"):
        events.register("tests.something_happened")(
            dataclass(frozen=True)(type("Other", (), {"__annotations__": {"thing_id": int}}))
        )


# --- publishing ------------------------------------------------------------------------------


def test_publish_writes_the_event_in_the_transaction_with_one_query(
    received, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False), django_assert_num_queries(1):
        events.publish(SomethingHappened(thing_id=1))

    row = OutboxEvent.objects.get()
    assert (row.name, row.payload) == ("tests.something_happened", {"thing_id": 1})
    assert (row.dispatched_at, row.attempts) == (None, 0)
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_event_is_dispatched_once_right_after_commit(received):
    with transaction.atomic():
        events.publish(SomethingHappened(thing_id=1))
        assert received == []

    assert received == [SomethingHappened(thing_id=1)]
    row = OutboxEvent.objects.get()
    assert row.dispatched_at is not None
    assert row.attempts == 1
    assert events.events_relay(now=after(3600)).dispatched == 0
    assert received == [SomethingHappened(thing_id=1)]


@pytest.mark.django_db(transaction=True)
def test_event_of_a_rolled_back_transaction_is_neither_stored_nor_dispatched(received):
    def publish_then_fail() -> None:
        with transaction.atomic():
            events.publish(SomethingHappened(thing_id=2))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        publish_then_fail()

    assert not OutboxEvent.objects.exists()
    assert received == []


def test_an_unregistered_event_cannot_be_published():
    @dataclass(frozen=True)
    class Unregistered:
        thing_id: int

    with pytest.raises(TypeError, match="not a registered event"):
        events.publish(Unregistered(thing_id=1))


# --- the relay -------------------------------------------------------------------------------


def test_an_event_whose_process_died_after_commit_is_relayed_once_after_the_grace(
    received, settings, django_capture_on_commit_callbacks
):
    row = publish_and_crash(SomethingHappened(thing_id=3), django_capture_on_commit_callbacks)

    early = events.events_relay(now=after(settings.EVENT_RELAY_GRACE_SECONDS - 1))
    relayed = events.events_relay(now=after(settings.EVENT_RELAY_GRACE_SECONDS + 1))
    again = events.events_relay(now=after(3600))

    assert (early.dispatched, relayed.dispatched, again.dispatched) == (0, 1, 0)
    assert received == [SomethingHappened(thing_id=3)]
    row.refresh_from_db()
    assert row.dispatched_at is not None
    assert row.attempts == 1


def test_the_fast_path_does_not_dispatch_what_the_relay_took(
    received, settings, django_capture_on_commit_callbacks
):
    # The publishing process stalled past the grace: the relay takes the event first.
    with django_capture_on_commit_callbacks(execute=False) as fast_path:
        events.publish(SomethingHappened(thing_id=4))
    events.events_relay(now=after(settings.EVENT_RELAY_GRACE_SECONDS + 1))

    (dispatch_after_commit,) = fast_path
    dispatch_after_commit()

    assert received == [SomethingHappened(thing_id=4)]


def test_an_event_held_by_a_dead_dispatcher_is_relayed_when_its_lease_ends(
    received, settings, django_capture_on_commit_callbacks
):
    # The fast path claimed the event and died before its handlers ran.
    row = publish_and_crash(SomethingHappened(thing_id=5), django_capture_on_commit_callbacks)
    OutboxEvent.objects.filter(id=row.id).update(
        attempts=1, next_attempt_at=after(settings.EVENT_LEASE_SECONDS)
    )

    during = events.events_relay(now=after(settings.EVENT_LEASE_SECONDS - 1))
    ended = events.events_relay(now=after(settings.EVENT_LEASE_SECONDS + 1))

    assert (during.dispatched, ended.dispatched) == (0, 1)
    assert received == [SomethingHappened(thing_id=5)]


def test_a_failing_handler_leaves_the_event_for_a_later_attempt_logged_without_its_data(
    received, failing_handler, settings, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.ERROR, logger="core.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        events.publish(SomethingHappened(thing_id=6))

    row = OutboxEvent.objects.get()
    assert row.dispatched_at is None
    assert row.attempts == 1
    assert "HandlerFailed" in row.last_error
    assert "awa@example.org" not in row.last_error
    assert "HandlerFailed" in caplog.text
    assert "awa@example.org" not in caplog.text
    backoff = settings.EVENT_RELAY_SECONDS
    assert after(backoff - 1) < row.next_attempt_at < after(backoff + 1)
    # The other handler ran all the same.
    assert received == [SomethingHappened(thing_id=6)]

    events.unsubscribe(SomethingHappened, failing_handler)
    assert events.events_relay(now=after(backoff - 1)).dispatched == 0
    assert events.events_relay(now=after(backoff + 1)).dispatched == 1
    row.refresh_from_db()
    assert (row.dispatched_at is not None, row.attempts, row.last_error) == (True, 2, "")


def test_the_retry_waits_twice_as_long_each_time(
    failing_handler, settings, django_capture_on_commit_callbacks
):
    row = publish_and_crash(SomethingHappened(thing_id=7), django_capture_on_commit_callbacks)
    base = settings.EVENT_RELAY_SECONDS
    at = after(settings.EVENT_RELAY_GRACE_SECONDS)

    waits = []
    for _ in range(3):
        events.events_relay(now=at)
        row.refresh_from_db()
        waits.append(round((row.next_attempt_at - at).total_seconds()))
        at = row.next_attempt_at

    assert waits == [base, 2 * base, 4 * base]


def test_the_relay_claims_and_dispatches_a_batch_in_few_queries(
    received, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        for thing_id in range(10):
            events.publish(SomethingHappened(thing_id=thing_id))

    # The claim (select and update, in a savepoint here), per event its read and its mark,
    # then the pruning.
    with django_assert_num_queries(2 + 2 + 2 * 10 + 1):
        result = events.events_relay(now=after(settings.EVENT_RELAY_GRACE_SECONDS))

    assert result.dispatched == 10
    assert sorted(event.thing_id for event in received) == list(range(10))


def test_dispatched_events_are_deleted_after_the_retention(
    received, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(SomethingHappened(thing_id=8))
    retention = datetime.timedelta(days=settings.EVENT_RETENTION_DAYS)
    minute = datetime.timedelta(minutes=1)

    with time_machine.travel(timezone.now() + retention - minute):
        kept = events.events_relay()
    with time_machine.travel(timezone.now() + retention + minute):
        with django_capture_on_commit_callbacks(execute=True):
            events.publish(SomethingHappened(thing_id=9))
        pruned = events.events_relay()

    assert (kept.pruned, pruned.pruned) == (0, 1)
    assert OutboxEvent.objects.get().payload == {"thing_id": 9}


# --- races on PostgreSQL ---------------------------------------------------------------------


def _committed_undispatched(*thing_ids: int) -> list[int]:
    """Events committed by a process that died before dispatching them."""
    rows = []
    for thing_id in thing_ids:
        name, payload = events.encode(SomethingHappened(thing_id=thing_id))
        rows.append(
            OutboxEvent.objects.create(name=name, payload=payload, next_attempt_at=after(-1)).id
        )
    return rows


def _in_a_thread(work) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_the_events_another_relay_is_claiming(received):
    first, *_others = _committed_undispatched(1, 2, 3)
    results = []

    # Another relay holds the first event's row in its claiming transaction.
    with transaction.atomic():
        OutboxEvent.objects.select_for_update().filter(id=first).get()
        _in_a_thread(lambda: results.append(events.events_relay()))

    assert results == [events.RelayResult(dispatched=2)]
    assert sorted(event.thing_id for event in received) == [2, 3]
    assert events.events_relay().dispatched == 1
    assert sorted(event.thing_id for event in received) == [1, 2, 3]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_fast_path_waits_for_a_relay_claiming_its_event_then_leaves_it(received):
    (row_id,) = _committed_undispatched(4)
    claimed = threading.Event()

    def relay_claims_then_dispatches() -> None:
        with transaction.atomic():
            OutboxEvent.objects.select_for_update().filter(id=row_id).update(
                attempts=1, next_attempt_at=after(60)
            )
            claimed.set()
            time.sleep(0.5)

    thread = threading.Thread(target=lambda: _in_a_thread(relay_claims_then_dispatches))
    thread.start()
    claimed.wait(timeout=10)
    events._dispatch_fresh(row_id)
    thread.join(timeout=30)

    assert received == []
    row = OutboxEvent.objects.get(id=row_id)
    assert (row.attempts, row.dispatched_at) == (1, None)
