"""The approver's review of a version: what it changes, whom it tells (counted as the fan-out
writes), its text messages, and the confirmation an approval that tells nobody needs."""

from collections import Counter

import pytest

from accounts.models import Membership
from advisories import review, services
from advisories.events import Notify
from advisories.models import Advisory
from core.exceptions import ValidationFailed
from notifications.models import Delivery
from tests.accounts.factories import login_verified, staff_at
from tests.advisories.conftest import TEXTS, publish
from tests.notifications.conftest import make_citizen

pytestmark = [pytest.mark.postgres]

GAO_NOTE = ("Avoid travel north of Gao.", "Évitez de voyager au nord de Gao.")
LEAVE_NOTE = ("Leave now by commercial flight.", "Partez maintenant par vol commercial.")
CHANGE_NOTES = {
    "change_note_en": "Fighting reported around Gao.",
    "change_note_fr": "Combats signalés autour de Gao.",
}


@pytest.fixture
def eager(monkeypatch):
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def mali(ml_editor, ml_approver, django_capture_on_commit_callbacks):
    """Mali at 3, Gao (ML-7) at 4 with its note; people in Gao (English and French), Kayes,
    Mali with no region, and Beirut."""
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            country_code="ML",
            editor=ml_editor,
            approver=ml_approver,
            level=3,
            overrides=[("ML-7", 4, *GAO_NOTE)],
        )
    return {
        "gao_en": make_citizen("ML-7", name="Awa"),
        "gao_fr": make_citizen("ML-7", language="fr", name="Fatou", sms=False),
        "kayes": make_citizen("ML-1", name="Moussa"),
        "mali": make_citizen(None, country_code="ML", language="fr", name="Binta"),
        "beirut": make_citizen("LB-BA", name="Rami"),
    }


def leave_now(editor, *, notify=Notify.CHANGED_REGIONS, **fields) -> Advisory:
    draft = services.advisory_draft_create(
        country_code="ML",
        author=editor,
        fields={**TEXTS, "country_level": 3, "notify": notify, **CHANGE_NOTES, **fields},
        overrides=[services.OverrideInput("ML-7", 4, *LEAVE_NOTE)],
    )
    return services.advisory_submit(advisory=draft, submitted_by=editor)


def test_the_reach_shown_is_the_rows_the_fan_out_writes(
    mali, ml_editor, ml_approver, eager, django_capture_on_commit_callbacks
):
    version = leave_now(ml_editor)

    found = review.advisory_review(advisory=version)
    with django_capture_on_commit_callbacks(execute=True):
        services.advisory_approve(advisory=version, approved_by=ml_approver)

    rows = Delivery.objects.filter(alert__advisory=version)
    assert found.reach.people == len({row.citizen_id for row in rows}) == 3
    assert found.reach.messages == rows.count() == 5
    assert dict(found.reach.by_channel) == dict(Counter(rows.values_list("channel", flat=True)))
    by_region = Counter(rows.values_list("region_code", "channel"))
    assert {
        (code, channel): n
        for code, counts in found.reach.by_region.items()
        for channel, n in counts.items()
        if channel != "people"
    } == dict(by_region)
    assert found.reach.by_region["ML-7"]["people"] == 2
    assert found.reach.by_region[""]["people"] == 1
    assert found.reach.by_language["fr"]["people"] == 2
    assert not found.warnings


def test_the_text_messages_are_shown_with_their_parts_for_each_kind_of_reader(mali, ml_editor):
    version = leave_now(ml_editor)

    found = review.advisory_review(advisory=version)

    readers = {(preview.language, preview.region_code): preview for preview in found.sms}
    assert set(readers) == {("en", ""), ("en", "ML-7"), ("fr", ""), ("fr", "ML-7")}
    gao = readers[("en", "ML-7")]
    assert gao.text.startswith("CONSULAR ALERT Gao: new advice, still level 4, Do not travel.")
    assert "Leave now by commercial flight." in gao.text
    assert gao.segments <= 2
    assert readers[("fr", "")].text.startswith("ALERTE CONSULAIRE Mali")


def test_approving_a_version_that_tells_nobody_needs_confirming(mali, ml_editor, ml_approver):
    version = leave_now(ml_editor, notify=Notify.LEVEL_CHANGES, body_en="Same levels.")

    with pytest.raises(ValidationFailed) as refused:
        services.advisory_approve(advisory=version, approved_by=ml_approver)

    assert (refused.value.field, refused.value.code) == ("confirm_reach", "confirmation_required")
    message = str(refused.value.message)
    assert "Approving this version tells nobody." in message
    # Gao's advice changes, two people are registered there, and nobody tells them.
    assert "2 people registered in Gao" in message
    version.refresh_from_db()
    assert version.status == Advisory.Status.SUBMITTED
    approved = services.advisory_approve(
        advisory=version, approved_by=ml_approver, confirm_reach=True
    )
    assert approved.status == Advisory.Status.PUBLISHED


def test_a_version_that_tells_people_is_approved_without_confirming(mali, ml_editor, ml_approver):
    version = leave_now(ml_editor)

    approved = services.advisory_approve(advisory=version, approved_by=ml_approver)

    assert approved.status == Advisory.Status.PUBLISHED


def test_the_review_page_shows_the_approver_the_diff_the_reach_and_the_buttons(
    mali, ml_editor, ml_approver, client
):
    version = leave_now(
        ml_editor, indicators=["terrorism", "kidnapping"], posture="ordered_departure"
    )
    login_verified(client, ml_approver)

    response = client.get(f"/staff/advisories/{version.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0, no-cache, no-store")
    assert "3 people, 5 messages" in page
    assert "<del>Avoid travel north of Gao.</del>" in page
    assert "<ins>Leave now by commercial flight.</ins>" in page
    # Indicators as labels, never as their codes.
    assert "Kidnapping" in page
    assert "kidnapping" not in page.replace("Kidnapping", "")
    assert "<ins>Ordered departure</ins>" in page
    assert "Approve and publish" in page
    assert "Reject" in page


def test_the_review_page_speaks_french_to_a_french_approver(mali, ml_editor, ml_approver, client):
    version = leave_now(ml_editor, indicators=["terrorism"])
    login_verified(client, ml_approver)
    client.cookies["django_language"] = "fr"

    page = client.get(f"/staff/advisories/{version.pk}/").content.decode()

    assert "3 personnes, 5 messages" in page
    assert "Terrorisme" in page
    assert "Approuver et publier" in page


def test_the_approver_approves_with_the_button_after_confirming(
    mali, ml_editor, ml_approver, client
):
    version = leave_now(ml_editor, notify=Notify.LEVEL_CHANGES)
    login_verified(client, ml_approver)

    refused = client.post(f"/staff/advisories/{version.pk}/", {"action": "approve"})
    version.refresh_from_db()
    assert refused.status_code == 200
    assert "Approving this version tells nobody." in refused.content.decode()
    assert version.status == Advisory.Status.SUBMITTED

    approved = client.post(
        f"/staff/advisories/{version.pk}/",
        {"action": "approve", "confirm_reach": "on"},
        follow=True,
    )
    version.refresh_from_db()
    assert version.status == Advisory.Status.PUBLISHED
    assert "Approved and published." in approved.content.decode()


def test_the_editor_submits_with_the_button_and_cannot_approve(ml_editor, client, geography):
    draft = services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": 2}
    )
    login_verified(client, ml_editor)

    client.post(f"/staff/advisories/{draft.pk}/", {"action": "submit"})
    page = client.get(f"/staff/advisories/{draft.pk}/").content.decode()
    refused = client.post(
        f"/staff/advisories/{draft.pk}/", {"action": "approve", "confirm_reach": "on"}
    )

    draft.refresh_from_db()
    assert draft.status == Advisory.Status.SUBMITTED
    assert "Approve and publish" not in page
    assert "Only an approver of a post covering this country" in refused.content.decode()


def test_the_approver_rejects_with_a_reason(mali, ml_editor, ml_approver, client):
    version = leave_now(ml_editor)
    login_verified(client, ml_approver)

    without = client.post(f"/staff/advisories/{version.pk}/", {"action": "reject"})
    client.post(f"/staff/advisories/{version.pk}/", {"action": "reject", "reason": "Too vague."})

    assert without.status_code == 200
    version.refresh_from_db()
    assert version.status == Advisory.Status.DRAFT


@pytest.mark.parametrize("role", [Membership.Role.OFFICER, "beirut-approver"])
def test_the_review_is_not_found_for_staff_outside_its_writers_and_approvers(
    mali, ml_editor, client, role
):
    version = leave_now(ml_editor)
    user = (
        staff_at("LB", Membership.Role.APPROVER, username="beirut-ap")
        if role == "beirut-approver"
        else staff_at("ML", role, username="bamako-officer-2")
    )
    login_verified(client, user)

    assert client.get(f"/staff/advisories/{version.pk}/").status_code == 404
    assert client.post(f"/staff/advisories/{version.pk}/", {"action": "reject"}).status_code == 404
    assert str(version.pk) not in client.get("/staff/advisories/").content.decode()


def test_the_list_shows_the_versions_in_review_of_the_users_countries(
    mali, ml_editor, ml_approver, client
):
    version = leave_now(ml_editor)
    login_verified(client, ml_approver)

    page = client.get("/staff/advisories/").content.decode()

    assert f"/staff/advisories/{version.pk}/" in page
    assert "Mali" in page


def test_the_api_review_and_an_unconfirmed_approval(mali, ml_editor, ml_approver, api_client):
    version = leave_now(ml_editor, notify=Notify.LEVEL_CHANGES)
    api_client.force_authenticate(ml_approver)

    found = api_client.get(f"/api/v1/advisories/{version.pk}/review/").json()
    refused = api_client.post(f"/api/v1/advisories/{version.pk}/approve/", {})
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="fr")
    refused_fr = api_client.post(f"/api/v1/advisories/{version.pk}/approve/", {})

    assert found["reach"] is None
    assert found["untold_people"] == {"ML-7": 2}
    assert len(found["warnings"]) == 2
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["confirm_reach"]
    assert "Approuver cette version ne prévient personne." in str(refused_fr.json())
    version.refresh_from_db()
    assert version.status == Advisory.Status.SUBMITTED
