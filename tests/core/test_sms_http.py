"""The generic HTTP SMS backend against a provider on loopback (the development sink)."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.sinks import SmsFaults, sms_sink
from core import sms
from core.sms.backends.http import SmsBackend


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


def _message(reference: str = "41") -> sms.SmsMessage:
    return sms.SmsMessage(to="+22370000001", body="Gao: level 4. Leave now.", reference=reference)


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

    with pytest.raises(sms.SmsError) as refused:
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
        with pytest.raises(sms.SmsError) as refused:
            SmsBackend().send(_message())

    assert refused.value.code == code
    assert refused.value.permanent is permanent


def test_a_provider_slower_than_the_time_out_is_a_network_error(provider):
    provider(SmsFaults(slow=1.0, slow_seconds=1.5), timeout=0.5)

    with pytest.raises(sms.SmsError) as refused:
        SmsBackend().send(_message())

    assert refused.value.code == "network"
    assert refused.value.permanent is False


def test_an_unreachable_provider_is_a_network_error(settings):
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/messages"

    with pytest.raises(sms.SmsError) as refused:
        SmsBackend().send(_message())

    assert refused.value.code == "network"


@pytest.mark.parametrize(
    "url", ["", "sms.example.org/messages", "ftp://sms.example.org/", "http://sms.example.org:80a/"]
)
def test_no_usable_url_means_not_configured(settings, url):
    settings.SMS_HTTP_URL = url
    backend = SmsBackend()

    assert backend.configured is False
    with pytest.raises(sms.SmsNotConfigured):
        backend.send(_message())


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
        with pytest.raises(sms.SmsError) as dropped:
            backend.send(_message(""))
        backend.close()

    assert dropped.value.code == "network"
