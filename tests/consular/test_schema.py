import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert "/api/v1/countries/{code}/" in schema["paths"]


def test_swagger_ui_is_served_from_local_assets(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def _property(schema: dict, component: str, name: str) -> dict:
    return schema["components"]["schemas"][component]["properties"][name]


def _enum_values(schema: dict, node: dict) -> set:
    """Every value an enum property allows, through its references and alternatives."""
    if "$ref" in node:
        return _enum_values(schema, schema["components"]["schemas"][node["$ref"].split("/")[-1]])
    values = set(node.get("enum", []))
    for alternative in node.get("oneOf", []) + node.get("allOf", []):
        values |= _enum_values(schema, alternative)
    return values


@pytest.mark.parametrize(
    ("component", "name"), [("Case", "assignee"), ("Case", "safety_check"), ("Event", "actor")]
)
def test_fields_the_api_returns_as_null_are_nullable(schema, component, name):
    """Issue 13: a case without an assignee or a check, and the system's own events, answered
    null where the schema promised a value."""
    assert _property(schema, component, name)["nullable"] is True


@pytest.mark.parametrize("name", ["via", "help_kind"])
def test_a_response_not_answered_yet_is_a_blank_choice(schema, name):
    assert "" in _enum_values(schema, _property(schema, "Response", name))


def test_published_since_is_a_date_time(schema):
    parameters = schema["paths"]["/api/v1/advisories/"]["get"]["parameters"]
    since = next(p for p in parameters if p["name"] == "published_since")

    assert since["schema"] == {"type": "string", "format": "date-time"}


def test_a_garbage_date_time_is_a_400_naming_the_parameter(client):
    response = client.get("/api/v1/advisories/?published_since=yesterday")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["published_since"]


def test_every_operation_documents_its_refusals_with_the_error_body(schema):
    """Issue 13: no operation documented a 400, 401, 403, 404 or 409."""
    error = {"$ref": "#/components/schemas/Error"}
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            security = operation["security"]
            expected = set()
            if "requestBody" in operation or any(
                p["in"] == "query" and p["name"] != "cursor" for p in parameters
            ):
                expected.add("400")
            if {} not in security:
                expected |= {"401", "403"}
            if "{" in route:
                expected.add("404")
            if method != "get":
                expected.add("409")
            if "requestBody" in operation:
                expected.add("415")

            responses = operation["responses"]
            assert expected <= set(responses), (method, route)
            for code in set(responses) & {"400", "401", "403", "404", "409", "415", "429"}:
                assert responses[code]["content"]["application/json"]["schema"] == error, (
                    method,
                    route,
                    code,
                )
