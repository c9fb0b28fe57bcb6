from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
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


def catalogues_uncompiled(locale_dirs: Iterable[Path]) -> list[Path]:
    """The translation catalogues (.po) under these locale folders whose compiled file (.mo) is
    missing or older than them: Django reads only the compiled file."""
    return [
        catalogue
        for directory in locale_dirs
        for catalogue in sorted(Path(directory).glob("*/LC_MESSAGES/*.po"))
        if not (compiled := catalogue.with_suffix(".mo")).exists()
        or compiled.stat().st_mtime < catalogue.stat().st_mtime
    ]


def locale_dirs() -> list[Path]:
    """The project's locale folders: LOCALE_PATHS and each of its apps' (installed packages
    ship their own compiled catalogues)."""
    return [Path(path) for path in settings.LOCALE_PATHS] + [
        Path(app.path) / "locale"
        for app in apps.get_app_configs()
        if "site-packages" not in Path(app.path).parts
    ]


def translations_compiled(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The compiled catalogues are built, not committed: a deployment that skipped the build
    step would serve English to French readers without a word in the logs."""
    return [
        Error(
            f"{catalogue} is not compiled, or changed since it was.",
            hint="Run `make build` (or `python manage.py compilemessages`) before deploying.",
            id="core.E002",
        )
        for catalogue in catalogues_uncompiled(locale_dirs())
    ]
