"""Start-up configuration: every malformed variable stops start-up with its name; production passes --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "Zq8#pL2!vX9@mN4$wR7^tY1&uI6*oP3(aS5)dF0",
    "ALLOWED_HOSTS": "privacy.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "TELEPHONY_PROVIDER_ACCOUNT_SID": "AC0123456789",
    "TELEPHONY_PROVIDER_AUTH_TOKEN": "token",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # A clean environment, so neither the caller's variables nor a developer's .env decide the outcome.
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    base["DATABASE_URL"] = "sqlite:///:memory:"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, "DJANGO_READ_DOT_ENV": "false", **env},
        capture_output=True, text=True, timeout=120,
    )


def test_production_settings_pass_the_deployment_checks() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG: 'maybe' is not a boolean"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS: 'a year' is malformed"),
        ("DATABASE_URL", "mysqlish://db", "DATABASE_URL: unsupported database URL"),
        ("EMAIL_URL", "pigeon://coop", "EMAIL_URL: unsupported email URL"),
        ("CACHE_URL", "pigeon://coop", "CACHE_URL: unsupported cache URL"),
        ("API_THROTTLE_KEY_RATE", "lots", "API_THROTTLE_KEY_RATE: 'lots' is not N/second|minute|hour|day"),
        ("API_THROTTLE_INTAKE_RATE", "0/hour", "API_THROTTLE_INTAKE_RATE: '0/hour' is not N/second|minute|hour|day"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT: must be at least 1"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(variable: str, value: str, message: str) -> None:
    result = manage("check", **{**PRODUCTION, variable: value})

    assert result.returncode != 0
    assert message in result.stderr


def test_a_missing_secret_key_stops_start_up_when_debug_is_off() -> None:
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY: set it" in result.stderr
