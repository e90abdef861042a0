"""Start-up configuration: every malformed variable stops start-up with its name; production passes --deploy."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The least a production environment sets: everything else defaults to the hardened value.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "Zq8#pL2!vX9@mN4$wR7^tY1&uI6*oP3(aS5)dF0",
    "ALLOWED_HOSTS": "privacy.example.com",
    "SITE_URL": "https://privacy.example.com",
    "EMAIL_URL": "smtp+tls://privacy:secret@smtp.example.com:587",
    "TELEPHONY_PROVIDER_ACCOUNT_SID": "AC0123456789",
    "TELEPHONY_PROVIDER_AUTH_TOKEN": "token",
    "AUDIT_CHECKPOINT_KEY": "q1GfZk7Kx0s9vYb2nN5cR8tW3eH6jL4mP0aS2dF7gH8=",
}

# The deployment checks read no table: nothing needs to listen here.
POSTGRES = "postgres://privacy_runtime@127.0.0.1:9/privacy"


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


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://"])
def test_the_deployment_checks_warn_of_a_cache_the_server_processes_do_not_share(cache_url: str) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, CACHE_URL=cache_url)

    assert result.returncode != 0
    assert "(config.W001) CACHE_URL: the cache" in result.stderr
    assert "counts API request rates on its own" in result.stderr


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
        ("AUDIT_CHECKPOINT_KEY", "not-a-key", "AUDIT_CHECKPOINT_KEY: give the base64 of a 32-byte Ed25519 key"),
        ("AUDIT_CHECKPOINT_PUBLIC_KEY", "c2hvcnQ=", "AUDIT_CHECKPOINT_PUBLIC_KEY: give the base64 of a 32-byte"),
        ("AUDIT_CHECKPOINT_INTERVAL", "5", "AUDIT_CHECKPOINT_INTERVAL: at least 60 seconds"),
        ("DATABASE_RUNTIME_ROLE", "privacy_runtime", "DATABASE_RUNTIME_ROLE: only with a PostgreSQL DATABASE_URL"),
        ("TRUSTED_PROXIES", "10.0.0.1,10.0.0.0/33", "TRUSTED_PROXIES: '10.0.0.0/33' is not an IP address or network"),
        ("TRUSTED_PROXIES", "0.0.0.0/0", "TRUSTED_PROXIES: 0.0.0.0/0 would trust every address"),
        ("PORT", "http", "PORT: 'http' is malformed"),
        ("PORT", "70000", "PORT: 70000 is not a TCP port"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(variable: str, value: str, message: str) -> None:
    result = manage("check", **{**PRODUCTION, variable: value})

    assert result.returncode != 0
    assert message in result.stderr


def test_a_runtime_role_that_is_not_a_plain_role_name_stops_start_up() -> None:
    result = manage("check", **PRODUCTION, DATABASE_URL=POSTGRES, DATABASE_RUNTIME_ROLE="app; DROP TABLE x")

    assert result.returncode != 0
    assert "DATABASE_RUNTIME_ROLE: 'app; DROP TABLE x' is not a role name" in result.stderr


def test_production_on_postgresql_runs_as_a_runtime_login_that_owns_no_table() -> None:
    as_owner = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, DATABASE_URL=POSTGRES)
    as_runtime = manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, DATABASE_URL=POSTGRES, DATABASE_RUNTIME_ROLE="privacy_runtime"
    )

    assert as_owner.returncode != 0
    assert "core.W001" in as_owner.stderr and "DATABASE_RUNTIME_ROLE is not set" in as_owner.stderr
    assert as_runtime.returncode == 0, as_runtime.stderr


def test_a_missing_secret_key_stops_start_up_when_debug_is_off() -> None:
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY: set it" in result.stderr


def test_production_needs_the_key_that_signs_the_audit_checkpoints() -> None:
    result = manage("check", **{**PRODUCTION, "AUDIT_CHECKPOINT_KEY": ""})

    assert result.returncode != 0
    assert "AUDIT_CHECKPOINT_KEY: set it when DEBUG is off" in result.stderr


def test_production_needs_its_public_address_for_emailed_links() -> None:
    result = manage("check", **{**PRODUCTION, "SITE_URL": ""})

    assert result.returncode != 0
    assert "SITE_URL: set it" in result.stderr


def serve_script() -> Any:
    spec = importlib.util.spec_from_file_location("serve", ROOT / "scripts" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_development_links_follow_the_port_the_server_runs_on() -> None:
    # What `make run PORT=8123` gives the server, the worker and the schedules (scripts/serve.py).
    env = serve_script().child_environment("8123", {"DEBUG": "true", "TELEPHONY_PROVIDER_BACKEND": "local"})
    result = manage("shell", "-c", "from django.conf import settings as s; print(s.SITE_URL)", **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8123"


def test_a_site_url_that_is_set_wins_over_the_development_port() -> None:
    script = "from django.conf import settings as s; print(s.SITE_URL)"
    result = manage("shell", "-c", script, DEBUG="true", TELEPHONY_PROVIDER_BACKEND="local", PORT="8123",
                    SITE_URL="http://console.test:9000/")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "http://console.test:9000"


def test_production_needs_a_mail_server() -> None:
    without = {key: value for key, value in PRODUCTION.items() if key != "EMAIL_URL"}

    result = manage("check", **without)

    assert result.returncode != 0
    assert "EMAIL_URL: set it to the mail server" in result.stderr


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("consolemail://", "prints every email"),
        ("filemail:///tmp/mail", "writes every email to a file"),
        ("memorymail://", "keeps every email in memory"),
        ("dummymail://", "drops every email"),
    ],
)
def test_production_refuses_a_mail_backend_that_does_not_send(url: str, what: str) -> None:
    result = manage("check", **{**PRODUCTION, "EMAIL_URL": url})

    assert result.returncode != 0
    assert f"EMAIL_URL: {url.split('://')[0]}:// {what} instead of sending it" in result.stderr


def test_development_prints_emails_by_default() -> None:
    script = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    result = manage("shell", "-c", script, DEBUG="true", TELEPHONY_PROVIDER_BACKEND="local")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.mail.backends.console.EmailBackend"


def test_a_proxy_setting_needs_the_proxies_it_trusts() -> None:
    without = manage("check", **{**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "true"})
    with_proxies = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        **{**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "true", "TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16, fd00::1"},
    )

    assert without.returncode != 0
    assert "TRUSTED_PROXIES: set it to the proxy's addresses when SECURE_PROXY_SSL_HEADER is on" in without.stderr
    assert with_proxies.returncode == 0, with_proxies.stderr


def test_production_sends_provider_credentials_over_https_only() -> None:
    result = manage("check", **{**PRODUCTION, "TELEPHONY_PROVIDER_BASE_URL": "http://api.example.com"})

    assert result.returncode != 0
    assert "TELEPHONY_PROVIDER_BASE_URL: 'http://api.example.com' must be https://" in result.stderr


def test_debug_alone_never_selects_the_provider_that_deletes_nothing() -> None:
    development = {"DEBUG": "true", "PATH": os.environ.get("PATH", "")}

    without_choice = manage("check", **development)
    explicit = manage("check", **development, TELEPHONY_PROVIDER_BACKEND="local")

    assert without_choice.returncode != 0
    assert "TELEPHONY_PROVIDER_BACKEND=local in development" in without_choice.stderr
    assert explicit.returncode == 0, explicit.stderr


def test_production_defaults_are_the_hardened_values() -> None:
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.X_FRAME_OPTIONS, s.API_DOCS_PUBLIC)"
    )
    result = manage("shell", "-c", script, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["True", "True", "True", "31536000", "DENY", "False"]
