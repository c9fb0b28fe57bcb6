from typing import Any

from django.db import migrations, models

import core.crypto

# Clear columns become encrypted ones (text) in place; the data step then encrypts the values
# they hold and fills the keyed hashes, before the unique constraint on the email's hash.


def encrypt(apps: Any, schema_editor: Any) -> None:
    for name in ("Citizen", "HouseholdMember"):
        core.crypto.rows_encrypt_clear_values(apps.get_model("registrations", name))


def decrypt(apps: Any, schema_editor: Any) -> None:
    for name in ("Citizen", "HouseholdMember"):
        core.crypto.rows_decrypt_to_clear_values(apps.get_model("registrations", name))


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0002_drop_register_export"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="citizen",
            name="citizen_email_lower_case",
        ),
        migrations.RemoveIndex(
            model_name="citizen",
            name="citizen_phone_idx",
        ),
        migrations.AddField(
            model_name="citizen",
            name="email_hash",
            field=core.crypto.KeyedHashField(blank=True, kind="email", source="email"),
        ),
        migrations.AddField(
            model_name="citizen",
            name="phone_hash",
            field=core.crypto.KeyedHashField(blank=True, kind="phone", source="phone"),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="date_of_birth",
            field=core.crypto.EncryptedDateField(
                blank=True, null=True, verbose_name="date of birth"
            ),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="email",
            field=core.crypto.EncryptedEmailField(max_length=254, verbose_name="email"),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="emergency_contact_email",
            field=core.crypto.EncryptedEmailField(
                blank=True, max_length=254, verbose_name="emergency contact email"
            ),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="emergency_contact_name",
            field=core.crypto.EncryptedCharField(
                blank=True, max_length=200, verbose_name="emergency contact name"
            ),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="emergency_contact_phone",
            field=core.crypto.EncryptedCharField(
                blank=True, max_length=16, verbose_name="emergency contact phone"
            ),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="emergency_contact_relation",
            field=core.crypto.EncryptedCharField(
                blank=True, max_length=50, verbose_name="emergency contact relation"
            ),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="id_document_number",
            field=core.crypto.EncryptedCharField(
                blank=True, max_length=40, verbose_name="document number"
            ),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="phone",
            field=core.crypto.EncryptedCharField(
                blank=True, max_length=16, verbose_name="mobile phone"
            ),
        ),
        migrations.AlterField(
            model_name="householdmember",
            name="date_of_birth",
            field=core.crypto.EncryptedDateField(
                blank=True, null=True, verbose_name="date of birth"
            ),
        ),
        migrations.AlterField(
            model_name="householdmember",
            name="name",
            field=core.crypto.EncryptedCharField(max_length=200, verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="householdmember",
            name="phone",
            field=core.crypto.EncryptedCharField(blank=True, max_length=16, verbose_name="phone"),
        ),
        migrations.AlterField(
            model_name="householdmember",
            name="relation",
            field=core.crypto.EncryptedCharField(max_length=50, verbose_name="relation"),
        ),
        migrations.RunPython(encrypt, decrypt),
        migrations.AddIndex(
            model_name="citizen",
            index=models.Index(fields=["phone_hash"], name="citizen_phone_hash_idx"),
        ),
        migrations.AddConstraint(
            model_name="citizen",
            constraint=models.UniqueConstraint(
                fields=("email_hash",), name="citizen_email_hash_unique"
            ),
        ),
    ]
