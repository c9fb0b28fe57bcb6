"""A publication tells the people the editor chose, each in words true for their region:
what changed there (a level, or only the advice), or, with no region, what changed region by
region."""

import threading

import pytest
from django.core import mail
from django.db import connection

from accounts.models import Membership, Post
from advisories import services
from advisories.events import Notify, RegionAdviceChange, RiskLevelChanged
from advisories.models import Advisory
from core import sms
from core.exceptions import Conflict, ValidationFailed
from notifications import alerts
from notifications.models import Alert, Delivery
from notifications.recipients import ledger_rows_sql
from tests.accounts.factories import staff_at
from tests.advisories.conftest import publish
from tests.notifications.conftest import make_citizen

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks", "geography")]

GAO_NOTE = ("Avoid travel north of Gao.", "Évitez de voyager au nord de Gao.")
LEAVE_NOTE = ("Leave now by commercial flight.", "Partez maintenant par vol commercial.")
CHANGE_NOTES = {
    "change_note_en": "Fighting reported around Gao.",
    "change_note_fr": "Combats signalés autour de Gao.",
}


@pytest.fixture
def mali_with_gao_at_4(ml_staff, django_capture_on_commit_callbacks):
    """Mali at level 3, Gao (ML-7) at 4 with its note, already alerted."""
    editor, approver = ml_staff
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            country_code="ML",
            editor=editor,
            approver=approver,
            level=3,
            overrides=[("ML-7", 4, *GAO_NOTE)],
        )
    return editor, approver


@pytest.fixture
def people(mali_with_gao_at_4):
    """Citizens in Gao, in Kayes (ML-1), in Mali with no region, and in Lebanon."""
    mail.outbox.clear()
    sms.outbox.clear()
    return {
        "gao_en": make_citizen("ML-7", name="Awa"),
        "gao_fr": make_citizen("ML-7", language="fr", name="Fatou"),
        "kayes": make_citizen("ML-1", name="Moussa"),
        "mali_en": make_citizen(None, country_code="ML", name="Ali"),
        "mali_fr": make_citizen(None, country_code="ML", language="fr", name="Binta"),
        "beirut": make_citizen("LB-BA", name="Rami"),
    }


def republish(staff, callbacks, *, overrides, notify, level=3, **fields):
    editor, approver = staff
    with callbacks(execute=True):
        advisory = publish(
            country_code="ML",
            editor=editor,
            approver=approver,
            level=level,
            overrides=overrides,
            notify=notify,
            **{**CHANGE_NOTES, **fields},
        )
    return Alert.objects.filter(advisory=advisory).first()


def emails_to(citizen):
    return [message for message in mail.outbox if message.to == [citizen.email]]


def texts_to(citizen):
    return [message.text for message in sms.outbox if message.to == citizen.phone]


def test_advice_only_for_gao_reaches_gao_and_mali_without_region_each_in_their_words(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks
):
    Post.objects.filter(code="post-ml").update(emergency_phone="+223 20 00 00 00")
    alert = republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        overrides=[("ML-7", 4, *LEAVE_NOTE)],
        notify=Notify.CHANGED_REGIONS,
        posture="ordered_departure",
        assistance_note_en="Consular help is not guaranteed outside Bamako.",
        assistance_note_fr="L'aide consulaire n'est pas garantie hors de Bamako.",
    )

    assert alert.changes == [{"region_code": "ML-7", "old_level": 4, "new_level": 4}]
    reached = set(Delivery.objects.filter(alert=alert).values_list("citizen_id", "channel"))
    assert reached == {
        (people[name].id, channel)
        for name in ("gao_en", "gao_fr", "mali_en", "mali_fr")
        for channel in ("email", "sms")
    }
    assert Delivery.objects.filter(alert=alert).exclude(status="sent").count() == 0

    [gao_en] = emails_to(people["gao_en"])
    assert gao_en.subject == "New travel advice for Gao (level 4, Do not travel)"
    assert "The travel advice for Gao has changed. Its level stays the same" in gao_en.body
    assert "Leave now by commercial flight." in gao_en.body
    assert "Fighting reported around Gao." in gao_en.body
    assert "Register your presence" in gao_en.body  # the instructions
    assert "has changed from level" not in gao_en.body
    assert "Embassy posture: Ordered departure" in gao_en.body
    assert "Consular help is not guaranteed outside Bamako." in gao_en.body
    assert "24/7 emergency: +223 20 00 00 00" in gao_en.body
    assert "Embassy post-ml" in gao_en.body
    assert "/manage/" in gao_en.body
    [(html, _mime)] = gao_en.alternatives
    assert "Leave now by commercial flight." in html
    assert "has changed from level" not in html
    [gao_fr] = emails_to(people["gao_fr"])
    assert gao_fr.subject == (
        "Nouveaux conseils aux voyageurs pour Gao (niveau 4, Formellement déconseillé)"
    )
    assert "Partez maintenant par vol commercial." in gao_fr.body
    assert "L'aide consulaire n'est pas garantie hors de Bamako." in gao_fr.body
    assert "Combats signalés autour de Gao." in gao_fr.body
    [gao_sms] = texts_to(people["gao_en"])
    assert gao_sms.startswith(
        "CONSULAR ALERT Gao: new advice, still level 4, Do not travel. "
        "Leave now by commercial flight."
    )
    assert "/advisories/ML/" in gao_sms
    assert sms.segments(gao_sms) <= 2
    [gao_sms_fr] = texts_to(people["gao_fr"])
    assert gao_sms_fr.startswith("ALERTE CONSULAIRE Gao : nouveaux conseils, toujours niveau 4")

    [mali_en] = emails_to(people["mali_en"])
    assert mali_en.subject == "Travel advice update for Mali"
    assert "- Gao: new advice, still level 4, Do not travel.\n  Leave now" in mali_en.body
    assert "level 3" not in mali_en.body
    [mali_fr] = emails_to(people["mali_fr"])
    assert mali_fr.subject == "Mise à jour des conseils aux voyageurs pour Mali"
    assert "Gao : nouveaux conseils, toujours niveau 4, Formellement déconseillé." in mali_fr.body


def test_the_text_for_mali_without_region_names_each_changed_region_and_claims_nothing_else(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks
):
    # Gao keeps level 4 with new advice, Tombouctou goes 3 -> 4, Kayes 3 -> 2.
    alert = republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        overrides=[("ML-7", 4, *LEAVE_NOTE), ("ML-6", 4), ("ML-1", 2)],
        notify=Notify.CHANGED_REGIONS,
    )

    assert alert.region_codes == ["ML-1", "ML-6", "ML-7"]
    [email] = emails_to(people["mali_en"])
    region_lines = [line for line in email.body.splitlines() if line.startswith("- ")]
    assert region_lines == [
        "- Gao: new advice, still level 4, Do not travel.",
        "- Kayes: now level 2, Exercise increased caution.",
        "- Tombouctou: now level 4, Do not travel.",
    ]
    claims = email.body.lower()
    assert claims.count("level") == len(region_lines)
    for untrue in ("mali: level", "level 3", "is now level", "has changed from level"):
        assert untrue not in claims
    [text] = texts_to(people["mali_en"])
    assert text.startswith(
        "CONSULAR ALERT Mali: travel advice updated. "
        "Gao: new advice, still level 4, Do not travel. "
        "Kayes: now level 2, Exercise increased caution. "
        "Tombouctou: now level 4, Do not travel."
    )
    assert "level 3" not in text
    assert sms.segments(text) <= 2
    # Kayes' own readers are told of their own change, not of Gao's.
    [kayes] = emails_to(people["kayes"])
    assert kayes.subject == "Travel advice alert for Kayes: level 2, Exercise increased caution"
    assert "Gao" not in kayes.body.replace("Fighting reported around Gao.", "")


def test_a_long_list_of_changes_keeps_the_text_message_within_its_segments(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks
):
    # The whole country goes to level 4: every region's line would not fit.
    republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        level=4,
        overrides=[("ML-7", 4, *LEAVE_NOTE)],
        notify=Notify.CHANGED_REGIONS,
        assistance_note_en="Consular help is not guaranteed outside Bamako.",
    )

    [text] = texts_to(people["mali_en"])
    assert sms.segments(text) <= 3
    assert "more regions." in text
    assert text.endswith("Reply STOP to opt out.")
    assert "/advisories/ML/" in text


@pytest.mark.parametrize(
    ("notify", "reached"),
    [
        (Notify.LEVEL_CHANGES, {"mali_en", "mali_fr"}),  # ML-6's level alone changed
        (Notify.CHANGED_REGIONS, {"gao_en", "gao_fr", "mali_en", "mali_fr"}),
        (Notify.COUNTRY, {"gao_en", "gao_fr", "kayes", "mali_en", "mali_fr"}),
    ],
)
def test_each_choice_writes_exactly_the_rows_the_recipients_sql_selects(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks, notify, reached
):
    alert = republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        overrides=[("ML-7", 4, *LEAVE_NOTE), ("ML-6", 4)],
        notify=notify,
    )

    rows_sql, params = ledger_rows_sql(alert)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT citizen_id, channel FROM ({rows_sql}) rows", params)  # noqa: S608
        selected = set(cursor.fetchall())
    written = set(Delivery.objects.filter(alert=alert).values_list("citizen_id", "channel"))
    assert written == selected
    assert {citizen_id for citizen_id, _channel in written} == {people[n].id for n in reached}
    alert.refresh_from_db()
    assert alert.messages == len(written)


def test_country_readers_whose_region_did_not_change_are_told_so(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks
):
    republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        overrides=[("ML-7", 4, *LEAVE_NOTE)],
        notify=Notify.COUNTRY,
    )

    [kayes] = emails_to(people["kayes"])
    assert kayes.subject == "Travel advice update for Mali"
    assert "Nothing changed for Kayes: it stays at level 3 (Reconsider travel)." in kayes.body
    assert "- Gao: new advice, still level 4, Do not travel." in kayes.body
    [text] = texts_to(people["kayes"])
    assert "Kayes unchanged: level 3, Reconsider travel." in text


def test_an_advice_only_version_telling_level_changes_only_tells_nobody(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks
):
    alert = republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        overrides=[("ML-7", 4, *LEAVE_NOTE)],
        notify=Notify.LEVEL_CHANGES,
    )

    assert alert is None
    assert mail.outbox == []


def test_the_same_publication_twice_makes_one_alert(people, mali_with_gao_at_4):
    advisory = Advisory.objects.get(status=Advisory.Status.PUBLISHED)
    event = RiskLevelChanged(
        advisory_id=str(advisory.id),
        country_code="ML",
        changes=(),
        notify_code=Notify.CHANGED_REGIONS,
        advice_changes=(RegionAdviceChange(region_code="ML-7", new_level=4),),
    )
    Alert.objects.filter(advisory=advisory).delete()

    first = alerts.alert_create_for_level_change(event=event)
    second = alerts.alert_create_for_level_change(event=event)

    assert first.id == second.id
    assert Alert.objects.filter(advisory=advisory).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_version_approved_by_two_approvers_at_once_alerts_once(ml_staff):
    editor, approver = ml_staff
    other_approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver-2")
    publish(country_code="ML", editor=editor, approver=approver, level=3)
    make_citizen("ML-7", sms=False)
    draft = services.advisory_draft_create(
        country_code="ML",
        author=editor,
        fields={"notify": Notify.CHANGED_REGIONS, **CHANGE_NOTES},
        overrides=[services.OverrideInput("ML-7", 3, *LEAVE_NOTE)],
    )
    services.advisory_submit(advisory=draft, submitted_by=editor)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user) -> None:
        try:
            barrier.wait()
            services.advisory_approve(advisory=draft, approved_by=user, confirm_reach=True)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(user,)) for user in (approver, other_approver)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "conflict"]
    [alert] = Alert.objects.filter(advisory=draft)
    assert alert.region_codes == ["ML-7"]
    assert Delivery.objects.filter(alert=alert).count() == 1


def test_a_regional_note_longer_than_two_parts_is_kept_in_three_folded_to_gsm7(
    people, mali_with_gao_at_4, django_capture_on_commit_callbacks
):
    long_note = "Restez à l'intérieur, fenêtres fermées, et suivez les consignes. " * 3
    republish(
        mali_with_gao_at_4,
        django_capture_on_commit_callbacks,
        overrides=[("ML-7", 4, "Stay inside.", long_note)],
        notify=Notify.CHANGED_REGIONS,
    )

    [text] = texts_to(people["gao_fr"])
    assert text.startswith("ALERTE CONSULAIRE Gao : nouveaux conseils")
    # "ê" is not GSM-7: folded, the text costs 153 characters a part instead of 67.
    assert "fenetres fermées" in text
    assert "/advisories/ML/" in text
    assert sms.segments(text) == 3
    [email] = emails_to(people["gao_fr"])
    assert long_note.strip() in email.body


def test_a_regional_note_too_long_for_three_parts_is_refused_at_submission(
    mali_with_gao_at_4,
):
    editor, _approver = mali_with_gao_at_4
    long_note = "Restez à l'intérieur, fenêtres fermées, et suivez les consignes. " * 6
    draft = services.advisory_draft_create(
        country_code="ML",
        author=editor,
        fields={
            "summary_en": "Leave.",
            "summary_fr": "Partez.",
            "country_level": 3,
            "notify": Notify.CHANGED_REGIONS,
            **CHANGE_NOTES,
        },
        overrides=[services.OverrideInput("ML-7", 4, "Stay inside.", long_note)],
    )

    with pytest.raises(ValidationFailed) as refused:
        services.advisory_submit(advisory=draft, submitted_by=editor)

    assert refused.value.field == "overrides"
    assert "Gao" in str(refused.value.message)
    draft.refresh_from_db()
    assert draft.status == Advisory.Status.DRAFT
