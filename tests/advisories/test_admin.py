import pytest

from advisories import services
from advisories.models import Advisory
from tests.accounts.factories import login_verified
from tests.advisories.conftest import TEXTS, publish
from tests.registrations.factories import PresenceFactory

CHANGELIST = "/admin/advisories/advisory/"


@pytest.fixture
def lebanon_draft(lb_editor):
    return services.advisory_draft_create(country_code="LB", author=lb_editor, fields=TEXTS)


def test_staff_see_only_their_posts_countries(ml_editor, lebanon_draft, client):
    mali_draft = services.advisory_draft_create(country_code="ML", author=ml_editor)
    login_verified(client, ml_editor)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    listed = {advisory.pk for advisory in response.context["cl"].result_list}
    assert listed == {mali_draft.pk}
    assert client.get(f"{CHANGELIST}{lebanon_draft.pk}/change/").status_code == 302


def test_editor_creates_a_draft_from_the_current_version(ml_editor, ml_approver, client):
    current = publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)
    login_verified(client, ml_editor)

    response = client.post(f"{CHANGELIST}add/", {"country": "ML"})

    draft = Advisory.objects.get(status=Advisory.Status.DRAFT)
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{draft.pk}/change/"
    assert draft.based_on == current
    assert draft.summary_en == TEXTS["summary_en"]


def test_editor_cannot_draft_for_another_country(ml_editor, lb_editor, client):
    login_verified(client, ml_editor)

    response = client.post(f"{CHANGELIST}add/", {"country": "LB"})

    assert response.status_code == 200  # the form again, with the error
    assert not Advisory.objects.exists()


def test_submit_then_approve_through_admin_actions(ml_editor, ml_approver, client):
    PresenceFactory(region_id="ML-7")
    draft = services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": 4}
    )
    login_verified(client, ml_editor)
    client.post(CHANGELIST, {"action": "submit", "_selected_action": [draft.pk]})
    login_verified(client, ml_approver)

    client.post(CHANGELIST, {"action": "approve", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.status == Advisory.Status.PUBLISHED
    assert draft.approved_by == ml_approver


def test_an_admin_approval_that_tells_nobody_is_refused_with_a_link_to_the_review(
    ml_editor, ml_approver, client
):
    draft = services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={**TEXTS, "country_level": 4}
    )
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)
    login_verified(client, ml_approver)

    response = client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [draft.pk]}, follow=True
    )

    draft.refresh_from_db()
    assert draft.status == Advisory.Status.SUBMITTED
    assert "Approving this version tells nobody." in response.content.decode()
    assert f"/staff/advisories/{draft.pk}/" in response.content.decode()


def test_editor_has_no_approve_action(ml_editor, client):
    login_verified(client, ml_editor)

    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices

    assert "approve" not in {name for name, _label in actions}


def test_admin_approval_of_your_own_draft_is_refused_with_the_reason(geography, client):
    from accounts.models import Membership
    from tests.accounts.factories import MembershipFactory, staff_at

    both = staff_at("ML", Membership.Role.EDITOR)
    MembershipFactory(user=both, post=both.memberships.get().post, role=Membership.Role.APPROVER)
    draft = services.advisory_draft_create(country_code="ML", author=both, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=both)
    login_verified(client, both)

    response = client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [draft.pk]}, follow=True
    )

    assert "another approver must approve it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Advisory.Status.SUBMITTED


def test_reject_asks_for_a_reason_first(ml_editor, ml_approver, client):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)
    login_verified(client, ml_approver)

    page = client.post(CHANGELIST, {"action": "reject", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert page.status_code == 200
    assert draft.status == Advisory.Status.SUBMITTED

    client.post(
        CHANGELIST,
        {"action": "reject", "_selected_action": [draft.pk], "apply": "1", "reason": "Typo."},
    )

    draft.refresh_from_db()
    assert draft.status == Advisory.Status.DRAFT
    assert draft.transitions.last().comment == "Typo."


def test_published_version_opens_read_only(ml_editor, ml_approver, client):
    published = publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=2)
    login_verified(client, ml_editor)
    url = f"{CHANGELIST}{published.pk}/change/"

    page = client.get(url)
    refused = client.post(url, {"country_level": 4})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert refused.status_code == 403
    published.refresh_from_db()
    assert published.country_level == 2


def test_sign_in_page_renders_for_anonymous_visitors(client, geography):
    assert client.get("/admin/login/").status_code == 200


def test_the_approver_sees_whom_a_submitted_version_tells(ml_editor, ml_approver, client):
    draft = services.advisory_draft_create(
        country_code="ML",
        author=ml_editor,
        fields={
            **TEXTS,
            "notify": "changed_regions",
            "change_note_en": "Leave Gao now.",
            "change_note_fr": "Quittez Gao maintenant.",
        },
    )
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)
    login_verified(client, ml_approver)

    page = client.get(f"{CHANGELIST}{draft.pk}/change/")

    assert page.status_code == 200
    assert "The people in regions whose level or regional advice changed" in page.text


def test_the_admin_refuses_a_choice_to_tell_without_the_change_note(ml_editor, client):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    login_verified(client, ml_editor)
    url = f"{CHANGELIST}{draft.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "notify": "country",
            "indicators": [],
            "regionoverride_set-TOTAL_FORMS": "0",
            "regionoverride_set-INITIAL_FORMS": "0",
            "overrides-TOTAL_FORMS": "0",
            "overrides-INITIAL_FORMS": "0",
            "transitions-TOTAL_FORMS": "0",
            "transitions-INITIAL_FORMS": "0",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert "change_note_en" in response.context["adminform"].form.errors
    draft.refresh_from_db()
    assert draft.notify == "level_changes"


def test_a_submitted_version_shows_its_indicators_as_labels_and_its_review(
    ml_editor, ml_approver, client
):
    draft = services.advisory_draft_create(
        country_code="ML",
        author=ml_editor,
        fields={**TEXTS, "country_level": 4, "indicators": ["terrorism", "kidnapping"]},
    )
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)
    login_verified(client, ml_approver)

    page = client.get(f"{CHANGELIST}{draft.pk}/change/").content.decode()

    assert "Terrorism, Kidnapping" in page
    assert '"kidnapping"' not in page
    assert f"/staff/advisories/{draft.pk}/" in page
