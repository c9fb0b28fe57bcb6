import datetime

import pytest

from peers.sources import Http, SourceError
from peers.sources.canada import Canada
from peers.sources.uk import UnitedKingdom, parse_country, parse_index
from peers.sources.us import UnitedStates
from tests.peers.conftest import CANADA, UK, US, recorded


def _by_country(advice):
    return {a.country_code: a for a in advice}


@pytest.fixture
def http():
    client = Http(timeout=0.5, max_bytes=1_000_000)
    yield client
    client.close()


def test_us_json_is_parsed_with_iso_codes_levels_risks_and_dates(http):
    advice, skipped = UnitedStates(url="", http=http).parse(recorded("us_travel_advisories.json"))
    found = _by_country(advice)
    # The FIPS traps: NI is Nigeria, NG Niger, LE Lebanon, UK the United Kingdom, AU Austria.
    assert set(found) == {"ML", "NE", "NG", "LB", "GB", "AT"}
    assert skipped == 1  # Kosovo: no ISO code
    mali = found["ML"]
    assert (mali.level, mali.level_max, mali.label, mali.parts) == (
        4,
        4,
        "Level 4: Do Not Travel",
        False,
    )
    assert mali.key_risks == ("Crime", "Terrorism", "Kidnapping or hostage taking")
    assert mali.link.endswith("/mali-travel-advisory.html")
    assert mali.updated_at == datetime.datetime(2026, 12, 4, 15, 15, tzinfo=datetime.UTC)
    assert mali.summary.startswith("Do not travel to Mali due to crime")
    assert found["LB"].key_risks == (
        "Crime",
        "Terrorism",
        "Civil unrest",
        "Armed conflict",
        "Kidnapping or hostage taking",
        "Landmines",
    )


def test_us_rss_is_parsed_like_the_json(http):
    advice, skipped = UnitedStates(url="", http=http).parse(recorded("us_TAsTWs.xml"))
    found = _by_country(advice)
    assert {code: a.level for code, a in found.items()} == {"ML": 4, "LB": 3, "NE": 3, "NG": 3}
    assert found["ML"].label == "Level 4: Do Not Travel"
    assert found["ML"].published_at == datetime.datetime(2026, 12, 4, tzinfo=datetime.UTC)
    assert skipped == 1  # the Worldwide Caution names no country


@pytest.mark.parametrize("level_field", [b"4", b'"4"', b'"Level 4: Do Not Travel"'])
def test_us_advisory_level_field_wins_over_the_title(http, level_field):
    body = (
        b'[{"Title": "Mali - Level 3: Reconsider Travel", "Advisory_Level": 4, "Category": ["ML"]}]'
    )
    advice, _skipped = UnitedStates(url="", http=http).parse(body)
    assert advice[0].level == 4


@pytest.mark.parametrize(
    "body", [b"[{", b"<rss><channel><item>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><rss/>", b"oops"]
)
def test_us_malformed_answers_are_source_errors(http, body):
    with pytest.raises(SourceError):
        UnitedStates(url="", http=http).parse(body)


def test_canada_is_parsed_from_iso_keys_and_its_four_states(http):
    advice, skipped = Canada(url="", http=http).parse(recorded("canada_index-updated.json"))
    found = _by_country(advice)
    assert skipped == 0
    assert {code: a.level for code, a in found.items()} == {"ML": 4, "LB": 3, "FR": 2}
    assert found["ML"].label == "Avoid all travel"
    assert found["ML"].link == "https://travel.gc.ca/destinations/mali"
    assert found["LB"].has_regional_advice
    assert not found["ML"].has_regional_advice
    assert found["ML"].published_at == datetime.datetime(
        2026, 12, 2, 10, 12, 44, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
    )


def test_canada_without_data_is_a_source_error(http):
    with pytest.raises(SourceError):
        Canada(url="", http=http).parse(b'{"metadata": {}}')


def test_uk_index_names_countries_by_iso_and_leaves_kosovo_out():
    assert parse_index(recorded("uk_foreign_travel_advice.json")) == [
        ("ML", "mali", "2026-12-03T09:30:00.000+00:00"),
        ("LB", "lebanon", "2026-11-20T12:00:00.000+00:00"),
        ("FR", "france", "2026-10-01T08:00:00.000+00:00"),
    ]


def test_uk_country_pages_keep_the_fcdo_words_and_parts():
    mali = parse_country(recorded("uk_mali.json"), code="ML", slug="mali", marker="m")
    assert (mali.level, mali.parts, mali.label) == (4, True, "Advise against all travel to parts")
    assert mali.link == "https://www.gov.uk/foreign-travel-advice/mali"
    assert mali.summary.startswith("Latest update: the FCDO now advises")
    france = parse_country(recorded("uk_france.json"), code="FR", slug="france", marker="f")
    assert (france.level, france.level_max, france.label) == (1, 2, "No advice against travel")


def test_uk_fetch_reads_only_the_pages_whose_index_date_changed(feeds, http):
    source = UnitedKingdom(url=feeds.url(UK), http=http)
    fetched = source.fetch(
        etag="", last_modified="", markers={"ML": "2026-12-03T09:30:00.000+00:00"}
    )
    assert {a.country_code for a in fetched.advice} == {"LB", "FR"}
    assert fetched.kept == {"ML"}
    assert not feeds.hits(f"{UK}/mali")
    assert fetched.etag == '"uk-1"'


def test_a_conditional_request_answered_304_is_not_modified(feeds, http):
    source = UnitedStates(url=feeds.url(US), http=http)
    first = source.fetch(etag="", last_modified="", markers={})
    second = source.fetch(etag=first.etag, last_modified="", markers={})
    assert first.etag == '"us-1"'
    assert first.advice
    assert second.not_modified
    assert not second.advice
    assert feeds.hits(US)[-1]["If-None-Match"] == '"us-1"'


def test_an_error_status_a_timeout_and_a_huge_answer_are_source_errors(feeds):
    http = Http(timeout=0.2, max_bytes=100)
    feeds.routes[CANADA].status = 500
    with pytest.raises(SourceError, match="HTTP 500"):
        Canada(url=feeds.url(CANADA), http=http).fetch(etag="", last_modified="", markers={})
    feeds.routes[US].delay = 0.6
    with pytest.raises(SourceError, match="timeout"):
        UnitedStates(url=feeds.url(US), http=http).fetch(etag="", last_modified="", markers={})
    with pytest.raises(SourceError, match="larger than"):
        UnitedKingdom(url=feeds.url(UK), http=http).fetch(etag="", last_modified="", markers={})
    http.close()
