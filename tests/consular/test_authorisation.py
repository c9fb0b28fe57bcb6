"""The authorisation matrix: every API operation, and every action of the staff site, x role x
post.

The operations come from the OpenAPI schema (drf-spectacular's generator, in-process) and the
routes from the URL configuration; a route or operation that `MATRIX` does not classify fails
`test_every_route_is_classified`, so a new endpoint cannot ship without its rules.

Two posts: bamako (Mali) and beirut (Lebanon), each with an officer, an editor and an approver;
a superuser; an anonymous caller; a citizen with a self-service token. Every operation is
called by every role against a record of the caller's own post ("own") and of the other post
("foreign"), each call in a transaction rolled back afterwards. A foreign id answers 404, a
list never holds a row of a country outside the caller's posts, a write needs the right role.

The staff site (the admin) is covered the same way: every action of every registered
ModelAdmin, and the changelist of every model holding personal data, is classified in
`ADMIN_ACTIONS`, `PERMISSION_ONLY_ACTIONS` and `CHANGELISTS` (an unclassified one fails
`test_every_admin_action_and_personal_data_list_is_classified`); each action is run by every
staff role of both posts and a superuser, signed in past the second factor, and its effect is
read back from the database.
"""

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.http import urlencode
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from advisories import services as advisory_services
from cases.services import cases as case_services
from cases.services import safety_checks
from consular.api import email_tracking_routes
from core import personal_data
from departures.models import Offer, Traveller
from departures.services import allocation as departure_allocation
from departures.services import intents as departure_intents
from departures.services import operations as departure_operations
from departures.services import options as departure_options
from notifications import staff_messages
from notifications.alerts import MessageTexts
from notifications.models import Delivery, InboundMessage, Suppression
from regions.services import geography_load
from registrations import tokens
from tests.accounts.factories import MembershipFactory, PostFactory, login_verified
from tests.advisories.conftest import TEXTS, publish
from tests.notifications.factories import AlertFactory, DeliveryFactory
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
ANONYMOUS, CITIZEN, SUPERUSER = "anonymous", "citizen", "superuser"
POSTS = {"bamako": "ML", "beirut": "LB"}
REGION = {"ML": "ML-7", "LB": "LB-BA"}
STAFF_ROLES = ("officer", "editor", "approver")
# The roles that work with citizens (accounts.selectors.REGISTER_ROLES: officers and post
# administrators; the matrix's posts have no administrator).
CONSULAR_ROLES = ("officer",)
# Who may be the second person of a safety check, among the matrix's roles.
CHECK_APPROVERS = ("officer", "approver")
STAFF = [f"{post}-{role}" for post in POSTS for role in STAFF_ROLES]
ROLES = [ANONYMOUS, CITIZEN, *STAFF, SUPERUSER]
TARGETS = ("own", "foreign")
TODAY = timezone.localdate()

# What a call may answer.
OK = "ok"  # 2xx
AUTHORISED = "authorised"  # past authentication and authorisation: not 401/403/404, no 5xx
DENIED = "denied"  # 401 or 403
HIDDEN = "hidden"  # 404: the record does not exist for the caller
REFUSED = "refused"  # 401, 403 or 404
EXPECTED_STATUSES: dict[str, Callable[[int], bool]] = {
    OK: lambda code: 200 <= code < 300,
    AUTHORISED: lambda code: code not in (401, 403, 404) and code < 500,
    DENIED: lambda code: code in (401, 403),
    HIDDEN: lambda code: code == 404,
    REFUSED: lambda code: code in (401, 403, 404),
}


@dataclass
class World:
    clients: dict[str, APIClient]
    records: dict[tuple[str, str], Any]
    citizen_id: str

    def country(self, role: str, target: str) -> str:
        """The country of the record a call targets: the caller's own post's, or the other."""
        own = POSTS[role.split("-")[0]] if role in STAFF else "ML"
        return own if target == "own" else next(c for c in POSTS.values() if c != own)


def _role_name(role: str) -> str | None:
    return role.split("-")[1] if role in STAFF else None


def _has(role: str, target: str, *names: str) -> bool:
    """Whether the caller holds one of the roles for the target's country."""
    return role == SUPERUSER or (target == "own" and _role_name(role) in names)


def staff_record(role: str, target: str, *, reader_roles: tuple[str, ...] = STAFF_ROLES) -> str:
    """A record of one post: its staff with `reader_roles` (and superusers) see it, other
    staff get 404, anonymous and citizens are refused before any lookup."""
    if role in (ANONYMOUS, CITIZEN):
        return DENIED
    return OK if _has(role, target, *reader_roles) else HIDDEN


def staff_write(
    role: str, target: str, *, writers: tuple[str, ...], readers: tuple[str, ...] = STAFF_ROLES
) -> str:
    """A write on a record of one post: its staff with `writers` may, other staff of the post
    are refused (403, or 404 if they cannot see it), foreign staff get 404."""
    if role in (ANONYMOUS, CITIZEN):
        return DENIED
    if _has(role, target, *writers):
        return OK
    if role != SUPERUSER and target == "foreign":
        return HIDDEN
    return REFUSED if _has(role, target, *readers) else HIDDEN


def register_record(role: str, target: str) -> str:
    """The register: officers of the post (and superusers) only; editors and approvers,
    who hold no register role anywhere, are refused before any lookup."""
    if _role_name(role) in ("editor", "approver"):
        return DENIED
    return staff_record(role, target, reader_roles=("officer",))


def consular_record(role: str, target: str) -> str:
    """A record about citizens (a case, a safety check and its answers, a message to citizens
    and its deliveries): the post's officers (and superusers) see it; advisory editors and
    approvers see no citizen, so for them it does not exist."""
    return staff_record(role, target, reader_roles=CONSULAR_ROLES)


def consular_write(role: str, target: str) -> str:
    return staff_write(role, target, writers=CONSULAR_ROLES, readers=CONSULAR_ROLES)


def citizen_only(role: str, target: str) -> str:
    return AUTHORISED if role == CITIZEN else DENIED


def consular_reach(role: str, target: str) -> str:
    """A call on a record about citizens that the service may still refuse for its state (a
    draft that cannot be submitted while another operation runs, a party holding seats): past
    authorisation for the post's officers, hidden from everyone else on staff."""
    if role in (ANONYMOUS, CITIZEN):
        return DENIED
    return AUTHORISED if _has(role, target, *CONSULAR_ROLES) else HIDDEN


def anyone(role: str, target: str) -> str:
    return OK


def anyone_reaches(role: str, target: str) -> str:
    return AUTHORISED


def signed_only(role: str, target: str) -> str:
    """Provider webhooks: no account counts, only the provider's signature, absent here."""
    return REFUSED


@dataclass
class Operation:
    """How to call one operation for a role and target, and what it must answer."""

    expect: Callable[[str, str], str]
    path: Callable[[World, str, str], dict[str, str]] = lambda world, role, target: {}
    body: Callable[[World, str, str], Any] = lambda world, role, target: None
    query: Callable[[World, str, str], dict[str, str]] = lambda world, role, target: {}
    # For lists: the rows' countries (or ids) the caller may see, checked on a 2xx answer.
    rows: Callable[[World, str, Any], str | None] | None = None


def record(kind: str) -> Callable[[World, str, str], str]:
    def pick(world: World, role: str, target: str) -> str:
        return str(world.records[(kind, world.country(role, target))].pk)

    return pick


def _path(kind: str, name: str = "id") -> Callable[[World, str, str], dict[str, str]]:
    return lambda world, role, target: {name: record(kind)(world, role, target)}


def _traveller(world: World, role: str, target: str) -> str:
    """The citizen of the world's departure party, as the manifest names them."""
    intent = world.records[("departure_intent", world.country(role, target))]
    return str(Traveller.objects.get(intent=intent, is_citizen=True).pk)


def advisory_rows(world: World, role: str, data: Any) -> str | None:
    visible_drafts: set[str] = set()
    if role == SUPERUSER:
        visible_drafts = set(POSTS.values())
    elif _role_name(role) in ("editor", "approver"):
        visible_drafts = {POSTS[role.split("-")[0]]}
    for row in data["results"]:
        if row["status"] not in ("published", "superseded", "withdrawn") and (
            row["country"] not in visible_drafts
        ):
            return f"unpublished {row['country']} advisory listed"
    drafts = {row["country"] for row in data["results"] if row["status"] == "draft"}
    if drafts != visible_drafts:
        return f"drafts of {sorted(drafts)} listed, expected {sorted(visible_drafts)}"
    return None


def scoped_rows(
    key: str, *, readers: tuple[str, ...] = STAFF_ROLES
) -> Callable[[World, str, Any], str | None]:
    """A list holds the rows of the caller's post's countries if the caller holds one of
    `readers` there (all of them for a superuser), and nothing else."""

    def check(world: World, role: str, data: Any) -> str | None:
        rows = data["results"] if isinstance(data, dict) else data
        expected = set()
        if role == SUPERUSER:
            expected = set(POSTS.values())
        elif _role_name(role) in readers:
            expected = {POSTS[role.split("-")[0]]}
        seen = set()
        for row in rows:
            value = row[key]
            countries = {p["country"] for p in value} if isinstance(value, list) else {str(value)}
            seen |= countries & set(POSTS.values())
            if not countries & expected:
                return f"row of {sorted(countries)} listed"
        if seen != expected:
            return f"rows of {sorted(seen)}, expected {sorted(expected)}"
        return None

    return check


def own_presences(world: World, role: str, data: Any) -> str | None:
    rows = data["results"] if isinstance(data, dict) else data
    ids = {row["id"] for row in rows}
    if str(world.records[("presence", "ML")].pk) not in ids:
        return "own presence missing"
    if str(world.records[("presence", "LB")].pk) in ids:
        return "another citizen's presence listed"
    return None


def own_citizen(world: World, role: str, data: Any) -> str | None:
    citizen = data.get("citizen", data)
    return None if str(citizen.get("id")) == world.citizen_id else "not the caller's record"


def own_deliveries(world: World, role: str, data: Any) -> str | None:
    alerts = {str(row.get("alert", "")) for row in data["results"]}
    return None if len(data["results"]) == 1 else f"{len(data['results'])} deliveries: {alerts}"


REGISTRATION = {
    "given_name": "Claire",
    "family_name": "Martin",
    "email": "claire.matrix@example.org",
    "phone": "+961 3 000 101",
    "language": "fr",
    "notify_by_email": True,
    "notify_by_sms": False,
    "household": [],
    "presence": {
        "kind": "residence",
        "country": "LB",
        "region": "LB-BA",
        "start_date": TODAY.isoformat(),
    },
    "consent": True,
}
PERSON = {
    "given_name": "Awa",
    "family_name": "Keita",
    "email": "matrix-own@example.org",
    "phone": "+22370009999",
    "language": "en",
    "notify_by_email": True,
    "notify_by_sms": False,
}

STAFF_MESSAGE = {
    "subject_en": "Road closed",
    "text_en": "The road to the airport is closed.",
    "sms_en": "Road to the airport closed.",
    "subject_fr": "Route fermée",
    "text_fr": "La route de l'aéroport est fermée.",
    "sms_fr": "Route de l'aéroport fermée.",
}

MATRIX: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v1/countries/"): Operation(expect=anyone),
    ("GET", "/api/v1/countries/{code}/"): Operation(
        expect=anyone, path=lambda world, role, target: {"code": world.country(role, target)}
    ),
    ("GET", "/api/v1/advisories/"): Operation(expect=anyone, rows=advisory_rows),
    ("POST", "/api/v1/advisories/"): Operation(
        # No record to hide yet: a draft for another post's country is refused.
        expect=lambda role, target: OK if _has(role, target, "editor") else DENIED,
        body=lambda world, role, target: {
            "country": world.country(role, target),
            "country_level": 2,
            **TEXTS,
        },
    ),
    ("GET", "/api/v1/advisories/{id}/"): Operation(
        expect=lambda role, target: (
            HIDDEN
            if role in (ANONYMOUS, CITIZEN)
            else staff_record(role, target, reader_roles=("editor", "approver"))
        ),
        path=_path("draft"),
    ),
    ("GET", "/api/v1/advisories/{id}/review/"): Operation(
        expect=lambda role, target: staff_record(role, target, reader_roles=("editor", "approver")),
        path=_path("submitted"),
    ),
    ("PATCH", "/api/v1/advisories/{id}/"): Operation(
        expect=lambda role, target: staff_write(
            role, target, writers=("editor",), readers=("editor", "approver")
        ),
        path=_path("draft"),
        body=lambda world, role, target: {"summary_en": "Updated."},
    ),
    ("POST", "/api/v1/advisories/{id}/submit/"): Operation(
        expect=lambda role, target: staff_write(
            role, target, writers=("editor",), readers=("editor", "approver")
        ),
        path=_path("draft"),
        body=lambda world, role, target: {"comment": ""},
    ),
    ("POST", "/api/v1/advisories/{id}/approve/"): Operation(
        expect=lambda role, target: staff_write(
            role, target, writers=("approver",), readers=("editor", "approver")
        ),
        path=_path("submitted"),
        body=lambda world, role, target: {"comment": "", "confirm_reach": True},
    ),
    ("POST", "/api/v1/advisories/{id}/reject/"): Operation(
        expect=lambda role, target: staff_write(
            role, target, writers=("approver",), readers=("editor", "approver")
        ),
        path=_path("submitted"),
        body=lambda world, role, target: {"reason": "Not yet."},
    ),
    ("POST", "/api/v1/advisories/{id}/withdraw/"): Operation(
        expect=lambda role, target: staff_write(
            role, target, writers=("editor", "approver"), readers=("editor", "approver")
        ),
        path=_path("draft"),
        body=lambda world, role, target: {"reason": "Abandoned."},
    ),
    ("GET", "/api/v1/alerts/"): Operation(
        expect=lambda role, target: staff_record(role, "own"), rows=scoped_rows("country")
    ),
    # "alert" is a message to citizens (a case's, a check's); "message_draft" a staff message,
    # which the post's editors and approvers see but neither cancel nor resend.
    ("GET", "/api/v1/alerts/{id}/"): Operation(expect=consular_record, path=_path("alert")),
    ("GET", "/api/v1/alerts/{id}/deliveries/"): Operation(
        expect=consular_record, path=_path("alert"), rows=own_deliveries
    ),
    ("POST", "/api/v1/alerts/{id}/cancel/"): Operation(
        expect=lambda role, target: staff_write(role, target, writers=CONSULAR_ROLES),
        path=_path("message_draft"),
    ),
    ("POST", "/api/v1/alerts/{id}/resend-failed/"): Operation(
        expect=consular_write, path=_path("alert")
    ),
    ("POST", "/api/v1/alerts/"): Operation(
        # Officers write staff messages; no record to hide yet, so another country is refused.
        expect=lambda role, target: OK if _has(role, target, "officer") else DENIED,
        body=lambda world, role, target: {
            "country": world.country(role, target),
            "region_codes": [REGION[world.country(role, target)]],
            **STAFF_MESSAGE,
        },
    ),
    ("PATCH", "/api/v1/alerts/{id}/"): Operation(
        expect=lambda role, target: staff_write(role, target, writers=("officer",)),
        path=_path("message_draft"),
        body=lambda world, role, target: {"sms_en": "Curfew from 20h."},
    ),
    ("GET", "/api/v1/alerts/{id}/preview/"): Operation(
        expect=staff_record, path=_path("message_draft")
    ),
    ("POST", "/api/v1/alerts/{id}/submit/"): Operation(
        expect=lambda role, target: staff_write(role, target, writers=("officer",)),
        path=_path("message_draft"),
    ),
    ("POST", "/api/v1/alerts/{id}/approve/"): Operation(
        # The post's officer wrote it: only the approver (or a superuser) is a second person.
        expect=lambda role, target: staff_write(role, target, writers=("approver",)),
        path=_path("message_submitted"),
    ),
    ("POST", "/api/v1/alerts/{id}/reject/"): Operation(
        expect=lambda role, target: staff_write(role, target, writers=("officer", "approver")),
        path=_path("message_submitted"),
        body=lambda world, role, target: {"reason": "Name the road."},
    ),
    ("POST", "/api/v1/alerts/{id}/test-send/"): Operation(
        # The matrix's accounts have no email address: a 400 past authorisation is the answer.
        expect=lambda role, target: (
            AUTHORISED
            if _has(role, target, "officer", "approver")
            else staff_write(role, target, writers=("officer", "approver"))
        ),
        path=_path("message_draft"),
    ),
    ("GET", "/api/v1/registrations/"): Operation(
        expect=lambda role, target: register_record(role, "own"), rows=scoped_rows("presences")
    ),
    ("POST", "/api/v1/registrations/"): Operation(
        expect=anyone_reaches, body=lambda world, role, target: REGISTRATION
    ),
    ("GET", "/api/v1/registrations/{id}/"): Operation(
        expect=register_record, path=_path("citizen")
    ),
    ("GET", "/api/v1/registrations/stats/"): Operation(
        expect=register_record,
        query=lambda world, role, target: {"country": world.country(role, target)},
    ),
    ("GET", "/api/v1/safety-checks/"): Operation(
        expect=lambda role, target: staff_record(role, "own"),
        rows=scoped_rows("country", readers=CONSULAR_ROLES),
    ),
    ("POST", "/api/v1/safety-checks/"): Operation(
        # Officers start checks; no record to hide yet, so another country is refused.
        expect=lambda role, target: OK if _has(role, target, "officer") else DENIED,
        body=lambda world, role, target: {
            "country": world.country(role, target),
            "region_codes": [REGION[world.country(role, target)]],
            "question_en": "Are you safe?",
            "deadline": (timezone.now() + datetime.timedelta(hours=6)).isoformat(),
        },
    ),
    ("GET", "/api/v1/safety-checks/{id}/"): Operation(expect=consular_record, path=_path("check")),
    ("PATCH", "/api/v1/safety-checks/{id}/"): Operation(
        expect=consular_write,
        path=_path("check_draft"),
        body=lambda world, role, target: {"question_en": "Are you and yours safe?"},
    ),
    ("GET", "/api/v1/safety-checks/{id}/preview/"): Operation(
        # The second person (an approver too) sees the reach of a submitted check.
        expect=lambda role, target: staff_record(role, target, reader_roles=CHECK_APPROVERS),
        path=_path("check_submitted"),
    ),
    ("POST", "/api/v1/safety-checks/{id}/submit/"): Operation(
        expect=consular_write, path=_path("check_draft")
    ),
    ("POST", "/api/v1/safety-checks/{id}/approve/"): Operation(
        # The post's officer wrote it: the approver (or a superuser) is the second person.
        expect=lambda role, target: staff_write(
            role, target, writers=("approver",), readers=CHECK_APPROVERS
        ),
        path=_path("check_submitted"),
    ),
    ("POST", "/api/v1/safety-checks/{id}/reject/"): Operation(
        expect=lambda role, target: staff_write(
            role, target, writers=CHECK_APPROVERS, readers=CHECK_APPROVERS
        ),
        path=_path("check_submitted"),
        body=lambda world, role, target: {"reason": "Add the meeting point."},
    ),
    ("POST", "/api/v1/safety-checks/{id}/start-alone/"): Operation(
        # Urgent mode lets the author alone start their check; a superuser did not write it.
        expect=lambda role, target: REFUSED if role == SUPERUSER else consular_write(role, target),
        path=_path("check_draft"),
    ),
    ("GET", "/api/v1/safety-checks/{id}/responses/"): Operation(
        expect=consular_record, path=_path("check")
    ),
    ("GET", "/api/v1/cases/"): Operation(
        expect=lambda role, target: staff_record(role, "own"),
        rows=scoped_rows("country", readers=CONSULAR_ROLES),
    ),
    ("POST", "/api/v1/cases/"): Operation(
        # The post's officers open a case, about a citizen of its countries only; advisory
        # editors and approvers open none.
        expect=lambda role, target: (
            OK
            if _has(role, target, *CONSULAR_ROLES)
            else (
                DENIED
                if role in (ANONYMOUS, CITIZEN) or _role_name(role) not in CONSULAR_ROLES
                else REFUSED
            )
        ),
        body=lambda world, role, target: {
            "kind": "welfare",
            "country": world.country(role, "own"),
            "citizen": record("citizen")(world, role, target),
            "summary": "Family asking for news.",
        },
    ),
    ("GET", "/api/v1/cases/{id}/"): Operation(expect=consular_record, path=_path("case")),
    ("PATCH", "/api/v1/cases/{id}/"): Operation(
        expect=consular_write,
        path=_path("case"),
        body=lambda world, role, target: {"status": "contacted"},
    ),
    ("POST", "/api/v1/cases/{id}/assign/"): Operation(
        expect=lambda role, target: (
            consular_write(role, target) if role != SUPERUSER else AUTHORISED
        ),
        path=_path("case"),
        body=lambda world, role, target: {},
    ),
    ("GET", "/api/v1/cases/{id}/notes/"): Operation(expect=consular_record, path=_path("case")),
    ("POST", "/api/v1/cases/{id}/notes/"): Operation(
        expect=consular_write,
        path=_path("case"),
        body=lambda world, role, target: {"kind": "note", "text": "Called the family."},
    ),
    ("GET", "/api/v1/departures/operations/"): Operation(
        expect=lambda role, target: staff_record(role, "own"),
        rows=scoped_rows("country", readers=CONSULAR_ROLES),
    ),
    ("POST", "/api/v1/departures/operations/"): Operation(
        # Officers open operations; no record to hide yet, so another country is refused.
        expect=lambda role, target: OK if _has(role, target, "officer") else DENIED,
        body=lambda world, role, target: {
            "country": world.country(role, target),
            "eligibility_en": "Nationals and their household.",
        },
    ),
    ("GET", "/api/v1/departures/operations/{id}/"): Operation(
        expect=consular_record, path=_path("departure")
    ),
    ("GET", "/api/v1/departures/operations/{id}/board/"): Operation(
        expect=consular_record, path=_path("departure")
    ),
    ("GET", "/api/v1/departures/operations/{id}/queue/"): Operation(
        expect=consular_record, path=_path("departure")
    ),
    ("POST", "/api/v1/departures/operations/{id}/submit/"): Operation(
        # The country has an operation under way: the draft is refused with a 409.
        expect=consular_reach,
        path=_path("departure_draft"),
    ),
    ("POST", "/api/v1/departures/operations/{id}/approve/"): Operation(
        # The post's officer opened it: only a second consular person (here, a superuser)
        # gets past the four eyes, to be told the draft is not submitted.
        expect=lambda role, target: (
            AUTHORISED
            if role == SUPERUSER
            else REFUSED
            if _has(role, target, *CONSULAR_ROLES)
            else staff_record(role, target, reader_roles=CONSULAR_ROLES)
        ),
        path=_path("departure_draft"),
    ),
    ("POST", "/api/v1/departures/operations/{id}/reject/"): Operation(
        expect=consular_reach,
        path=_path("departure_draft"),
        body=lambda world, role, target: {"reason": "Name the regions."},
    ),
    ("POST", "/api/v1/departures/operations/{id}/close/"): Operation(
        expect=consular_write, path=_path("departure")
    ),
    ("POST", "/api/v1/departures/operations/{id}/allocate/"): Operation(
        expect=consular_write, path=_path("departure"), body=lambda world, role, target: {}
    ),
    ("GET", "/api/v1/departures/options/"): Operation(
        expect=lambda role, target: staff_record(role, "own"),
        rows=scoped_rows("country", readers=CONSULAR_ROLES),
    ),
    ("POST", "/api/v1/departures/options/"): Operation(
        expect=consular_write,
        body=lambda world, role, target: {
            "operation": record("departure")(world, role, target),
            "kind": "convoy",
            "departs_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
            "place": "Embassy",
            "assembly_point": "Embassy gate",
            "capacity": 40,
            "booking_cutoff": (timezone.now() + datetime.timedelta(days=2)).isoformat(),
        },
    ),
    ("GET", "/api/v1/departures/options/{id}/"): Operation(
        expect=consular_record, path=_path("departure_option")
    ),
    ("POST", "/api/v1/departures/options/{id}/capacity/"): Operation(
        expect=consular_write,
        path=_path("departure_option"),
        body=lambda world, role, target: {"capacity": 20},
    ),
    ("POST", "/api/v1/departures/options/{id}/cancel/"): Operation(
        expect=consular_write,
        path=_path("departure_option"),
        body=lambda world, role, target: {"reason": "Airport closed."},
    ),
    ("GET", "/api/v1/departures/options/{id}/manifest/"): Operation(
        expect=consular_record, path=_path("departure_option")
    ),
    ("POST", "/api/v1/departures/options/{id}/checkin/"): Operation(
        # The world's party holds an offer not yet accepted: past authorisation, the service
        # refuses to check it in (409).
        expect=consular_reach,
        path=_path("departure_option"),
        body=lambda world, role, target: {
            "traveller": _traveller(world, role, target),
            "state": "present",
        },
    ),
    ("POST", "/api/v1/departures/intents/{id}/priority/"): Operation(
        expect=consular_write,
        path=_path("departure_intent"),
        body=lambda world, role, target: {"priority": 1, "reason": "Dialysis."},
    ),
    ("POST", "/api/v1/departures/intents/{id}/offer/"): Operation(
        # The party holds an offer already: past authorisation, the service refuses (409).
        expect=consular_reach,
        path=_path("departure_intent"),
        body=lambda world, role, target: {
            "option": record("departure_option")(world, role, target)
        },
    ),
    ("GET", "/api/v1/me/"): Operation(expect=citizen_only, rows=own_citizen),
    ("PUT", "/api/v1/me/"): Operation(expect=citizen_only, body=lambda world, role, target: PERSON),
    ("DELETE", "/api/v1/me/"): Operation(expect=citizen_only),
    ("GET", "/api/v1/me/export/"): Operation(expect=citizen_only, rows=own_citizen),
    ("POST", "/api/v1/me/code/"): Operation(
        expect=anyone_reaches, body=lambda world, role, target: {"email": "nobody@example.org"}
    ),
    ("POST", "/api/v1/me/token/"): Operation(
        expect=anyone_reaches,
        body=lambda world, role, target: {"email": "nobody@example.org", "code": "000000"},
    ),
    ("POST", "/api/v1/me/phone/code/"): Operation(expect=citizen_only),
    ("POST", "/api/v1/me/phone/verify/"): Operation(
        expect=citizen_only, body=lambda world, role, target: {"code": "000000"}
    ),
    ("GET", "/api/v1/me/presences/"): Operation(expect=citizen_only, rows=own_presences),
    ("POST", "/api/v1/me/presences/"): Operation(
        expect=citizen_only,
        body=lambda world, role, target: {
            "legs": [{"country": "ML", "start_date": str(TODAY), "end_date": str(TODAY)}]
        },
    ),
    ("POST", "/api/v1/me/presences/{presence_id}/leave/"): Operation(
        # Another citizen's presence does not exist for the caller.
        expect=lambda role, target: (
            (AUTHORISED if target == "own" else HIDDEN) if role == CITIZEN else DENIED
        ),
        path=lambda world, role, target: {
            "presence_id": str(world.records[("presence", "ML" if target == "own" else "LB")].pk)
        },
    ),
    ("GET", "/api/v1/me/departure-intent/"): Operation(expect=citizen_only),
    ("PUT", "/api/v1/me/departure-intent/"): Operation(
        expect=citizen_only,
        body=lambda world, role, target: {
            "travellers": [{"document_type": "passport"}],
            "earliest_date": str(TODAY),
            "region": "ML-7",
        },
    ),
    ("POST", "/api/v1/me/departure-intent/offers/{offer_id}/accept/"): Operation(
        # Another citizen's offer was never offered to the caller.
        expect=lambda role, target: (
            (AUTHORISED if target == "own" else HIDDEN) if role == CITIZEN else DENIED
        ),
        path=lambda world, role, target: {
            "offer_id": str(world.records[("offer", "ML" if target == "own" else "LB")].pk)
        },
    ),
    ("POST", "/api/v1/me/departure-intent/offers/{offer_id}/decline/"): Operation(
        expect=lambda role, target: (
            (AUTHORISED if target == "own" else HIDDEN) if role == CITIZEN else DENIED
        ),
        path=lambda world, role, target: {
            "offer_id": str(world.records[("offer", "ML" if target == "own" else "LB")].pk)
        },
    ),
    ("POST", "/api/v1/webhooks/sms/{provider}/status"): Operation(
        expect=signed_only,
        path=lambda world, role, target: {"provider": "twilio" if target == "own" else "http"},
        body=lambda world, role, target: {"MessageSid": "SM0", "MessageStatus": "delivered"},
    ),
    ("POST", "/api/v1/webhooks/sms/{provider}/inbound"): Operation(
        expect=signed_only,
        path=lambda world, role, target: {"provider": "twilio" if target == "own" else "http"},
        body=lambda world, role, target: {"From": "+22370000001", "Body": "HELP"},
    ),
}

# Routes under /api/v1/ that are not in the OpenAPI schema, and why each needs no row above.
OUTSIDE_SCHEMA: dict[str, str] = {
    "/api/v1/": "DRF's index of the API's routes: no data",
    # django-anymail's provider webhooks: refused without the shared secret, checked below.
    "/api/v1/webhooks/email/": "django-anymail webhooks (basic auth with ANYMAIL WEBHOOK_SECRET)",
}


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _api_routes(patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "") -> set:
    """Every route of the URL configuration under /api/v1/, as a schema-style path."""
    routes: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= _api_routes(pattern.url_patterns, text)
            continue
        path = "/" + text.replace("^", "").replace("$", "")
        if not path.startswith(API) or "format" in path:
            continue
        path = re.sub(r"\(\?P<pk>[^)]*\)", "{id}", path)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
        routes.add(path)
    return routes


def test_every_route_is_classified():
    operations = _schema_operations()
    schema_paths = {path for _method, path in operations}

    unclassified = operations - MATRIX.keys()
    stale = MATRIX.keys() - operations
    outside = {
        route
        for route in _api_routes() - schema_paths
        if not any(
            route == known or (known.endswith("/") and known != API and route.startswith(known))
            for known in OUTSIDE_SCHEMA
        )
    }

    assert not unclassified, f"operations without a row in MATRIX: {sorted(unclassified)}"
    assert not stale, f"MATRIX rows for operations that no longer exist: {sorted(stale)}"
    assert not outside, f"routes outside the schema and OUTSIDE_SCHEMA: {sorted(outside)}"


def _token_only_user(username: str, *, is_superuser: bool = False) -> User:
    # The matrix signs in with API tokens: no password to hash (a hash costs most of a second).
    return User.objects.create(
        username=username, is_staff=True, is_superuser=is_superuser, password="!"
    )


def _departure_records(*, officer: User, second: User, citizen: Any, country: str) -> dict:
    """An open departure from the country with one flight and a seat offered to the citizen,
    and a draft beside it."""
    fields = departure_operations.OperationFields(eligibility_en="Nationals.")
    operation = departure_operations.operation_open(
        opened_by=officer, country_code=country, fields=fields
    )
    departure_operations.operation_submit(operation=operation, submitted_by=officer)
    departure_operations.operation_approve(operation=operation, approver=second)
    now = timezone.now()
    option = departure_options.option_add(
        operation=operation,
        added_by=officer,
        fields=departure_options.OptionFields(
            kind="flight",
            departs_at=now + datetime.timedelta(days=2),
            place="Airport",
            assembly_point="Embassy",
            capacity=10,
            booking_cutoff=now + datetime.timedelta(days=1),
        ),
    )
    intent = departure_intents.intent_submit(
        citizen_id=citizen.id,
        operation=operation,
        fields=departure_intents.IntentFields(
            travellers=[departure_intents.TravellerFields()], earliest_date=TODAY
        ),
    )
    departure_allocation.allocation_run(operation=operation, run_by=officer)
    return {
        "departure": operation,
        "departure_draft": departure_operations.operation_open(
            opened_by=officer, country_code=country, fields=fields
        ),
        "departure_option": option,
        "departure_intent": intent,
        "offer": Offer.objects.get(intent=intent),
    }


@pytest.fixture
def world(db) -> World:
    geography_load(country_codes=set(POSTS.values()))
    users: dict[str, User] = {}
    for post_code, country in POSTS.items():
        # Both posts opted into urgent mode, so that starting a check alone is reachable: by
        # its author only.
        post = PostFactory(code=post_code, countries=[country], urgent_safety_checks=True)
        for role in STAFF_ROLES:
            user = _token_only_user(f"{post_code}-{role}")
            MembershipFactory(user=user, post=post, role=role)
            users[f"{post_code}-{role}"] = user
    users[SUPERUSER] = _token_only_user("root", is_superuser=True)

    records: dict[tuple[str, str], Any] = {}
    for post_code, country in POSTS.items():
        editor, approver = users[f"{post_code}-editor"], users[f"{post_code}-approver"]
        records[("published", country)] = publish(
            country_code=country, editor=editor, approver=approver, level=2
        )
        records[("draft", country)] = advisory_services.advisory_draft_create(
            country_code=country, author=editor, fields=TEXTS
        )
        # It tells the country, where a citizen is present: approving it needs no confirming.
        submitted = advisory_services.advisory_draft_create(
            country_code=country,
            author=editor,
            fields={
                **TEXTS,
                "notify": "country",
                "change_note_en": "Reviewed.",
                "change_note_fr": "Revu.",
            },
        )
        records[("submitted", country)] = advisory_services.advisory_submit(
            advisory=submitted, submitted_by=editor
        )
        presence = PresenceFactory(country_id=country, region_id=REGION[country])
        records[("presence", country)] = presence
        records[("citizen", country)] = presence.citizen
        officer = users[f"{post_code}-officer"]
        checks = [
            safety_checks.safety_check_create(
                author=officer,
                country_code=country,
                fields=safety_checks.CheckFields(
                    region_codes=[REGION[country]],
                    question_en="Are you safe?",
                    deadline=timezone.now() + datetime.timedelta(hours=6),
                ),
            )
            for _ in range(3)
        ]
        records[("check_draft", country)] = checks[0]
        for check in checks[1:]:
            safety_checks.safety_check_submit(check=check, submitted_by=officer)
        records[("check_submitted", country)] = checks[1]
        records[("check", country)] = safety_checks.safety_check_approve(
            check=checks[2], approver=approver
        )
        records[("case", country)] = case_services.case_open(
            opened_by=officer, kind="welfare", country_code=country, summary="Walk-in."
        )
        alert = AlertFactory(country_id=country, region_codes=[REGION[country]])
        DeliveryFactory(alert=alert, status="failed", provider_id="")
        records[("alert", country)] = alert
        texts = {
            language: MessageTexts(
                subject=STAFF_MESSAGE[f"subject_{language}"],
                text=STAFF_MESSAGE[f"text_{language}"],
                sms=STAFF_MESSAGE[f"sms_{language}"],
            )
            for language in ("en", "fr")
        }

        drafts = [
            staff_messages.staff_message_create(
                author=officer, country_code=country, region_codes=[REGION[country]], texts=texts
            )
            for _ in range(2)
        ]
        records[("message_draft", country)] = drafts[0]
        records[("message_submitted", country)] = staff_messages.staff_message_submit(
            alert=drafts[1], submitted_by=officer
        )
        departure = _departure_records(
            officer=officer, second=users[SUPERUSER], citizen=presence.citizen, country=country
        )
        for kind, departure_record in departure.items():
            records[(kind, country)] = departure_record

    clients = {ANONYMOUS: APIClient()}
    citizen = records[("citizen", "ML")]
    clients[CITIZEN] = APIClient(HTTP_AUTHORIZATION=f"Citizen {tokens.me_token(citizen.id)}")
    for name, user in users.items():
        key = Token.objects.create(user=user).key
        clients[name] = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    return World(
        clients=clients,
        records=records,
        citizen_id=str(citizen.id),
    )


def _call(world: World, key: tuple[str, str], role: str, target: str) -> str | None:
    """One call, rolled back; a description of what went wrong, or None."""
    method, template = key
    operation = MATRIX[key]
    url = template.format(**operation.path(world, role, target))
    expected = operation.expect(role, target)
    cache.clear()  # throttles and rate limits count per test, not across the matrix
    with transaction.atomic():
        client = world.clients[role]
        body = operation.body(world, role, target)
        response = client.generic(
            method,
            url,
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
            QUERY_STRING=urlencode(operation.query(world, role, target)),
        )
        transaction.set_rollback(True)
    if not EXPECTED_STATUSES[expected](response.status_code):
        return f"{role:16} {target:8} expected {expected}, got {response.status_code}"
    if operation.rows is not None and 200 <= response.status_code < 300:
        problem = operation.rows(world, role, response.json())
        if problem:
            return f"{role:16} {target:8} {problem}"
    return None


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda key: f"{key[0]} {key[1]}")
def test_operation_answers_each_role_and_post_as_the_matrix_says(world, key):
    failures = [
        failure
        for role in ROLES
        for target in TARGETS
        if (failure := _call(world, key, role, target)) is not None
    ]

    assert not failures, "\n" + "\n".join(failures)


def test_email_provider_webhooks_are_not_served_without_their_shared_secret(world, settings):
    assert not settings.ANYMAIL.get("WEBHOOK_SECRET")

    response = world.clients[ANONYMOUS].post("/api/v1/webhooks/email/postmark/tracking/", {})

    assert not [route for route in _api_routes() if route.startswith("/api/v1/webhooks/email/")]
    assert response.status_code == 404


def test_only_the_configured_email_providers_tracking_webhook_is_routed():
    def routes(backend: str, *, with_secret: bool = True) -> list[str]:
        found = email_tracking_routes(
            email_backend=backend, webhook_secret="user:pass" if with_secret else ""
        )
        return [str(route.name) for route in found]

    assert routes("anymail.backends.postmark.EmailBackend") == ["postmark_tracking_webhook"]
    assert routes("anymail.backends.amazon_ses.EmailBackend") == ["amazon_ses_tracking_webhook"]
    assert routes("anymail.backends.postmark.EmailBackend", with_secret=False) == []
    assert routes("django.core.mail.backends.smtp.EmailBackend") == []
    assert routes("notifications.outbox.EmailBackend") == []


def test_the_api_index_lists_routes_only(world):
    response = world.clients[ANONYMOUS].get(API)

    assert response.status_code in (200, 401, 403)
    if response.status_code == 200:
        assert all(str(value).startswith("http") for value in response.json().values())


# --- The staff site -------------------------------------------------------------------------

ADMIN_ROLES = [*STAFF, SUPERUSER]


@dataclass
class AdminAction:
    """Run an admin action on one record; `done` reads from the database (or the answer, for
    an export) whether it acted."""

    record: str
    allowed: tuple[str, ...]  # roles of the record's post that may (superusers always may)
    done: Callable[[Any, Any], bool]
    # Actions asking for a reason on an intermediate page: the answer to it.
    extra: dict[str, str] | None = None


def _status_is(*statuses: str) -> Callable[[Any, Any], bool]:
    def done(instance: Any, response: Any) -> bool:
        instance.refresh_from_db()
        return str(getattr(instance, "status", None) or getattr(instance, "state", None)) in (
            statuses
        )

    return done


def _requeued(alert: Any, response: Any) -> bool:
    return not Delivery.objects.filter(alert=alert, status=Delivery.Status.FAILED).exists()


def _csv_names(column: Callable[[Any], str]) -> Callable[[Any, Any], bool]:
    def done(instance: Any, response: Any) -> bool:
        return response.get("Content-Type", "").startswith("text/csv") and (
            column(instance) in response.content.decode()
        )

    return done


def _mailed(alert: Any, response: Any) -> bool:
    return bool(mail.outbox)


REASON = {"apply": "1", "reason": "Not yet."}

ADMIN_ACTIONS: dict[tuple[str, str], AdminAction] = {
    ("advisories.advisory", "submit"): AdminAction("draft", ("editor",), _status_is("submitted")),
    ("advisories.advisory", "approve"): AdminAction(
        "submitted", ("approver",), _status_is("scheduled", "published")
    ),
    ("advisories.advisory", "reject"): AdminAction(
        "submitted", ("approver",), _status_is("draft"), REASON
    ),
    ("advisories.advisory", "withdraw"): AdminAction(
        "draft", ("editor", "approver"), _status_is("withdrawn"), REASON
    ),
    ("notifications.alert", "submit"): AdminAction(
        "message_draft", CONSULAR_ROLES, _status_is("awaiting_approval")
    ),
    # The post's officer wrote it: the approver (or a superuser) is the second person.
    ("notifications.alert", "approve"): AdminAction(
        "message_submitted", ("approver",), _status_is("fanning_out")
    ),
    ("notifications.alert", "reject"): AdminAction(
        "message_submitted", ("officer", "approver"), _status_is("draft"), REASON
    ),
    ("notifications.alert", "test_send"): AdminAction(
        "message_draft", ("officer", "approver"), _mailed
    ),
    # A staff message, which the post's editors and approvers see: they cannot stop it.
    ("notifications.alert", "cancel"): AdminAction(
        "message_draft", CONSULAR_ROLES, _status_is("cancelled")
    ),
    ("notifications.alert", "resend_failed"): AdminAction("alert", CONSULAR_ROLES, _requeued),
    ("notifications.alert", "export_failed"): AdminAction(
        "alert",
        CONSULAR_ROLES,
        _csv_names(lambda alert: f"{alert.id},{Delivery.objects.get(alert=alert).id},"),
    ),
    ("registrations.citizen", "export_csv"): AdminAction(
        "citizen", CONSULAR_ROLES, _csv_names(lambda citizen: str(citizen.id))
    ),
}

# Actions that only Django's model permissions open (superusers, or a permission given by
# hand): no membership grants one, and the matrix's staff hold only the view permissions of
# the register's models, so no role of a post reaches these.
PERMISSION_ONLY_ACTIONS: dict[tuple[str, str], str] = {
    ("axes.accessattempt", "cleanup_expired_attempts"): "sign-in lockouts: superusers",
}
DELETE_SELECTED = "delete_selected"  # Django's bulk delete, on every ModelAdmin

# The changelists of the models holding personal data (core.personal_data) and of safety
# checks: the roles of a post that see its rows there.
CHANGELISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "registrations.citizen": ("citizen", CONSULAR_ROLES),
    "cases.case": ("case", CONSULAR_ROLES),
    "cases.safetycheck": ("check", CONSULAR_ROLES),
    "notifications.alert": ("alert", CONSULAR_ROLES),
    "notifications.delivery": ("delivery", CONSULAR_ROLES),
    "notifications.suppression": ("suppression", CONSULAR_ROLES),
    "notifications.inboundmessage": ("inbound", CONSULAR_ROLES),
}
# Staff accounts reach a changelist of a plain ModelAdmin through Django's view permission
# (given to a post's staff by a group); the roles then decide which rows.
VIEW_PERMISSIONS = ("view_citizen", "view_suppression", "view_inboundmessage")


def _registered_actions() -> set[tuple[str, str]]:
    """Every action of every registered ModelAdmin: the site's own (Django's bulk delete) and
    those the ModelAdmin names."""
    site_wide = {name for name, _function in admin.site.actions}
    return {
        (model._meta.label_lower, name)
        for model, model_admin in admin.site._registry.items()
        for name in site_wide
        | {
            action if isinstance(action, str) else action.__name__
            for action in model_admin.actions or ()
        }
    }


def test_every_admin_action_and_personal_data_list_is_classified():
    registered = _registered_actions()
    classified = ADMIN_ACTIONS.keys() | PERMISSION_ONLY_ACTIONS.keys()
    admin_models = {model._meta.label_lower for model in admin.site._registry}

    unclassified = {key for key in registered - classified if key[1] != DELETE_SELECTED}
    stale = classified - registered
    unlisted = (personal_data.covered_models() & admin_models) - CHANGELISTS.keys()

    assert not unclassified, f"admin actions without a row: {sorted(unclassified)}"
    assert not stale, f"rows for admin actions that no longer exist: {sorted(stale)}"
    assert not unlisted, f"personal data listed in the admin without a row: {sorted(unlisted)}"


@pytest.fixture
def staff_site(world) -> dict[str, Client]:
    """A client per staff role and the superuser, signed in past the second factor, each
    with an email address (for test sends) and the register's view permissions."""
    for country in POSTS.values():
        citizen = world.records[("citizen", country)]
        world.records[("delivery", country)] = Delivery.objects.get(
            alert=world.records[("alert", country)]
        )
        world.records[("suppression", country)] = Suppression.objects.create(
            citizen=citizen, channel="sms", reason=Suppression.Reason.OPT_OUT
        )
        world.records[("inbound", country)] = InboundMessage.objects.create(
            provider="http",
            provider_id=f"matrix-{country}",
            sender=citizen.phone,
            body="SAFE",
            citizen=citizen,
        )
    permissions = list(Permission.objects.filter(codename__in=VIEW_PERMISSIONS))
    clients = {}
    for role in ADMIN_ROLES:
        user = User.objects.get(username="root" if role == SUPERUSER else role)
        user.email = f"{user.username}@post.test"
        user.save(update_fields=["email"])
        user.user_permissions.add(*permissions)
        clients[role] = Client()
        login_verified(clients[role], user)
    return clients


def _changelist(label: str) -> str:
    return "/admin/{}/{}/".format(*label.split("."))


def _admin_call(
    world: World, clients: dict[str, Client], key: tuple[str, str], role: str, target: str
) -> str | None:
    label, name = key
    action = ADMIN_ACTIONS[key]
    instance = world.records[(action.record, world.country(role, target))]
    expected = _has(role, target, *action.allowed)
    mail.outbox.clear()
    cache.clear()
    with transaction.atomic():
        response = clients[role].post(
            _changelist(label),
            {"action": name, "_selected_action": [str(instance.pk)], **(action.extra or {})},
        )
        acted = action.done(instance, response)
        transaction.set_rollback(True)
    instance.refresh_from_db()
    if acted != expected:
        return (
            f"{role:16} {target:8} {'acted' if acted else 'did not act'} ({response.status_code})"
        )
    return None


@pytest.mark.parametrize("key", sorted(ADMIN_ACTIONS), ids=lambda key: f"{key[0]} {key[1]}")
def test_admin_action_acts_for_each_role_and_post_as_the_matrix_says(world, staff_site, key):
    failures = [
        failure
        for role in ADMIN_ROLES
        for target in TARGETS
        if (failure := _admin_call(world, staff_site, key, role, target)) is not None
    ]

    assert not failures, "\n" + "\n".join(failures)


@pytest.mark.parametrize("label", sorted(CHANGELISTS))
def test_admin_list_of_personal_data_shows_each_role_what_the_matrix_says(world, staff_site, label):
    kind, readers = CHANGELISTS[label]
    failures = []
    for role in ADMIN_ROLES:
        response = staff_site[role].get(_changelist(label))
        listed = (
            {str(row.pk) for row in response.context["cl"].result_list}
            if response.status_code == 200
            else set()
        )
        for target in TARGETS:
            row = str(world.records[(kind, world.country(role, target))].pk)
            if (row in listed) != _has(role, target, *readers):
                failures.append(f"{role:16} {target:8} listed={row in listed}")

    assert not failures, "\n" + "\n".join(failures)


def test_actions_that_need_a_django_permission_are_not_offered_to_any_role(world, staff_site):
    offered = []
    for role in STAFF:
        request = RequestFactory().get("/admin/")
        request.user = User.objects.get(username=role)
        for model, model_admin in admin.site._registry.items():
            # What the changelist would offer: nothing when it refuses the caller.
            actions = (
                model_admin.get_actions(request)
                if model_admin.has_view_or_change_permission(request)
                else {}
            )
            label = model._meta.label_lower
            offered += [
                f"{role} {label} {name}"
                for name in actions
                if (label, name) in PERMISSION_ONLY_ACTIONS or name == DELETE_SELECTED
            ]

    assert not offered, "\n" + "\n".join(offered)


# --- Staff pages -----------------------------------------------------------------------------
# The server-rendered pages under /staff/: signed-out callers (a citizen's token is no staff
# session) are sent to the admin's sign-in; staff see their posts' records and get 404 for
# another post's. Every route under /staff/ needs a row (`test_every_staff_page_is_classified`).

SIGN_IN = "sign in"  # 302 to the admin's sign-in
ACTED = "acted"  # a form's post went through: 302 back to the page, with its confirmation


ADVISORY_READERS = ("editor", "approver", "admin")


def staff_page(expect: Callable[[str, str], str]) -> Callable[[str, str], str]:
    return lambda role, target: SIGN_IN if role in (ANONYMOUS, CITIZEN) else expect(role, target)


def _country(world: World, role: str, target: str) -> dict[str, str]:
    return {"iso2": world.country(role, target)}


STAFF_PAGES: dict[tuple[str, str], Operation] = {
    # Lands on the one country's console, or lists the countries (none for an editor).
    ("GET", "/staff/"): Operation(expect=staff_page(lambda role, target: AUTHORISED)),
    ("GET", "/staff/countries/{iso2}/"): Operation(
        expect=staff_page(consular_record), path=_country
    ),
    ("GET", "/staff/alerts/{alert_id}/"): Operation(
        expect=staff_page(consular_record), path=_path("alert", "alert_id")
    ),
    # Resend to the failed: the world's alert has one failed delivery.
    ("POST", "/staff/alerts/{alert_id}/"): Operation(
        expect=staff_page(
            lambda role, target: ACTED if consular_record(role, target) == OK else HIDDEN
        ),
        path=_path("alert", "alert_id"),
        body=lambda world, role, target: {"action": "resend_failed"},
    ),
    ("GET", "/staff/alerts/{alert_id}/progress/"): Operation(
        expect=staff_page(consular_record), path=_path("alert", "alert_id")
    ),
    ("GET", "/staff/alerts/{alert_id}/to-phone.csv"): Operation(
        expect=staff_page(consular_record), path=_path("alert", "alert_id")
    ),
    ("GET", "/staff/checks/"): Operation(expect=staff_page(lambda role, target: OK)),
    ("GET", "/staff/checks/new/"): Operation(expect=staff_page(lambda role, target: OK)),
    ("GET", "/staff/checks/{check_id}/"): Operation(
        expect=staff_page(consular_record), path=_path("check", "check_id")
    ),
    # The board's live part, which the board polls while the check is open.
    ("GET", "/staff/checks/{check_id}/progress/"): Operation(
        expect=staff_page(consular_record), path=_path("check", "check_id")
    ),
    ("GET", "/staff/checks/{check_id}/edit/"): Operation(
        expect=staff_page(consular_record), path=_path("check_draft", "check_id")
    ),
    ("GET", "/staff/checks/{check_id}/export.csv"): Operation(
        expect=staff_page(consular_record),
        path=_path("check", "check_id"),
        query=lambda world, role, target: {"status": "needs_help"},
    ),
    ("GET", "/staff/cases/"): Operation(expect=staff_page(lambda role, target: OK)),
    # Assisted departure: the post's consular staff; editors and approvers see no citizen.
    ("GET", "/staff/departures/"): Operation(expect=staff_page(lambda role, target: AUTHORISED)),
    ("GET", "/staff/departures/{operation_id}/"): Operation(
        expect=staff_page(consular_record), path=_path("departure", "operation_id")
    ),
    ("GET", "/staff/departures/options/{option_id}/manifest/"): Operation(
        expect=staff_page(consular_record), path=_path("departure_option", "option_id")
    ),
    ("GET", "/staff/departures/options/{option_id}/manifest.csv"): Operation(
        expect=staff_page(consular_record), path=_path("departure_option", "option_id")
    ),
    ("GET", "/staff/departures/options/{option_id}/checkin/"): Operation(
        expect=staff_page(consular_record), path=_path("departure_option", "option_id")
    ),
    # Checking in the world's party, whose offer is not accepted: refused on the page (409).
    ("POST", "/staff/departures/options/{option_id}/checkin/"): Operation(
        expect=staff_page(consular_reach),
        path=_path("departure_option", "option_id"),
        body=lambda world, role, target: {
            "action": "mark",
            "traveller": _traveller(world, role, target),
            "state": "present",
        },
    ),
    # Partner advice names no one: every role of a post covering the country reads it.
    ("GET", "/staff/peers/"): Operation(expect=staff_page(lambda role, target: OK)),
    ("GET", "/staff/peers/{country_code}/"): Operation(
        expect=staff_page(lambda role, target: staff_record(role, target)),
        path=lambda world, role, target: {"country_code": world.country(role, target).lower()},
    ),
    # The versions in review and each one's review: the country's editors and approvers.
    ("GET", "/staff/advisories/"): Operation(expect=staff_page(lambda role, target: OK)),
    ("GET", "/staff/advisories/{advisory_id}/"): Operation(
        expect=staff_page(
            lambda role, target: staff_record(role, target, reader_roles=ADVISORY_READERS)
        ),
        path=_path("submitted", "advisory_id"),
    ),
    # Rejecting: the approver's; an editor of the country reads the refusal on the page.
    ("POST", "/staff/advisories/{advisory_id}/"): Operation(
        expect=staff_page(
            lambda role, target: (
                ACTED
                if _has(role, target, "approver")
                else staff_record(role, target, reader_roles=ADVISORY_READERS)
            )
        ),
        path=_path("submitted", "advisory_id"),
        body=lambda world, role, target: {"action": "reject", "reason": "Not yet."},
    ),
    ("GET", "/staff/cases/{case_id}/"): Operation(
        expect=staff_page(consular_record), path=_path("case", "case_id")
    ),
}


def _staff_routes(patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "") -> set:
    routes: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= _staff_routes(pattern.url_patterns, text)
        elif text.startswith("staff/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text))
    return routes


def test_every_staff_page_is_classified():
    pages = {path for _method, path in STAFF_PAGES}

    assert _staff_routes() == pages


@pytest.fixture
def staff_pages(world) -> dict[str, Client]:
    clients = {ANONYMOUS: Client(), CITIZEN: Client()}
    for role in (*STAFF, SUPERUSER):
        clients[role] = Client()
        login_verified(
            clients[role], User.objects.get(username="root" if role == SUPERUSER else role)
        )
    return clients


@pytest.mark.parametrize("key", sorted(STAFF_PAGES), ids=lambda key: f"{key[0]} {key[1]}")
def test_staff_page_answers_each_role_and_post_as_the_matrix_says(world, staff_pages, key):
    method, template = key
    operation = STAFF_PAGES[key]
    failures = []
    for role in ROLES:
        for target in TARGETS:
            expected = operation.expect(role, target)
            url = template.format(**operation.path(world, role, target))
            body = operation.body(world, role, target)
            with transaction.atomic():
                response = staff_pages[role].generic(
                    method,
                    url,
                    data=urlencode(body) if body else "",
                    content_type="application/x-www-form-urlencoded",
                    QUERY_STRING=urlencode(operation.query(world, role, target)),
                )
                transaction.set_rollback(True)
            code = response.status_code
            if expected in (SIGN_IN, ACTED):
                signed_out = code == 302 and response["Location"].startswith("/admin/login/")
                passed = code == 302 and signed_out == (expected == SIGN_IN)
            else:
                passed = EXPECTED_STATUSES[expected](code)
            if not passed:
                failures.append(f"{role:16} {target:8} expected {expected}, got {code}")

    assert not failures, "\n" + "\n".join(failures)
