"""How each partner's words map to our scale of 1 to 4, and the United States' country codes to
ISO 3166-1. Tables only, no query and no network: the sources and the tests read them."""

from dataclasses import dataclass

import pycountry

# The State Department tags its advisories with FIPS 10-4 codes (the US government's own
# standard, withdrawn in 2008 yet still used there), not ISO 3166-1. Half the codes differ
# and some are another country's ISO code: NI is Nigeria here, NG Niger, LE Lebanon, UK the
# United Kingdom, AU Austria (Australia is AS), SZ Switzerland, GM Germany, CH China.
# Every FIPS 10-4 country or dependency that has an ISO 3166-1 code is here. Left out, as
# they have none: Kosovo (KV; the feed names it, ISO does not), the Paracel (PF) and Spratly
# (PG) Islands, and the uninhabited French, British and Australian islets (Bassas da India,
# Europa, Glorioso, Juan de Nova, Tromelin, Clipperton, Coral Sea, Ashmore and Cartier, the
# Sovereign Base Areas); the Netherlands Antilles (NT) was dissolved in 2010.
FIPS_TO_ISO: dict[str, str] = {
    "AA": "AW",  # Aruba
    "AC": "AG",  # Antigua and Barbuda
    "AE": "AE",  # United Arab Emirates
    "AF": "AF",  # Afghanistan
    "AG": "DZ",  # Algeria
    "AJ": "AZ",  # Azerbaijan
    "AL": "AL",  # Albania
    "AM": "AM",  # Armenia
    "AN": "AD",  # Andorra
    "AO": "AO",  # Angola
    "AQ": "AS",  # American Samoa
    "AR": "AR",  # Argentina
    "AS": "AU",  # Australia
    "AU": "AT",  # Austria
    "AV": "AI",  # Anguilla
    "AY": "AQ",  # Antarctica
    "BA": "BH",  # Bahrain
    "BB": "BB",  # Barbados
    "BC": "BW",  # Botswana
    "BD": "BM",  # Bermuda
    "BE": "BE",  # Belgium
    "BF": "BS",  # The Bahamas
    "BG": "BD",  # Bangladesh
    "BH": "BZ",  # Belize
    "BK": "BA",  # Bosnia and Herzegovina
    "BL": "BO",  # Bolivia
    "BM": "MM",  # Burma
    "BN": "BJ",  # Benin
    "BO": "BY",  # Belarus
    "BP": "SB",  # Solomon Islands
    "BQ": "UM",  # Navassa Island
    "BR": "BR",  # Brazil
    "BT": "BT",  # Bhutan
    "BU": "BG",  # Bulgaria
    "BV": "BV",  # Bouvet Island
    "BX": "BN",  # Brunei
    "BY": "BI",  # Burundi
    "CA": "CA",  # Canada
    "CB": "KH",  # Cambodia
    "CD": "TD",  # Chad
    "CE": "LK",  # Sri Lanka
    "CF": "CG",  # Republic of the Congo (Brazzaville)
    "CG": "CD",  # Democratic Republic of the Congo (Kinshasa)
    "CH": "CN",  # China
    "CI": "CL",  # Chile
    "CJ": "KY",  # Cayman Islands
    "CK": "CC",  # Cocos (Keeling) Islands
    "CM": "CM",  # Cameroon
    "CN": "KM",  # Comoros
    "CO": "CO",  # Colombia
    "CQ": "MP",  # Northern Mariana Islands
    "CS": "CR",  # Costa Rica
    "CT": "CF",  # Central African Republic
    "CU": "CU",  # Cuba
    "CV": "CV",  # Cabo Verde
    "CW": "CK",  # Cook Islands
    "CY": "CY",  # Cyprus
    "DA": "DK",  # Denmark
    "DJ": "DJ",  # Djibouti
    "DO": "DM",  # Dominica
    "DQ": "UM",  # Jarvis Island
    "DR": "DO",  # Dominican Republic
    "EC": "EC",  # Ecuador
    "EG": "EG",  # Egypt
    "EI": "IE",  # Ireland
    "EK": "GQ",  # Equatorial Guinea
    "EN": "EE",  # Estonia
    "ER": "ER",  # Eritrea
    "ES": "SV",  # El Salvador
    "ET": "ET",  # Ethiopia
    "EZ": "CZ",  # Czechia
    "FG": "GF",  # French Guiana
    "FI": "FI",  # Finland
    "FJ": "FJ",  # Fiji
    "FK": "FK",  # Falkland Islands
    "FM": "FM",  # Micronesia
    "FO": "FO",  # Faroe Islands
    "FP": "PF",  # French Polynesia
    "FQ": "UM",  # Baker Island
    "FR": "FR",  # France
    "FS": "TF",  # French Southern and Antarctic Lands
    "GA": "GM",  # The Gambia
    "GB": "GA",  # Gabon
    "GG": "GE",  # Georgia
    "GH": "GH",  # Ghana
    "GI": "GI",  # Gibraltar
    "GJ": "GD",  # Grenada
    "GK": "GG",  # Guernsey
    "GL": "GL",  # Greenland
    "GM": "DE",  # Germany
    "GP": "GP",  # Guadeloupe
    "GQ": "GU",  # Guam
    "GR": "GR",  # Greece
    "GT": "GT",  # Guatemala
    "GV": "GN",  # Guinea
    "GY": "GY",  # Guyana
    "GZ": "PS",  # Gaza Strip
    "HA": "HT",  # Haiti
    "HK": "HK",  # Hong Kong
    "HM": "HM",  # Heard Island and McDonald Islands
    "HO": "HN",  # Honduras
    "HQ": "UM",  # Howland Island
    "HR": "HR",  # Croatia
    "HU": "HU",  # Hungary
    "IC": "IS",  # Iceland
    "ID": "ID",  # Indonesia
    "IM": "IM",  # Isle of Man
    "IN": "IN",  # India
    "IO": "IO",  # British Indian Ocean Territory
    "IR": "IR",  # Iran
    "IS": "IL",  # Israel
    "IT": "IT",  # Italy
    "IV": "CI",  # Côte d'Ivoire
    "IZ": "IQ",  # Iraq
    "JA": "JP",  # Japan
    "JE": "JE",  # Jersey
    "JM": "JM",  # Jamaica
    "JN": "SJ",  # Jan Mayen
    "JO": "JO",  # Jordan
    "JQ": "UM",  # Johnston Atoll
    "KE": "KE",  # Kenya
    "KG": "KG",  # Kyrgyzstan
    "KN": "KP",  # North Korea
    "KQ": "UM",  # Kingman Reef
    "KR": "KI",  # Kiribati
    "KS": "KR",  # South Korea
    "KT": "CX",  # Christmas Island
    "KU": "KW",  # Kuwait
    "KZ": "KZ",  # Kazakhstan
    "LA": "LA",  # Laos
    "LE": "LB",  # Lebanon
    "LG": "LV",  # Latvia
    "LH": "LT",  # Lithuania
    "LI": "LR",  # Liberia
    "LO": "SK",  # Slovakia
    "LQ": "UM",  # Palmyra Atoll
    "LS": "LI",  # Liechtenstein
    "LT": "LS",  # Lesotho
    "LU": "LU",  # Luxembourg
    "LY": "LY",  # Libya
    "MA": "MG",  # Madagascar
    "MB": "MQ",  # Martinique
    "MC": "MO",  # Macau
    "MD": "MD",  # Moldova
    "MF": "YT",  # Mayotte
    "MG": "MN",  # Mongolia
    "MH": "MS",  # Montserrat
    "MI": "MW",  # Malawi
    "MJ": "ME",  # Montenegro
    "MK": "MK",  # North Macedonia
    "ML": "ML",  # Mali
    "MN": "MC",  # Monaco
    "MO": "MA",  # Morocco
    "MP": "MU",  # Mauritius
    "MQ": "UM",  # Midway Islands
    "MR": "MR",  # Mauritania
    "MT": "MT",  # Malta
    "MU": "OM",  # Oman
    "MV": "MV",  # Maldives
    "MX": "MX",  # Mexico
    "MY": "MY",  # Malaysia
    "MZ": "MZ",  # Mozambique
    "NC": "NC",  # New Caledonia
    "NE": "NU",  # Niue
    "NF": "NF",  # Norfolk Island
    "NG": "NE",  # Niger
    "NH": "VU",  # Vanuatu
    "NI": "NG",  # Nigeria
    "NL": "NL",  # Netherlands
    "NN": "SX",  # Sint Maarten
    "NO": "NO",  # Norway
    "NP": "NP",  # Nepal
    "NR": "NR",  # Nauru
    "NS": "SR",  # Suriname
    "NU": "NI",  # Nicaragua
    "NZ": "NZ",  # New Zealand
    "OD": "SS",  # South Sudan
    "PA": "PY",  # Paraguay
    "PC": "PN",  # Pitcairn Islands
    "PE": "PE",  # Peru
    "PK": "PK",  # Pakistan
    "PL": "PL",  # Poland
    "PM": "PA",  # Panama
    "PO": "PT",  # Portugal
    "PP": "PG",  # Papua New Guinea
    "PS": "PW",  # Palau
    "PU": "GW",  # Guinea-Bissau
    "QA": "QA",  # Qatar
    "RE": "RE",  # Réunion
    "RI": "RS",  # Serbia
    "RM": "MH",  # Marshall Islands
    "RN": "MF",  # Saint Martin
    "RO": "RO",  # Romania
    "RP": "PH",  # Philippines
    "RQ": "PR",  # Puerto Rico
    "RS": "RU",  # Russia
    "RW": "RW",  # Rwanda
    "SA": "SA",  # Saudi Arabia
    "SB": "PM",  # Saint Pierre and Miquelon
    "SC": "KN",  # Saint Kitts and Nevis
    "SE": "SC",  # Seychelles
    "SF": "ZA",  # South Africa
    "SG": "SN",  # Senegal
    "SH": "SH",  # Saint Helena
    "SI": "SI",  # Slovenia
    "SL": "SL",  # Sierra Leone
    "SM": "SM",  # San Marino
    "SN": "SG",  # Singapore
    "SO": "SO",  # Somalia
    "SP": "ES",  # Spain
    "ST": "LC",  # Saint Lucia
    "SU": "SD",  # Sudan
    "SV": "SJ",  # Svalbard
    "SW": "SE",  # Sweden
    "SX": "GS",  # South Georgia and the South Sandwich Islands
    "SY": "SY",  # Syria
    "SZ": "CH",  # Switzerland
    "TB": "BL",  # Saint Barthélemy
    "TD": "TT",  # Trinidad and Tobago
    "TH": "TH",  # Thailand
    "TI": "TJ",  # Tajikistan
    "TK": "TC",  # Turks and Caicos Islands
    "TL": "TK",  # Tokelau
    "TN": "TO",  # Tonga
    "TO": "TG",  # Togo
    "TP": "ST",  # São Tomé and Príncipe
    "TS": "TN",  # Tunisia
    "TT": "TL",  # Timor-Leste
    "TU": "TR",  # Türkiye
    "TV": "TV",  # Tuvalu
    "TW": "TW",  # Taiwan
    "TX": "TM",  # Turkmenistan
    "TZ": "TZ",  # Tanzania
    "UC": "CW",  # Curaçao
    "UG": "UG",  # Uganda
    "UK": "GB",  # United Kingdom
    "UP": "UA",  # Ukraine
    "US": "US",  # United States
    "UV": "BF",  # Burkina Faso
    "UY": "UY",  # Uruguay
    "UZ": "UZ",  # Uzbekistan
    "VC": "VC",  # Saint Vincent and the Grenadines
    "VE": "VE",  # Venezuela
    "VI": "VG",  # British Virgin Islands
    "VM": "VN",  # Vietnam
    "VQ": "VI",  # US Virgin Islands
    "VT": "VA",  # Holy See
    "WA": "NA",  # Namibia
    "WE": "PS",  # West Bank
    "WF": "WF",  # Wallis and Futuna
    "WI": "EH",  # Western Sahara
    "WQ": "UM",  # Wake Island
    "WS": "WS",  # Samoa
    "WZ": "SZ",  # Eswatini
    "YM": "YE",  # Yemen
    "ZA": "ZM",  # Zambia
    "ZI": "ZW",  # Zimbabwe
}


def iso_from_fips(code: str) -> str | None:
    """The ISO 3166-1 code of a FIPS 10-4 country code; None for one without (Kosovo)."""
    return FIPS_TO_ISO.get(code.strip().upper())


@dataclass(frozen=True)
class Mapped:
    """A partner's level on our scale. `level` is what it says at least; `level_max` is what
    it may mean at most, above `level` only when the source cannot tell two of our levels
    apart. `parts`: the level is for parts of the country, not all of it."""

    level: int
    level_max: int
    parts: bool


# The FCDO has four codes, each an advice against travel, to the whole country or to parts.
# "Against all travel" is our 4 ("do not travel"); "against all but essential travel" is our
# 3 ("reconsider travel").
UK_ALERT_STATUS: dict[str, Mapped] = {
    "avoid_all_travel_to_whole_country": Mapped(level=4, level_max=4, parts=False),
    "avoid_all_travel_to_parts": Mapped(level=4, level_max=4, parts=True),
    "avoid_all_but_essential_travel_to_whole_country": Mapped(level=3, level_max=3, parts=False),
    "avoid_all_but_essential_travel_to_parts": Mapped(level=3, level_max=3, parts=True),
}
# No code at all means the FCDO advises against no travel there, which is our 1 or our 2:
# it has no code for "increased caution", which it writes in prose. We keep both ends: the
# pages show "1-2", and the comparison takes 1, so a partner never sets off a warning with a
# level it did not state.
UK_NO_STATUS = Mapped(level=1, level_max=2, parts=False)


def uk_level(alert_status: list[str]) -> Mapped:
    """The highest advice among the codes; parts only when no whole-country code reaches it.
    Codes we do not know are ignored (the caller records them)."""
    known = [UK_ALERT_STATUS[code] for code in alert_status if code in UK_ALERT_STATUS]
    if not known:
        return UK_NO_STATUS
    top = max(mapped.level for mapped in known)
    parts = all(mapped.parts for mapped in known if mapped.level == top)
    return Mapped(level=top, level_max=top, parts=parts)


# Canada's `advisory-state`: 0 take normal security precautions, 1 exercise a high degree of
# caution, 2 avoid non-essential travel, 3 avoid all travel. One step up is ours.
CANADA_STATES: dict[int, tuple[int, str]] = {
    0: (1, "Take normal security precautions"),
    1: (2, "Exercise a high degree of caution"),
    2: (3, "Avoid non-essential travel"),
    3: (4, "Avoid all travel"),
}

# The United States' four levels are ours, one for one.
US_LEVELS: dict[int, str] = {
    1: "Exercise Normal Precautions",
    2: "Exercise Increased Caution",
    3: "Reconsider Travel",
    4: "Do Not Travel",
}


# GOV.UK names countries in English prose (its pages carry no ISO code). Most names are
# ISO 3166-1's, once "St" is spelled out and a leading "The" dropped (`uk_iso_code`); these
# are not. Kosovo has no ISO code and is left out.
UK_NAMES: dict[str, str] = {
    "bonaire/st eustatius/saba": "BQ",
    "brunei": "BN",
    "burma": "MM",
    "cape verde": "CV",
    "cote d'ivoire": "CI",
    "democratic republic of the congo": "CD",
    "falkland islands": "FK",
    "ivory coast": "CI",
    "micronesia": "FM",
    "myanmar (burma)": "MM",
    "occupied palestinian territories": "PS",
    "pitcairn island": "PN",
    "reunion": "RE",
    "russia": "RU",
    "saint helena, ascension and tristan da cunha": "SH",
    "saint maarten": "SX",
    "saint martin": "MF",
    "turkey": "TR",
    "vatican city": "VA",
}


def uk_iso_code(name: str) -> str | None:
    """The ISO 3166-1 code of a country as GOV.UK names it, or None."""
    text = " ".join(name.replace("&", "and").split())
    if text.lower().startswith("the "):
        text = text[4:]
    if text.lower().startswith("st "):
        text = "Saint " + text[3:]
    if code := UK_NAMES.get(text.lower()):
        return code
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None
