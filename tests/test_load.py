"""Concurrent API clients never see a server error: a real server (gunicorn, two workers with threads) on its
own database, SQLite or PostgreSQL as the suite runs, a bounded number of clients and requests, reads and
writes mixed. Bounded in count and time; the server is stopped whatever happens."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.processes import ROOT, own_database

CLIENTS = 8
REQUESTS_PER_CLIENT = 25
CREATE_KEY = """
from residency.models import Account, Region
from core.services import api_key_create
account = Account.objects.create(name="Load test", home_region=Region.objects.get(code="EEA"))
_, raw = api_key_create(account=account, name="load", scopes=["requests:create", "requests:read", "residency:read"])
print(raw)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    for env in own_database(tmp_path, API_THROTTLE_KEY_RATE="100000/minute", API_THROTTLE_INTAKE_RATE="100000/hour"):
        manage = [sys.executable, str(ROOT / "manage.py")]
        raw = subprocess.run(
            [*manage, "shell", "-v", "0", "-c", CREATE_KEY], env=env, check=True, cwd=ROOT, timeout=60,
            capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--threads", "4", "--timeout", "60", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/v1/regions/", timeout=2)
                except urllib.error.HTTPError:
                    break  # answering (401 without a key)
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            yield base, raw
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _client(base: str, key: str, number: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for index in range(REQUESTS_PER_CLIENT):
        if index % 3 == 0:
            body = {"type": "access", "jurisdiction": "gdpr", "email": f"load{number}.{index}@example.net"}
            request = urllib.request.Request(f"{base}/api/v1/dsar/requests/", data=json.dumps(body).encode(), headers=headers)
        else:
            request = urllib.request.Request(f"{base}/api/v1/dsar/requests/?page_size=20", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses[response.status] += 1
        except urllib.error.HTTPError as error:
            statuses[error.code] += 1
    return statuses


def test_concurrent_clients_reading_and_writing_get_no_server_error(server: tuple[str, str]) -> None:
    base, key = server

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda number: _client(base, key, number), range(CLIENTS)))

    statuses = sum(results, Counter())
    assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
    assert {status for status in statuses if status >= 500} == set()
    writes = CLIENTS * len(range(0, REQUESTS_PER_CLIENT, 3))
    assert statuses[201] == writes and statuses[200] == CLIENTS * REQUESTS_PER_CLIENT - writes
