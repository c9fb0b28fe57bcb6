"""`__any`: the same rows as `__in`, with the list sent as one array on PostgreSQL."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection

pytestmark = pytest.mark.django_db


def _groups(count: int) -> list[int]:
    return [Group.objects.create(name=f"post {n}").id for n in range(count)]


def test_any_finds_what_in_finds():
    ids = _groups(5)
    wanted = [ids[0], ids[2], ids[4], 0]

    assert list(Group.objects.filter(id__any=wanted).order_by("id")) == list(
        Group.objects.filter(id__in=wanted).order_by("id")
    )
    assert Group.objects.filter(id__any=[]).count() == 0
    assert Group.objects.filter(name__any={"post 1", "post 3"}).count() == 2


def test_on_postgresql_the_list_is_one_parameter():
    ids = _groups(3)
    sql, params = Group.objects.filter(id__any=ids).query.sql_with_params()

    if connection.vendor == "postgresql":
        assert "= ANY(%s)" in sql
        assert params == (ids,)
    else:
        assert sql.count("%s") == len(ids)


def test_a_subquery_goes_as_in():
    ids = _groups(3)
    subquery = Group.objects.filter(id__in=ids[:2]).values("id")

    assert Group.objects.filter(id__any=subquery).count() == 2


def test_a_foreign_key_takes_its_target_ids():
    permissions = list(Permission.objects.order_by("id")[:3])
    wanted = [permission.content_type_id for permission in permissions]

    found = Permission.objects.filter(content_type_id__any=wanted)
    assert set(found) == set(Permission.objects.filter(content_type_id__in=wanted))
    assert set(permissions) <= set(found)
