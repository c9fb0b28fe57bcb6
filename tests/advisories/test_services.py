from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from accounts.models import Membership
from advisories import selectors, services
from advisories.events import RegionAdviceChange, RegionLevelChange, RiskLevelChanged
from advisories.models import Advisory, Transition
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from tests.accounts.factories import MembershipFactory, UserFactory, staff_at
from tests.advisories.conftest import MALI_NORTH, TEXTS, publish

MALI = {f"ML-{n}" for n in range(1, 11)} | {"ML-BKO"}


def test_mali_north_then_whole_country_emits_one_event_with_the_six_changed_regions(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = publish(
            country_code="ML",
            editor=ml_editor,
            approver=ml_approver,
            level=3,
            overrides=MALI_NORTH,
        )
    assert selectors.region_levels(country_code="ML") == {
        **dict.fromkeys(MALI, 3),
        **{f"ML-{n}": 4 for n in range(6, 11)},
    }
    assert len(risk_events) == 1
    assert {change.old_level for change in risk_events[0].changes} == {None}
    risk_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        draft = services.advisory_draft_create(
            country_code="ML", author=ml_editor, fields={"country_level": 4}, overrides=[]
        )
        services.advisory_submit(advisory=draft, submitted_by=ml_editor)
        second = services.advisory_approve(
            advisory=draft, approved_by=ml_approver, confirm_reach=True
        )

    assert risk_events == [
        RiskLevelChanged(
            advisory_id=str(second.pk),
            country_code="ML",
            changes=tuple(
                RegionLevelChange(region_code=code, old_level=3, new_level=4)
                for code in sorted({"ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-BKO"})
            ),
        )
    ]
    first.refresh_from_db()
    assert first.status == Advisory.Status.SUPERSEDED
    assert second.supersedes == first
    assert (first.version, second.version) == (1, 2)
    assert selectors.region_levels(country_code="ML") == dict.fromkeys(MALI, 4)


def test_publish_with_no_level_change_publishes_no_event(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=2)

    with django_capture_on_commit_callbacks(execute=True):
        draft = services.advisory_draft_create(
            country_code="ML", author=ml_editor, fields={"body_en": "New wording only."}
        )
        services.advisory_submit(advisory=draft, submitted_by=ml_editor)
        published = services.advisory_approve(
            advisory=draft, approved_by=ml_approver, confirm_reach=True
        )

    assert published.status == Advisory.Status.PUBLISHED
    assert risk_events == []
    assert published.level_changes.count() == 0


def test_event_waits_for_the_commit(ml_editor, ml_approver, risk_events):
    publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=2)

    assert risk_events == []  # the test's transaction never commits


def test_nested_subdivisions_inherit_their_parents_override(geography):
    editor = staff_at("FR", Membership.Role.EDITOR)
    approver = staff_at("FR", Membership.Role.APPROVER)

    publish(
        country_code="FR",
        editor=editor,
        approver=approver,
        level=1,
        overrides=[("FR-IDF", 3), ("FR-75C", 2)],
    )

    levels = selectors.region_levels(country_code="FR")
    assert levels["FR-IDF"] == 3
    assert levels["FR-75C"] == 2  # its own override wins
    assert levels["FR-92"] == 3  # Hauts-de-Seine inherits from Île-de-France
    assert levels["FR-69"] == 1
    assert selectors.region_level(region_code="FR-92") == 3


def test_region_level_without_advisory_is_none(geography):
    assert selectors.region_level(region_code="ML-7") is None
    assert selectors.region_levels(country_code="ML") == {}


def test_new_draft_starts_from_the_current_version(ml_editor, ml_approver):
    current = publish(
        country_code="ML",
        editor=ml_editor,
        approver=ml_approver,
        level=3,
        overrides=MALI_NORTH,
        indicators=["terrorism"],
    )

    draft = services.advisory_draft_create(country_code="ML", author=ml_editor)

    assert draft.status == Advisory.Status.DRAFT
    assert draft.based_on == current
    assert draft.country_level == 3
    assert draft.indicators == ["terrorism"]
    assert draft.summary_en == TEXTS["summary_en"]
    assert dict(draft.overrides.values_list("region_id", "level")) == dict(MALI_NORTH)


def test_editor_of_another_post_cannot_draft(lb_editor):
    with pytest.raises(PermissionDenied):
        services.advisory_draft_create(country_code="ML", author=lb_editor)


def test_approver_role_does_not_allow_drafting(ml_approver):
    with pytest.raises(PermissionDenied):
        services.advisory_draft_create(country_code="ML", author=ml_approver)


def test_override_outside_the_country_is_refused(ml_editor):
    with pytest.raises(ValidationFailed) as refusal:
        services.advisory_draft_create(
            country_code="ML",
            author=ml_editor,
            overrides=[services.OverrideInput("LB-BA", 4)],
        )
    assert refusal.value.field == "overrides"


def test_level_outside_one_to_four_is_refused(ml_editor):
    with pytest.raises(ValidationFailed):
        services.advisory_draft_create(
            country_code="ML", author=ml_editor, fields={"country_level": 5}
        )


def test_unknown_indicator_is_refused(ml_editor):
    with pytest.raises(ValidationFailed):
        services.advisory_draft_create(
            country_code="ML", author=ml_editor, fields={"indicators": ["aliens"]}
        )


def test_submit_needs_the_summary_in_both_languages(ml_editor):
    draft = services.advisory_draft_create(
        country_code="ML", author=ml_editor, fields={"summary_en": "English only"}
    )

    with pytest.raises(ValidationFailed) as refusal:
        services.advisory_submit(advisory=draft, submitted_by=ml_editor)
    assert refusal.value.field == "summary_fr"


def test_author_cannot_approve_their_own_draft(geography):
    both = staff_at("ML", Membership.Role.EDITOR)
    MembershipFactory(user=both, post=both.memberships.get().post, role=Membership.Role.APPROVER)
    draft = services.advisory_draft_create(country_code="ML", author=both, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=both)

    with pytest.raises(PermissionDenied) as refusal:
        services.advisory_approve(advisory=draft, approved_by=both, confirm_reach=True)

    assert refusal.value.code == "four_eyes"
    draft.refresh_from_db()
    assert draft.status == Advisory.Status.SUBMITTED


def test_an_approver_who_edited_the_draft_cannot_approve_it(ml_editor, geography):
    both = staff_at("ML", Membership.Role.APPROVER)
    MembershipFactory(user=both, post=both.memberships.get().post, role=Membership.Role.EDITOR)
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    services.advisory_draft_update(advisory=draft, editor=both, fields={"country_level": 2})
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)

    with pytest.raises(PermissionDenied):
        services.advisory_approve(advisory=draft, approved_by=both, confirm_reach=True)


def test_approver_of_another_post_cannot_approve(ml_editor, lb_approver):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)

    with pytest.raises(PermissionDenied):
        services.advisory_approve(advisory=draft, approved_by=lb_approver, confirm_reach=True)


def test_draft_cannot_be_approved_before_submission(ml_editor, ml_approver):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)

    with pytest.raises(Conflict):
        services.advisory_approve(advisory=draft, approved_by=ml_approver, confirm_reach=True)


def test_published_version_is_immutable(ml_editor, ml_approver):
    published = publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=2)

    with pytest.raises(Conflict) as refusal:
        services.advisory_draft_update(
            advisory=published, editor=ml_editor, fields={"country_level": 4}
        )
    assert refusal.value.code == "not_a_draft"


def test_submitted_version_cannot_be_edited(ml_editor):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)

    with pytest.raises(Conflict):
        services.advisory_draft_update(advisory=draft, editor=ml_editor, fields={"body_en": "x"})


def test_reject_returns_the_draft_with_the_reason(ml_editor, ml_approver):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)

    services.advisory_reject(advisory=draft, rejected_by=ml_approver, reason="Cite the source.")

    draft.refresh_from_db()
    assert draft.status == Advisory.Status.DRAFT
    last = draft.transitions.last()
    assert (last.action, last.actor, last.comment) == ("reject", ml_approver, "Cite the source.")
    services.advisory_draft_update(advisory=draft, editor=ml_editor, fields={"body_en": "Source."})


def test_reject_needs_a_reason(ml_editor, ml_approver):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=ml_editor)

    with pytest.raises(ValidationFailed):
        services.advisory_reject(advisory=draft, rejected_by=ml_approver, reason=" ")


def test_editor_withdraws_a_draft(ml_editor):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)

    services.advisory_withdraw(advisory=draft, withdrawn_by=ml_editor)

    draft.refresh_from_db()
    assert draft.status == Advisory.Status.WITHDRAWN
    with pytest.raises(Conflict):
        services.advisory_submit(advisory=draft, submitted_by=ml_editor)


def test_only_an_approver_withdraws_the_current_advisory(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    published = publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)

    with pytest.raises(PermissionDenied):
        services.advisory_withdraw(advisory=published, withdrawn_by=ml_editor, reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        services.advisory_withdraw(
            advisory=published, withdrawn_by=ml_approver, reason="Issued in error."
        )

    assert selectors.advisory_current(country_code="ML") is None
    assert risk_events == []


def test_every_transition_is_recorded(ml_editor, ml_approver):
    published = publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=2)

    trail = list(published.transitions.values_list("action", "actor__username", "to_status"))

    assert trail == [
        ("create", "ml-editor", "draft"),
        ("submit", "ml-editor", "submitted"),
        ("approve", "ml-approver", "scheduled"),
        ("publish", "ml-approver", "published"),
    ]


def test_database_refuses_two_current_versions(ml_editor, ml_approver):
    published = publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=2)
    other = services.advisory_draft_create(country_code="ML", author=ml_editor)

    with pytest.raises(IntegrityError), transaction.atomic():
        Advisory.objects.filter(pk=other.pk).update(
            status=Advisory.Status.PUBLISHED, published_at=published.published_at, version=9
        )


def test_database_refuses_a_level_outside_one_to_four(ml_editor):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor)

    with pytest.raises(IntegrityError), transaction.atomic():
        Advisory.objects.filter(pk=draft.pk).update(country_level=0)


def test_scheduled_version_publishes_when_its_time_comes(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        approved = publish(
            country_code="ML",
            editor=ml_editor,
            approver=ml_approver,
            level=4,
            scheduled_for=start + timedelta(hours=2),
        )
        assert approved.status == Advisory.Status.SCHEDULED
        assert services.advisories_publish_due() == []

    with (
        time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        published_ids = services.advisories_publish_due()

    assert published_ids == [str(approved.pk)]
    approved.refresh_from_db()
    assert approved.status == Advisory.Status.PUBLISHED
    assert approved.published_at == start + timedelta(hours=2, minutes=1)
    assert approved.transitions.last().actor is None
    assert len(risk_events) == 1
    assert services.advisories_publish_due() == []


def test_cancelled_schedule_never_publishes(ml_editor, ml_approver):
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        approved = publish(
            country_code="ML",
            editor=ml_editor,
            approver=ml_approver,
            level=4,
            scheduled_for=start + timedelta(hours=1),
        )
        services.advisory_withdraw(advisory=approved, withdrawn_by=ml_approver)

    with time_machine.travel(start + timedelta(days=1), tick=False):
        assert services.advisories_publish_due() == []


def test_superuser_is_still_bound_by_four_eyes(lb_editor):
    admin = UserFactory(is_superuser=True)
    draft = services.advisory_draft_create(country_code="LB", author=admin, fields=TEXTS)
    services.advisory_submit(advisory=draft, submitted_by=admin)

    with pytest.raises(PermissionDenied):
        services.advisory_approve(advisory=draft, approved_by=admin, confirm_reach=True)
    assert Transition.objects.filter(advisory=draft, action="approve").count() == 0


CHANGE_NOTES = {
    "change_note_en": "Fighting around Gao: leave by the safest route.",
    "change_note_fr": "Combats autour de Gao : partez par la route la plus sure.",
}


def gao_at_4(editor, approver, *, note_en="", note_fr="", **fields):
    return publish(
        country_code="ML",
        editor=editor,
        approver=approver,
        level=3,
        overrides=[("ML-7", 4, note_en, note_fr)],
        **fields,
    )


def test_an_advice_only_version_telling_the_changed_regions_publishes_them(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    gao_at_4(ml_editor, ml_approver, note_en="Avoid the north.")
    risk_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        published = gao_at_4(
            ml_editor,
            ml_approver,
            note_en="Leave now by commercial flight.",
            note_fr="Quittez le pays par vol commercial.",
            notify="changed_regions",
            **CHANGE_NOTES,
        )

    assert risk_events == [
        RiskLevelChanged(
            advisory_id=str(published.pk),
            country_code="ML",
            changes=(),
            notify_code="changed_regions",
            advice_changes=(RegionAdviceChange(region_code="ML-7", new_level=4),),
        )
    ]
    assert published.level_changes.count() == 0


def test_an_advice_only_version_telling_level_changes_only_publishes_no_event(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    gao_at_4(ml_editor, ml_approver)
    risk_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        gao_at_4(ml_editor, ml_approver, note_en="Leave now.")

    assert risk_events == []


def test_a_version_telling_the_country_publishes_even_when_nothing_changed(
    ml_editor, ml_approver, risk_events, django_capture_on_commit_callbacks
):
    gao_at_4(ml_editor, ml_approver)
    risk_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        published = gao_at_4(ml_editor, ml_approver, notify="country", **CHANGE_NOTES)

    assert [(event.advisory_id, event.notify_code, event.changes) for event in risk_events] == [
        (str(published.pk), "country", ())
    ]


def test_a_nested_subdivision_follows_its_parents_regional_advice(
    risk_events, django_capture_on_commit_callbacks, geography
):
    editor = staff_at("FR", Membership.Role.EDITOR)
    approver = staff_at("FR", Membership.Role.APPROVER)
    publish(country_code="FR", editor=editor, approver=approver, level=1, overrides=[("FR-IDF", 2)])
    risk_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        publish(
            country_code="FR",
            editor=editor,
            approver=approver,
            level=1,
            overrides=[("FR-IDF", 2, "Strikes: expect no trains.")],
            notify="changed_regions",
            **CHANGE_NOTES,
        )

    [event] = risk_events
    changed = {change.region_code for change in event.advice_changes}
    assert {"FR-IDF", "FR-75C", "FR-92"} <= changed
    assert "FR-69" not in changed
    assert {change.new_level for change in event.advice_changes} == {2}


def test_a_new_draft_tells_level_changes_only_whatever_the_last_version_told(
    ml_editor, ml_approver
):
    gao_at_4(ml_editor, ml_approver, notify="country", **CHANGE_NOTES)

    draft = services.advisory_draft_create(country_code="ML", author=ml_editor)

    assert draft.notify == "level_changes"
    assert draft.change_note_en == ""


@pytest.mark.parametrize("missing", ["change_note_en", "change_note_fr"])
def test_telling_more_people_needs_the_change_note_in_each_language(ml_editor, missing):
    draft = services.advisory_draft_create(country_code="ML", author=ml_editor, fields=TEXTS)

    with pytest.raises(ValidationFailed) as refusal:
        services.advisory_draft_update(
            advisory=draft,
            editor=ml_editor,
            fields={"notify": "changed_regions", **CHANGE_NOTES, missing: "  "},
        )

    assert refusal.value.field == missing
    draft.refresh_from_db()
    assert (draft.notify, draft.change_note_en) == ("level_changes", "")


def test_an_unknown_choice_of_whom_to_tell_is_refused(ml_editor):
    with pytest.raises(ValidationFailed) as refusal:
        services.advisory_draft_create(
            country_code="ML", author=ml_editor, fields={"notify": "everyone"}
        )

    assert refusal.value.field == "notify"
    assert not Advisory.objects.exists()
