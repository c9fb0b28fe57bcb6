import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Post, User
from tests.accounts.factories import PostFactory

pytestmark = pytest.mark.usefixtures("geography")


def test_create_staff_grants_the_role_at_the_post(capsys):
    PostFactory(code="bamako", countries=["ML"])

    call_command(
        "create_staff",
        "--username=awa",
        "--email=awa@example.org",
        "--post=bamako",
        "--role=approver",
        "--password=a-long-enough-password",
    )

    user = User.objects.get(username="awa")
    assert user.check_password("a-long-enough-password")
    assert user.is_staff
    assert list(user.memberships.values_list("post__code", "role")) == [("bamako", "approver")]
    assert "Password" not in capsys.readouterr().out


def test_create_staff_without_password_prints_a_generated_one(capsys):
    PostFactory(code="bamako", countries=["ML"])

    call_command(
        "create_staff", "--username=awa", "--email=a@example.org", "--post=bamako", "--role=officer"
    )

    password = capsys.readouterr().out.split("Password (shown once): ")[1].strip()
    assert User.objects.get(username="awa").check_password(password)


def test_create_staff_refuses_an_unknown_post_and_a_taken_username():
    PostFactory(code="bamako", countries=["ML"])
    arguments = ["--username=awa", "--email=a@example.org", "--post=bamako", "--role=editor"]
    call_command("create_staff", *arguments)

    with pytest.raises(CommandError, match="username"):
        call_command("create_staff", *arguments)
    with pytest.raises(CommandError, match="No post"):
        call_command(
            "create_staff",
            "--username=bob",
            "--email=b@example.org",
            "--post=nowhere",
            "--role=editor",
        )
    assert Membership.objects.count() == 1


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    output = capsys.readouterr().out
    assert "bamako-editor" in output
    assert "beirut-approver" in output
    assert set(Post.objects.values_list("code", flat=True)) >= {"bamako", "beirut"}
    assert list(Post.objects.get(code="bamako").countries.values_list("code", flat=True)) == ["ML"]
    assert Membership.objects.filter(post__code="beirut", role="editor").count() == 1
    assert Membership.objects.filter(post__code="bamako", role="approver").count() == 1
