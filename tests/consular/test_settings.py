"""Production mode, checked in a fresh interpreter as a deployment would start it."""

import os
import subprocess
import sys
from pathlib import Path

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
