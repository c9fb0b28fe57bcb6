from typing import Any

from django.db import migrations

import core.crypto

# Every encrypted value is encrypted again, bound to its table, column and row (core.crypto);
# the tokens written before are not readable once this has run.


def bind(apps: Any, schema_editor: Any) -> None:
    for name in ("Citizen", "HouseholdMember"):
        core.crypto.rows_bind(apps.get_model("registrations", name))


def unbind(apps: Any, schema_editor: Any) -> None:
    for name in ("Citizen", "HouseholdMember"):
        core.crypto.rows_unbind(apps.get_model("registrations", name))


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0003_encrypt_personal_data"),
    ]

    operations = [
        migrations.RunPython(bind, unbind),
    ]
