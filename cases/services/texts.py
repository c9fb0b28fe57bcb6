"""What safety checks and cases share about the messages they send."""

from django.conf import settings


def languages() -> list[str]:
    """The languages a message is written in: every language the site offers, since each
    recipient reads it in theirs."""
    return [code for code, _name in settings.LANGUAGES]
