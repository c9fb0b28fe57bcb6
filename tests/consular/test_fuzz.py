"""Schemathesis against the OpenAPI schema, in-process through the WSGI application, for an
anonymous caller, a citizen with a self-service token and a staff member with an API token:
no answer is a server error, and every documented answer matches its schema.

Each operation gets FUZZ_EXAMPLES examples (100 by default, as in CI; lower it for a quick
local run) with the caller its security requirements name in the schema, and a tenth of that
with the callers it refuses. Examples are derandomised: a run repeats the last one."""

import os
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from accounts.models import Membership, User
from regions.services import geography_load
from registrations import tokens
from tests.accounts.factories import MembershipFactory, PostFactory
from tests.registrations.factories import PresenceFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# Loaded when the module is collected: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def _reaches(scheme: str):
    """Operations a caller with this security scheme reaches ("" for anonymous), from the
    schema's own security requirements."""

    def match(ctx) -> bool:
        requirements = ctx.operation.definition.raw.get("security", [])
        return any(scheme in req if scheme else req == {} for req in requirements)

    return match


CALLERS = {"anonymous": "", "citizen": "citizenToken", "staff": "tokenAuth"}
REACHED = {role: schema.include(_reaches(scheme)) for role, scheme in CALLERS.items()}
REFUSED = {role: schema.exclude(_reaches(scheme)) for role, scheme in CALLERS.items()}
# Where the caller is refused at the door, a few examples show the refusal holds for any input.
REFUSED_SETTINGS = settings(FUZZ_SETTINGS, max_examples=max(1, EXAMPLES // 10))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI application itself, whose end-of-request handler would close
    the test's database connection (and its transaction) on PostgreSQL; Django's test client
    suspends it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def callers(db) -> dict[str, dict[str, str]]:
    geography_load(country_codes={"ML"})
    post = PostFactory(code="bamako", countries=["ML"])
    # Signs in with its API token: no password to hash (a hash costs most of a second).
    staff = User.objects.create(username="fuzz-officer", is_staff=True, password="!")
    MembershipFactory(user=staff, post=post, role=Membership.Role.OFFICER)
    citizen: Any = PresenceFactory(country_id="ML", region_id="ML-7").citizen
    return {
        "anonymous": {},
        "citizen": {"Authorization": f"Citizen {tokens.me_token(citizen.id)}"},
        "staff": {"Authorization": f"Token {Token.objects.create(user=staff).key}"},
    }


def _call(case, headers: dict[str, str]) -> None:
    # Throttles would answer 429 after a few examples and hide the code behind them.
    cache.clear()
    case.call_and_validate(headers=headers, checks=CHECKS)


@REACHED["anonymous"].parametrize()
@FUZZ_SETTINGS
def test_public_operations_for_anyone(case, callers):
    _call(case, callers["anonymous"])


@REACHED["citizen"].parametrize()
@FUZZ_SETTINGS
def test_self_service_operations_for_a_citizen(case, callers):
    _call(case, callers["citizen"])


@REACHED["staff"].parametrize()
@FUZZ_SETTINGS
def test_staff_operations_for_an_officer(case, callers):
    _call(case, callers["staff"])


@REFUSED["anonymous"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_anyone(case, callers):
    _call(case, callers["anonymous"])


@REFUSED["citizen"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_a_citizen(case, callers):
    _call(case, callers["citizen"])


@REFUSED["staff"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_an_officer(case, callers):
    _call(case, callers["staff"])
