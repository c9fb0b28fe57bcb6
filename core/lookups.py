"""`field__any=values`: `field__in=values` with the list sent as one array.

On PostgreSQL it is written `column = ANY(%s)`, one parameter for the whole list, where `__in`
writes a placeholder per value, which the database driver splits and quotes at a CPU cost that
adds up, as sending alerts asks such queries for every few hundred messages (docs/performance.md).
Elsewhere, and for a subquery, it is `__in`."""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(In):
    lookup_name = "any"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, Any]:
        if connection.vendor != "postgresql" or not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _placeholders, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(rhs_params))
