"""Settings as a deployment or `make run` starts them, checked in a fresh interpreter."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a" * 20 + "-production-secret-with-enough-entropy-" + "z9Y8x7W6v5U4t3S2",
    "FIELD_ENCRYPTION_KEYS": "q3Zb6cF0j1m0c4h7yJ9x1Jk2WqR8s5T6u7V8w9X0y1Q=",
    "FIELD_HASH_KEYS": "hash-key-for-the-production-check-0123456789",
    "ALLOWED_HOSTS": "consular.example.org",
    "DATABASE_URL": "postgres://consular@127.0.0.1:5432/consular",
    "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "EMAIL_URL": "smtp://consular:secret@smtp.example.org:587/?tls=True",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "DATABASE", "CELERY", "SECRET", "EMAIL", "FIELD_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_the_deployment_checklist():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


def test_production_refuses_to_start_without_a_database_or_a_broker():
    for missing in (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "ALLOWED_HOSTS",
        "EMAIL_URL",
        "FIELD_ENCRYPTION_KEYS",
        "FIELD_HASH_KEYS",
    ):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

        result = _manage("check", env=env)

        assert result.returncode != 0
        assert f"{missing} must be set" in result.stderr


def test_production_refuses_a_malformed_encryption_key():
    env = {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key" in result.stderr


def _site_url(env: dict[str, str]) -> str:
    """SITE_URL as the settings read it from this environment, in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "CONSULAR_PORT"}}
    result = subprocess.run(
        [sys.executable, "-c", "from consular import settings; print(settings.SITE_URL)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # An empty SITE_URL, as .env.example leaves it, is no choice.
        ({"SITE_URL": "", "CONSULAR_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"SITE_URL": ""}, "http://127.0.0.1:8000"),
        (
            {"SITE_URL": "https://consular.example.org/", "CONSULAR_PORT": "9000"},
            "https://consular.example.org",
        ),
    ],
)
def test_links_point_to_the_port_the_site_is_served_on_unless_site_url_is_set(env, expected):
    assert _site_url(env) == expected


def test_every_migration_applies_on_the_sqlite_make_run_uses(tmp_path):
    # The suite runs on PostgreSQL; `make run` migrates SQLite, where SQL written for
    # PostgreSQL in a migration stops it on a fresh machine.
    database = tmp_path / "fresh.sqlite3"
    result = _manage("migrate", "--noinput", env={"DATABASE_URL": f"sqlite:///{database}"})
    assert result.returncode == 0, result.stderr
