"""Serves the console for development: the web server plus the background processes the product needs.

Started by `make run`. Runs, as separate processes until Ctrl-C stops them all: `manage.py runserver`,
the background worker of the configured task queue (`db_worker`, or `rqworker` when TASKS_BACKEND=rq) and
`manage.py run_schedules` (the purge, provider deletions, due digest and identity retention, at the
intervals of settings.SCHEDULES), as a production deployment runs them as services. Every process gets the
port in PORT, so that with DEBUG on and SITE_URL unset the links they email point at this server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def worker_command() -> list[str]:
    if os.environ.get("TASKS_BACKEND", "database") == "rq":
        return [*MANAGE, "rqworker", "--job-class", "django_tasks_rq.Job", "default"]
    return [*MANAGE, "db_worker"]


def child_environment(port: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the processes started: the caller's, with PORT set to the server's port."""
    return {**(os.environ if environ is None else environ), "PORT": str(port)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()

    env = child_environment(args.port)
    processes = [
        subprocess.Popen(worker_command(), cwd=ROOT, env=env),
        subprocess.Popen([*MANAGE, "run_schedules"], cwd=ROOT, env=env),
        subprocess.Popen([*MANAGE, "runserver", f"{args.host}:{args.port}"], cwd=ROOT, env=env),
    ]
    try:
        while all(process.poll() is None for process in processes):
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
