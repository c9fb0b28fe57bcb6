from datetime import timedelta

import pytest
from django.utils import timezone

from advisories.models import Advisory
from tests.advisories.conftest import MALI_NORTH, TEXTS, publish


@pytest.fixture
def mali(ml_editor, ml_approver):
    return publish(
        country_code="ML", editor=ml_editor, approver=ml_approver, level=3, overrides=MALI_NORTH
    )


def test_country_detail_shows_the_published_levels(mali, api_client, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = api_client.get("/api/v1/countries/ML/")

    assert response.status_code == 200
    body = response.json()
    assert body["level"] == 3
    levels = {region["code"]: region["level"] for region in body["regions"]}
    assert levels == {
        "ML-1": 3,
        "ML-2": 3,
        "ML-3": 3,
        "ML-4": 3,
        "ML-5": 3,
        "ML-BKO": 3,
        "ML-6": 4,
        "ML-7": 4,
        "ML-8": 4,
        "ML-9": 4,
        "ML-10": 4,
    }


def test_country_detail_nests_levels(api_client, geography):
    from accounts.models import Membership
    from tests.accounts.factories import staff_at

    publish(
        country_code="FR",
        editor=staff_at("FR", Membership.Role.EDITOR),
        approver=staff_at("FR", Membership.Role.APPROVER),
        level=1,
        overrides=[("FR-IDF", 2)],
    )

    regions = {r["code"]: r for r in api_client.get("/api/v1/countries/FR/").json()["regions"]}

    assert regions["FR-75C"]["level"] == 2
    assert regions["FR-69"]["level"] == 1


def test_country_without_advisory_has_no_level(api_client, geography):
    body = api_client.get("/api/v1/countries/LB/").json()

    assert body["level"] is None
    assert {region["level"] for region in body["regions"]} == {None}


def test_countries_list_stays_one_query(mali, api_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = api_client.get("/api/v1/countries/")

    assert {"code": "ML", "alpha3": "MLI", "name": "Mali"} in response.json()


def test_public_list_shows_published_versions_only(mali, ml_editor, api_client):
    draft = Advisory.objects.create(country_id="ML", author=ml_editor)

    response = api_client.get("/api/v1/advisories/")

    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["results"]]
    assert ids == [str(mali.pk)]
    assert api_client.get(f"/api/v1/advisories/{draft.pk}/").status_code == 404


def test_public_detail_names_the_level_in_the_request_language(mali, api_client):
    response = api_client.get(f"/api/v1/advisories/{mali.pk}/", headers={"Accept-Language": "fr"})

    body = response.json()
    assert body["level"] == 3
    assert body["level_name"] == "Déconseillé sauf raison impérative"
    assert body["colour"] == "orange"
    assert {"region": "ML-7", "level": 4} in [
        {"region": o["region"], "level": o["level"]} for o in body["overrides"]
    ]


def test_public_list_filters(mali, lb_editor, lb_approver, api_client):
    lebanon = publish(country_code="LB", editor=lb_editor, approver=lb_approver, level=2)

    def ids(query: str) -> list[str]:
        return [
            item["id"] for item in api_client.get(f"/api/v1/advisories/?{query}").json()["results"]
        ]

    assert ids("country=lb") == [str(lebanon.pk)]
    assert ids("level=3") == [str(mali.pk)]
    since = (lebanon.published_at - timedelta(microseconds=1)).isoformat()
    assert ids(f"published_since={since.replace('+', '%2B')}") == [str(lebanon.pk)]


def test_staff_workflow_through_the_api(ml_editor, ml_approver, api_client):
    api_client.force_authenticate(ml_editor)
    created = api_client.post(
        "/api/v1/advisories/",
        {
            "country": "ml",
            "level": 3,
            "indicators": ["terrorism", "kidnapping"],
            "overrides": [{"region": "ML-7", "level": 4}],
            **TEXTS,
        },
    )
    assert created.status_code == 201, created.json()
    advisory_id = created.json()["id"]
    assert created.json()["status"] == "draft"

    patched = api_client.patch(f"/api/v1/advisories/{advisory_id}/", {"body_en": "Details."})
    assert patched.status_code == 200
    assert patched.json()["body_en"] == "Details."
    assert api_client.post(f"/api/v1/advisories/{advisory_id}/submit/").status_code == 200

    api_client.force_authenticate(ml_approver)
    approved = api_client.post(
        f"/api/v1/advisories/{advisory_id}/approve/", {"comment": "OK", "confirm_reach": True}
    )

    assert approved.status_code == 200
    assert approved.json()["status"] == "published"
    assert api_client.get("/api/v1/countries/ML/").json()["level"] == 3


def test_approving_your_own_draft_answers_403_with_a_reason(geography, api_client):
    from accounts.models import Membership
    from tests.accounts.factories import MembershipFactory, staff_at

    both = staff_at("ML", Membership.Role.EDITOR)
    MembershipFactory(user=both, post=both.memberships.get().post, role=Membership.Role.APPROVER)
    api_client.force_authenticate(both)
    advisory_id = api_client.post("/api/v1/advisories/", {"country": "ML", **TEXTS}).json()["id"]
    api_client.post(f"/api/v1/advisories/{advisory_id}/submit/")

    response = api_client.post(
        f"/api/v1/advisories/{advisory_id}/approve/", {"confirm_reach": True}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "four_eyes"
    assert "another approver" in response.json()["detail"]


def test_editing_a_published_version_answers_409(mali, ml_editor, api_client):
    api_client.force_authenticate(ml_editor)

    response = api_client.patch(f"/api/v1/advisories/{mali.pk}/", {"level": 1})

    assert response.status_code == 409
    assert response.json()["code"] == "not_a_draft"


def test_bad_level_answers_400_naming_the_field(ml_editor, api_client):
    api_client.force_authenticate(ml_editor)

    response = api_client.post("/api/v1/advisories/", {"country": "ML", "level": 7})

    assert response.status_code == 400
    assert "level" in response.json()["errors"]


def test_draft_of_another_post_is_not_found(ml_editor, lb_editor, api_client):
    api_client.force_authenticate(lb_editor)
    lebanon_draft = api_client.post("/api/v1/advisories/", {"country": "LB"}).json()["id"]

    api_client.force_authenticate(ml_editor)

    assert api_client.get(f"/api/v1/advisories/{lebanon_draft}/").status_code == 404
    assert api_client.post(f"/api/v1/advisories/{lebanon_draft}/submit/").status_code == 404
    assert api_client.post("/api/v1/advisories/", {"country": "LB"}).status_code == 403


def test_anonymous_cannot_draft(api_client, geography):
    assert api_client.post("/api/v1/advisories/", {"country": "ML"}).status_code in (401, 403)


def test_reject_and_withdraw_through_the_api(ml_editor, ml_approver, api_client):
    api_client.force_authenticate(ml_editor)
    advisory_id = api_client.post("/api/v1/advisories/", {"country": "ML", **TEXTS}).json()["id"]
    api_client.post(f"/api/v1/advisories/{advisory_id}/submit/")
    api_client.force_authenticate(ml_approver)

    missing_reason = api_client.post(f"/api/v1/advisories/{advisory_id}/reject/")
    rejected = api_client.post(f"/api/v1/advisories/{advisory_id}/reject/", {"reason": "Typo."})
    again = api_client.post(f"/api/v1/advisories/{advisory_id}/approve/", {"confirm_reach": True})
    api_client.force_authenticate(ml_editor)
    withdrawn = api_client.post(f"/api/v1/advisories/{advisory_id}/withdraw/")

    assert missing_reason.status_code == 400
    assert rejected.json()["status"] == "draft"
    assert again.status_code == 409
    assert withdrawn.json()["status"] == "withdrawn"


def test_scheduled_approval_waits(ml_editor, ml_approver, api_client):
    api_client.force_authenticate(ml_editor)
    later = (timezone.now() + timedelta(days=1)).isoformat()
    advisory_id = api_client.post(
        "/api/v1/advisories/", {"country": "ML", "scheduled_for": later, **TEXTS}
    ).json()["id"]
    api_client.post(f"/api/v1/advisories/{advisory_id}/submit/")
    api_client.force_authenticate(ml_approver)

    response = api_client.post(
        f"/api/v1/advisories/{advisory_id}/approve/", {"confirm_reach": True}
    )

    assert response.json()["status"] == "scheduled"
    assert response.json()["published_at"] is None


def test_malformed_filter_answers_400(api_client, geography):
    response = api_client.get("/api/v1/advisories/?level=9")

    assert response.status_code == 400
    assert "level" in response.json()["errors"]


def test_refusal_reason_speaks_french(mali, ml_editor, api_client):
    api_client.force_authenticate(ml_editor)

    response = api_client.patch(
        f"/api/v1/advisories/{mali.pk}/", {"level": 1}, headers={"Accept-Language": "fr"}
    )

    assert response.status_code == 409
    assert response.json()["detail"].startswith("Seuls les brouillons sont modifiables")


def test_public_list_query_count_does_not_grow_with_versions(
    mali, lb_editor, lb_approver, api_client, django_assert_num_queries
):
    publish(country_code="LB", editor=lb_editor, approver=lb_approver, level=2)

    with django_assert_num_queries(2):  # versions with their country, then their overrides
        response = api_client.get("/api/v1/advisories/")

    assert len(response.json()["results"]) == 2


def test_acceptance_mali_north_then_whole_country_through_the_api(
    ml_editor, ml_approver, api_client, risk_events, django_capture_on_commit_callbacks
):
    def publish_through_api(payload: dict) -> str:
        api_client.force_authenticate(ml_editor)
        advisory_id = api_client.post("/api/v1/advisories/", {"country": "ML", **payload}).json()[
            "id"
        ]
        assert api_client.post(f"/api/v1/advisories/{advisory_id}/submit/").status_code == 200
        api_client.force_authenticate(ml_approver)
        approved = api_client.post(
            f"/api/v1/advisories/{advisory_id}/approve/", {"confirm_reach": True}
        )
        assert approved.json()["status"] == "published"
        return advisory_id

    with django_capture_on_commit_callbacks(execute=True):
        publish_through_api(
            {
                **TEXTS,
                "level": 3,
                "overrides": [{"region": code, "level": level} for code, level in MALI_NORTH],
            }
        )
    api_client.force_authenticate(None)
    levels = {
        region["code"]: region["level"]
        for region in api_client.get("/api/v1/countries/ML/").json()["regions"]
    }
    assert levels == {"ML-BKO": 3, **{f"ML-{n}": 3 if n <= 5 else 4 for n in range(1, 11)}}
    risk_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        second = publish_through_api({"level": 4, "overrides": []})

    assert len(risk_events) == 1
    assert risk_events[0].advisory_id == second
    assert {change.region_code for change in risk_events[0].changes} == {
        "ML-1",
        "ML-2",
        "ML-3",
        "ML-4",
        "ML-5",
        "ML-BKO",
    }
    assert {(change.old_level, change.new_level) for change in risk_events[0].changes} == {(3, 4)}


def test_a_published_since_with_an_offset_postgresql_refuses_is_read_in_utc(api_client, geography):
    """ISO 8601 allows -18:32, PostgreSQL stops at 15:59: the filter answered 500."""
    response = api_client.get("/api/v1/advisories/", {"published_since": "2026-11-13T18:06-18:32"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "since", ["2026-02-30T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00-23:00"]
)
def test_a_published_since_that_is_no_moment_is_a_400(api_client, geography, since):
    response = api_client.get("/api/v1/advisories/", {"published_since": since})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["published_since"]


def test_telling_the_changed_regions_without_a_change_note_answers_400_in_french(
    ml_editor, api_client
):
    api_client.force_authenticate(ml_editor)
    draft = api_client.post("/api/v1/advisories/", {"country": "ML", **TEXTS}, format="json")

    response = api_client.patch(
        f"/api/v1/advisories/{draft.json()['id']}/",
        {"notify": "changed_regions", "change_note_en": "Leave Gao now."},
        format="json",
        headers={"Accept-Language": "fr"},
    )

    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["change_note_fr"]
    assert body["detail"].startswith("Rédigez la note de modification")
    saved = api_client.get(f"/api/v1/advisories/{draft.json()['id']}/").json()
    assert (saved["notify"], saved["change_note_en"]) == ("level_changes", "")


def test_a_choice_of_whom_to_tell_is_drafted_and_shown(ml_editor, api_client):
    api_client.force_authenticate(ml_editor)

    response = api_client.post(
        "/api/v1/advisories/",
        {
            "country": "ML",
            "notify": "country",
            "change_note_en": "Leave the country.",
            "change_note_fr": "Quittez le pays.",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["notify"] == "country"


def test_a_region_of_another_country_answers_400_and_saves_nothing(ml_editor, api_client):
    api_client.force_authenticate(ml_editor)

    response = api_client.post(
        "/api/v1/advisories/",
        {"country": "ML", "overrides": [{"region": "LB-BA", "level": 4}]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["overrides"]
    assert not Advisory.objects.exists()
