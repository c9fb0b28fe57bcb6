"""What every operation of the API promises, walked from the OpenAPI schema so a new route is
held to it too: a PATCH takes any single field alone, an answer to a known caller is never
kept by a cache, and a bug answers the error shape in JSON."""

import datetime
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import path
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.models import Membership, User
from advisories import services as advisory_services
from cases.models import Case
from cases.services import cases as case_services
from cases.services import safety_checks
from notifications import staff_messages
from notifications.alerts import MessageTexts
from registrations import tokens
from tests.accounts.factories import MembershipFactory, staff_at
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client) -> dict[str, Any]:
    return api_client.get("/api/schema/?format=json").json()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (route, method.upper(), operation)
        for route, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return {
            **_resolve(schema, node["allOf"][0]),
            **{k: v for k, v in node.items() if k != "allOf"},
        }
    return node


def _value(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    """A plain value of the property's type: the first of an enum, an object with its required
    properties."""
    node = _resolve(schema, node)
    if "enum" in node:
        return next(value for value in node["enum"] if value not in ("", None))
    kind = node.get("type")
    if kind == "array":
        return [_value(schema, node["items"])]
    if kind == "object":
        return {name: _value(schema, node["properties"][name]) for name in node.get("required", [])}
    if kind == "integer":
        return node.get("minimum", 1)
    if kind == "boolean":
        return True
    if node.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "ML-7" if "region" in str(node.get("description", "")) else "x"


@pytest.fixture
def staff(geography) -> User:
    """An editor and an officer of the Mali post: reaches every staff PATCH."""
    user: User = staff_at("ML", Membership.Role.EDITOR, username="ml-staff")
    MembershipFactory(user=user, post=user.memberships.get().post, role=Membership.Role.OFFICER)
    return user


def _patchable(staff: User) -> dict[str, str]:
    """An object of each kind the API lets staff PATCH, in a state that allows it."""
    advisory = advisory_services.advisory_draft_create(country_code="ML", author=staff)
    texts = MessageTexts(subject="Curfew", text="A curfew from 8 pm.", sms="Curfew 8 pm.")
    alert = staff_messages.staff_message_create(
        author=staff,
        country_code="ML",
        region_codes=[],
        texts={"en": texts, "fr": texts},
        send_email=True,
        send_sms=True,
    )
    case = case_services.case_open(
        opened_by=staff, kind=Case.Kind.WELFARE, country_code="ML", summary="Whereabouts"
    )
    check = safety_checks.safety_check_create(
        author=staff,
        country_code="ML",
        fields=safety_checks.CheckFields(
            region_codes=["ML-7"],
            question_en="Are you safe?",
            deadline=timezone.now() + datetime.timedelta(hours=6),
        ),
    )
    return {
        "/api/v1/advisories/{id}/": str(advisory.id),
        "/api/v1/alerts/{id}/": str(alert.id),
        "/api/v1/cases/{id}/": str(case.id),
        "/api/v1/safety-checks/{id}/": str(check.id),
    }


def test_an_editor_patches_the_region_levels_alone(staff, api_client):
    """Issue 13: a PATCH of the overrides alone answered 500 (their notes' defaults dropped)."""
    advisory = advisory_services.advisory_draft_create(country_code="ML", author=staff)
    api_client.force_authenticate(staff)

    response = api_client.patch(
        f"/api/v1/advisories/{advisory.id}/",
        {"overrides": [{"region": "ML-7", "level": 4}]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert [(o["region"], o["level"], o["note_en"]) for o in response.json()["overrides"]] == [
        ("ML-7", 4, "")
    ]


def test_a_note_alone_patches_a_case_and_keeps_its_status(staff, api_client):
    case = case_services.case_open(
        opened_by=staff, kind=Case.Kind.WELFARE, country_code="ML", summary="Whereabouts"
    )
    api_client.force_authenticate(staff)

    response = api_client.patch(f"/api/v1/cases/{case.id}/", {"note": "Called the hotel."})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Case.Status.NEW
    # The timeline is encrypted at rest: read it back through the model, not a SQL filter.
    assert "Called the hotel." in [event.text for event in case.events.all()]


def test_every_patch_takes_each_of_its_fields_alone(schema, staff, api_client):
    objects = _patchable(staff)
    patches = [(route, op) for route, method, op in _operations(schema) if method == "PATCH"]
    # A new PATCH fails here until it has an object above.
    assert sorted(route for route, _ in patches) == sorted(objects)
    api_client.force_authenticate(staff)
    for route, operation in patches:
        body = _resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
        assert body["properties"], route
        for field, node in body["properties"].items():
            url = route.replace("{id}", objects[route])

            response = api_client.patch(url, {field: _value(schema, node)}, format="json")

            assert response.status_code < 500, (route, field, response.content)
            assert response["Content-Type"] == "application/json", (route, field)


def _credentials(scheme: str | None, staff: User) -> dict[str, str]:
    if scheme == "citizenToken":
        # A new citizen each time: one operation deletes the registration.
        citizen: Any = PresenceFactory(country_id="ML", region_id="ML-7").citizen
        return {"HTTP_AUTHORIZATION": f"Citizen {tokens.me_token(citizen.id)}"}
    if scheme == "tokenAuth":
        token, _ = Token.objects.get_or_create(user=staff)
        return {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    return {}


PATH_VALUES = {"{id}": str(uuid.uuid4()), "{presence_id}": str(uuid.uuid4()), "{code}": "ML"}
PATH_VALUES["{provider}"] = "http"


def test_every_answer_to_a_known_caller_is_no_store(schema, staff):
    """Issue 13: /me/, the register, cases, responses and deliveries could be cached. Every
    operation, as the caller its security names (anonymous for the open writes), whatever it
    answers. Issue 18: public reads are served to anonymous readers from a shared cache; read
    by a signed-in caller, they are not stored either."""
    walked = 0
    for route, method, operation in _operations(schema):
        schemes = {name for requirement in operation["security"] for name in requirement}
        scheme = next((s for s in ("citizenToken", "tokenAuth") if s in schemes), None)
        if scheme is None and method == "GET":
            scheme = "tokenAuth"  # a public read by a known caller; anonymous: the test below
        url = route
        for placeholder, value in PATH_VALUES.items():
            url = url.replace(placeholder, value)
        cache.clear()  # throttles

        response = APIClient().generic(
            method, url, "{}", "application/json", **_credentials(scheme, staff)
        )

        assert "no-store" in response.get("Cache-Control", ""), (method, route, response)
        walked += 1
    assert walked > 40


def test_an_anonymous_read_of_public_data_stays_cacheable_but_not_across_callers(api_client):
    response = api_client.get("/api/v1/advisories/")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert {"Authorization", "Cookie"} <= {name.strip() for name in response["Vary"].split(",")}


class _Broken(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        raise KeyError("given_name of jane.doe@example.org")


urlpatterns = [path("api/v1/broken/", _Broken.as_view())]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_answers_json_and_logs_no_personal_data(caplog):
    """Issue 13: a bug in a view answered Django's HTML error page."""
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/v1/broken/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"
    assert response.json()["errors"] == {}
    logged = [record for record in caplog.records if record.name == "core.api"]
    assert [record.getMessage() for record in logged] == ["unexpected KeyError in _Broken"]


@pytest.mark.parametrize(
    ("url", "status"),
    [("/api/v1/alerts/0.5/cancel/", 404), ("/api/v1/advisories/?country=M%00L", 400)],
)
def test_what_fails_before_a_view_answers_json_under_the_api(api_client, url, status):
    """A path no route matches, a NUL the middleware refuses: Django's HTML pages before."""
    response = api_client.get(url)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "code", "errors"}


def test_the_site_keeps_its_html_error_pages(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("size", ["ten", "0", "501"])
def test_a_page_size_out_of_bounds_is_a_400_naming_it(api_client, size):
    response = api_client.get(f"/api/v1/advisories/?page_size={size}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


def test_a_number_where_text_is_expected_is_refused(api_client):
    """DRF turned 0 into "0": the email code request answered 202 to a body the schema forbids."""
    response = api_client.post("/api/v1/me/code/", {"email": 0}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]
