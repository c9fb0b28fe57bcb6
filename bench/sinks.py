"""Local stand-ins for the providers, for tests and benchmarks: an SMTP server that accepts
and records every message, and an HTTP SMS provider speaking `core.sms.backends.http`'s
protocol. Both listen on loopback only and record which delivery each message carried."""

import contextlib
import itertools
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class SmtpFaults:
    """Shares of SMTP transactions the sink refuses at DATA (fault-injection tests): 451 asks
    the client to try again later, 554 refuses for good. None by default."""

    temporary: float = 0.0
    permanent: float = 0.0


@dataclass(frozen=True)
class SmsFaults:
    """Shares of SMS requests answered 429 or 500 without accepting the message, and of
    requests accepted but answered only after `slow_seconds` (past the client's time-out,
    so it cannot know the message left). None by default."""

    throttled: float = 0.0
    error: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.0


def _draw(shares: list[tuple[float, str]]) -> str:
    """One outcome: each named outcome with its share, else "" (the normal answer)."""
    roll = random.random()  # noqa: S311 - fault injection, not security
    for share, name in shares:
        if roll < share:
            return name
        roll -= share
    return ""


@dataclass
class SmtpSink:
    """Accepts every message; `messages` holds (delivery id header, recipients, parsed email).
    With `keep_content=False` (benchmarks) only the ids are kept. `transactions` logs every
    DATA answer as (delivery id, SMTP code, time.time())."""

    messages: list[tuple[str, list[str], Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    keep_content: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    faults: SmtpFaults = field(default_factory=SmtpFaults)
    transactions: list[tuple[str, int, float]] = field(default_factory=list)
    # Mailboxes that do not exist: RCPT TO is answered 550.
    unknown_recipients: frozenset[str] = frozenset()
    # Whether EHLO offers PIPELINING (real relays do).
    pipelining: bool = True

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Offer PIPELINING, as real relays do: aiosmtpd reads commands one at a time from a
        buffered stream, so a client may send MAIL, RCPT and DATA together (RFC 2920)."""
        session.host_name = hostname
        if not self.pipelining:
            return responses
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.unknown_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed: Any
        if self.keep_content:
            parsed = message_from_bytes(content, policy=policy.default)
        else:
            # A benchmark's sink only needs the id: parse the headers alone, cheaply.
            parsed = BytesHeaderParser(policy=policy.compat32).parsebytes(content)
        delivery_id = str(parsed.get("X-Consular-Delivery", ""))
        fault = _draw([(self.faults.temporary, "451"), (self.faults.permanent, "554")])
        with self.lock:
            self.transactions.append((delivery_id, int(fault or 250), time.time()))
            if fault == "451":
                return "451 4.3.0 Try again later"
            if fault == "554":
                return "554 5.7.1 Message refused"
            self.messages.append(
                (delivery_id, list(envelope.rcpt_tos), parsed if self.keep_content else None)
            )
        return "250 Message accepted for delivery"

    def delivery_ids(self) -> list[str]:
        with self.lock:
            return [delivery_id for delivery_id, _, _ in self.messages]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def smtp_sink(
    *,
    keep_content: bool = True,
    faults: SmtpFaults | None = None,
    unknown_recipients: frozenset[str] = frozenset(),
    pipelining: bool = True,
) -> Iterator[SmtpSink]:
    sink = SmtpSink(
        keep_content=keep_content,
        faults=faults or SmtpFaults(),
        unknown_recipients=unknown_recipients,
        pipelining=pipelining,
    )
    # aiosmtpd logs every envelope (addresses) at INFO; a sink must not leak them, nor slow down.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # aiosmtpd checks its own listener by connecting to the port: it must be a real one.
    sink.port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class SmsSink:
    """Records every accepted message by its reference (our delivery id); a repeated
    Idempotency-Key gets the first answer again, as a real provider with idempotency would.
    `transactions` logs every answer as (reference, HTTP status, time.time()); a slow answer
    is logged when the request arrives."""

    messages: list[dict[str, str]] = field(default_factory=list)
    by_key: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    faults: SmsFaults = field(default_factory=SmsFaults)
    transactions: list[tuple[str, int, float]] = field(default_factory=list)

    def log(self, reference: str, status: int) -> None:
        with self.lock:
            self.transactions.append((reference, status, time.time()))

    def accept(self, payload: dict[str, str], key: str) -> str:
        with self.lock:
            if key and key in self.by_key:
                return self.by_key[key]
            provider_id = f"sms-{next(self.ids)}"
            self.messages.append({**payload, "id": provider_id})
            if key:
                self.by_key[key] = provider_id
            return provider_id

    def references(self) -> list[str]:
        with self.lock:
            return [message["reference"] for message in self.messages]


def _sms_handler(sink: SmsSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back by ~40 ms.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            fault = _draw(
                [
                    (sink.faults.throttled, "429"),
                    (sink.faults.error, "500"),
                    (sink.faults.slow, "slow"),
                ]
            )
            try:
                payload = json.loads(self.rfile.read(length))
                if fault in {"429", "500"}:
                    sink.log(str(payload["reference"]), int(fault))
                    self._answer(int(fault), {"error": "try again later"})
                    return
                provider_id = sink.accept(
                    {
                        "to": payload["to"],
                        "body": payload["body"],
                        "reference": payload["reference"],
                    },
                    self.headers.get("Idempotency-Key", ""),
                )
            except (ValueError, KeyError, TypeError):
                self._answer(400, {"error": "bad request"})
                return
            sink.log(str(payload["reference"]), 201)
            if fault == "slow":
                time.sleep(sink.faults.slow_seconds)
                # The client has given up and may have closed the connection.
                with contextlib.suppress(OSError):
                    self._answer(201, {"id": provider_id})
                return
            self._answer(201, {"id": provider_id})

        def _answer(self, status: int, body: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a benchmark sends hundreds of thousands of requests."""

    return Handler


@contextmanager
def sms_sink(*, faults: SmsFaults | None = None) -> Iterator[SmsSink]:
    sink = SmsSink(faults=faults or SmsFaults())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _sms_handler(sink))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/messages"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
