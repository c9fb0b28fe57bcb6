import datetime
import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import TextField, Value

from core import crypto
from core.models import AuditEvent
from notifications.models import InboundMessage
from registrations.models import Citizen, HouseholdMember
from registrations.selectors import citizen_get_by_email, citizen_ids_by_phone
from tests.core.raw_columns import store, stored
from tests.registrations.factories import CitizenFactory, HouseholdMemberFactory

pytestmark = pytest.mark.django_db

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
HASH_A, HASH_B = (
    "a" * 16 + "-hash-key-of-at-least-32-chars",
    "b" * 16 + "-another-hash-key-32-chars",
)


def test_values_are_stored_as_tokens_and_read_back_in_clear():
    citizen = CitizenFactory(
        email="awa@example.org",
        phone="+22370001234",
        id_document_number="P1234567",
        date_of_birth=datetime.date(1980, 2, 29),
        emergency_contact_name="Moussa Keita",
    )

    tokens = {
        column: stored(Citizen, citizen.id, column)
        for column in ("email", "phone", "id_document_number", "date_of_birth")
    }
    fresh = Citizen.objects.get(id=citizen.id)

    assert all(value.startswith("gAAAA") for value in tokens.values())
    assert "awa@example.org" not in tokens.values()
    assert (fresh.email, fresh.phone, fresh.id_document_number, fresh.date_of_birth) == (
        "awa@example.org",
        "+22370001234",
        "P1234567",
        datetime.date(1980, 2, 29),
    )
    assert fresh.emergency_contact_name == "Moussa Keita"


def test_equal_values_give_different_tokens():
    first = CitizenFactory(id_document_number="P1234567")
    second = CitizenFactory(id_document_number="P1234567")

    assert stored(Citizen, first.id, "id_document_number") != stored(
        Citizen, second.id, "id_document_number"
    )


def test_empty_stays_empty_and_null_stays_null():
    citizen = CitizenFactory(phone="", notify_by_sms=False, date_of_birth=None)

    assert stored(Citizen, citizen.id, "phone") == ""
    assert stored(Citizen, citizen.id, "phone_hash") == ""
    assert stored(Citizen, citizen.id, "date_of_birth") is None
    assert Citizen.objects.filter(phone="").count() == 1


def test_a_lookup_on_an_encrypted_value_is_refused():
    with pytest.raises(FieldError):
        list(Citizen.objects.filter(email="awa@example.org"))
    with pytest.raises(FieldError):
        list(Citizen.objects.filter(email__icontains="awa"))


def test_a_changed_token_is_refused_not_misread():
    citizen = CitizenFactory(id_document_number="P1234567")
    token = stored(Citizen, citizen.id, "id_document_number")
    tampered = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
    Citizen.objects.filter(id=citizen.id).update(
        id_document_number=Value(tampered, output_field=TextField())
    )

    with pytest.raises(ImproperlyConfigured):
        Citizen.objects.get(id=citizen.id)


def test_email_hash_is_unique_across_case_variants():
    CitizenFactory(email="awa@example.org")

    with pytest.raises(IntegrityError), transaction.atomic():
        CitizenFactory(email="AWA@example.org")


def test_lookups_by_email_and_phone_go_through_the_keyed_hash():
    citizen = CitizenFactory(email="awa@example.org", phone="+22370001234")
    CitizenFactory()

    assert citizen_get_by_email(email=" Awa@Example.org ") == citizen
    assert citizen_ids_by_phone(phone="+223 70 00 12 34") == [citizen.id]
    assert citizen.email_hash == crypto.keyed_hash("awa@example.org", kind="email")
    assert citizen.email_hash != crypto.keyed_hash("awa@example.org", kind="phone")


def test_production_style_keys_are_checked(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x", bound_to=crypto.binding("table", "column", "0" * 32))

    settings.FIELD_HASH_KEYS = ["short"]
    with pytest.raises(ImproperlyConfigured):
        crypto.keyed_hash("x@example.org", kind="email")


def test_rotation_rewrites_everything_under_the_new_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_HASH_KEYS = [KEY_A], [HASH_A]
    member = HouseholdMemberFactory(
        citizen__email="awa@example.org",
        citizen__phone="+22370001234",
        citizen__id_document_number="P1234567",
        citizen__date_of_birth=datetime.date(1980, 2, 29),
        citizen__emergency_contact_email="moussa@example.org",
        name="Léo Keita",
        date_of_birth=datetime.date(2015, 6, 1),
    )
    citizen = member.citizen
    InboundMessage.objects.create(
        provider="http", provider_id="1", sender="+22370001234", body="OK"
    )

    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_HASH_KEYS = [KEY_B, KEY_A], [HASH_B, HASH_A]
    out = io.StringIO()
    call_command("rotate_encryption_keys", "--chunk-size", "1", stdout=out)
    call_command("rotate_encryption_keys", stdout=io.StringIO())  # again: harmless
    settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_HASH_KEYS = [KEY_B], [HASH_B]

    fresh = Citizen.objects.get(id=citizen.id)
    assert (fresh.email, fresh.phone, fresh.id_document_number) == (
        "awa@example.org",
        "+22370001234",
        "P1234567",
    )
    assert fresh.date_of_birth == datetime.date(1980, 2, 29)
    assert fresh.emergency_contact_email == "moussa@example.org"
    assert HouseholdMember.objects.get().date_of_birth == datetime.date(2015, 6, 1)
    assert HouseholdMember.objects.get().name == "Léo Keita"
    assert InboundMessage.objects.get().sender == "+22370001234"
    assert citizen_get_by_email(email="awa@example.org") == citizen
    assert citizen_ids_by_phone(phone="+22370001234") == [citizen.id]
    report = out.getvalue()
    assert "registrations.Citizen: 1 rows" in report
    assert "registrations.HouseholdMember: 1 rows" in report
    assert "notifications.InboundMessage: 1 rows" in report
    assert "awa@example.org" not in report


def test_without_the_old_key_unrotated_rows_cannot_be_read(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    citizen = CitizenFactory()

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]

    with pytest.raises(ImproperlyConfigured):
        Citizen.objects.get(id=citizen.id)


def test_clear_values_left_by_a_migration_are_encrypted_and_hashed():
    citizen = CitizenFactory(email="awa@example.org", phone="+22370001234")
    clear = {
        name: Value(text, output_field=TextField())
        for name, text in {
            "email": "awa@example.org",
            "phone": "+22370001234",
            "date_of_birth": "1980-02-29",
        }.items()
    }
    Citizen.objects.filter(id=citizen.id).update(**clear, email_hash="", phone_hash="")

    crypto.rows_encrypt_clear_values(Citizen)

    fresh = Citizen.objects.get(id=citizen.id)
    assert (fresh.email, fresh.date_of_birth) == ("awa@example.org", datetime.date(1980, 2, 29))
    assert stored(Citizen, citizen.id, "email").startswith("gAAAA")
    assert citizen_ids_by_phone(phone="+22370001234") == [citizen.id]

    crypto.rows_decrypt_to_clear_values(Citizen)

    assert stored(Citizen, citizen.id, "email") == "awa@example.org"
    assert stored(Citizen, citizen.id, "date_of_birth") == "1980-02-29"


def test_a_value_copied_into_another_row_is_refused():
    awa, moussa = CitizenFactory(phone="+22370001234"), CitizenFactory(phone="+22370009999")
    store(Citizen, moussa.id, phone=stored(Citizen, awa.id, "phone"))

    with pytest.raises(crypto.MisplacedValue, match=r"registrations_citizen\.phone"):
        Citizen.objects.get(id=moussa.id)
    with pytest.raises(crypto.MisplacedValue):
        list(Citizen.objects.filter(id=moussa.id).values("phone"))
    # The row it came from still reads, through every path.
    assert Citizen.objects.get(id=awa.id).phone == "+22370001234"
    assert Citizen.objects.filter(id=awa.id).values_list("phone", flat=True).get() == (
        "+22370001234"
    )


def test_a_value_copied_into_another_column_of_its_row_is_refused():
    citizen = CitizenFactory(phone="+22370001234", emergency_contact_phone="+22370005555")
    store(Citizen, citizen.id, emergency_contact_phone=stored(Citizen, citizen.id, "phone"))

    with pytest.raises(crypto.MisplacedValue, match="emergency_contact_phone"):
        Citizen.objects.get(id=citizen.id)


def test_a_value_copied_into_another_table_is_refused():
    member = HouseholdMemberFactory(phone="+22370001111", citizen__phone="+22370001234")
    # Same column name, and the member's row given the citizen's key: only the table differs.
    HouseholdMember.objects.filter(id=member.id).update(id=member.citizen_id)
    store(HouseholdMember, member.citizen_id, phone=stored(Citizen, member.citizen_id, "phone"))

    with pytest.raises(crypto.MisplacedValue, match=r"registrations_householdmember\.phone"):
        # The member's own values are now misplaced too: read the copied one alone.
        HouseholdMember.objects.values_list("phone", flat=True).get()


def test_values_read_through_a_join_are_checked_against_the_joined_row():
    member = HouseholdMemberFactory(name="Léo Keita", citizen__email="awa@example.org")

    fresh = HouseholdMember.objects.select_related("citizen").get(id=member.id)
    values = HouseholdMember.objects.values("name", "citizen__email").get()

    assert (fresh.name, fresh.citizen.email) == ("Léo Keita", "awa@example.org")
    assert values == {"name": "Léo Keita", "citizen__email": "awa@example.org"}


def test_a_raw_query_cannot_read_an_encrypted_value_unchecked():
    CitizenFactory(phone="+22370001234")

    with pytest.raises(crypto.MisplacedValue, match="without its row's key"):
        list(Citizen.objects.raw("SELECT * FROM registrations_citizen"))


def test_a_bulk_write_of_a_value_is_refused_and_rows_update_binds_each_row():
    first, second = CitizenFactory(), CitizenFactory()
    rows = Citizen.objects.filter(id__in=[first.id, second.id])

    with pytest.raises(FieldError, match="encrypted for each row"), transaction.atomic():
        rows.update(emergency_contact_name="Moussa Keita")
    assert rows.update(emergency_contact_name="") == 2  # emptying stays a plain update

    assert crypto.rows_update(rows, emergency_contact_name="Moussa Keita") == 2

    assert [citizen.emergency_contact_name for citizen in rows] == ["Moussa Keita"] * 2
    assert stored(Citizen, first.id, "emergency_contact_name") != stored(
        Citizen, second.id, "emergency_contact_name"
    )


def test_a_model_without_a_key_known_before_insert_cannot_hold_encrypted_values():
    with pytest.raises(ImproperlyConfigured, match="RowKeyField"):
        crypto.row_key_field(AuditEvent)


def test_rotation_binds_again_and_old_keys_read_until_then(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    awa, moussa = CitizenFactory(phone="+22370001234"), CitizenFactory(phone="+22370009999")

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert Citizen.objects.get(id=awa.id).phone == "+22370001234"
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]

    assert Citizen.objects.get(id=awa.id).phone == "+22370001234"
    store(Citizen, moussa.id, phone=stored(Citizen, awa.id, "phone"))
    with pytest.raises(crypto.MisplacedValue):
        Citizen.objects.get(id=moussa.id)


def _unbound(text):
    """A token as values were encrypted before they were bound to their row."""
    return Fernet(KEY_A).encrypt(text.encode()).decode()


def test_the_binding_migration_binds_values_written_before_it(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    member = HouseholdMemberFactory()
    citizen = member.citizen
    message = InboundMessage.objects.create(provider="http", provider_id="1", sender="x", body="x")
    store(
        Citizen,
        citizen.id,
        email=_unbound("awa@example.org"),
        date_of_birth=_unbound("1980-02-29"),
        emergency_contact_name=_unbound("Moussa Keita"),
    )
    store(HouseholdMember, member.id, name=_unbound("Léo Keita"))
    store(InboundMessage, message.id, sender=_unbound("+22370001234"), body=_unbound("SAFE"))
    # Unbound, they no longer read: only the migration does.
    with pytest.raises(crypto.MisplacedValue, match="not bound"):
        Citizen.objects.get(id=citizen.id)

    importlib.import_module("registrations.migrations.0004_bind_encrypted_values").bind(apps, None)
    importlib.import_module("notifications.migrations.0011_bind_encrypted_values").bind(apps, None)

    fresh = Citizen.objects.get(id=citizen.id)
    assert (fresh.email, fresh.date_of_birth, fresh.emergency_contact_name) == (
        "awa@example.org",
        datetime.date(1980, 2, 29),
        "Moussa Keita",
    )
    assert HouseholdMember.objects.get().name == "Léo Keita"
    assert (InboundMessage.objects.get().sender, InboundMessage.objects.get().body) == (
        "+22370001234",
        "SAFE",
    )
    # And unapplying it writes them back unbound, as they were.
    crypto.rows_unbind(HouseholdMember)
    with pytest.raises(crypto.MisplacedValue, match="not bound"):
        HouseholdMember.objects.get()
    crypto.rows_bind(HouseholdMember)
    assert HouseholdMember.objects.get().name == "Léo Keita"


def test_the_binding_migration_refuses_a_misplaced_value_rather_than_binding_it():
    awa, moussa = CitizenFactory(phone="+22370001234"), CitizenFactory(phone="+22370009999")
    store(Citizen, moussa.id, phone=stored(Citizen, awa.id, "phone"))

    with pytest.raises(crypto.MisplacedValue):
        crypto.rows_bind(Citizen)
