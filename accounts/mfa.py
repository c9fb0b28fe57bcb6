"""The staff's second factor: a TOTP device (RFC 6238, any authenticator app) per staff member.

A staff member signs in with a password, then proves the second factor on every new session
(`accounts.admin_site.StaffAdminSite`). One without a confirmed device enrols first: the
site shows a secret, the app computes codes from it, and the first correct code confirms it.
"""

from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

DEVICE_NAME = "authenticator"


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
