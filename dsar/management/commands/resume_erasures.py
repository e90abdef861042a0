from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.history import Origin, history_context
from dsar.erasure import erasures_resume


class Command(BaseCommand):
    help = (
        "Resume what waits by itself: an erasure refused because the person was on a call (as caller, agent, or a "
        "supervisor listening, whispering or barging in) or under a legal hold runs once that has cleared; the "
        "part of an erasure someone else's legal hold kept is erased once the hold is released, and the "
        "certificate gets an addendum. Each says so in the request's timeline. Run by the schedule every few "
        "minutes; safe to run at any time and twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with history_context(origin=Origin.COMMAND, actor="resume_erasures"):
            summary = erasures_resume()
        if options["verbosity"] < 1:  # quiet for cron and run_schedules
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(summary.resumed)} erasure(s) resumed, {summary.still_blocked} still blocked; "
                f"{len(summary.released)} erasure(s) finished what a released hold kept."
            )
        )
