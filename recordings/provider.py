"""Deleting recordings at the telephony provider.

:class:`TwilioProvider` speaks the Twilio recordings API shape
(``DELETE {base}/2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.json``, HTTP basic auth with
the account SID and auth token). :class:`LocalProvider` is the development default: it deletes nothing
and reports success, so a laptop never calls a real provider.
"""

from __future__ import annotations

import base64
import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeletionOutcome:
    """What one attempt returned: ``done`` (deleted, or already gone) or an error to retry."""

    done: bool
    status: int | None = None
    error: str = ""
    retry_after_seconds: int | None = None


class RecordingProvider(Protocol):
    def delete_recording(self, provider_sid: str) -> DeletionOutcome:
        """Delete one recording at the provider; never raises for HTTP or network failures."""


class LocalProvider:
    """Development stand-in: logs the deletion and reports it done."""

    def delete_recording(self, provider_sid: str) -> DeletionOutcome:
        logger.info("Local telephony provider: recording %s deleted (nothing sent).", provider_sid)
        return DeletionOutcome(done=True, status=204)


class TwilioProvider:
    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.timeout = timeout
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self._authorization = f"Basic {credentials}"

    def url_for(self, provider_sid: str) -> str:
        return (
            f"{self.base_url}/2010-04-01/Accounts/{quote(self.account_sid, safe='')}"
            f"/Recordings/{quote(provider_sid, safe='')}.json"
        )

    def delete_recording(self, provider_sid: str) -> DeletionOutcome:
        request = urllib.request.Request(
            self.url_for(provider_sid), method="DELETE", headers={"Authorization": self._authorization}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return DeletionOutcome(done=True, status=response.status)
        except urllib.error.HTTPError as exc:
            # 404: the recording is already gone at the provider, which is what we wanted.
            if exc.code == 404:
                return DeletionOutcome(done=True, status=404)
            body = exc.read(500).decode("utf-8", "replace").strip()
            return DeletionOutcome(
                done=False,
                status=exc.code,
                error=f"HTTP {exc.code} {exc.reason}: {body}"[:1000],
                retry_after_seconds=_retry_after(exc.headers.get("Retry-After")),
            )
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return DeletionOutcome(done=False, error=f"network error: {reason or type(exc).__name__}"[:1000])


def _retry_after(value: str | None) -> int | None:
    try:
        return max(0, int(value)) if value else None
    except ValueError:
        return None  # an HTTP date; our own backoff applies instead


def get_provider() -> RecordingProvider:
    """The provider the settings select (``TELEPHONY_PROVIDER_BACKEND``: ``local`` or ``twilio``)."""
    backend = settings.TELEPHONY_PROVIDER_BACKEND
    if backend == "local":
        return LocalProvider()
    if backend == "twilio":
        return TwilioProvider(
            base_url=settings.TELEPHONY_PROVIDER_BASE_URL,
            account_sid=settings.TELEPHONY_PROVIDER_ACCOUNT_SID,
            auth_token=settings.TELEPHONY_PROVIDER_AUTH_TOKEN,
            timeout=settings.TELEPHONY_PROVIDER_TIMEOUT,
        )
    raise ImproperlyConfigured(f"TELEPHONY_PROVIDER_BACKEND: {backend!r} is not one of local, twilio.")
