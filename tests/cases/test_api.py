import datetime

import pytest
from django.utils import timezone

from cases.models import Case, SafetyResponse
from cases.services import safety_checks
from core.models import AuditEvent
from tests.cases.conftest import citizen_in, second_person, start_check

pytestmark = pytest.mark.usefixtures("geography")


def test_write_preview_submit_and_approve_a_check_then_read_its_counts(
    api_client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7", household=1)
    api_client.force_authenticate(bamako_officer)
    created = api_client.post(
        "/api/v1/safety-checks/",
        {
            "country": "ML",
            "region_codes": ["ML-7"],
            "question_en": "Are you safe?",
            "deadline": (timezone.now() + datetime.timedelta(hours=2)).isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/safety-checks/{created.json()['id']}/"
    preview = api_client.get(f"{url}preview/").json()
    submitted = api_client.post(f"{url}submit/")
    api_client.force_authenticate(second_person("ML"))

    with django_capture_on_commit_callbacks(execute=True):
        approved = api_client.post(f"{url}approve/")
    api_client.force_authenticate(bamako_officer)
    detail = api_client.get(url).json()

    assert created.json()["status"] == "draft"
    assert preview["people"] == 1
    assert preview["by_region"]["ML-7"]["people"] == 1
    assert submitted.json()["status"] == "awaiting_approval"
    assert approved.status_code == 200, approved.json()
    assert detail["status"] == "open"
    assert detail["approved_by"] == "ml-second-approver"
    assert detail["started_alone"] is False
    assert detail["counts"]["pending"] == {"citizens": 1, "people": 2}
    assert detail["regions"]["ML-7"]["pending"] == {"citizens": 1, "people": 2}
    assert len(api_client.get("/api/v1/safety-checks/").json()["results"]) == 1
    responses = api_client.get(f"{url}responses/")
    assert [r["status"] for r in responses.json()["results"]] == ["pending"]
    assert AuditEvent.objects.filter(object_type="cases.safetycheck", action="create").exists()


def test_a_beirut_officer_never_sees_a_bamako_check_or_case(
    api_client, bamako_officer, beirut_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    safety_checks.response_record(
        check=check,
        citizen_id=awa.id,
        answer=safety_checks.Answer(status=SafetyResponse.Status.NEEDS_HELP, via="web"),
    )
    case = Case.objects.get()
    api_client.force_authenticate(beirut_officer)

    assert api_client.get("/api/v1/cases/").json()["results"] == []
    assert api_client.get("/api/v1/safety-checks/").json()["results"] == []
    assert api_client.get(f"/api/v1/cases/{case.id}/").status_code == 404
    assert api_client.get(f"/api/v1/safety-checks/{check.id}/").status_code == 404
    assert api_client.get(f"/api/v1/safety-checks/{check.id}/responses/").status_code == 404
    assert api_client.patch(f"/api/v1/cases/{case.id}/", {"status": "closed"}).status_code == 404
    assert api_client.post(f"/api/v1/cases/{case.id}/assign/", {}).status_code == 404
    assert api_client.post(f"/api/v1/cases/{case.id}/notes/", {"text": "x"}).status_code == 404
    case.refresh_from_db()
    assert (case.status, case.assignee, case.events.count()) == ("new", None, 1)


def test_case_lifecycle_through_the_api(api_client, bamako_officer):
    api_client.force_authenticate(bamako_officer)

    created = api_client.post(
        "/api/v1/cases/",
        {"kind": "arrest", "country": "ML", "region": "ML-7", "summary": "Detained in Gao"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    case_id = created.json()["id"]
    assert created.json()["post"] == "post-ml"

    assigned = api_client.post(f"/api/v1/cases/{case_id}/assign/", {}, format="json")
    assert assigned.json()["assignee"] == bamako_officer.id
    note = api_client.post(
        f"/api/v1/cases/{case_id}/notes/", {"text": "Called the police station"}, format="json"
    )
    assert note.status_code == 201
    changed = api_client.patch(
        f"/api/v1/cases/{case_id}/", {"status": "in_progress"}, format="json"
    )
    assert changed.json()["status"] == "in_progress"
    refused = api_client.patch(f"/api/v1/cases/{case_id}/", {"status": "new"}, format="json")
    assert refused.status_code == 409

    mine = api_client.get("/api/v1/cases/?assignee=me&status=in_progress").json()["results"]
    timeline = api_client.get(f"/api/v1/cases/{case_id}/notes/").json()["results"]

    assert [c["id"] for c in mine] == [case_id]
    assert [e["kind"] for e in timeline] == ["opened", "assigned", "note", "status"]
    assert api_client.get("/api/v1/cases/?status=closed").json()["results"] == []


def test_staff_cannot_open_a_case_outside_their_countries(api_client, beirut_officer):
    api_client.force_authenticate(beirut_officer)

    response = api_client.post(
        "/api/v1/cases/", {"kind": "other", "country": "ML", "summary": "x"}, format="json"
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("priority=urgent", "priority"),
        ("assignee=someone", "assignee"),
        ("safety_check=42", "safety_check"),
        ("status=lost", "status"),
    ],
)
def test_a_queue_filter_that_means_nothing_is_a_400_naming_it(
    api_client, bamako_officer, query, field
):
    """The filters were undocumented and dropped a value they could not read: the whole queue
    answered instead."""
    api_client.force_authenticate(bamako_officer)

    response = api_client.get(f"/api/v1/cases/?{query}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_queue_filters_are_in_the_schema(api_client):
    operation = api_client.get("/api/schema/?format=json").json()["paths"]["/api/v1/cases/"]

    names = {parameter["name"] for parameter in operation["get"]["parameters"]}

    assert {"status", "kind", "priority", "assignee", "post", "safety_check"} <= names


def test_a_case_the_system_opened_reads_its_summary_in_the_callers_language(
    api_client, bamako_officer
):
    awa = citizen_in("ML-7")
    check = start_check(bamako_officer)
    safety_checks.response_record(
        check=check,
        citizen_id=awa.id,
        answer=safety_checks.Answer(
            status=SafetyResponse.Status.NEEDS_HELP, via=SafetyResponse.Via.SMS
        ),
    )
    case = Case.objects.get(citizen=awa)
    api_client.force_authenticate(bamako_officer)

    english = api_client.get(f"/api/v1/cases/{case.id}/").json()
    french = api_client.get(f"/api/v1/cases/{case.id}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    blank = api_client.post(
        "/api/v1/cases/", {"kind": "other", "country": "ML", "summary": " "}, format="json"
    )

    assert english["summary"] == f"Asked for help in safety check {check.code}"
    assert french["summary"] == f"A demandé de l'aide lors de la vérification {check.code}"
    assert blank.status_code == 400
    assert "summary" in blank.json()["errors"]
