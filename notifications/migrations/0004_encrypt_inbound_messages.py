from typing import Any

from django.db import migrations

import core.crypto


def encrypt(apps: Any, schema_editor: Any) -> None:
    core.crypto.rows_encrypt_clear_values(apps.get_model("notifications", "InboundMessage"))


def decrypt(apps: Any, schema_editor: Any) -> None:
    core.crypto.rows_decrypt_to_clear_values(apps.get_model("notifications", "InboundMessage"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_staff_message_approval"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inboundmessage",
            name="body",
            field=core.crypto.EncryptedTextField(verbose_name="text"),
        ),
        migrations.AlterField(
            model_name="inboundmessage",
            name="sender",
            field=core.crypto.EncryptedCharField(max_length=32, verbose_name="from"),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
