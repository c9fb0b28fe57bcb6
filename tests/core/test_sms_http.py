"""The generic HTTP SMS provider: sending to a provider on loopback (the development sink), and
its webhooks as the provider class reads them, signed here as the provider signs them."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import RequestFactory

from bench.sinks import SmsFaults, sms_sink
from core.channels import OutgoingMessage, SendError
from core.exceptions import ValidationFailed
from core.sms import InboundText, StatusReport
from core.sms.backends.http import SmsBackend

SECRET = "http-webhook-secret"


@pytest.fixture
def provider(settings):
    def start(faults: SmsFaults | None = None, timeout: float = 5.0):
        sink = sms_sink(faults=faults)
        running = sink.__enter__()
        settings.SMS_HTTP_URL = running.url
        settings.SMS_HTTP_TOKEN = "secret-token"
        settings.SMS_HTTP_TIMEOUT = timeout
        opened.append(sink)
        return running

    opened: list = []
    yield start
    for sink in opened:
        sink.__exit__(None, None, None)


def _message(reference: str = "41") -> OutgoingMessage:
    return OutgoingMessage(
        reference=reference, to="+22370000001", subject="", text="Gao: level 4. Leave now."
    )


def test_a_text_is_accepted_once_per_reference_over_one_connection(provider):
    sink = provider()
    backend = SmsBackend()

    first = backend.send(_message("41"))
    again = backend.send(_message("41"))
    other = backend.send(_message("42"))
    backend.close()

    assert first.provider_id == again.provider_id != other.provider_id
    assert first.segments == 1
    assert [message["reference"] for message in sink.messages] == ["41", "42"]
    assert sink.messages[0]["to"] == "+22370000001"


@pytest.mark.parametrize(
    ("faults", "code", "permanent"),
    [(SmsFaults(throttled=1.0), "429", False), (SmsFaults(error=1.0), "500", False)],
)
def test_provider_refusals_say_whether_a_retry_can_help(provider, faults, code, permanent):
    provider(faults)

    with pytest.raises(SendError) as refused:
        SmsBackend().send(_message())

    assert refused.value.code == code
    assert refused.value.permanent is permanent


@dataclass
class _Provider:
    url: str
    requests: list[bytes]


@contextmanager
def _answering(status: int, body: bytes, *, drop_after_answer: bool = False) -> Iterator[_Provider]:
    """A provider that gives every request the same answer; with `drop_after_answer`, it
    speaks HTTP/1.1 (keep-alive) yet closes the connection after each answer, as a provider
    does to a connection it finds idle."""
    requests: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if drop_after_answer else "HTTP/1.0"

        def do_POST(self) -> None:
            requests.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = drop_after_answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield _Provider(f"http://127.0.0.1:{server.server_address[1]}/messages", requests)
    server.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "code", "permanent"),
    [
        (400, b'{"error": "bad number"}', "400", True),
        (401, b"{}", "401", True),
        (503, b"{}", "503", False),
        (201, b'{"status": "queued"}', "bad_answer", False),
    ],
)
def test_each_answer_says_whether_a_retry_can_help(settings, status, body, code, permanent):
    with _answering(status, body) as provider:
        settings.SMS_HTTP_URL = provider.url
        with pytest.raises(SendError) as refused:
            SmsBackend().send(_message())

    assert refused.value.code == code
    assert refused.value.permanent is permanent


def test_a_provider_slower_than_the_time_out_is_a_network_error(provider):
    provider(SmsFaults(slow=1.0, slow_seconds=1.5), timeout=0.5)

    with pytest.raises(SendError) as refused:
        SmsBackend().send(_message())

    assert refused.value.code == "network"
    assert refused.value.permanent is False


def test_an_unreachable_provider_is_a_network_error(settings):
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/messages"

    with pytest.raises(SendError) as refused:
        SmsBackend().send(_message())

    assert refused.value.code == "network"


@pytest.mark.parametrize(
    "url", ["", "sms.example.org/messages", "ftp://sms.example.org/", "http://sms.example.org:80a/"]
)
def test_no_usable_url_means_not_configured(settings, url):
    settings.SMS_HTTP_URL = url
    backend = SmsBackend()

    assert backend.configured is False
    with pytest.raises(SendError) as refused:
        backend.send(_message())
    assert (refused.value.code, refused.value.permanent) == ("not_configured", False)


def test_a_connection_the_provider_dropped_while_idle_is_opened_again(settings):
    with _answering(201, b'{"id": "sms-1"}', drop_after_answer=True) as provider:
        settings.SMS_HTTP_URL = provider.url
        backend = SmsBackend()
        receipts = [backend.send(_message(reference)) for reference in ("41", "42", "43")]
        backend.close()

    assert [receipt.provider_id for receipt in receipts] == ["sms-1"] * 3
    references = [json.loads(request)["reference"] for request in provider.requests]
    assert references == ["41", "42", "43"]


def test_a_dropped_connection_is_not_tried_again_without_an_idempotency_key(settings):
    with _answering(201, b'{"id": "sms-1"}', drop_after_answer=True) as provider:
        settings.SMS_HTTP_URL = provider.url
        backend = SmsBackend()
        backend.send(_message("41"))
        with pytest.raises(SendError) as dropped:
            backend.send(_message(""))
        backend.close()

    assert dropped.value.code == "network"


def _callback(payload, *, secret=SECRET):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return RequestFactory().generic(
        "POST",
        "/api/v1/webhooks/sms/http/status",
        body,
        content_type="application/json",
        headers={"X-Signature": signature},
    )


def test_a_webhook_signed_with_the_shared_secret_is_believed(settings):
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET

    assert SmsBackend().verify(_callback({"id": "sms-1", "status": "delivered"})) is True


def test_a_webhook_signed_otherwise_or_unsigned_is_not(settings):
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET
    unsigned = RequestFactory().post(
        "/api/v1/webhooks/sms/http/status", {"id": "sms-1"}, content_type="application/json"
    )

    assert SmsBackend().verify(_callback({"id": "sms-1"}, secret="another-secret")) is False
    assert SmsBackend().verify(unsigned) is False


def test_without_a_webhook_secret_nothing_is_believed(settings):
    settings.SMS_HTTP_WEBHOOK_SECRET = ""

    assert SmsBackend().verify(_callback({"id": "sms-1"}, secret="")) is False


@pytest.mark.parametrize(
    ("provider_status", "status"),
    [("delivered", "delivered"), ("failed", "failed"), ("undelivered", "failed")],
)
def test_final_statuses_are_reported_with_our_reference(provider_status, status):
    request = _callback(
        {"id": "sms-1", "reference": 41, "status": provider_status, "error_code": "E7"}
    )

    assert SmsBackend().parse_status(request) == StatusReport(
        provider_id="sms-1", status=status, reference="41", error_code="E7"
    )


def test_a_status_that_says_nothing_of_delivery_is_none():
    assert SmsBackend().parse_status(_callback({"id": "sms-1", "status": "queued"})) is None


def test_a_reply_is_read_from_the_providers_fields():
    request = _callback({"id": "in-1", "from": "+22370000001", "body": "HELP K7Q2"})

    assert SmsBackend().parse_inbound(request) == InboundText(
        provider_id="in-1", sender="+22370000001", body="HELP K7Q2"
    )
    assert SmsBackend().parse_inbound(_callback({"id": "in-1", "body": "hi"})) is None


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_refused_naming_the_body(body):
    with pytest.raises(ValidationFailed) as refused:
        SmsBackend().parse_status(_callback(body))

    assert refused.value.field == "body"
