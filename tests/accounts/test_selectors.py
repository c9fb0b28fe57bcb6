import pytest

from accounts.models import Membership, Post
from accounts.selectors import (
    country_codes_of_user,
    post_covering_country,
    posts_covering_country,
    user_get,
    user_get_by_username,
)
from tests.accounts.factories import MembershipFactory, PostFactory, UserFactory, staff_at

pytestmark = pytest.mark.usefixtures("geography")


def test_staff_see_only_their_posts_countries():
    beirut_officer = staff_at("LB")

    assert country_codes_of_user(user=beirut_officer) == {"LB"}


def test_roles_narrow_the_scope():
    user = UserFactory()
    MembershipFactory(user=user, post=PostFactory(countries=["ML"]), role=Membership.Role.EDITOR)
    MembershipFactory(user=user, post=PostFactory(countries=["LB"]), role=Membership.Role.APPROVER)

    assert country_codes_of_user(user=user, roles=[Membership.Role.APPROVER]) == {"LB"}
    assert country_codes_of_user(user=user) == {"LB", "ML"}


def test_inactive_staff_have_no_scope():
    user = staff_at("ML", is_active=False)

    assert country_codes_of_user(user=user) == set()


def test_posts_covering_country():
    bamako = PostFactory(code="bamako", countries=["ML"])
    PostFactory(code="beirut", countries=["LB"])

    assert list(posts_covering_country(country_code="ml")) == [bamako]


def test_the_post_covering_a_country_is_its_embassy_then_by_name():
    PostFactory(code="a-consulate", name="A consulate", kind=Post.Kind.CONSULATE, countries=["ML"])
    PostFactory(code="z-embassy", name="Z embassy", countries=["ML"])
    PostFactory(code="m-embassy", name="M embassy", countries=["ML"])

    assert post_covering_country(country_code="ml").code == "m-embassy"
    assert post_covering_country(country_code="LB") is None


def test_user_get_by_username_finds_the_staff_member_or_none():
    officer = UserFactory(username="bamako-officer")
    UserFactory(username="beirut-officer")

    assert user_get_by_username(username="bamako-officer") == officer
    assert user_get_by_username(username="bamako") is None


def test_user_get_finds_the_staff_member_or_none():
    officer = UserFactory()
    UserFactory()

    assert user_get(user_id=officer.id) == officer
    assert user_get(user_id=officer.id + 1000) is None
