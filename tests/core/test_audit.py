import pytest
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.models import Post
from core.audit import AuditedViewSetMixin, audit_record
from core.models import AuditEvent
from tests.accounts.factories import MembershipFactory, PostFactory, UserFactory, login_verified

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-for-tests"


def _superuser(username: str = "root"):
    return UserFactory(username=username, is_superuser=True, password=PASSWORD)


def test_record_names_the_actor_post_object_and_address():
    user = UserFactory(username="officer")
    post = PostFactory(code="bamako")
    MembershipFactory(user=user, post=post)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10")
    request.user = user

    event = audit_record(request=request, action=AuditEvent.Action.VIEW, obj=post)

    assert event.user == user
    assert event.username == "officer"
    assert event.post_code == "bamako"
    assert event.object_type == "accounts.post"
    assert event.object_id == str(post.pk)
    assert str(event.client_address) == "192.0.2.10"


def test_record_joins_every_post_of_an_officer_with_several():
    user = UserFactory()
    MembershipFactory(user=user, post=PostFactory(code="dakar"))
    MembershipFactory(user=user, post=PostFactory(code="bamako"))

    event = audit_record(actor=user, action=AuditEvent.Action.EXPORT, object_type="x")

    assert event.post_code == "bamako,dakar"


def test_record_refuses_a_detail_big_enough_to_hold_records():
    with pytest.raises(ValueError, match="few names and codes"):
        audit_record(action=AuditEvent.Action.EXPORT, detail={"rows": ["x" * 100] * 30})

    assert not AuditEvent.objects.exists()


def test_successful_and_failed_sign_ins_are_recorded_without_the_password(client):
    _superuser()

    client.post(
        "/admin/login/",
        {"username": "root", "password": "wrong-password-123"},
        REMOTE_ADDR="192.0.2.20",
    )
    client.post(
        "/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="192.0.2.20"
    )

    failed, succeeded = AuditEvent.objects.order_by("id")
    assert failed.action == AuditEvent.Action.LOGIN_FAILED
    assert failed.username == "root"
    assert failed.user is None
    assert str(failed.client_address) == "192.0.2.20"
    assert succeeded.action == AuditEvent.Action.LOGIN
    assert succeeded.user.username == "root"
    assert "wrong-password" not in str(AuditEvent.objects.values_list())


def test_admin_add_change_view_and_delete_are_recorded(client):
    admin_user = _superuser()
    login_verified(client, admin_user)

    client.post(
        "/admin/accounts/post/add/",
        {
            "code": "beirut",
            "name": "Embassy in Beirut",
            "kind": "embassy",
            "city": "Beirut",
            "time_zone": "Asia/Beirut",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    post = Post.objects.get(code="beirut")
    client.get(f"/admin/accounts/post/{post.pk}/change/")
    client.post(
        f"/admin/accounts/post/{post.pk}/change/",
        {
            "code": "beirut",
            "name": "Embassy in Beirut",
            "kind": "embassy",
            "city": "Baabda",
            "time_zone": "Asia/Beirut",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    client.post(f"/admin/accounts/post/{post.pk}/delete/", {"post": "yes"})

    events = list(
        AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN)
        .order_by("id")
        .values_list("action", "object_type", "object_id", "username")
    )
    assert events == [
        ("create", "accounts.post", str(post.pk), "root"),
        ("view", "accounts.post", str(post.pk), "root"),
        ("change", "accounts.post", str(post.pk), "root"),
        ("delete", "accounts.post", str(post.pk), "root"),
    ]
    change = AuditEvent.objects.get(action="change")
    assert change.detail == {"via": "admin", "fields": ["City"]}


def test_admin_bulk_delete_records_each_object(client):
    login_verified(client, _superuser())
    posts = [PostFactory(), PostFactory()]

    client.post(
        "/admin/accounts/post/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [p.pk for p in posts],
        },
    )

    deleted = set(AuditEvent.objects.filter(action="delete").values_list("object_id", flat=True))
    assert deleted == {str(p.pk) for p in posts}
    assert not Post.objects.exists()


def test_audit_admin_lists_and_filters_but_nobody_can_write(client):
    login_verified(client, _superuser())
    audit_record(action=AuditEvent.Action.EXPORT, object_type="registrations.citizen")
    event = AuditEvent.objects.get(action="export")

    listing = client.get("/admin/core/auditevent/?action__exact=export")
    add = client.get("/admin/core/auditevent/add/")
    delete = client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"})
    change = client.post(f"/admin/core/auditevent/{event.pk}/change/", {"action": "login"})

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.action == "export"


def test_staff_without_the_permission_cannot_see_the_trail(client):
    login_verified(client, UserFactory())

    response = client.get("/admin/core/auditevent/")

    assert response.status_code == 403


class PostSerializer(serializers.ModelSerializer[Post]):
    class Meta:
        model = Post
        fields = ["id", "code", "name", "city"]


class PostViewSet(
    AuditedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Post.objects.all()
    serializer_class = PostSerializer
    permission_classes = [AllowAny]
    pagination_class = None


def _call(action, request, **kwargs):
    return PostViewSet.as_view(action)(request, **kwargs)


def test_viewset_mixin_records_retrieve_and_create_but_not_lists_or_refusals():
    user = UserFactory(username="editor")
    post = PostFactory()
    factory = APIRequestFactory()

    def as_user(request):
        force_authenticate(request, user=user)
        return request

    _call({"get": "retrieve"}, as_user(factory.get("/")), pk=str(post.pk))
    _call({"get": "list"}, as_user(factory.get("/")))
    created = _call(
        {"post": "create"},
        as_user(
            factory.post("/", {"code": "dakar", "name": "Embassy", "city": "Dakar"}, format="json")
        ),
    )
    refused = _call({"post": "create"}, as_user(factory.post("/", {}, format="json")))

    assert refused.status_code == 400
    events = list(
        AuditEvent.objects.order_by("id").values_list("action", "object_type", "object_id")
    )
    assert events == [
        ("view", "accounts.post", str(post.pk)),
        ("create", "accounts.post", created.data["id"]),
    ]
    assert AuditEvent.objects.filter(username="editor").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_change_or_delete_an_audit_event():
    event = audit_record(action=AuditEvent.Action.EXPORT, object_type="registrations.citizen")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="view")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert event.action == "export"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_lets_a_staff_account_go_but_keeps_its_name_in_the_trail():
    user = UserFactory(username="leaver")
    event = audit_record(actor=user, action=AuditEvent.Action.LOGIN)

    user.delete()

    event.refresh_from_db()
    assert event.user is None
    assert event.username == "leaver"


class PostVerbViewSet(AuditedViewSetMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = Post.objects.all()
    permission_classes = [AllowAny]

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return Response({"closed": True})


def test_viewset_mixin_records_a_verb_as_a_change_and_a_destroy_as_a_delete():
    post = PostFactory()
    factory = APIRequestFactory()

    PostVerbViewSet.as_view({"post": "close"})(factory.post("/"), pk=str(post.pk))
    PostVerbViewSet.as_view({"delete": "destroy"})(factory.delete("/"), pk=str(post.pk))

    events = list(AuditEvent.objects.order_by("id").values_list("action", "object_id", "detail"))
    assert events == [
        ("change", str(post.pk), {"via": "api", "view": "PostVerbViewSet", "action": "close"}),
        ("delete", str(post.pk), {"via": "api", "view": "PostVerbViewSet", "action": "destroy"}),
    ]
