"""The email channel over a real SMTP server on loopback: what an alert email looks like on
the wire when built by `mime.build`, and how the server's answers become SendErrors."""

import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any

import pytest

from bench.sinks import SmtpFaults, SmtpSink, smtp_sink
from core.channels import OutgoingMessage, Receipt, SendError, mime
from core.channels.email import EmailChannel, sendmail_pipelined

SUBJECT = (
    "Mali : le niveau de risque de Gao passe à 4 \N{EN DASH} quittez la région sans délai, "
    "par la route"
)
TEXT = "Bonjour Aïssata,\n\nGao (ML-7) passe au niveau 4 : quittez la région.\n" * 20
HTML = "<p>Bonjour Aïssata,</p><p>Gao (ML-7) passe au <strong>niveau 4</strong>.</p>" * 20
HEADERS = {
    "List-Unsubscribe": "<https://consular.example/alerts/unsubscribe/" + "t" * 120 + "/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "X-Consular-Delivery": "42",
}


def _built(**overrides: str) -> bytes | None:
    fields = {"to": "aissata@example.org", "subject": SUBJECT, "text": TEXT, "html": HTML}
    return mime.build(
        from_email="Consular service <consular@example.org>",
        headers=HEADERS,
        message_id="<42.1@consular.invalid>",
        **{**fields, **overrides},
    )


def _lines(content: str) -> str:
    """Text as written: on the wire its lines end with CRLF."""
    return content.replace("\r\n", "\n")


def test_an_alert_email_parses_back_to_what_was_given():
    raw = _built()
    assert raw is not None
    parsed = message_from_bytes(raw, policy=policy.default)

    assert parsed["Subject"] == SUBJECT
    assert parsed["To"] == "aissata@example.org"
    assert parsed["From"] == "Consular service <consular@example.org>"
    assert parsed["Message-ID"] == "<42.1@consular.invalid>"
    assert parsed["List-Unsubscribe"] == HEADERS["List-Unsubscribe"]
    assert parsed["X-Consular-Delivery"] == "42"
    assert parsed["Date"] is not None
    assert parsed.get_content_type() == "multipart/alternative"
    assert _lines(parsed.get_body(("plain",)).get_content()) == TEXT
    assert _lines(parsed.get_body(("html",)).get_content()) == HTML
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) < 998


def test_a_text_only_email_is_a_single_part():
    raw = _built(html="")
    assert raw is not None
    parsed = message_from_bytes(raw, policy=policy.default)

    assert parsed.get_content_type() == "text/plain"
    assert _lines(parsed.get_content()) == TEXT


@pytest.mark.parametrize(
    "overrides",
    [
        {"to": "aïssata@exemple.ml"},
        {"to": "a@example.org\r\nBcc: everyone@example.org"},
    ],
)
def test_what_the_fast_path_cannot_write_as_is_goes_the_general_way(overrides):
    assert _built(**overrides) is None


def test_a_subject_cannot_inject_a_header():
    raw = _built(subject="Level 4\r\nBcc: everyone@example.org")
    assert raw is not None

    parsed = message_from_bytes(raw, policy=policy.default)

    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Level 4 Bcc: everyone@example.org"


def _smtp(settings, port: int) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }


@contextmanager
def _channel_to_sink(settings, **sink_options: Any) -> Iterator[tuple[EmailChannel, SmtpSink]]:
    """An email channel opened on a local SMTP sink, closed when the block ends."""
    with smtp_sink(**sink_options) as sink:
        _smtp(settings, sink.port)
        channel = EmailChannel()
        channel.open()
        try:
            yield channel, sink
        finally:
            channel.close()


def _message(delivery_id: int, to: str = "aissata@example.org") -> OutgoingMessage:
    return OutgoingMessage(
        reference=str(delivery_id),
        to=to,
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        headers={**HEADERS, "X-Consular-Delivery": str(delivery_id)},
    )


@pytest.mark.parametrize("pipelining", [True, False])
def test_emails_reach_the_smtp_server_over_one_connection(settings, pipelining):
    with _channel_to_sink(settings, pipelining=pipelining) as (channel, sink):
        receipts = [channel.send(_message(n)) for n in (1, 2)]
        # An address the fast path cannot write (an IDN domain) goes through Django's message.
        receipts.append(channel.send(_message(3, to="aissata@bamakö.ml")))

    assert [delivery_id for delivery_id, _, _ in sink.messages] == ["1", "2", "3"]
    assert [receipt.provider_id for receipt in receipts] == [
        str(parsed["Message-ID"]) for _, _, parsed in sink.messages
    ]
    for _, _, parsed in sink.messages:
        assert parsed["Subject"] == SUBJECT
        assert _lines(parsed.get_body(("plain",)).get_content()) == TEXT


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_refused_recipient_fails_alone(settings, pipelining):
    with _channel_to_sink(
        settings, unknown_recipients=frozenset({"gone@example.org"}), pipelining=pipelining
    ) as (channel, sink):
        channel.send(_message(1))
        with pytest.raises(SendError) as refused:
            channel.send(_message(2, to="gone@example.org"))
        connection = channel.connection.connection
        channel.send(_message(3))
        # The transaction was reset, not the connection.
        assert channel.connection.connection is connection

    assert refused.value.permanent is True
    assert refused.value.code == "550"
    assert [delivery_id for delivery_id, _, _ in sink.messages] == ["1", "3"]
    assert [recipients for _, recipients, _ in sink.messages] == [
        ["aissata@example.org"],
        ["aissata@example.org"],
    ]


def test_pipelined_sending_keeps_leading_periods():
    raw = b"X-Consular-Delivery: 1\r\nSubject: periods\r\n\r\n.\r\n..\r\n. Leave now.\r\n"
    with smtp_sink() as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        client.ehlo()
        assert client.has_extn("pipelining")
        assert list(
            sendmail_pipelined(client, "consul@example.org", [("aissata@example.org", raw)])
        ) == [None]

    [(_, _, parsed)] = sink.messages
    assert _lines(parsed.get_content()) == ".\n..\n. Leave now.\n"


@pytest.mark.parametrize(
    ("faults", "permanent"), [({"temporary": 1.0}, False), ({"permanent": 1.0}, True)]
)
def test_smtp_refusals_are_send_errors(settings, faults, permanent):
    with _channel_to_sink(settings, faults=SmtpFaults(**faults)) as (channel, sink):
        with pytest.raises(SendError) as refused:
            channel.send(_message(1))
        # The connection was reset: the next message opens a new one.
        with pytest.raises(SendError):
            channel.send(_message(2))

    assert refused.value.permanent is permanent
    assert refused.value.code == ("554" if permanent else "451")
    assert len(sink.transactions) == 2


def _paced() -> tuple[list[int], Callable[[], None]]:
    calls: list[int] = []
    return calls, lambda: calls.append(1)


def test_a_batch_leaves_back_to_back_one_write_a_message(settings, monkeypatch):
    with _channel_to_sink(settings) as (channel, sink):
        writes: list[bytes] = []
        smtp = channel.connection.connection
        real_send = smtp.send
        monkeypatch.setattr(smtp, "send", lambda data: (writes.append(data), real_send(data))[1])
        calls, pace = _paced()
        answers = channel.send_many([_message(n) for n in (1, 2, 3)], pace=pace)

    assert [delivery_id for delivery_id, _, _ in sink.messages] == ["1", "2", "3"]
    assert [answer.provider_id for answer in answers] == [
        str(parsed["Message-ID"]) for _, _, parsed in sink.messages
    ]
    for _, _, parsed in sink.messages:
        assert _lines(parsed.get_body(("plain",)).get_content()) == TEXT
    # The first envelope, then each message's content with the next envelope (the commands
    # of the session itself, EHLO and QUIT, go as text).
    message_writes = [data for data in writes if isinstance(data, bytes)]
    assert len(message_writes) == 4
    assert message_writes[0].startswith(b"MAIL FROM:")
    assert b"\r\n.\r\nMAIL FROM:" in message_writes[1]
    assert message_writes[1].endswith(b"DATA\r\n")
    assert message_writes[3].endswith(b"\r\n.\r\n")
    assert len(calls) == 3


def test_a_refused_recipient_in_a_batch_fails_alone_on_the_same_connection(settings):
    unknown = frozenset({"gone@example.org"})
    with _channel_to_sink(settings, unknown_recipients=unknown) as (channel, sink):
        connection = channel.connection.connection
        batch = [_message(1), _message(2, to="gone@example.org"), _message(3)]
        answers = channel.send_many(batch, pace=lambda: None)
        assert channel.connection.connection is connection

    refused = answers[1]
    assert isinstance(refused, SendError)
    assert (refused.code, refused.permanent) == ("550", True)
    assert [isinstance(answer, Receipt) for answer in answers] == [True, False, True]
    assert [delivery_id for delivery_id, _, _ in sink.messages] == ["1", "3"]


@pytest.mark.parametrize(
    ("faults", "code", "permanent"),
    [({"temporary": 1.0}, "451", False), ({"permanent": 1.0}, "554", True)],
)
def test_messages_refused_in_a_batch_are_each_answered(settings, faults, code, permanent):
    with _channel_to_sink(settings, faults=SmtpFaults(**faults)) as (channel, sink):
        answers = channel.send_many([_message(n) for n in (1, 2, 3)], pace=lambda: None)

    assert [(a.code, a.permanent) for a in answers if isinstance(a, SendError)] == [
        (code, permanent)
    ] * 3
    assert [delivery_id for delivery_id, _, _ in sink.transactions] == ["1", "2", "3"]
    assert sink.messages == []


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_batch_answers_in_the_order_given_whatever_path_each_message_takes(settings, pipelining):
    with _channel_to_sink(settings, pipelining=pipelining) as (channel, sink):
        # An IDN address cannot go on the fast path: it goes through Django's message.
        batch = [_message(1), _message(2, to="aissata@bamakö.ml"), _message(3)]
        calls, pace = _paced()
        answers = channel.send_many(batch, pace=pace)

    by_delivery = {
        delivery_id: str(parsed["Message-ID"]) for delivery_id, _, parsed in sink.messages
    }
    assert [answer.provider_id for answer in answers] == [by_delivery[n] for n in "123"]
    assert len(calls) == 3


def test_a_batch_to_a_server_that_cannot_be_reached_fails_each_message_for_a_retry(settings):
    with smtp_sink() as sink:
        port = sink.port
    _smtp(settings, port)
    channel = EmailChannel()
    answers = channel.send_many([_message(1), _message(2)], pace=lambda: None)
    channel.close()

    assert [(a.code, a.permanent) for a in answers if isinstance(a, SendError)] == [
        ("network", False)
    ] * 2
