"""Text messages (SMS) to people who gave a phone number and no email, through the telephony provider.

The backend follows ``settings.TELEPHONY_PROVIDER_BACKEND``: ``twilio`` posts to the provider's messages
resource (``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``, HTTP basic auth, form fields ``To``,
``From`` and ``Body``); ``local``, the development default, sends nothing and keeps the message in
:data:`outbox`, as Django's local-memory mail backend keeps emails, so that development and tests read it.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextMessage:
    to: str
    body: str


#: The messages the local backend "sent", oldest first.
outbox: list[TextMessage] = []


class SmsNotSent(Exception):
    """The provider refused the message or could not be reached."""


def _post_to_provider(message: TextMessage) -> None:
    sid = settings.TELEPHONY_PROVIDER_ACCOUNT_SID
    credentials = base64.b64encode(f"{sid}:{settings.TELEPHONY_PROVIDER_AUTH_TOKEN}".encode()).decode("ascii")
    url = f"{settings.TELEPHONY_PROVIDER_BASE_URL}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json"
    body = urllib.parse.urlencode({"To": message.to, "From": settings.SMS_FROM, "Body": message.body}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.TELEPHONY_PROVIDER_TIMEOUT):
            return
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SmsNotSent(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc


def deliver(message: TextMessage) -> None:
    """Send ``message`` now, through the configured backend."""
    if settings.TELEPHONY_PROVIDER_BACKEND == "local":
        logger.info("Local telephony provider: text message to %s kept, not sent.", message.to[:4] + "…")
        outbox.append(message)
        return
    _post_to_provider(message)


def send_sms(*, to: str, body: str) -> None:
    """Text ``body`` to ``to`` (E.164) once the transaction commits, like the emails sent beside it. A provider
    that refuses or is down is logged, not raised: what was committed stands, and the person can ask again."""
    message = TextMessage(to=to, body=body)

    def send() -> None:
        try:
            deliver(message)
        except SmsNotSent as exc:
            logger.error("Text message not sent: %s", exc)

    transaction.on_commit(send)
