"""The one django-environ object the settings read from.

django-environ casts leniently (``DEBUG=maybe`` reads as False, ``PORT=abc`` raises a bare
``ValueError``). A typo in production configuration should stop start-up instead, with a message
that names the variable, so every read goes through :class:`StrictEnv`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_FALSE_STRINGS = ("false", "off", "no", "n", "0", "")


class StrictEnv(environ.Env):
    """An ``environ.Env`` whose casts fail loudly and name the variable."""

    def get_value(self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default: bool = False) -> Any:
        raw = self.ENVIRON.get(f"{self.prefix}{var}")
        if cast is bool and raw is not None and raw.strip().lower() not in (*self.BOOLEAN_TRUE_STRINGS, *_FALSE_STRINGS):
            raise ImproperlyConfigured(f"{var}: {raw!r} is not a boolean; use true or false.")
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ImproperlyConfigured:
            raise
        except Exception as exc:  # any cast error: ValueError, KeyError from URL schemes, …
            raise ImproperlyConfigured(f"{var}: {raw!r} is malformed ({exc or type(exc).__name__}).") from exc

    def db_url(self, var: str = environ.Env.DEFAULT_DATABASE_ENV, default: Any = environ.Env.NOTSET, engine: Any = None) -> dict:
        url = self.get_value(var, default=default)
        scheme = str(url).split("://", 1)[0] if "://" in str(url) else ""
        if scheme not in self.DB_SCHEMES:
            raise ImproperlyConfigured(
                f"{var}: unsupported database URL {url!r}; use sqlite:///PATH or postgres://USER:PASSWORD@HOST:PORT/NAME."
            )
        return self.db_url_config(url, engine=engine)

    def _service_url(self, var: str, default: Any, parse: Any, what: str, **options: Any) -> dict:
        url = self.get_value(var, default=default)
        try:
            return parse(url, **options)
        except Exception as exc:
            raise ImproperlyConfigured(f"{var}: unsupported {what} URL {url!r} ({exc}).") from exc

    def email_url(self, var: str = environ.Env.DEFAULT_EMAIL_ENV, default: Any = environ.Env.NOTSET, backend: Any = None) -> dict:
        return self._service_url(var, default, self.email_url_config, "email", backend=backend)

    def cache_url(self, var: str = environ.Env.DEFAULT_CACHE_ENV, default: Any = environ.Env.NOTSET, backend: Any = None) -> dict:
        return self._service_url(var, default, self.cache_url_config, "cache", backend=backend)

    def networks(self, var: str, default: Any = environ.Env.NOTSET) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """A comma-separated list of IP addresses and networks (``10.0.0.5``, ``10.0.0.0/24``, ``fd00::/8``)."""
        networks = []
        for item in self.list(var, default=default):
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ImproperlyConfigured(f"{var}: {item.strip()!r} is not an IP address or network (CIDR).") from exc
        return networks


env = StrictEnv()
