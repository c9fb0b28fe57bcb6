from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from advisories import services
from tests.advisories.conftest import MALI_NORTH, publish

CAP_SCHEMA = Path(__file__).parent / "data" / "CAP-v1.2.xsd"
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM = {"atom": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module")
def cap_schema():
    return xmlschema.XMLSchema(CAP_SCHEMA)


def parse(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own output


@pytest.fixture
def mali(ml_editor, ml_approver):
    return publish(
        country_code="ML", editor=ml_editor, approver=ml_approver, level=3, overrides=MALI_NORTH
    )


def raise_mali_to_four(editor, approver):
    draft = services.advisory_draft_create(
        country_code="ML", author=editor, fields={"country_level": 4}, overrides=[]
    )
    services.advisory_submit(advisory=draft, submitted_by=editor)
    return services.advisory_approve(advisory=draft, approved_by=approver, confirm_reach=True)


def test_first_cap_alert_validates_and_lists_every_region(mali, client, cap_schema, settings):
    settings.SITE_URL = "https://consular.example.org"

    response = client.get("/advisories/ML/cap.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/cap+xml"
    cap_schema.validate(response.content.decode())
    alert = parse(response.content)
    assert alert.findtext("cap:msgType", namespaces=CAP) == "Alert"
    assert alert.findtext("cap:status", namespaces=CAP) == "Actual"
    assert alert.findtext("cap:scope", namespaces=CAP) == "Public"
    assert alert.findtext("cap:identifier", namespaces=CAP) == f"urn:uuid:{mali.pk}"
    assert alert.findtext("cap:sender", namespaces=CAP) == "advisories@consular.example.org"
    infos = alert.findall("cap:info", namespaces=CAP)
    assert [info.findtext("cap:language", namespaces=CAP) for info in infos] == ["en", "fr"]
    english = infos[0]
    assert english.findtext("cap:category", namespaces=CAP) == "Security"
    assert english.findtext("cap:responseType", namespaces=CAP) == "Evacuate"  # ML-7 is at 4
    assert english.findtext("cap:severity", namespaces=CAP) == "Extreme"
    assert english.findtext("cap:headline", namespaces=CAP) == "Mali: Reconsider travel"
    assert (
        english.findtext("cap:web", namespaces=CAP) == "https://consular.example.org/advisories/ML/"
    )
    geocodes = {
        value.text for value in english.findall("cap:area/cap:geocode/cap:value", namespaces=CAP)
    }
    assert len(geocodes) == 11  # every region is new
    assert infos[1].findtext("cap:headline", namespaces=CAP) == (
        "Mali: Déconseillé sauf raison impérative"
    )


def test_cap_update_references_the_previous_version_and_lists_changed_regions(
    mali, ml_editor, ml_approver, client, cap_schema
):
    raise_mali_to_four(ml_editor, ml_approver)

    response = client.get("/advisories/ML/cap.xml")

    cap_schema.validate(response.content.decode())
    alert = parse(response.content)
    assert alert.findtext("cap:msgType", namespaces=CAP) == "Update"
    sender, identifier, sent = alert.findtext("cap:references", namespaces=CAP).split(",")
    assert sender == alert.findtext("cap:sender", namespaces=CAP)
    assert identifier == f"urn:uuid:{mali.pk}"
    assert sent.endswith("+00:00")
    english = alert.find("cap:info", namespaces=CAP)
    geocodes = {
        value.text for value in english.findall("cap:area/cap:geocode/cap:value", namespaces=CAP)
    }
    assert geocodes == {"ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-BKO"}


def test_cap_cancel_after_withdrawal(mali, ml_approver, client, cap_schema):
    services.advisory_withdraw(advisory=mali, withdrawn_by=ml_approver, reason="Issued in error.")

    response = client.get("/advisories/ML/cap.xml")

    cap_schema.validate(response.content.decode())
    alert = parse(response.content)
    assert alert.findtext("cap:msgType", namespaces=CAP) == "Cancel"
    assert f"urn:uuid:{mali.pk}," in alert.findtext("cap:references", namespaces=CAP)


def test_cap_of_a_country_without_advisory_is_404(client, geography):
    assert client.get("/advisories/LB/cap.xml").status_code == 404


def test_atom_feed_has_one_entry_per_publication_with_stable_ids(
    mali, ml_editor, ml_approver, client, django_capture_on_commit_callbacks
):
    first = parse(client.get("/advisories/feed.atom").content)
    with django_capture_on_commit_callbacks(execute=True):
        second_version = raise_mali_to_four(ml_editor, ml_approver)

    response = client.get("/advisories/feed.atom")

    assert response["Content-Type"].startswith("application/atom+xml")
    feed = parse(response.content)
    ids = [entry.findtext("atom:id", namespaces=ATOM) for entry in feed.findall("atom:entry", ATOM)]
    assert ids == [f"urn:uuid:{second_version.pk}", f"urn:uuid:{mali.pk}"]
    assert first.find("atom:entry/atom:id", ATOM).text == f"urn:uuid:{mali.pk}"
    titles = [e.findtext("atom:title", namespaces=ATOM) for e in feed.findall("atom:entry", ATOM)]
    assert titles == ["Mali: Do not travel (4/4)", "Mali: Reconsider travel (3/4)"]
