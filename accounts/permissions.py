"""The one role check every service runs for the staff member it acts for, so the admin, the
API, the staff pages, commands and tasks all enforce the same rule.

A service that may also run with nobody behind it (the beat task publishing a scheduled
advisory) takes `User | System`: passing `SYSTEM` is the explicit, greppable way to say "the
application itself", and only tasks and commands do it; an adapter serving a person always
passes that person."""

import enum
import uuid
from collections.abc import Iterable
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import user_has_role
from core.exceptions import PermissionDenied


class System(enum.Enum):
    """The application acting on its own, with no staff member behind the action."""

    SYSTEM = "system"


SYSTEM: Final = System.SYSTEM


def require_role(
    *,
    user: User,
    roles: Iterable[str],
    country_code: str | None = None,
    post_id: uuid.UUID | None = None,
    message: str | Promise | None = None,
    code: str = "not_allowed",
) -> None:
    """Refuse (`PermissionDenied`, a 403 in the API) unless the user holds one of the roles at
    the post (`post_id`) or at a post covering the country; name exactly one of the two. A
    superuser holds every role everywhere."""
    if not user_has_role(
        user=user,
        roles=roles,
        country_code=country_code,
        post_id=post_id,
    ):
        raise PermissionDenied(
            message or _("Your role at this post does not allow this."), code=code
        )
