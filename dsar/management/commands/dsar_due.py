from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dsar.models import MAX_DUE_WITHIN_DAYS, Request

# Distinct from 1 (an error) and 2 (a usage error from the argument parser): "it ran, and something is late".
OVERDUE_EXIT_STATUS = 3


class Command(BaseCommand):
    help = (
        "List open data subject requests that are overdue (past their last day to answer) or due within "
        "--within days (default 7), soonest first. With --email, also send the list to the privacy team "
        "(PRIVACY_TEAM_EMAILS). Completed and rejected requests are never listed. Exits with status "
        f"{OVERDUE_EXIT_STATUS} when any request is overdue (after printing and emailing the digest), so cron and "
        "schedulers alert; 1 on an error; 0 when nothing is overdue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--within", type=int, default=7, metavar="DAYS", help="Also list requests due within DAYS days (default 7)."
        )
        parser.add_argument("--email", action="store_true", help="Email the digest to PRIVACY_TEAM_EMAILS.")

    def handle(self, *args: Any, within: int, email: bool, **options: Any) -> None:
        if not 0 <= within <= MAX_DUE_WITHIN_DAYS:
            raise CommandError(f"--within: give a number of days from 0 to {MAX_DUE_WITHIN_DAYS}.")
        today = timezone.localdate()
        related = ("account", "jurisdiction", "assignee")
        overdue = list(Request.objects.overdue(today).select_related(*related))
        upcoming = list(Request.objects.due_within(today, within).select_related(*related))
        lines = [f"Overdue ({len(overdue)}):"] + [self._line(r, today) for r in overdue]
        lines += ["", f"Due within {within} days ({len(upcoming)}):"] + [self._line(r, today) for r in upcoming]
        summary = f"{len(overdue)} overdue, {len(upcoming)} due within {within} days."
        if options["verbosity"] >= 1:
            self.stdout.write("\n".join(lines))
        if email:
            if not settings.PRIVACY_TEAM_EMAILS:
                raise CommandError("PRIVACY_TEAM_EMAILS is empty: nowhere to send the digest.")
            send_mail(
                f"Data subject requests: {summary}",
                "\n".join(lines) + "\n\n" + summary,
                settings.DEFAULT_FROM_EMAIL,
                settings.PRIVACY_TEAM_EMAILS,
            )
            summary += f" Digest emailed to {len(settings.PRIVACY_TEAM_EMAILS)} address(es)."
        if options["verbosity"] >= 1:  # quiet for cron and run_schedules: the digest is the email
            self.stdout.write(self.style.SUCCESS(summary) if not overdue else summary)
        if overdue:
            # A scheduler only sees the exit status: a digest that goes unread must still raise an alert.
            raise CommandError(f"{len(overdue)} request(s) overdue.", returncode=OVERDUE_EXIT_STATUS)

    def _line(self, request: Request, today: Any) -> str:
        left = request.days_left(today)
        when = f"{-left} day(s) overdue" if left < 0 else f"{left} day(s) left"
        assignee = request.assignee.get_username() if request.assignee else "unassigned"
        return (
            f"  #{request.pk} {request.get_type_display()} · {request.account.name} · {request.jurisdiction.code} · "
            f"{request.get_status_display()} · due {request.due_at.isoformat()} ({when}) · {assignee}"
        )
