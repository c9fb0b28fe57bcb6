import datetime
import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import TextField, Value

from core import crypto
from notifications.models import InboundMessage
from registrations.models import Citizen, HouseholdMember
from registrations.selectors import citizen_get_by_email, citizen_ids_by_phone
from tests.registrations.factories import CitizenFactory, HouseholdMemberFactory

pytestmark = pytest.mark.django_db

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
HASH_A, HASH_B = (
    "a" * 16 + "-hash-key-of-at-least-32-chars",
    "b" * 16 + "-another-hash-key-32-chars",
)


def _stored(model, pk, column):
    """The column's value as the database holds it."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s",  # noqa: S608
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        return cursor.fetchone()[0]


def test_values_are_stored_as_tokens_and_read_back_in_clear():
    citizen = CitizenFactory(
        email="awa@example.org",
        phone="+22370001234",
        id_document_number="P1234567",
        date_of_birth=datetime.date(1980, 2, 29),
        emergency_contact_name="Moussa Keita",
    )

    stored = {
        column: _stored(Citizen, citizen.id, column)
        for column in ("email", "phone", "id_document_number", "date_of_birth")
    }
    fresh = Citizen.objects.get(id=citizen.id)

    assert all(value.startswith("gAAAA") for value in stored.values())
    assert "awa@example.org" not in stored.values()
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

    assert _stored(Citizen, first.id, "id_document_number") != _stored(
        Citizen, second.id, "id_document_number"
    )


def test_empty_stays_empty_and_null_stays_null():
    citizen = CitizenFactory(phone="", notify_by_sms=False, date_of_birth=None)

    assert _stored(Citizen, citizen.id, "phone") == ""
    assert _stored(Citizen, citizen.id, "phone_hash") == ""
    assert _stored(Citizen, citizen.id, "date_of_birth") is None
    assert Citizen.objects.filter(phone="").count() == 1


def test_a_lookup_on_an_encrypted_value_is_refused():
    with pytest.raises(FieldError):
        list(Citizen.objects.filter(email="awa@example.org"))
    with pytest.raises(FieldError):
        list(Citizen.objects.filter(email__icontains="awa"))


def test_a_changed_token_is_refused_not_misread():
    citizen = CitizenFactory(id_document_number="P1234567")
    token = _stored(Citizen, citizen.id, "id_document_number")
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
        crypto.encrypt("x")

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
    assert _stored(Citizen, citizen.id, "email").startswith("gAAAA")
    assert citizen_ids_by_phone(phone="+22370001234") == [citizen.id]

    crypto.rows_decrypt_to_clear_values(Citizen)

    assert _stored(Citizen, citizen.id, "email") == "awa@example.org"
    assert _stored(Citizen, citizen.id, "date_of_birth") == "1980-02-29"
