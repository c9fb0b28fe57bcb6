from typing import Any

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery

# `recipients` counted messages (ledger rows), not people: it is renamed `messages`, and
# `people` counts the distinct citizens of an alert's rows. Alerts fanned out before are
# counted from their rows once; a citizen erased since no longer counts among their people.


def count_people(apps: Any, schema_editor: Any) -> None:
    alert_model = apps.get_model("notifications", "Alert")
    delivery_model = apps.get_model("notifications", "Delivery")
    people = (
        delivery_model.objects.filter(alert_id=OuterRef("id"))
        .order_by()
        .values("alert_id")
        .annotate(n=Count("citizen_id", distinct=True))
        .values("n")
    )
    alert_model.objects.filter(messages__gt=0).update(people=Subquery(people))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0011_bind_encrypted_values"),
    ]

    operations = [
        migrations.RenameField(model_name="alert", old_name="recipients", new_name="messages"),
        migrations.AlterField(
            model_name="alert",
            name="messages",
            field=models.PositiveIntegerField(default=0, verbose_name="messages"),
        ),
        migrations.AddField(
            model_name="alert",
            name="people",
            field=models.PositiveIntegerField(default=0, verbose_name="people"),
        ),
        migrations.RunPython(count_people, migrations.RunPython.noop),
    ]
