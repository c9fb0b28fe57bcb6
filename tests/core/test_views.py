import pytest
from celery import current_app
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_home_page_links_citizens_and_staff(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b'href="/admin/"' in response.content
    assert b'href="/api/docs/"' in response.content


def test_home_page_in_french(client):
    response = client.get("/", headers={"Accept-Language": "fr"})

    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Nothing listens on port 1: a real refused connection, not a mock.
    monkeypatch.setitem(current_app.conf, "broker_write_url", "amqp://guest:guest@127.0.0.1:1//")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.broker
def test_healthz_reaches_the_real_broker(client):
    response = client.get("/healthz")

    assert response.json()["checks"]["broker"]["ok"] is True
    assert settings.CELERY_BROKER_URL.split(":")[0] in {"amqp", "redis"}
