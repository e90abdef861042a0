from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class ProviderStub:
    """A tiny Twilio-shaped recordings API on 127.0.0.1: answers DELETE with the scripted statuses."""

    url: str = ""
    # Statuses to answer, in order; once used up, ``default`` is answered. "sleep" makes the call time out.
    script: list[Any] = field(default_factory=list)
    default: int = 204
    requests: list[dict[str, str]] = field(default_factory=list)
    retry_after: str | None = None

    def next_answer(self) -> Any:
        return self.script.pop(0) if self.script else self.default


@pytest.fixture
def provider_stub(settings: Any) -> Iterator[ProviderStub]:
    stub = ProviderStub()

    class Handler(BaseHTTPRequestHandler):
        def do_DELETE(self) -> None:  # noqa: N802 (http.server's naming)
            stub.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
            answer = stub.next_answer()
            if answer == "sleep":
                time.sleep(1.0)
                answer = 204
            self.send_response(answer)
            if answer == 429 and stub.retry_after:
                self.send_header("Retry-After", stub.retry_after)
            body = b"" if answer == 204 else b'{"code": 20404, "message": "stub answer"}'
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TELEPHONY_PROVIDER_BACKEND = "twilio"
    settings.TELEPHONY_PROVIDER_BASE_URL = stub.url
    settings.TELEPHONY_PROVIDER_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
    settings.TELEPHONY_PROVIDER_AUTH_TOKEN = "stub-token"
    settings.TELEPHONY_PROVIDER_TIMEOUT = 0.3
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def export_dir(settings: Any, tmp_path: Any) -> Any:
    settings.RECORDINGS_EXPORT_DIR = tmp_path / "exports"
    return settings.RECORDINGS_EXPORT_DIR
