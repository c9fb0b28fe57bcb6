import datetime
import json

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from peers import services, tasks
from peers.health import partner_sources
from peers.models import PartnerAdvice, PeerWarning, SourceState
from peers.selectors import partner_levels, sources_status
from tests.peers.conftest import CANADA, UK, US, recorded

pytestmark = pytest.mark.django_db


def _us_feed(**levels: int) -> bytes:
    """The recorded US answer with some countries' levels changed (by FIPS code)."""
    words = {
        1: "Exercise Normal Precautions",
        2: "Exercise Increased Caution",
        3: "Reconsider Travel",
        4: "Do Not Travel",
    }
    entries = json.loads(recorded("us_travel_advisories.json"))
    for entry in entries:
        level = levels.get(entry["Category"][0])
        if level:
            name = entry["Title"].split(" - ")[0]
            entry["Title"] = f"{name} - Level {level}: {words[level]}"
    return json.dumps(entries).encode()


def _fetch_all(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return {name: services.source_fetch(name=name) for name in ("us", "uk", "canada")}


def test_recorded_feeds_give_each_partner_s_level_for_mali(
    posts, peer_settings, django_capture_on_commit_callbacks
):
    results = _fetch_all(django_capture_on_commit_callbacks)

    assert all(result.ok for result in results.values())
    mali = partner_levels(country_code="ML")
    assert (mali.ours.country_level, mali.ours.highest_level) == (3, 4)
    by_source = {p.source: p for p in mali.partners}
    assert (by_source["us"].level, by_source["us"].label) == (4, "Level 4: Do Not Travel")
    assert by_source["uk"].label == "Advise against all travel to parts"
    assert (by_source["uk"].level, by_source["uk"].parts) == (4, True)
    assert (by_source["canada"].level, by_source["canada"].label) == (4, "Avoid all travel")
    # The whole country at 4 is above our 3; 4 in parts is what we say in parts too.
    assert by_source["us"].above
    assert by_source["canada"].above
    assert not by_source["uk"].above
    assert not by_source["uk"].below
    assert by_source["us"].source_date is not None


def test_a_us_rise_above_us_warns_the_bamako_editors_and_approvers_once(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    peer_settings.PEER_SOURCES = {"us": peer_settings.PEER_SOURCES["us"]}
    feeds.routes[US].body = _us_feed(ML=3, LE=3)
    feeds.routes[US].etag = ""
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="us")
    assert mail.outbox == []  # level 3 everywhere: the same as ours

    feeds.routes[US].body = _us_feed(ML=4, LE=2)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.source_fetch(name="us")
    with django_capture_on_commit_callbacks(execute=True):
        second = services.source_fetch(name="us")

    assert (first.changed, first.warnings) == (2, 1)
    assert (second.changed, second.warnings) == (0, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["bamako-approver@example.org", "bamako-editor@example.org"]
    assert not any("beirut" in address for m in mail.outbox for address in m.to)
    assert "United States" in message.subject
    assert "level 4" in message.subject
    assert "Level 4: Do Not Travel" in message.body
    assert "https://consular.example/staff/peers/ml/" in message.body
    assert "Before: 3" in message.body
    assert "Avant : 3" in message.body
    warning = PeerWarning.objects.get()
    assert (warning.level, warning.previous_level, warning.our_level, warning.recipients) == (
        4,
        3,
        3,
        2,
    )
    assert warning.sent_at is not None


def test_a_partner_first_seen_below_or_at_our_level_warns_nobody(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    peer_settings.PEER_SOURCES = {"us": peer_settings.PEER_SOURCES["us"]}
    feeds.routes[US].body = _us_feed(ML=2, LE=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="us")
    assert mail.outbox == []
    mali = partner_levels(country_code="ML")
    assert mali.partners[0].below
    assert not mali.partners[0].above


def test_a_partner_falling_while_still_above_us_warns_nobody(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    peer_settings.PEER_SOURCES = {"canada": peer_settings.PEER_SOURCES["canada"]}
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="canada")
    assert len(mail.outbox) == 1  # Canada's 4 for Mali is above our 3
    document = json.loads(recorded("canada_index-updated.json"))
    document["data"]["ML"]["advisory-state"] = 2  # 4 -> 3: at our level, and a fall
    document["data"]["LB"]["advisory-state"] = 3  # 3 -> 4 for Lebanon: above our 3
    feeds.routes[CANADA].body = json.dumps(document).encode()
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="canada")
    assert len(mail.outbox) == 2
    assert sorted(mail.outbox[1].to) == ["beirut-approver@example.org", "beirut-editor@example.org"]


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ({"status": 500}, "HTTP 500"),
        ({"delay": 1.0}, "timeout"),
        ({"body": b'{"data": {"ML": '}, "malformed JSON"),
        ({"body": b'{"data": {}}'}, "no advice in the answer"),
    ],
)
def test_a_broken_source_is_stale_and_leaves_the_others_working(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks, broken, error
):
    for field, value in broken.items():
        setattr(feeds.routes[CANADA], field, value)

    results = _fetch_all(django_capture_on_commit_callbacks)

    assert results["us"].ok
    assert results["uk"].ok
    assert not results["canada"].ok
    assert results["canada"].error == error
    assert set(PartnerAdvice.objects.values_list("source", flat=True)) == {"us", "uk"}
    status = {s.name: s for s in sources_status()}
    assert status["canada"].stale
    assert status["canada"].last_error == error
    assert not status["us"].stale
    assert not status["uk"].stale
    health = partner_sources()
    assert not health.ok
    assert not health.critical
    assert "canada stale (last success never, " + error in health.detail


def test_a_source_that_breaks_after_a_success_keeps_its_advice_and_backs_off(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="canada", now=start)
    feeds.routes[CANADA].status = 503
    waits = []
    for attempt in range(3):
        services.source_fetch(name="canada", now=start + datetime.timedelta(minutes=attempt))
        state = SourceState.objects.get(source="canada")
        waits.append(state.next_attempt_at - (start + datetime.timedelta(minutes=attempt)))
    assert waits == [datetime.timedelta(seconds=s) for s in (360, 720, 1440)]
    assert state.consecutive_failures == 3
    assert state.last_success_at == start
    # Its last advice stays on the pages, marked stale.
    mali = partner_levels(country_code="ML")
    assert [p.stale for p in mali.partners if p.source == "canada"] == [True]
    # The beat does not try it again before its time.
    assert services.sources_due(now=start + datetime.timedelta(minutes=3)) == ["us", "uk"]


def test_the_beat_fetches_each_due_source_and_a_304_changes_nothing(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    assert tasks.fetch_partner_advice() == {"sources": 3, "warnings_retried": 0}
    fetched_at = PartnerAdvice.objects.get(source="us", country_id="ML").fetched_at
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert tasks.fetch_partner_advice()["sources"] == 3
    assert feeds.hits(US)[-1]["If-None-Match"] == '"us-1"'
    assert feeds.hits(UK)[-1]["If-None-Match"] == '"uk-1"'
    assert PartnerAdvice.objects.get(source="us", country_id="ML").fetched_at == fetched_at
    assert SourceState.objects.get(source="us").last_success_at > fetched_at


def test_sources_without_a_url_are_off_and_never_fetched(settings, posts):
    settings.PEER_SOURCES = {
        "us": {"class": "peers.sources.us.UnitedStates", "url": ""},
    }
    assert tasks.fetch_partner_advice() == {"sources": 0, "warnings_retried": 0}
    assert sources_status()[0].enabled is False
    assert partner_sources().ok


def test_a_country_the_source_drops_is_dropped_and_the_uk_keeps_unchanged_pages(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    _fetch_all(django_capture_on_commit_callbacks)
    index = json.loads(recorded("uk_foreign_travel_advice.json"))
    index["links"]["children"] = index["links"]["children"][:1]  # Mali only
    feeds.routes[UK].body = json.dumps(index).encode()
    feeds.routes[UK].etag = '"uk-2"'
    pages_before = len(feeds.hits(f"{UK}/mali"))
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="uk")
    assert set(PartnerAdvice.objects.filter(source="uk").values_list("country_id", flat=True)) == {
        "ML"
    }
    assert len(feeds.hits(f"{UK}/mali")) == pages_before


def test_an_unsent_warning_is_sent_by_the_beat_once(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    peer_settings.PEER_SOURCES = {"us": peer_settings.PEER_SOURCES["us"]}
    services.source_fetch(name="us")  # outside a captured commit: the send never ran
    assert mail.outbox == []
    assert PeerWarning.objects.filter(sent_at__isnull=True).count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert tasks.fetch_partner_advice()["warnings_retried"] == 1
        assert tasks.fetch_partner_advice()["warnings_retried"] == 0
    assert len(mail.outbox) == 1
    assert services.peer_warning_send(warning_id=PeerWarning.objects.get().id) == 0


def test_a_source_is_fetched_by_one_worker_at_a_time(posts, peer_settings, feeds):
    assert services.source_claim(name="us")
    assert not services.source_claim(name="us")  # another worker, meanwhile
    assert tasks.fetch_partner_source("us") == {"source": "us", "ok": False}
    assert not feeds.hits(US)


def test_places_iso_counts_as_one_country_give_its_highest_level_for_parts(
    geography, peer_settings, feeds, django_capture_on_commit_callbacks
):
    from regions.services import geography_load

    geography_load(country_codes={"PS"})
    feeds.routes[US].body = json.dumps(
        [
            {"Title": "West Bank - Level 3: Reconsider Travel", "Category": ["WE"], "Link": "x"},
            {"Title": "Gaza - Level 4: Do Not Travel", "Category": ["GZ"], "Link": "y"},
        ]
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        services.source_fetch(name="us")
    advice = PartnerAdvice.objects.get(source="us", country_id="PS")
    assert (advice.level, advice.scope, advice.link) == (4, "parts", "y")


def test_the_uk_reads_a_few_pages_a_fetch_and_comes_back_soon_for_the_rest(
    posts, peer_settings, feeds, django_capture_on_commit_callbacks
):
    peer_settings.PEER_UK_PAGES_PER_FETCH = 2
    start = timezone.now()
    services.source_fetch(name="uk", now=start)
    state = SourceState.objects.get(source="uk")
    assert PartnerAdvice.objects.filter(source="uk").count() == 2
    assert state.etag == ""  # the next fetch reads the index again
    assert state.next_attempt_at == start + datetime.timedelta(seconds=300)

    services.source_fetch(name="uk", now=start + datetime.timedelta(minutes=5))

    assert PartnerAdvice.objects.filter(source="uk").count() == 3
    assert SourceState.objects.get(source="uk").etag == '"uk-1"'
    assert [len(feeds.hits(f"{UK}/{slug}")) for slug in ("mali", "lebanon", "france")] == [
        1,
        1,
        1,
    ]
