"""The web benchmark behind `make bench` (`python -m bench web`).

It starts the app as deployed: gunicorn with production settings on the benchmark's PostgreSQL,
RabbitMQ and Redis, and a worker sending the verification emails into the SMTP sink. wrk, from
Debian's packages, loads it from a process of its own. Each route and concurrency prints one
JSON line: requests per second, median and 99th-percentile latency, errors, the ratio to the
ceiling (a static file served by the same gunicorn and WhiteNoise, measured in the same run)
and the CPU each process used. The public pages are also run uncached (a new query string on
each request, so each one renders) as the baseline. Registrations are checked: every 201 is a
row, and every row got its verification email."""

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import connection

from accounts.demo import seed_posts_and_staff
from bench import measure, processes, seed
from regions.services import geography_load
from registrations.models import Citizen

STATIC = "/static/css/site.css"
PAGES = [
    "/advisories/ML/",
    "/advisories/ML/cap.xml",
    "/advisories/feed.atom",
    "/api/v1/countries/ML/",
]
REGISTER = "/api/v1/registrations/"
EMAIL_DOMAIN = "bench-web.example.org"

# wrk's script: gzip accepted as browsers do; an uncached run adds a new query string to each
# request; registrations post a new citizen each time; done() prints the summary as JSON.
LUA = """
local mode = "%(mode)s"
local path = "%(path)s"
counter = 0
local threads = {}
created = 0
prefix = ""

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = tostring(id) .. "-" .. tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end

function request()
  counter = counter + 1
  if mode == "register" then
    local body = string.format('{"given_name": "Awa", "family_name": "Diallo %%d",'
      .. ' "email": "w%%s-%%d@%(domain)s", "language": "%%s", "notify_by_email": true,'
      .. ' "presence": {"kind": "trip", "country": "ML", "region": "ML-BKO",'
      .. ' "start_date": "2026-12-01", "end_date": "2027-01-31"}, "consent": true}',
      counter, prefix, counter, (counter %% 2 == 0) and "fr" or "en")
    return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
  end
  local headers = {["Accept-Encoding"] = "gzip"}
  if mode == "uncached" then
    return wrk.format("GET", path .. "?n=" .. prefix .. "-" .. counter, headers)
  end
  return wrk.format("GET", path, headers)
end

if mode == "register" then
  function response(status, headers, body)
    if status == 201 then created = created + 1 end
  end
end

function done(summary, latency, requests)
  local total_created = 0
  for _, thread in ipairs(threads) do total_created = total_created + thread:get("created") end
  local errors = summary.errors
  io.write(string.format('{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d,'
    .. ' "errors": %%d, "non_2xx": %%d, "created": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status, total_created))
end
"""


class BenchmarkError(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _production_environment() -> dict[str, str]:
    """What a deployment sets, with throwaway secrets; the throttles out of the way, since
    the load comes from one address."""
    db = connection.settings_dict
    return {
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "FIELD_HASH_KEYS": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "THROTTLE_REGISTRATION": "100000000/hour",
        "THROTTLE_ANON": "100000000/minute",
        "LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def _gunicorn(*, workers: int | None, port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        sys.executable, "-m", "gunicorn", "consular.wsgi",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    if workers is not None:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(command, cwd=processes.ROOT, env=os.environ.copy())  # noqa: S603
    try:
        url = f"http://127.0.0.1:{port}{STATIC}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise BenchmarkError("gunicorn did not start") from None
                time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _cpu(gunicorn: subprocess.Popen[bytes], workers: processes.Workers) -> dict[str, float]:
    return {
        "gunicorn": processes._cpu_seconds(processes._tree(gunicorn.pid)),
        "workers": processes._cpu_seconds(
            [pid for worker in workers.processes for pid in processes._tree(worker.pid)]
        ),
        "postgres": processes._cpu_seconds(processes._named_pids("postgres")),
        "broker": processes._cpu_seconds(processes._named_pids("beam.smp")),
        "redis": processes._cpu_seconds(processes._named_pids("redis-server")),
    }


def _wrk(
    *, port: int, path: str, mode: str, concurrency: int, duration: int, folder: Path
) -> dict[str, Any]:
    script = folder / f"{mode}.lua"
    script.write_text(LUA % {"mode": mode, "path": path, "domain": EMAIL_DOMAIN})
    command = [
        "wrk", "-t", str(min(2, concurrency)), "-c", str(concurrency), "-d", f"{duration}s",
        "--latency", "-s", str(script), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BenchmarkError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _run(
    *,
    name: str,
    path: str,
    mode: str,
    concurrency: int,
    duration: int,
    port: int,
    folder: Path,
    gunicorn: subprocess.Popen[bytes],
    workers: processes.Workers,
    ceiling: float | None,
) -> dict[str, Any]:
    # wrk's CPU is read from the kernel's accounting of this process's waited-for children.
    before, wrk_before = _cpu(gunicorn, workers), os.times()
    summary = _wrk(
        port=port, path=path, mode=mode, concurrency=concurrency, duration=duration, folder=folder
    )
    after, wrk_after = _cpu(gunicorn, workers), os.times()
    cpu = {key: round(after[key] - before[key], 2) for key in after}
    cpu["wrk"] = round(
        wrk_after.children_user
        + wrk_after.children_system
        - wrk_before.children_user
        - wrk_before.children_system,
        2,
    )
    per_s = summary["requests"] / (summary["duration_us"] / 1e6)
    return {
        "route": name,
        "concurrency": concurrency,
        "requests_per_s": round(per_s, 1),
        "p50_ms": round(summary["p50_us"] / 1000, 1),
        "p99_ms": round(summary["p99_us"] / 1000, 1),
        "errors": summary["errors"] + summary["non_2xx"],
        "ratio_to_ceiling": round(per_s / ceiling, 2) if ceiling else 1.0,
        "cpu_s": cpu,
        "created": summary["created"],
    }


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench web",
        description="Benchmark the public pages and registration as deployed, with wrk.",
    )
    parser.add_argument("--duration", type=int, default=20, help="Seconds per run.")
    parser.add_argument("--concurrency", default="16,64", help="Open connections per run.")
    parser.add_argument(
        "--web-workers", type=int, help="gunicorn workers (default: as gunicorn.conf.py says)."
    )
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--pages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Run the public pages (--no-pages: the ceiling and registration only).",
    )
    parser.add_argument(
        "--registered",
        type=int,
        default=0,
        help="Citizens registered before the runs (filler ones added in SQL up to this count).",
    )
    return parser.parse_args(argv)


def _register_top_up(count: int) -> None:
    started = time.monotonic()
    added = seed.register_top_up(count=count)
    print(
        measure.dump(
            {
                "registered": Citizen.objects.count(),
                "added": added,
                "seed_s": round(time.monotonic() - started, 1),
            }
        )
    )


def main(argv: Sequence[str]) -> None:
    options = _arguments(argv)
    measure.require_bench_database()
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)  # noqa: S607
    geography_load(country_codes={"ML", "LB"})
    seed_posts_and_staff()
    seed.publish_mali(3, alerting=False)
    if options.registered:
        _register_top_up(options.registered)
    rows_before = Citizen.objects.count()
    # Each run encrypts with keys of its own: an earlier run's rows whose email was still due
    # (a run stopped halfway) could not be read by this one's worker.
    Citizen.objects.filter(email_verification_due_at__isnull=False).update(
        email_verification_due_at=None
    )
    os.environ.update(_production_environment())
    # As a release is built: the manifest the production storage reads.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=processes.ROOT,
        env={**os.environ, "EMAIL_URL": "smtp://127.0.0.1:25"},
        check=True,
    )
    port = _free_port()
    levels = [int(level) for level in options.concurrency.split(",") if level]
    created = 0
    with tempfile.TemporaryDirectory() as folder, processes.running_sinks() as sinks:
        os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sinks.smtp_port}"
        with processes.running_workers(sinks=sinks, processes=1, concurrency=2) as workers:
            with _gunicorn(workers=options.web_workers, port=port) as gunicorn:
                common = {
                    "duration": options.duration,
                    "port": port,
                    "folder": Path(folder),
                    "gunicorn": gunicorn,
                    "workers": workers,
                }
                # Each gunicorn worker's first requests load templates and catalogues: not
                # what a run measures.
                web_workers = options.web_workers or (os.cpu_count() or 1) + 1
                for page in [STATIC, *PAGES] * 2 * web_workers:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=30):
                        pass
                for concurrency in levels:
                    ceiling = _run(name=f"GET {STATIC}", path=STATIC, mode="get",
                                   concurrency=concurrency, ceiling=None, **common)  # fmt: skip
                    ceiling.pop("created")
                    print(measure.dump(ceiling))
                    runs = [(f"GET {page}", page, "get") for page in PAGES if options.pages]
                    if options.baseline and options.pages:
                        runs += [(f"GET {page} (uncached)", page, "uncached") for page in PAGES]
                    runs.append((f"POST {REGISTER}", REGISTER, "register"))
                    for name, path, mode in runs:
                        result = _run(name=name, path=path, mode=mode, concurrency=concurrency,
                                      ceiling=ceiling["requests_per_s"], **common)  # fmt: skip
                        created += result.pop("created")
                        print(measure.dump(result))
            # gunicorn has stopped, so no registration is still in flight. One wrk stopped
            # waiting for is no 201 but may be a row: every 201 must be a row, and every row
            # must get exactly one email.
            rows = Citizen.objects.count() - rows_before
            emailed = measure.wait_for(lambda: sinks.email.received.value >= rows, timeout=120)
            result = {
                "registrations_201": created,
                "rows": rows,
                "verification_emails": int(sinks.email.received.value),
                "emails_done_after_s": round(emailed, 1),
            }
            print(measure.dump(result))
            if rows < created or result["verification_emails"] != rows:
                raise BenchmarkError("registrations were lost: see the line above")
