"""Say loudly when a channel cannot send: in /healthz and in the worker's log at start."""

import logging
from collections.abc import Callable

from core.health import CheckResult
from notifications.channels import CHANNELS, get_channel

logger = logging.getLogger(__name__)


def _check(name: str) -> Callable[[], CheckResult]:
    def check() -> CheckResult:
        channel = get_channel(name)
        try:
            if channel.configured:
                return CheckResult(ok=True, detail=type(channel).__name__)
            return CheckResult(ok=False, detail=f"no {name} provider configured")
        finally:
            channel.close()

    return check


def channel_checks() -> dict[str, Callable[[], CheckResult]]:
    return {f"channel_{name}": _check(name) for name in CHANNELS}


def warn_unconfigured_channels() -> list[str]:
    missing = [name for name, check in channel_checks().items() if not check().ok]
    for name in missing:
        logger.error("%s: no provider configured; alerts on it will fail, not be sent", name)
    return missing
