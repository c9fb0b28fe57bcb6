from typing import Any

from django.db import migrations, models

import core.crypto

# The free text about people (where they are, what they need, case summaries and timelines)
# becomes encrypted at rest, each value bound to its row. Answers and timeline lines have
# auto-increment ids, unknown before their INSERT, so they get a random row key first: added
# nullable, drawn per row in SQL (a default would give every existing row the same one), then
# required.


def draw_row_keys(apps: Any, schema_editor: Any) -> None:
    random_key = core.crypto.row_key_sql(schema_editor.connection)
    for name in ("SafetyResponse", "CaseEvent"):
        table = schema_editor.quote_name(apps.get_model("cases", name)._meta.db_table)
        schema_editor.execute(f"UPDATE {table} SET row_key = {random_key}")  # noqa: S608


def encrypt(apps: Any, schema_editor: Any) -> None:
    response = apps.get_model("cases", "SafetyResponse")
    core.crypto.rows_encrypt_clear_values(
        response, where=~models.Q(location="") | ~models.Q(details="")
    )
    core.crypto.rows_encrypt_clear_values(apps.get_model("cases", "Case"))
    core.crypto.rows_encrypt_clear_values(
        apps.get_model("cases", "CaseEvent"), where=~models.Q(text="")
    )


def decrypt(apps: Any, schema_editor: Any) -> None:
    for name in ("SafetyResponse", "Case", "CaseEvent"):
        core.crypto.rows_decrypt_to_clear_values(apps.get_model("cases", name))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_erasure_keeps_answers_and_cases"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="row_key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="safetyresponse",
            name="row_key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(draw_row_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="caseevent",
            name="row_key",
            field=core.crypto.RowKeyField(),
        ),
        migrations.AlterField(
            model_name="safetyresponse",
            name="row_key",
            field=core.crypto.RowKeyField(),
        ),
        migrations.AlterField(
            model_name="case",
            name="summary",
            field=core.crypto.EncryptedCharField(max_length=300, verbose_name="summary"),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="text",
            field=core.crypto.EncryptedTextField(blank=True, verbose_name="text"),
        ),
        migrations.AlterField(
            model_name="safetyresponse",
            name="details",
            field=core.crypto.EncryptedTextField(blank=True, verbose_name="details"),
        ),
        migrations.AlterField(
            model_name="safetyresponse",
            name="location",
            field=core.crypto.EncryptedCharField(blank=True, max_length=300, verbose_name="where"),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
