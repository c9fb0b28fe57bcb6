"""Schemathesis against the OpenAPI schema, in-process through the WSGI application, for an
anonymous caller, a citizen with a self-service token, an officer and an advisory editor with
API tokens, with every check schemathesis has: no answer is a server error, every status,
content type, header and body is the one documented, data the schema allows is accepted and
data it forbids is refused.

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
from schemathesis.config import SchemathesisConfig

from accounts.models import Membership, User
from regions.services import geography_load
from registrations import tokens
from tests.accounts.factories import MembershipFactory, PostFactory
from tests.registrations.factories import PresenceFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# A body or query the schema allows can still break a rule no schema states (an unknown
# country, a trip that ends before it starts, an email that is not one, a draft already
# submitted): the API refuses it with a 400 naming the field, and "valid data is accepted"
# holds for every other refusal. Every other check keeps schemathesis's defaults.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
            }
        }
    }
)

# Loaded when the module is collected: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", get_wsgi_application(), config=CONFIG
)


def _reaches(scheme: str):
    """Operations a caller with this security scheme reaches ("" for anonymous), from the
    schema's own security requirements."""

    def match(ctx) -> bool:
        requirements = ctx.operation.definition.raw.get("security", [])
        return any(scheme in req if scheme else req == {} for req in requirements)

    return match


CALLERS = {
    "anonymous": "",
    "citizen": "citizenToken",
    "officer": "tokenAuth",
    "editor": "tokenAuth",
}
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
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in (Membership.Role.OFFICER, Membership.Role.EDITOR):
        # Signs in with its API token: no password to hash (a hash costs most of a second).
        staff = User.objects.create(username=f"fuzz-{role}", is_staff=True, password="!")
        MembershipFactory(user=staff, post=post, role=role)
        headers[role] = {"Authorization": f"Token {Token.objects.create(user=staff).key}"}
    citizen: Any = PresenceFactory(country_id="ML", region_id="ML-7").citizen
    headers["citizen"] = {"Authorization": f"Citizen {tokens.me_token(citizen.id)}"}
    return headers


def _call(case, headers: dict[str, str]) -> None:
    # Throttles would answer 429 after a few examples and hide the code behind them (their
    # rates are read once, when DRF loads: the counters are what a test can reset).
    cache.clear()
    # No `checks=`: every check schemathesis has, which is its default.
    case.call_and_validate(headers=headers)


@REACHED["anonymous"].parametrize()
@FUZZ_SETTINGS
def test_public_operations_for_anyone(case, callers):
    _call(case, callers["anonymous"])


@REACHED["citizen"].parametrize()
@FUZZ_SETTINGS
def test_self_service_operations_for_a_citizen(case, callers):
    _call(case, callers["citizen"])


@REACHED["officer"].parametrize()
@FUZZ_SETTINGS
def test_staff_operations_for_an_officer(case, callers):
    _call(case, callers["officer"])


@REACHED["editor"].parametrize()
@FUZZ_SETTINGS
def test_staff_operations_for_an_editor(case, callers):
    _call(case, callers["editor"])


@REFUSED["anonymous"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_anyone(case, callers):
    _call(case, callers["anonymous"])


@REFUSED["citizen"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_a_citizen(case, callers):
    _call(case, callers["citizen"])


@REFUSED["officer"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_an_officer(case, callers):
    _call(case, callers["officer"])


@REFUSED["editor"].parametrize()
@REFUSED_SETTINGS
def test_other_operations_refuse_an_editor(case, callers):
    _call(case, callers["editor"])
