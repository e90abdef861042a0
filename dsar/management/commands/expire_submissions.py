"""Remind and expire privacy-center and DRP submissions nobody verified."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from core.history import Origin, history_context
from dsar.submissions import submissions_expire


class Command(BaseCommand):
    help = (
        "Submissions not verified within DSAR_SUBMISSION_REMINDER_HOURS get one reminder with a new one-time link "
        "and code; those not verified within DSAR_SUBMISSION_TTL_DAYS expire, and their identifiers and agent "
        "authorizations are removed (their trail stays). Safe to run twice or in parallel. Run hourly by the "
        "schedule (SCHEDULES)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with history_context(origin=Origin.COMMAND):
            reminded, expired = submissions_expire()
        if options["verbosity"]:
            self.stdout.write(
                f"{reminded} submission(s) reminded after {settings.DSAR_SUBMISSION_REMINDER_HOURS} h, "
                f"{expired} expired after {settings.DSAR_SUBMISSION_TTL_DAYS} days unverified."
            )
