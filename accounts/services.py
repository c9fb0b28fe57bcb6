from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, Post, User
from core.exceptions import Conflict, ValidationFailed


@transaction.atomic
def post_upsert(
    *,
    code: str,
    name: str,
    city: str,
    country_codes: Iterable[str],
    kind: str = Post.Kind.EMBASSY,
    email: str = "",
    phone: str = "",
    emergency_phone: str = "",
    address: str = "",
    time_zone: str = "UTC",
) -> Post:
    """Create the post or bring it up to date; its jurisdiction becomes exactly `country_codes`."""
    post, _created = Post.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "city": city,
            "kind": kind,
            "email": email,
            "phone": phone,
            "emergency_phone": emergency_phone,
            "address": address,
            "time_zone": time_zone,
        },
    )
    # Countries are keyed by their ISO code, so the codes are the primary keys to link.
    country_keys: list[Any] = [code.upper() for code in country_codes]
    post.countries.set(country_keys)
    return post


@transaction.atomic
def staff_create(
    *, username: str, email: str, password: str | None = None, is_superuser: bool = False
) -> User:
    """A new staff account; without a password it cannot sign in until one is set."""
    try:
        with transaction.atomic():
            user = User.objects.create(
                username=username,
                email=email,
                is_staff=True,
                is_superuser=is_superuser,
            )
    except IntegrityError as exc:
        raise Conflict(_("A staff member with this username exists."), field="username") from exc
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def membership_grant(*, user: User, post: Post, role: str) -> Membership:
    """Give the user a role at the post; granting it again changes nothing."""
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Unknown role."), field="role")
    membership, _created = Membership.objects.get_or_create(user=user, post=post, role=role)
    return membership
