"""Reading and writing encrypted columns as the database holds them, past the fields: what
someone with access to the database sees, and could write."""

from django.db import connection
from django.db.models import TextField, Value


def stored(model, pk, column):
    """The column's value as the database holds it."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s",  # noqa: S608
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        return cursor.fetchone()[0]


def store(model, pk, **values):
    """Write values into a row as they are, tokens or clear text, bypassing the fields."""
    model.objects.filter(pk=pk).update(
        **{column: Value(value, output_field=TextField()) for column, value in values.items()}
    )
