"""Serves the console for development: the web server plus the background processes the product needs.

Started by `make run`. Runs `manage.py runserver` and `manage.py db_worker` (background tasks) and
every process listed in SCHEDULE below at its interval, until Ctrl-C stops them all.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]

# (seconds between runs, management command and its arguments): the jobs cron runs in production.
SCHEDULE: list[tuple[int, list[str]]] = [
    # Recordings past their line's auto-delete window, and tickets soft-deleted 7+ days ago (cron: hourly).
    (3600, ["purge_recordings", "--verbosity", "0"]),
    # Deletions at the telephony provider, retried with backoff while it is down (cron: every minute).
    (60, ["process_provider_deletions", "--verbosity", "0"]),
    # Requester identity data of requests closed over DSAR_IDENTITY_RETENTION_DAYS ago (cron: daily).
    (86400, ["forget_requesters", "--verbosity", "0"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()

    processes = [
        subprocess.Popen([*MANAGE, "db_worker"], cwd=ROOT),
        subprocess.Popen([*MANAGE, "runserver", f"{args.host}:{args.port}"], cwd=ROOT),
    ]
    next_run = {index: 0.0 for index in range(len(SCHEDULE))}
    try:
        while all(process.poll() is None for process in processes):
            now = time.monotonic()
            for index, (interval, command) in enumerate(SCHEDULE):
                if now >= next_run[index]:
                    subprocess.run([*MANAGE, *command], cwd=ROOT, check=False)
                    next_run[index] = now + interval
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
