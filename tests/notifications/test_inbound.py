"""The inbound text router: each message to the first handler by priority that claims it,
claimed once in the transaction that acts on it."""

import pytest

from notifications import inbound
from notifications.models import InboundMessage
from tests.notifications.conftest import make_citizen
from tests.notifications.test_webhooks import INBOUND_PATH, SECRET, http_post

pytestmark = pytest.mark.usefixtures("geography")


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET


@pytest.fixture
def handled():
    """Two handlers of a test's own, asked before every app's: PING is both's, PONG only the
    second's. Registered in the wrong order on purpose: the priority decides."""
    calls: list[tuple[str, str]] = []

    def handler(name):
        def handle(text: inbound.InboundText) -> str:
            calls.append((name, " ".join(text.words)))
            return "done"

        return handle

    inbound.reply_handler_register(
        inbound.ReplyHandler(
            name="test-second",
            priority=-1,
            claims=lambda text: text.words[:1] in (("PING",), ("PONG",)),
            handle=handler("second"),
        )
    )
    inbound.reply_handler_register(
        inbound.ReplyHandler(
            name="test-first",
            priority=-2,
            claims=lambda text: text.words[:1] == ("PING",),
            handle=handler("first"),
        )
    )
    yield calls
    inbound.reply_handler_unregister("test-first")
    inbound.reply_handler_unregister("test-second")


def post(api_client, callbacks, sender, body, provider_id):
    payload = {"id": provider_id, "from": sender, "body": body}
    with callbacks(execute=True):
        response = http_post(api_client, INBOUND_PATH.format(provider="http"), payload)
    assert response.status_code == 204


def test_the_first_handler_by_priority_that_claims_a_text_has_it_alone(
    api_client, django_capture_on_commit_callbacks, handled
):
    awa = make_citizen("ML-7")

    post(api_client, django_capture_on_commit_callbacks, awa.phone, "Ping!", "in-1")
    post(api_client, django_capture_on_commit_callbacks, awa.phone, "pong 12", "in-2")

    assert handled == [("first", "PING"), ("second", "PONG 12")]
    assert not InboundMessage.objects.filter(handled_at__isnull=True).exists()


def test_the_handlers_are_asked_by_priority_then_name(handled):
    names = [handler.name for handler in inbound.reply_handlers()]

    assert names[:2] == ["test-first", "test-second"]
    assert names[-1] == "safety_checks"  # the catch-all, asked last
    assert names.index("departures") < names.index("safety_checks")


def test_a_message_is_acted_on_once_however_often_it_is_routed(
    api_client, django_capture_on_commit_callbacks, handled
):
    awa = make_citizen("ML-7")
    post(api_client, django_capture_on_commit_callbacks, awa.phone, "PING", "in-1")
    post(api_client, django_capture_on_commit_callbacks, awa.phone, "PING", "in-1")
    message = InboundMessage.objects.get()

    again = inbound.inbound_route(message_id=str(message.id))

    assert again == "unknown_or_handled"
    assert handled == [("first", "PING")]


def test_a_handler_that_fails_leaves_the_message_to_the_next_attempt(
    django_capture_on_commit_callbacks,
):
    from notifications.receipts import inbound_record

    awa = make_citizen("ML-7")
    attempts: list[int] = []

    def fail_once(text: inbound.InboundText) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("the database went away")
        return "done"

    inbound.reply_handler_register(
        inbound.ReplyHandler(
            name="test-flaky", priority=-3, claims=lambda text: True, handle=fail_once
        )
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = inbound_record(
                provider="http", provider_id="in-1", sender=awa.phone, body="x"
            )
        message.refresh_from_db()
        assert message.handled_at is None  # rolled back with the failed handler's work

        assert inbound.inbound_route(message_id=str(message.id)) == "test-flaky:done"
    finally:
        inbound.reply_handler_unregister("test-flaky")

    assert len(attempts) == 2
