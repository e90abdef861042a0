"""Text messages go to the telephony provider's messages resource, or, with the local backend, nowhere."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from core import sms


@pytest.fixture
def provider(settings: Any) -> Iterator[list[dict[str, Any]]]:
    """A stand-in of the provider's HTTP API on 127.0.0.1, answering 201 (or 500 once told to fail)."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append({"path": self.path, "auth": self.headers["Authorization"], "form": urllib.parse.parse_qs(body)})
            self.send_response(500 if "fail" in body else 201)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TELEPHONY_PROVIDER_BACKEND = "twilio"
    settings.TELEPHONY_PROVIDER_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    settings.TELEPHONY_PROVIDER_ACCOUNT_SID = "AC123"
    settings.TELEPHONY_PROVIDER_AUTH_TOKEN = "secret"
    settings.SMS_FROM = "+46700000000"
    yield received
    server.shutdown()
    server.server_close()


def test_a_text_message_is_posted_to_the_providers_messages_resource(provider: list[dict[str, Any]]) -> None:
    sms.deliver(sms.TextMessage(to="+46701234567", body="Your code is 123456"))

    [call] = provider
    assert call["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert call["auth"] == "Basic QUMxMjM6c2VjcmV0"  # AC123:secret
    assert call["form"] == {"To": ["+46701234567"], "From": ["+46700000000"], "Body": ["Your code is 123456"]}


@pytest.mark.django_db
def test_a_refusal_is_logged_after_commit_not_raised(
    provider: list[dict[str, Any]], caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    with pytest.raises(sms.SmsNotSent):
        sms.deliver(sms.TextMessage(to="+46701234567", body="fail"))
    with django_capture_on_commit_callbacks(execute=True):
        sms.send_sms(to="+46701234567", body="fail again")
    assert len(provider) == 2 and "Text message not sent: HTTPError" in caplog.text


def test_the_local_backend_sends_nothing_and_keeps_the_message(settings: Any) -> None:
    settings.TELEPHONY_PROVIDER_BACKEND = "local"
    sms.outbox.clear()
    sms.deliver(sms.TextMessage(to="+46701234567", body="kept"))
    assert sms.outbox == [sms.TextMessage(to="+46701234567", body="kept")]
