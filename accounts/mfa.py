"""The staff's second factor: a TOTP device (RFC 6238, any authenticator app) per staff member.

A staff member signs in with a password, then proves the second factor on every new session
(`accounts.admin_site.StaffAdminSite`). One without a confirmed device enrols first. A
password alone must not be enough to enrol (whoever stole it would own the account's second
factor), so enrolment starts by proving control of the account's mailbox with a one-time code
sent there; only then does the site show a secret, the app computes codes from it, and the
first correct code confirms it.
"""

import secrets
import time
from base64 import b32encode
from collections.abc import MutableMapping
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.core.mail import send_mail
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

DEVICE_NAME = "authenticator"
MAILBOX_CODE_SECONDS = 15 * 60
MAILBOX_CODE_ATTEMPTS = 5
MAILBOX_CODE_RESEND_SECONDS = 60
_MAILBOX_SESSION_KEY = "otp_mailbox_challenge"


def _mailbox_digest(code: str) -> str:
    return salted_hmac("accounts.mfa.mailbox", code, algorithm="sha256").hexdigest()


def mailbox_challenge_send(*, user: User, session: MutableMapping[str, Any]) -> bool:
    """Email the user a one-time code that proves they read their mailbox; only its digest is
    kept, in the (server-side) session. False if one was sent too recently to send another."""
    state = session.get(_MAILBOX_SESSION_KEY)
    now = time.time()
    if state and state["user"] == user.pk and now - state["sent"] < MAILBOX_CODE_RESEND_SECONDS:
        return False
    code = f"{secrets.randbelow(10**8):08d}"
    session[_MAILBOX_SESSION_KEY] = {
        "user": user.pk,
        "digest": _mailbox_digest(code),
        "sent": now,
        "attempts": 0,
        "proved": False,
    }
    send_mail(
        _("Your consular set-up code"),
        _(
            "Your code to set up the second factor of your consular staff account is "
            "%(code)s. It is valid for %(minutes)d minutes.\n\n"
            "If you did not just sign in, someone knows your password: tell your post "
            "administrator and change it."
        )
        % {"code": code, "minutes": MAILBOX_CODE_SECONDS // 60},
        None,
        [user.email],
    )
    return True


def mailbox_challenge_answer(*, user: User, session: MutableMapping[str, Any], code: str) -> bool:
    """Whether `code` is the one sent to the user's mailbox, still valid. A code survives a few
    wrong answers only; then a new one must be sent."""
    state = session.get(_MAILBOX_SESSION_KEY)
    if not state or state["user"] != user.pk or state["proved"]:
        return False
    if time.time() - state["sent"] > MAILBOX_CODE_SECONDS:
        return False
    if constant_time_compare(state["digest"], _mailbox_digest(code)):
        session[_MAILBOX_SESSION_KEY] = {**state, "proved": True, "digest": ""}
        return True
    attempts = state["attempts"] + 1
    if attempts >= MAILBOX_CODE_ATTEMPTS:
        session.pop(_MAILBOX_SESSION_KEY)
    else:
        session[_MAILBOX_SESSION_KEY] = {**state, "attempts": attempts}
    return False


def mailbox_proved(*, user: User, session: MutableMapping[str, Any]) -> bool:
    state = session.get(_MAILBOX_SESSION_KEY)
    return bool(state and state["user"] == user.pk and state["proved"])


def mailbox_challenge_pending(*, user: User, session: MutableMapping[str, Any]) -> bool:
    state = session.get(_MAILBOX_SESSION_KEY)
    return bool(state and state["user"] == user.pk and not state["proved"])


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at").first()


@transaction.atomic
def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The user's device waiting for its first code, created on the first visit so the secret
    shown stays the same across reloads until it is confirmed."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("created_at")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_enrolment_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm the device if `token` is its current code; False (and nothing changed) if not."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def totp_device_set(*, user: User, key_hex: str) -> TOTPDevice:
    """Give the user a confirmed device with a known secret (the demo staff); idempotent."""
    device, _created = TOTPDevice.objects.update_or_create(
        user=user, name=DEVICE_NAME, defaults={"key": key_hex, "confirmed": True}
    )
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed in by hand."""
    return b32encode(device.bin_key).decode()


def totp_qrcode_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an SVG QR code, drawn here: the secret never leaves the
    site for an external QR service."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # Inline in the page, so without the XML declaration.
    return svg[svg.index("<svg") :]
