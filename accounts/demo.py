from base64 import b32encode

from django.db import transaction

from accounts import mfa
from accounts.models import Membership, User
from accounts.services import membership_grant, post_upsert

DEMO_PASSWORD = "consular-demo-2026"
# Every demo login shares this second-factor secret (hex, as django-otp stores it), so the
# staff pages stay usable from an authenticator app or one line of Python.
DEMO_TOTP_KEY = "636f6e73756c61722d64656d6f2d746f74702d6b"

DEMO_POSTS = [
    {
        "code": "bamako",
        "name": "Embassy in Bamako",
        "city": "Bamako",
        "country_codes": ["ML"],
        "email": "consular.bamako@example.org",
        "phone": "+223 20 00 00 00",
        "emergency_phone": "+223 70 00 00 00",
        "time_zone": "Africa/Bamako",
    },
    {
        "code": "beirut",
        "name": "Embassy in Beirut",
        "city": "Beirut",
        "country_codes": ["LB"],
        "email": "consular.beirut@example.org",
        "phone": "+961 1 000 000",
        "emergency_phone": "+961 3 000 000",
        "time_zone": "Asia/Beirut",
    },
]


def _demo_user(username: str, *, is_superuser: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": f"{username}@example.org",
            "is_staff": True,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    mfa.totp_device_set(user=user, key_hex=DEMO_TOTP_KEY)
    return user


@transaction.atomic
def seed_posts_and_staff() -> list[str]:
    lines = ["Demo staff logins (password for all: " + DEMO_PASSWORD + "):"]
    _demo_user("admin", is_superuser=True)
    lines.append("  admin (all posts, superuser)")
    for spec in DEMO_POSTS:
        post = post_upsert(**spec)  # type: ignore[arg-type]
        for role in (Membership.Role.EDITOR, Membership.Role.APPROVER, Membership.Role.OFFICER):
            username = f"{post.code}-{role}"
            membership_grant(user=_demo_user(username), post=post, role=role)
            lines.append(f"  {username} ({role}, {post.name})")
    secret = b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()
    lines += [
        "Second factor for every demo login (TOTP, 6 digits, 30 s):",
        f"  secret {secret} (type it into any authenticator app), or compute the code with:",
        '  .venv/bin/python -c "from django_otp.oath import totp; '
        f"print(f'{{totp(bytes.fromhex({DEMO_TOTP_KEY!r})):06d}}')\"",
    ]
    return lines
