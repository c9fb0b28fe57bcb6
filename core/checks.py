from typing import Any

from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

from core import crypto


def encryption_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A malformed key stops the start, rather than the first read of a citizen."""
    try:
        crypto.keys_check()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="core.E001")]
    return []
