from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from dsar.demo import load_demo as load_dsar_demo
from recordings.demo import load_demo as load_recordings_demo
from residency.demo import load_demo as load_residency_demo


class Command(BaseCommand):
    help = (
        "Creates the demo data that does not exist yet: accounts in every region, their people and data "
        "subject requests, and their phone lines, tickets, calls and recordings. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Lives in the top app because it calls every app's demo (dependencies point down only).
        # The demo's requests go through the real services, which email the (fictional) people:
        # those emails are kept in memory rather than printed over the console's output.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            accounts = load_residency_demo()
            names = [account.name for account in accounts]
            load_dsar_demo(account_names=names)
            load_recordings_demo(account_names=names)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(accounts)} accounts with people, requests and telephony records."))
