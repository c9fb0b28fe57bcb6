"""The partners' feeds, served from recorded copies by a local HTTP server in the test.

`feeds` starts an HTTP server on loopback and answers each path from `feeds.routes`: a
recorded file, or a status, or a delay longer than the client's timeout. It honours
If-None-Match with a 304, as the real servers do, and keeps the headers of every request."""

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accounts.models import Membership
from tests.accounts.factories import MembershipFactory, PostFactory, UserFactory
from tests.advisories.conftest import publish

DATA = Path(__file__).parent / "data"

US = "/api/TravelAdvisories"
US_RSS = "/_res/rss/TAsTWs.xml"
UK = "/api/content/foreign-travel-advice"
CANADA = "/travel-voyage/index-updated.json"


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """Run enqueued tasks inline, so a test follows a fetch to its email in one process."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    etag: str = ""
    delay: float = 0.0


@dataclass
class Feeds:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen == path]


def recorded_routes() -> dict[str, Route]:
    return {
        US: Route(recorded("us_travel_advisories.json"), etag='"us-1"'),
        US_RSS: Route(recorded("us_TAsTWs.xml"), content_type="application/rss+xml"),
        UK: Route(recorded("uk_foreign_travel_advice.json"), etag='"uk-1"'),
        f"{UK}/mali": Route(recorded("uk_mali.json")),
        f"{UK}/lebanon": Route(recorded("uk_lebanon.json")),
        f"{UK}/france": Route(recorded("uk_france.json")),
        CANADA: Route(recorded("canada_index-updated.json")),
    }


@pytest.fixture
def feeds():
    state = Feeds(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers)))
            route = state.routes.get(self.path)
            if route is None:
                self.send_response(404)
                self.end_headers()
                return
            if route.delay:
                time.sleep(route.delay)
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag:
                self.send_header("ETag", route.etag)
            self.end_headers()
            # The client may have given up (its timeout): what such a test is about.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    state.routes = recorded_routes()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def peer_settings(settings, feeds):
    """Every source on, pointed at the local server, with a short timeout."""
    settings.PEER_SOURCES = {
        "us": {"class": "peers.sources.us.UnitedStates", "url": feeds.url(US)},
        "uk": {"class": "peers.sources.uk.UnitedKingdom", "url": feeds.url(UK)},
        "canada": {"class": "peers.sources.canada.Canada", "url": feeds.url(CANADA)},
    }
    settings.PEER_TIMEOUT_SECONDS = 0.5
    settings.SITE_URL = "https://consular.example"
    return settings


@dataclass
class Posts:
    staff: dict[str, object]


@pytest.fixture
def posts(geography):
    """The demo's two posts, bamako (Mali) and beirut (Lebanon), each with an editor, an
    approver and an officer; Mali at level 3 with its north at 4, Lebanon at 3."""
    staff = {}
    for code, country in (("bamako", "ML"), ("beirut", "LB")):
        post = PostFactory(code=code, countries=[country])
        for role in (Membership.Role.EDITOR, Membership.Role.APPROVER, Membership.Role.OFFICER):
            user = UserFactory(username=f"{code}-{role}")
            MembershipFactory(user=user, post=post, role=role)
            staff[f"{code}-{role}"] = user
    publish(
        country_code="ML",
        editor=staff["bamako-editor"],
        approver=staff["bamako-approver"],
        level=3,
        overrides=[("ML-7", 4)],
    )
    publish(
        country_code="LB",
        editor=staff["beirut-editor"],
        approver=staff["beirut-approver"],
        level=3,
    )
    return Posts(staff=staff)
