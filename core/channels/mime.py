"""Alert emails as raw MIME bytes, built in a few string operations.

Django's EmailMessage builds each message through the standard library's `email.policy`
machinery, which parses and refolds every header: the largest cost of an alert's email
hand-off (docs/performance.md). An alert email is always the same
shape (text and HTML alternatives, ASCII headers we chose, a subject shared by thousands of
recipients), so over SMTP it is built here instead: headers written as they are, each body
base64-encoded (a C routine), the encoded subject cached. Anything outside that shape (a
non-ASCII address or header) returns None and goes through Django's path.
"""

import base64
import functools
import secrets
from email.header import Header
from email.utils import formatdate

CRLF = "\r\n"


def _plain(value: str) -> bool:
    """Safe to write as a header value as it is: ASCII, on one line."""
    return value.isascii() and "\r" not in value and "\n" not in value


@functools.lru_cache(maxsize=512)
def _subject_header(subject: str) -> str:
    subject = " ".join(subject.split())
    if subject.isascii() and len(subject) < 900:
        return subject
    return Header(subject, "utf-8", header_name="Subject").encode(linesep=CRLF)


def _base64_lines(text: str) -> str:
    # Text travels in its canonical form, lines ended by CRLF, as Django's messages do.
    canonical = text.replace(CRLF, "\n").replace("\n", CRLF)
    return base64.encodebytes(canonical.encode()).decode("ascii").replace("\n", CRLF)


def _part(subtype: str, text: str) -> str:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: base64{CRLF}{CRLF}"
        f"{_base64_lines(text)}"
    )


def build(
    *,
    from_email: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str],
    message_id: str,
) -> bytes | None:
    """The message as it goes on the wire, or None if it needs the general path."""
    fields = {"From": from_email, "To": to, "Message-ID": message_id, **headers}
    if not all(_plain(name) and _plain(value) for name, value in fields.items()):
        return None
    lines = [f"{name}: {value}" for name, value in fields.items()]
    lines += [
        f"Subject: {_subject_header(subject)}",
        f"Date: {formatdate()}",
        "MIME-Version: 1.0",
    ]
    if not html:
        return (CRLF.join(lines) + CRLF + _part("plain", text)).encode("ascii")
    boundary = f"=_{secrets.token_hex(12)}"
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    body = (
        f"--{boundary}{CRLF}{_part('plain', text)}"
        f"--{boundary}{CRLF}{_part('html', html)}"
        f"--{boundary}--{CRLF}"
    )
    return (CRLF.join(lines) + CRLF + CRLF + body).encode("ascii")
