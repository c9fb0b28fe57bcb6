import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import NoStoreMixin, client_address, no_store


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_no_store_forbids_caching_a_function_view(rf):
    @no_store
    def citizen_page(request):
        return HttpResponse("personal data")

    response = citizen_page(rf.get("/manage/x/"))

    assert {"no-store", "private", "no-cache"} <= _cache_control(response)
    assert citizen_page.__name__ == "citizen_page"


def test_no_store_wraps_an_async_view(rf):
    @no_store
    async def citizen_page(request):
        return HttpResponse("personal data")

    # In a thread of its own: the browser tests may leave an event loop on this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(asyncio.run, citizen_page(rf.get("/"))).result()

    assert "no-store" in _cache_control(response)


def test_no_store_mixin_covers_a_class_view_and_a_drf_view(rf):
    class Page(NoStoreMixin, View):
        def get(self, request):
            return HttpResponse("personal data")

    class Api(NoStoreMixin, APIView):
        authentication_classes = []
        permission_classes = []

        def get(self, request):
            return Response({"name": "x"})

    assert "no-store" in _cache_control(Page.as_view()(rf.get("/")))
    assert "no-store" in _cache_control(Api.as_view()(rf.get("/")))


def test_no_store_mixin_also_marks_error_responses(rf):
    class Api(NoStoreMixin, APIView):
        def get(self, request):
            return Response({})

    response = Api.as_view()(rf.get("/"))  # anonymous: refused

    assert response.status_code in {401, 403}
    assert "no-store" in _cache_control(response)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy trusted: a client cannot choose its address with the header.
        (0, "198.51.100.7", "10.0.0.2"),
        # One proxy: the entry it appended, not the one the client made up before it.
        (1, "203.0.113.66, 198.51.100.7", "198.51.100.7"),
        (2, "203.0.113.66, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        # Fewer entries than proxies: the request did not come through them all.
        (2, "198.51.100.7", "10.0.0.2"),
        (1, "not-an-address", None),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": forwarded}
    )

    assert client_address(request) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/advisories/?country=M%00L",
        "/api/v1/advisories/?co%00untry=ML",
        "/advisories/M%00L/",
    ],
)
def test_a_null_character_in_the_url_is_a_bad_request(client, url):
    assert client.get(url).status_code == 400


def test_ordinary_query_strings_pass(client, db):
    assert client.get("/api/v1/advisories/?country=ML").status_code == 200
