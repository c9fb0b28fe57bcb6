from typing import Any

from django.db import migrations

import core.crypto

# Every encrypted value is encrypted again, bound to its table, column and row (core.crypto);
# the tokens written before are not readable once this has run.


def bind(apps: Any, schema_editor: Any) -> None:
    core.crypto.rows_bind(apps.get_model("notifications", "InboundMessage"))


def unbind(apps: Any, schema_editor: Any) -> None:
    core.crypto.rows_unbind(apps.get_model("notifications", "InboundMessage"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_inboundmessage_handled_at"),
    ]

    operations = [
        migrations.RunPython(bind, unbind),
    ]
