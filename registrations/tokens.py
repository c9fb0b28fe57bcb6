"""Signed, expiring tokens and one-time codes: how a citizen proves who they are without an
account. Each purpose has its own salt, so a token made for one cannot be used for another."""

import datetime
import secrets
import uuid

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from core.links import token_url

MANAGE_SALT = "registrations.manage"
MANAGE_MAX_AGE = datetime.timedelta(days=30)
VERIFY_EMAIL_SALT = "registrations.verify-email"
VERIFY_EMAIL_MAX_AGE = datetime.timedelta(days=3)
ME_SALT = "registrations.me"
ME_MAX_AGE = datetime.timedelta(minutes=30)

CODE_MAX_AGE = datetime.timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5


def _sign(value: str, *, salt: str) -> str:
    return signing.TimestampSigner(salt=salt).sign(value)


def _unsign(token: str, *, salt: str, max_age: datetime.timedelta) -> str | None:
    try:
        return signing.TimestampSigner(salt=salt).unsign(token, max_age=max_age)
    except signing.BadSignature:  # also SignatureExpired
        return None


def manage_token(citizen_id: uuid.UUID) -> str:
    return _sign(str(citizen_id), salt=MANAGE_SALT)


def manage_token_citizen_id(token: str) -> str | None:
    return _unsign(token, salt=MANAGE_SALT, max_age=MANAGE_MAX_AGE)


def manage_url(citizen_id: uuid.UUID) -> str:
    return token_url("registrations:manage", manage_token(citizen_id))


def _address_digest(email: str) -> str:
    return salted_hmac(
        f"{VERIFY_EMAIL_SALT}.address", email.strip().lower(), algorithm="sha256"
    ).hexdigest()[:32]


def verify_email_token(citizen_id: uuid.UUID, email: str) -> str:
    # A keyed digest of the address, not the address: the link lands in web servers' access
    # logs, and a signed value is readable by anyone. Changing the address still voids links
    # sent to the old one.
    return _sign(f"{citizen_id}:{_address_digest(email)}", salt=VERIFY_EMAIL_SALT)


def verify_email_token_value(token: str) -> tuple[str, str] | None:
    """(citizen id, what the link says of the address), for `verify_email_token_matches`."""
    value = _unsign(token, salt=VERIFY_EMAIL_SALT, max_age=VERIFY_EMAIL_MAX_AGE)
    if value is None or ":" not in value:
        return None
    citizen_id, address = value.split(":", 1)
    return citizen_id, address


def verify_email_token_matches(address: str, email: str) -> bool:
    """Whether a verification link was made for this address."""
    if "@" in address:
        # A link sent before links carried a digest names the address itself; it stays
        # valid for VERIFY_EMAIL_MAX_AGE after the release that stopped writing them.
        return constant_time_compare(address, email.strip().lower())
    return constant_time_compare(address, _address_digest(email))


def verify_email_url(citizen_id: uuid.UUID, email: str) -> str:
    return token_url("registrations:verify_email", verify_email_token(citizen_id, email))


def me_token(citizen_id: uuid.UUID) -> str:
    return _sign(str(citizen_id), salt=ME_SALT)


def me_token_citizen_id(token: str) -> str | None:
    return _unsign(token, salt=ME_SALT, max_age=ME_MAX_AGE)


def code_new() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(*, purpose: str, citizen_id: uuid.UUID, code: str) -> str:
    """Keyed hash: a leaked table does not give the codes without SECRET_KEY."""
    return salted_hmac(
        f"registrations.code.{purpose}", f"{citizen_id}:{code}", algorithm="sha256"
    ).hexdigest()


def code_matches(*, purpose: str, citizen_id: uuid.UUID, code: str, stored_hash: str) -> bool:
    if not stored_hash:
        return False
    return constant_time_compare(
        code_hash(purpose=purpose, citizen_id=citizen_id, code=code), stored_hash
    )
