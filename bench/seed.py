"""The register the benchmark and the fault suite alert: citizens and presences inserted in SQL,
and Mali's advisory published through the services staff use."""

import base64
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models

from accounts.models import User
from advisories.events import RiskLevelChanged
from advisories.models import Advisory
from advisories.services import advisory_approve, advisory_draft_create, advisory_submit
from core import crypto, events
from notifications import handlers
from registrations.models import Citizen, Presence

MALI_REGIONS = [f"ML-{n}" for n in range(1, 11)] + ["ML-BKO"]
LEBANON_REGIONS = ["LB-AK", "LB-AS", "LB-BA", "LB-BH", "LB-BI", "LB-JA", "LB-JL", "LB-NA"]


def publish_mali(level: int, *, alerting: bool) -> Advisory:
    """Publish Mali at `level` everywhere, through the same services staff use."""
    if not alerting:
        events.unsubscribe(RiskLevelChanged, handlers.on_risk_level_changed)
    try:
        editor = User.objects.get(username="bamako-editor")
        draft = advisory_draft_create(
            country_code="ML",
            author=editor,
            fields={
                "country_level": level,
                "summary_en": "Benchmark advisory.",
                "summary_fr": "Conseil de test de performance.",
                "instructions_en": "Leave the country as soon as possible.",
                "instructions_fr": "Quittez le pays dès que possible.",
            },
            overrides=[],
        )
        advisory_submit(advisory=draft, submitted_by=editor)
        return advisory_approve(
            advisory=draft,
            approved_by=User.objects.get(username="bamako-approver"),
            confirm_reach=True,
        )
    finally:
        events.subscribe(RiskLevelChanged, handlers.on_risk_level_changed)


def _insert_generated(
    model: type[models.Model],
    rows_sql: str,
    values: dict[str, str],
    rows_params: Sequence[Any] = (),
) -> None:
    """INSERT ... SELECT over `rows_sql` (which yields `n`): each column takes its SQL
    expression from `values`, else its default (empty for a blank text field), else NULL."""
    columns, expressions = [], []
    params: list[Any] = []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(str(field.column)))
        if field.name in values:
            expressions.append(values[field.name])
        elif field.has_default() or not field.null:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            expressions.append("NULL")
    table = connection.ops.quote_name(model._meta.db_table)
    # Built from model metadata and this module's constants; values go as parameters.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {rows_sql}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *rows_params])


# Citizens encrypted and inserted per statement: bounds memory for the million-citizen run.
SEED_CHUNK = 100_000


def seed_register(*, size: int) -> None:
    """`size` citizens in Mali (residents and travellers over its 11 regions) and a tenth as
    many in Lebanon; 90 % with a verified email and 60 % with a verified phone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_delivery, notifications_alert, notifications_suppression, "
            "registrations_presence, registrations_citizen CASCADE"
        )
    now = "now()"
    people = size + size // 10
    for first in range(1, people + 1, SEED_CHUNK):
        numbers = range(first, min(first + SEED_CHUNK, people + 1))
        # Addresses and numbers are stored encrypted with their keyed hashes, as the register
        # stores them: the database cannot compute either, so they come in as arrays.
        # The ids are drawn here too, as each value is encrypted bound to its row.
        ids = [uuid.uuid4() for _ in numbers]
        emails = [f"bench{n}@example.org" for n in numbers]
        phones = [f"+2237{n:07d}" for n in numbers]
        email_field, phone_field = (
            Citizen._meta.get_field("email"),
            Citizen._meta.get_field("phone"),
        )
        _insert_generated(
            Citizen,
            "(SELECT u.id, u.email, u.email_hash, u.phone, u.phone_hash, u.i + %s AS n FROM "
            "unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "WITH ORDINALITY AS u(id, email, email_hash, phone, phone_hash, i)) AS g",
            {
                "id": "g.id",
                "created_at": now,
                "updated_at": now,
                "given_name": "'Bench'",
                "family_name": "'Citizen ' || n",
                "language": "CASE WHEN mod(n, 3) = 0 THEN 'fr' ELSE 'en' END",
                "email": "g.email",
                "email_hash": "g.email_hash",
                "phone": "g.phone",
                "phone_hash": "g.phone_hash",
                "notify_by_email": "true",
                "notify_by_sms": "true",
                "email_verified_at": f"CASE WHEN mod(n, 10) <> 0 THEN {now} END",
                "phone_verified_at": f"CASE WHEN mod(n, 10) < 6 THEN {now} END",
                "consented_at": now,
                "confirmed_at": now,
                "consent_version": "'bench'",
            },
            [
                first - 1,
                ids,
                [
                    crypto.encrypt(email, bound_to=email_field.binding_of(key))
                    for key, email in zip(ids, emails, strict=True)
                ],
                [crypto.keyed_hash(email, kind="email") for email in emails],
                [
                    crypto.encrypt(phone, bound_to=phone_field.binding_of(key))
                    for key, phone in zip(ids, phones, strict=True)
                ],
                [crypto.keyed_hash(phone, kind="phone") for phone in phones],
            ],
        )
    regions = "ARRAY[" + ", ".join(f"'{code}'" for code in MALI_REGIONS) + "]"
    lebanon = "ARRAY[" + ", ".join(f"'{code}'" for code in LEBANON_REGIONS) + "]"
    _insert_generated(
        Presence,
        "(SELECT id AS citizen_id, row_number() OVER (ORDER BY id) AS n "
        "FROM registrations_citizen) AS c",
        {
            "id": "gen_random_uuid()",
            "created_at": now,
            "updated_at": now,
            "citizen": "c.citizen_id",
            "kind": "CASE WHEN mod(n, 10) < 7 THEN 'residence' ELSE 'trip' END",
            "trip": "CASE WHEN mod(n, 10) < 7 THEN NULL ELSE gen_random_uuid() END",
            "country": f"CASE WHEN n <= {int(size)} THEN 'ML' ELSE 'LB' END",
            "region": (
                f"CASE WHEN n <= {int(size)} THEN ({regions})[1 + mod(n, 11)::int] "
                f"ELSE ({lebanon})[1 + mod(n, 8)::int] END"
            ),
            "city": "''",
            "start_date": "current_date - 30",
            "end_date": "CASE WHEN mod(n, 10) < 7 THEN NULL ELSE current_date + 10 END",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations_citizen; ANALYZE registrations_presence")


def expected_deliveries(size: int) -> int:
    """Verified channels of the Mali citizens (the first `size` rows in email order)."""
    mali = Citizen.objects.filter(presences__country_id="ML")
    return (
        mali.filter(email_verified_at__isnull=False).count()
        + mali.filter(phone_verified_at__isnull=False).count()
    )


# The filler citizens' addresses: a domain of their own, so no registration of a run collides.
FILLER_DOMAIN = "bench-registered.example.org"


def register_top_up(*, count: int) -> int:
    """Make at least `count` citizens registered, adding filler ones (each with a trip in Mali),
    written by PostgreSQL in one statement per table: a million in seconds, where encrypting
    each in Python took minutes. Returns how many were added.

    They are real rows for the code that reads them: each address is a Fernet token under the
    first key of FIELD_ENCRYPTION_KEYS, bound to its row as `core.crypto` binds it, and its
    keyed hash is the HMAC `core.crypto.keyed_hash` computes (pgcrypto does both; a test reads
    them back through the ORM)."""
    missing = count - Citizen.objects.count()
    if missing <= 0:
        return 0
    # Numbered on from the fillers already there: their addresses stay unique.
    first = Citizen.objects.filter(given_name="Filler").count() + 1
    key = base64.urlsafe_b64decode(settings.FIELD_ENCRYPTION_KEYS[0].strip())
    email = Citizen._meta.get_field("email")
    # Fernet: 0x80, the time (8 bytes), the IV, AES-128-CBC of the plaintext under the key's
    # second half, then HMAC-SHA256 of all that under its first half; url-safe base64.
    # The plaintext is core.crypto's: a marker byte, the binding digest, then the value.
    fernet_sql = (
        "translate(encode(f.body || hmac(f.body, %(signing)s, 'sha256'), 'base64'), E'+/\\n', '-_')"
    )
    body_sql = (
        "(SELECT '\\x80'::bytea || int8send(extract(epoch FROM now())::bigint) || g.iv"
        " || encrypt_iv('\\xff'::bytea || substring(sha256(%(place)s"
        " || convert_to(replace(g.id::text, '-', ''), 'UTF8')) FROM 1 FOR 16)"
        " || convert_to(g.email, 'UTF8'), %(encryption)s, g.iv, 'aes-cbc/pad:pkcs') AS body)"
    )
    now = "now()"
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        table = connection.ops.quote_name(Citizen._meta.db_table)
        # Only model metadata and this module's SQL are formatted in; values are parameters.
        cursor.execute(
            f"INSERT INTO {table} (id, created_at, updated_at, given_name, family_name,"  # noqa: S608
            " date_of_birth, id_document_type, id_document_number, language, email,"
            " email_hash, phone, phone_hash, notify_by_email, notify_by_sms,"
            " email_verified_at, phone_verified_at, emergency_contact_name,"
            " emergency_contact_relation, emergency_contact_phone, emergency_contact_email,"
            " consent_version, consented_at, confirmed_at, confirmation_requested_at,"
            " phone_code_hash, phone_code_sent_at, phone_code_attempts, access_code_hash,"
            " access_code_sent_at, access_code_attempts)"
            f" SELECT g.id, {now}, {now}, 'Filler', 'Citizen ' || g.n, NULL, '', '',"
            " CASE WHEN mod(g.n, 3) = 0 THEN 'fr' ELSE 'en' END,"
            f" {fernet_sql}, encode(hmac(convert_to('email', 'UTF8') || '\\x00'::bytea"
            " || convert_to(g.email, 'UTF8'), %(hash_key)s, 'sha256'), 'hex'),"
            f" '', '', true, false, {now}, NULL, '', '', '', '', 'bench', {now}, {now}, NULL,"
            " '', NULL, 0, '', NULL, 0"
            " FROM (SELECT gen_random_uuid() AS id, n, gen_random_bytes(16) AS iv,"
            " 'filler' || n || %(domain)s AS email"
            " FROM generate_series(%(first)s, %(last)s) AS n) AS g,"
            f" LATERAL {body_sql} AS f",
            {
                "signing": key[:16],
                "encryption": key[16:],
                "place": f"{Citizen._meta.db_table}\x1f{email.column}\x1f".encode(),
                "hash_key": settings.FIELD_HASH_KEYS[0].strip().encode(),
                "domain": f"@{FILLER_DOMAIN}",
                "first": first,
                "last": first + missing - 1,
            },
        )
    regions = "ARRAY[" + ", ".join(f"'{code}'" for code in MALI_REGIONS) + "]"
    _insert_generated(
        Presence,
        "(SELECT c.id AS citizen_id, row_number() OVER () AS n FROM registrations_citizen c"
        " WHERE NOT EXISTS (SELECT FROM registrations_presence p WHERE p.citizen_id = c.id))"
        " AS c",
        {
            "id": "gen_random_uuid()",
            "created_at": now,
            "updated_at": now,
            "citizen": "c.citizen_id",
            "kind": "'trip'",
            "trip": "gen_random_uuid()",
            "country": "'ML'",
            "region": f"({regions})[1 + mod(n, 11)::int]",
            "city": "''",
            "start_date": "current_date - 30",
            "end_date": "current_date + 10",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations_citizen; ANALYZE registrations_presence")
        # The seed's WAL written out now, not by a checkpoint in the middle of a measured run.
        cursor.execute("CHECKPOINT")
    return missing
