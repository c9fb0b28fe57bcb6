import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIRequestFactory

from core.throttling import AnonRateThrottle
from tests.accounts.factories import staff_at

pytestmark = pytest.mark.usefixtures("geography")

# An anonymous read that is not served from the public cache (core.public_cache), which a
# throttle does not need to protect.
URL = "/api/v1/advisories/"


@pytest.fixture
def anon_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "3/minute",
        },
    }


def test_the_whole_api_is_throttled_per_anonymous_address(api_client, anon_rate):
    codes = [api_client.get(URL).status_code for _ in range(4)]
    other_address = api_client.get(URL, REMOTE_ADDR="198.51.100.20")

    assert codes == [200, 200, 200, 429]
    assert other_address.status_code == 200


def test_a_throttled_answer_says_when_to_come_back(api_client, anon_rate):
    for _ in range(3):
        api_client.get(URL)

    response = api_client.get(URL)

    assert 0 < int(response["Retry-After"]) <= 60


def test_staff_are_not_counted_by_the_anonymous_throttle(api_client, anon_rate):
    api_client.force_authenticate(staff_at("ML"))

    codes = {api_client.get(URL).status_code for _ in range(4)}

    assert codes == {200}


def test_a_forwarded_for_header_is_ignored_without_trusted_proxies(api_client, anon_rate, settings):
    settings.TRUSTED_PROXY_COUNT = 0

    codes = [api_client.get(URL, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]

    assert codes[-1] == 429


def test_a_malformed_rate_is_a_configuration_error(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "many"},
    }
    request = APIRequestFactory().get(URL)
    request.user = None

    with pytest.raises(ImproperlyConfigured):
        AnonRateThrottle().allow_request(request, view=None)
