"""The dependency audit CI runs (`.ci/audit_dependencies.py`) against a fake PyPI JSON API on
loopback: a known vulnerability fails it, whichever document carries the advisory."""

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"
ADVISORY = {"id": "PYSEC-2026-1", "fixed_in": ["2.0.1"], "withdrawn": None}

# What the fake index answers: per-release documents for some, project documents for all.
RELEASES: dict[str, dict[str, Any]] = {
    "/pypi/clean/1.0/json": {"vulnerabilities": []},
    "/pypi/broken/2.0/json": {"vulnerabilities": [ADVISORY]},
    "/pypi/retracted/1.0/json": {"vulnerabilities": [{**ADVISORY, "withdrawn": "2026-01-01"}]},
}
PROJECTS: dict[str, dict[str, Any]] = {
    "/pypi/newest/json": {"info": {"version": "3.0"}, "vulnerabilities": []},
    "/pypi/newest-broken/json": {"info": {"version": "3.0"}, "vulnerabilities": [ADVISORY]},
    "/pypi/stale/json": {"info": {"version": "9.0"}, "vulnerabilities": []},
}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Index(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        document = RELEASES.get(self.path) or PROJECTS.get(self.path)
        if document is None:
            self.send_error(404)
            return
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def index() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pypi"
    server.shutdown()


def _audit(index: str, *packages: str, allow_unaudited: bool = False) -> int:
    flags = ["--allow-unaudited"] if allow_unaudited else []
    return int(_load().main(["--index", index, *flags, *packages]))


def test_clean_releases_pass(index, capsys):
    assert _audit(index, "clean==1.0", "newest==3.0", "retracted==1.0") == 0
    assert "3 of 3 distributions checked, 0 with known vulnerabilities" in capsys.readouterr().out


@pytest.mark.parametrize("package", ["broken==2.0", "newest-broken==3.0"])
def test_a_known_vulnerability_fails_even_with_unaudited_allowed(index, capsys, package):
    assert _audit(index, "clean==1.0", package, allow_unaudited=True) == 1
    assert "PYSEC-2026-1 (fixed in 2.0.1)" in capsys.readouterr().out


def test_what_no_document_covers_fails_unless_allowed(index, capsys):
    assert _audit(index, "clean==1.0", "stale==1.0") == 1
    assert "stale 1.0: no data for this release (newest is 9.0)" in capsys.readouterr().out
    assert _audit(index, "clean==1.0", "stale==1.0", "missing==1.0", allow_unaudited=True) == 0
    assert "2 distributions could NOT be audited" in capsys.readouterr().err


def test_an_unreachable_index_audits_nothing(capsys):
    assert _audit("http://127.0.0.1:9/pypi", "clean==1.0") == 1
    assert "index unreachable" in capsys.readouterr().out
