"""What every departures service shares: who may act, and the audit line."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import require_role
from accounts.selectors import REGISTER_ROLES
from core.audit import audit_record

# Departures are about citizens: the consular staff of a post covering the country (officers
# and post administrators) run them; advisory editors and approvers see none of it. The
# second person of an operation is another of them.
STAFF_ROLES = REGISTER_ROLES


def require_staff(*, user: User, country_code: str) -> None:
    require_role(
        user=user,
        roles=STAFF_ROLES,
        country_code=country_code,
        message=_("Only consular staff of a post covering this country can do this."),
    )


def audit(*, user: User | None, action: str, obj: models.Model, step: str, **detail: Any) -> None:
    audit_record(actor=user, action=action, obj=obj, detail={"step": step, **detail})
