"""Data-subject rights across apps: the export (right of access) and the erasure of a citizen.

The register lives in `registrations`, but alerts, inbound texts, safety answers and cases hold
rows about the same person in apps above it, which `registrations` may not import. So each app
that holds personal data registers a `Holder` from its AppConfig.ready(): the models it covers,
an exporter that returns its sections of the export, and an eraser that deletes or anonymises
its rows. `export` gathers every section; `erase` runs every eraser in `order` (the register's
own, which deletes the citizen rows, comes last) and records one audit event with the counts.
A test walks the installed models and fails on any relation to a citizen no holder covers.
"""

import datetime
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.crypto import RowKeyField

# One section of the export: a name ("deliveries") and its JSON-ready rows.
Sections = dict[str, list[dict[str, Any]]]
Exporter = Callable[[uuid.UUID], Sections]
# Deletes or anonymises the holder's rows about the citizens; returns the rows touched per
# model label, for the audit trail (counts only).
Eraser = Callable[[list[uuid.UUID]], dict[str, int]]

# What replaces free text that may speak about an erased person.
ERASED = _("[erased]")


@dataclass(frozen=True)
class Holder:
    name: str
    models: frozenset[str]  # labels, lower case: "notifications.delivery"
    export: Exporter
    erase: Eraser
    order: int


_holders: dict[str, Holder] = {}


def register(
    name: str, *, models: Iterable[str], export: Exporter, erase: Eraser, order: int = 50
) -> None:
    """`models` names every model whose rows the exporter and the eraser cover."""
    _holders[name] = Holder(
        name=name,
        models=frozenset(label.lower() for label in models),
        export=export,
        erase=erase,
        order=order,
    )


def holders() -> list[Holder]:
    return sorted(_holders.values(), key=lambda holder: (holder.order, holder.name))


def covered_models() -> set[str]:
    return {label for holder in holders() for label in holder.models}


def export(*, citizen_id: uuid.UUID) -> Sections:
    """Every registered section about the citizen, in holder order."""
    sections: Sections = {}
    for holder in holders():
        for name, rows in holder.export(citizen_id).items():
            if name in sections:
                raise ValueError(f"Export section {name!r} is given by two holders.")
            sections[name] = rows
    return sections


def erased_marker() -> str:
    """The marker stored in place of erased text, in the site's language so every stored copy
    reads the same whoever asked for the erasure."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(ERASED)


def erase(*, citizen_ids: Collection[uuid.UUID], reason: str) -> dict[str, int]:
    """Erase the citizens everywhere, in one transaction: each holder deletes what exists only
    for them and anonymises what is kept for counts; the register's holder then deletes the
    citizen rows. One audit event records the reason and the counts, never a personal value.
    """
    from core.audit import Action, audit_record

    ids = sorted({uuid.UUID(str(citizen_id)) for citizen_id in citizen_ids})
    if not ids:
        return {}
    rows: dict[str, int] = {}
    with transaction.atomic():
        for holder in holders():
            for label, count in holder.erase(ids).items():
                rows[label] = rows.get(label, 0) + count
        audit_record(
            action=Action.DELETE,
            object_type="registrations.citizen",
            object_id=str(ids[0]) if len(ids) == 1 else "",
            detail={"erasure": reason, "citizens": len(ids), "rows": rows},
        )
    return rows


def as_row(instance: models.Model, *, exclude: Collection[str] = ()) -> dict[str, Any]:
    """The instance's columns, JSON-ready, keyed by column attribute (`region_id`); not the
    key its encrypted values are bound to, which says nothing about the person."""
    row: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or field.attname in exclude or isinstance(field, RowKeyField):
            continue
        row[field.attname] = json_value(getattr(instance, field.attname))
    return row


def json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
