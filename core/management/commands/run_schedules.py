from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Runs the periodic jobs of settings.SCHEDULES (the purge, provider deletions, the due digest, identity "
        "retention) at their intervals, each run in a process of its own so that one job failing or leaking "
        "does not stop the others; a job still running is not started again. Runs until stopped (SIGTERM or "
        "Ctrl-C), or, with --once, runs every job once and exits non-zero if any failed. One process per "
        "deployment: cron or systemd timers running the same commands are the alternative."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every job once, in order, and exit.")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        schedules = self._schedules()
        if once:
            failed = [" ".join(command) for _, command in schedules if self._run(command) != 0]
            if failed:
                raise CommandError(f"{len(failed)} job(s) failed: {'; '.join(failed)}.")
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        next_run = [0.0] * len(schedules)
        try:
            while not stopping:
                for index, (interval, command) in enumerate(schedules):
                    if stopping or time.monotonic() < next_run[index]:
                        continue
                    self._run(command)
                    next_run[index] = time.monotonic() + interval
                time.sleep(1)
        except KeyboardInterrupt:
            pass

    def _schedules(self) -> list[tuple[int, list[str]]]:
        known = get_commands()
        schedules = []
        for position, entry in enumerate(settings.SCHEDULES):
            interval, command = entry
            if not isinstance(interval, int) or interval < 1:
                raise CommandError(f"SCHEDULES[{position}]: the interval {interval!r} is not a number of seconds ≥ 1.")
            if not command or command[0] not in known:
                raise CommandError(f"SCHEDULES[{position}]: {command!r} does not name a management command.")
            schedules.append((interval, [str(part) for part in command]))
        return schedules

    def _run(self, command: list[str]) -> int:
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(settings.BASE_DIR / "manage.py"), *command], check=False)
        seconds = time.monotonic() - started
        line = f"{' '.join(command)}: exit {done.returncode} after {seconds:.1f} s"
        if done.returncode:
            self.stderr.write(line)
        elif self.verbosity >= 2:
            self.stdout.write(line)
        return done.returncode
