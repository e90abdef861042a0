"""A database of a test's own, for tests that run the product in separate processes (a server, workers)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tests.logins import owner, runtime_role

ROOT = Path(__file__).resolve().parent.parent


def _database_urls(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A database of the test's own, on the engine the suite runs on, as the URLs of the login that migrates
    it (the owner) and of the login the product runs as (the runtime login, when there is one); dropped
    afterwards."""
    current = settings.DATABASES["default"]
    if current["ENGINE"] != "django.db.backends.postgresql":
        url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
        yield url, url
        return
    import psycopg

    params = {"host": current["HOST"], "port": current["PORT"], "user": owner(), "dbname": "postgres"}
    name = f"own_{os.getpid()}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def url(user: str) -> str:
        return f"postgres://{user}@{current['HOST']}:{current['PORT']}/{name}"

    try:
        yield url(owner()), url(runtime_role() or owner())
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def own_database(tmp_path: Path, **settings_env: str) -> Iterator[dict[str, str]]:
    """The environment of processes working on a migrated database (and a cache) of their own, with the catalog
    loaded: migrated as the tables' owner, then everything (the catalog too) runs as the runtime login."""
    for owner_url, url in _database_urls(tmp_path):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "true",
            "SECRET_KEY": "own-database-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": "http://127.0.0.1",
            "TELEPHONY_PROVIDER_BACKEND": "local",
            "AUDIT_WITNESS_DIR": str(tmp_path / "witness"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # A cache of their own too: the default one under var/ is shared by everything run from this checkout.
            "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
            **settings_env,
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run(
            [*manage, "migrate", "--no-input", "-v", "0"], env={**env, "DATABASE_URL": owner_url}, check=True, cwd=ROOT, timeout=300
        )
        subprocess.run([*manage, "load_catalog", "-v", "0"], env=env, check=True, cwd=ROOT, timeout=120)
        yield env
