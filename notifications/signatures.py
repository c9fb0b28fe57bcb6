"""Webhook signatures: a receipt or reply is believed only if the provider signed it."""

import base64
import hashlib
import hmac
from collections.abc import Mapping


def twilio_signature(*, auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 over the full URL followed by every POST
    parameter's name and value, sorted by name, in base64."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_valid(*, auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    if not auth_token or not signature:
        return False
    expected = twilio_signature(auth_token=auth_token, url=url, params=params)
    return hmac.compare_digest(expected, signature)


def hmac_sha256_hex(*, secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def http_valid(*, secret: str, body: bytes, signature: str) -> bool:
    if not secret or not signature:
        return False
    return hmac.compare_digest(hmac_sha256_hex(secret=secret, body=body), signature)
