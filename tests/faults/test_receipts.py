"""Scenario 8: provider receipts duplicated and reordered, interleaved with the worker's own
recording of the send (a receipt may arrive while the row is still `sending`). Whatever the
order, a row's status only moves forward and a final status never changes, except that a
late receipt settles an ambiguous row."""

import uuid

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifications import ledger, receipts
from notifications.models import Delivery
from tests.notifications.factories import DeliveryFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db, pytest.mark.usefixtures("geography")]

Status = Delivery.Status
RANK = {
    Status.PENDING: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.AMBIGUOUS: 2,
    Status.DELIVERED: 3,
    Status.BOUNCED: 3,
    Status.FAILED: 3,
}

# A receipt names the row by our reference (with the provider's id, as the HTTP provider
# does) or by the provider's id alone (as Twilio does).
RECEIPTS = st.tuples(
    st.just("receipt"),
    st.sampled_from(["delivered", "failed", "bounced"]),
    st.sampled_from(["reference", "provider"]),
)
# The worker records its answer once: sent, refused for good, or a transient error.
WORKER = st.tuples(st.just("worker"), st.sampled_from(["sent", "failed", "retry"]), st.just(""))


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, str]]]:
    start = draw(st.sampled_from(["sending", "sent", "ambiguous"]))
    receipts = draw(st.lists(RECEIPTS, min_size=1, max_size=10))
    # Duplicates: some receipts arrive again, anywhere later.
    repeats = draw(st.lists(st.sampled_from(receipts), max_size=5))
    events = draw(st.permutations(receipts + repeats))
    if start == Status.SENDING:
        position = draw(st.integers(min_value=0, max_value=len(events)))
        events = [*events[:position], draw(WORKER), *events[position:]]
    return start, events


def _worker_records(row: Delivery, outcome: str, provider_id: str) -> None:
    """What deliveries_send writes for one row after the provider answered."""
    now = timezone.now()
    row.lease_expires_at = None
    if outcome == "sent":
        row.status, row.sent_at, row.provider_id, row.segments = Status.SENT, now, provider_id, 1
        row.handoff_at = now
    elif outcome == "failed":
        row.status, row.finished_at, row.error_code = Status.FAILED, now, "400"
        row.handoff_at = None
    else:
        row.status, row.next_attempt_at, row.error_code = Status.PENDING, now, "429"
        row.handoff_at = None
    ledger.deliveries_record(batch=[row])


@hypothesis_settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories())
def test_status_never_moves_backwards_whatever_the_order_of_receipts(history):
    start, events = history
    # Examples share the test's transaction: each row gets a provider id of its own.
    provider_id = f"sms-{uuid.uuid4().hex}"
    row = DeliveryFactory(
        citizen=None,
        status=start,
        provider_id=provider_id if start == Status.SENT else "",
        handoff_at=timezone.now() if start == Status.SENDING else None,
    )
    expected, provider_known = start, start == Status.SENT

    for kind, value, by in events:
        before = Delivery.objects.get(id=row.id).status
        if kind == "worker":
            _worker_records(Delivery.objects.get(id=row.id), value, provider_id)
            if expected == Status.SENDING:
                expected = {"sent": Status.SENT, "failed": Status.FAILED, "retry": Status.PENDING}[
                    value
                ]
                provider_known = provider_known or value == "sent"
        else:
            receipt = receipts.ReceiptInput(
                channel="sms",
                status=value,
                provider_id=provider_id,
                delivery_id=row.id if by == "reference" else None,
            )
            changed = receipts.receipt_apply(receipt=receipt)
            found = by == "reference" or provider_known
            moves = found and RANK[Status(value)] > RANK[Status(expected)]
            assert changed == moves
            if moves:
                expected, provider_known = value, True
        after = Delivery.objects.get(id=row.id)
        assert after.status == expected
        if kind == "receipt":
            # A receipt never moves a row backwards, nor changes a final status.
            assert RANK[Status(after.status)] >= RANK[Status(before)]
        else:
            # The worker writes only over its own claim: never over a receipt's answer.
            assert before == Status.SENDING or after.status == before
