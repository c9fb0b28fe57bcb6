"""Who a staff member is allowed to act for. Every app scopes its staff querysets with these."""

import uuid
from collections.abc import Iterable

from django.db.models import Case as DbCase
from django.db.models import QuerySet, Value, When

from accounts.models import Membership, Post, User

# The roles that work with citizens' personal data. Advisory editors and approvers write
# advisories; they need no one's address.
REGISTER_ROLES = (Membership.Role.OFFICER, Membership.Role.ADMIN)


def posts_of_user(*, user: User, roles: Iterable[str] | None = None) -> QuerySet[Post]:
    """The posts the user may act for (every post for a superuser)."""
    if not user.is_active:
        return Post.objects.none()
    if user.is_superuser:
        return Post.objects.all()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return Post.objects.filter(id__in=memberships.values("post_id"))


def country_codes_of_user(*, user: User, roles: Iterable[str] | None = None) -> set[str]:
    """ISO 3166-1 codes of the countries covered by the user's posts (with those roles)."""
    posts = posts_of_user(user=user, roles=roles)
    return set(
        Post.countries.through.objects.filter(post__in=posts).values_list("country_id", flat=True)
    )


def posts_covering_country(*, country_code: str) -> QuerySet[Post]:
    return Post.objects.filter(countries=country_code.upper()).order_by("name")


def post_covering_country(*, country_code: str) -> Post | None:
    """The post answering for a country: its embassy before any consulate, then by name and
    code, so that every case and message of the country goes to the same one. (Posts cover
    whole countries; none covers a region.)"""
    return (
        posts_covering_country(country_code=country_code)
        .annotate(consulate=DbCase(When(kind=Post.Kind.EMBASSY, then=Value(0)), default=Value(1)))
        .order_by("consulate", "name", "code")
        .first()
    )


def user_has_role(
    *,
    user: User,
    roles: Iterable[str],
    country_code: str | None = None,
    post_id: uuid.UUID | None = None,
) -> bool:
    """Whether the user holds one of the roles at the post, or at a post covering the country
    (one query; a superuser holds every role everywhere)."""
    if (country_code is None) == (post_id is None):
        raise TypeError("Name either a country or a post.")
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    memberships = Membership.objects.filter(user=user, role__in=list(roles))
    if post_id is not None:
        return memberships.filter(post_id=post_id).exists()
    assert country_code is not None  # noqa: S101 - one of the two, checked above
    return memberships.filter(post__countries=country_code.upper()).exists()


def urgent_safety_check_post(*, user: User, country_code: str) -> Post | None:
    """The post under whose urgent mode the user may start a safety check in the country
    alone: one covering the country, with the mode on, where the user is consular staff
    (any such post for a superuser). None: the check needs a second person."""
    posts = posts_of_user(user=user, roles=REGISTER_ROLES).filter(
        countries=country_code.upper(), urgent_safety_checks=True
    )
    return posts.order_by("code").first()


def staff_time_zone(*, user: User) -> str:
    """The time zone staff pages show the user's times in: their first post's by name, UTC
    for someone with no post (one query)."""
    zone = posts_of_user(user=user).order_by("name").values_list("time_zone", flat=True).first()
    return zone or "UTC"


def post_get(*, code: str) -> Post | None:
    return Post.objects.filter(code=code).first()


def post_codes_of_memberships(*, user: User) -> list[str]:
    """The codes of the posts where the user holds a role, for the audit trail: unlike
    `posts_of_user`, a superuser without a membership has none."""
    return sorted(set(Membership.objects.filter(user=user).values_list("post__code", flat=True)))


def user_get(*, user_id: int) -> User | None:
    """A staff member by id, as the cases API names an assignee; None when there is none."""
    return User.objects.filter(id=user_id).first()


def user_get_by_username(*, username: str) -> User | None:
    """A staff member by login, for the demo seeders of the apps that need a named one."""
    return User.objects.filter(username=username).first()


def colleagues_of_user(*, user: User, roles: Iterable[str]) -> QuerySet[User]:
    """The active staff holding one of the roles at a post where the user holds one too (the
    user among them), such as those a case of theirs may be given to; by login."""
    roles = list(roles)
    return (
        User.objects.filter(
            is_active=True,
            memberships__role__in=roles,
            memberships__post__in=posts_of_user(user=user, roles=roles),
        )
        .distinct()
        .order_by("username")
    )


def staff_of_country(*, country_code: str, roles: Iterable[str]) -> QuerySet[User]:
    """The active staff holding one of the roles at a post covering the country (superusers
    only through a membership), such as the editors and approvers told of a partner's
    advice."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__role__in=list(roles),
            memberships__post__countries=country_code.upper(),
        )
        .distinct()
        .order_by("username")
    )
