from collections import Counter

import pycountry
import pytest

from peers.levels import (
    CANADA_STATES,
    FIPS_TO_ISO,
    UK_ALERT_STATUS,
    UK_NO_STATUS,
    iso_from_fips,
    uk_iso_code,
    uk_level,
)


@pytest.mark.parametrize(
    ("fips", "iso"),
    [
        ("NI", "NG"),  # Nigeria, not Nicaragua
        ("NG", "NE"),  # Niger, not Nigeria
        ("NU", "NI"),  # Nicaragua
        ("LE", "LB"),  # Lebanon
        ("UK", "GB"),  # the United Kingdom
        ("ML", "ML"),  # Mali, the same in both
        ("AU", "AT"),  # Austria, not Australia
        ("AS", "AU"),  # Australia, not American Samoa
        ("GM", "DE"),  # Germany, not the Gambia
        ("GA", "GM"),  # the Gambia, not Gabon
        ("SZ", "CH"),  # Switzerland, not Eswatini
        ("CH", "CN"),  # China, not Switzerland
        ("CG", "CD"),  # Kinshasa, not Brazzaville
        ("CF", "CG"),  # Brazzaville
        ("BM", "MM"),  # Burma, not Bermuda
        ("IS", "IL"),  # Israel, not Iceland
        ("TU", "TR"),  # Türkiye
        ("RS", "RU"),  # Russia, not Serbia
        ("RI", "RS"),  # Serbia
        ("SG", "SN"),  # Senegal, not Singapore
        ("OD", "SS"),  # South Sudan
        ("KS", "KR"),  # South Korea
        ("KN", "KP"),  # North Korea
    ],
)
def test_fips_traps_map_to_the_right_country(fips, iso):
    assert iso_from_fips(fips) == iso


def test_kosovo_has_no_iso_code_and_is_left_out():
    assert iso_from_fips("KV") is None


def test_every_fips_code_maps_to_an_iso_country():
    iso_codes = {country.alpha_2 for country in pycountry.countries}
    assert set(FIPS_TO_ISO.values()) <= iso_codes
    # Only territories ISO folds together share a code: the Gaza Strip and the West Bank,
    # Svalbard and Jan Mayen, the US minor outlying islands.
    shared = {iso for iso, count in Counter(FIPS_TO_ISO.values()).items() if count > 1}
    assert shared == {"PS", "SJ", "UM"}
    # Every ISO country but Åland (Finland's) and the Caribbean Netherlands has a FIPS code.
    assert iso_codes - set(FIPS_TO_ISO.values()) == {"AX", "BQ"}


@pytest.mark.parametrize(
    ("codes", "level", "level_max", "parts"),
    [
        (["avoid_all_travel_to_whole_country"], 4, 4, False),
        (["avoid_all_travel_to_parts"], 4, 4, True),
        (["avoid_all_but_essential_travel_to_whole_country"], 3, 3, False),
        (["avoid_all_but_essential_travel_to_parts"], 3, 3, True),
        (["avoid_all_but_essential_travel_to_parts", "avoid_all_travel_to_parts"], 4, 4, True),
        (
            ["avoid_all_but_essential_travel_to_whole_country", "avoid_all_travel_to_parts"],
            4,
            4,
            True,
        ),
        (["avoid_all_travel_to_whole_country", "avoid_all_travel_to_parts"], 4, 4, False),
        # No code: the FCDO advises against no travel, our 1 or 2; compared as 1.
        ([], 1, 2, False),
        (["some_future_code"], 1, 2, False),
    ],
)
def test_uk_alert_status_maps_to_our_scale(codes, level, level_max, parts):
    mapped = uk_level(codes)
    assert (mapped.level, mapped.level_max, mapped.parts) == (level, level_max, parts)


def test_uk_has_four_codes_and_no_status_spans_two_levels():
    assert len(UK_ALERT_STATUS) == 4
    assert (UK_NO_STATUS.level, UK_NO_STATUS.level_max) == (1, 2)


def test_canada_states_are_ours_one_step_up():
    assert {state: level for state, (level, _words) in CANADA_STATES.items()} == {
        0: 1,
        1: 2,
        2: 3,
        3: 4,
    }
    assert CANADA_STATES[3][1] == "Avoid all travel"


@pytest.mark.parametrize(
    ("name", "iso"),
    [
        ("Mali", "ML"),
        ("Lebanon", "LB"),
        ("Burma", "MM"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo", "CG"),
        ("The Gambia", "GM"),
        ("St Kitts and Nevis", "KN"),
        ("St Pierre & Miquelon", "PM"),
        ("The Occupied Palestinian Territories", "PS"),
        ("Turkey", "TR"),
        ("Russia", "RU"),
        ("Ivory Coast", "CI"),
        ("Kosovo", None),
    ],
)
def test_uk_country_names_map_to_iso(name, iso):
    assert uk_iso_code(name) == iso
