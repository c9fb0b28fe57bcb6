import secrets

import django_otp
import factory
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import Membership, Post, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    is_staff = True
    # Hashed before the insert: a password set after it would not be saved, and the session of
    # a force_login'ed user would then not match the stored hash.
    password = factory.django.Password("correct-horse-battery")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"post{n}")
    name = factory.LazyAttribute(lambda post: f"Embassy {post.code}")
    city = "Capital"

    @factory.post_generation
    def countries(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.countries.set(extracted)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    post = factory.SubFactory(PostFactory)
    role = Membership.Role.OFFICER


def staff_at(country_code: str, role: str = Membership.Role.OFFICER, **user_fields):
    """A staff member holding `role` at a post covering the country."""
    post = PostFactory(code=f"post-{country_code.lower()}", countries=[country_code])
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, post=post, role=role)
    return user


def login_verified(client: Client, user: User) -> TOTPDevice:
    """Sign a staff member in with a verified second factor, as the admin's OTP step does:
    Django's session login, then django-otp's `login()` recording the device in the session.
    Works for Django's and DRF's test clients; returns the (confirmed) device."""
    device = mfa.totp_device_confirmed(user=user) or mfa.totp_device_set(
        user=user, key_hex=secrets.token_hex(20)
    )
    client.force_login(user)
    session = client.session
    request = HttpRequest()
    request.session = session
    request.user = user
    django_otp.login(request, device)
    session.save()
    return device


def totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now, as an app would show it: the current one, or the next
    one when the current was already used (a code is good once)."""
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    drift = device.drift + max(0, (device.last_t or -1) - now + 1)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=drift):0{device.digits}d}"
