from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from residency.demo import load_demo


class Command(BaseCommand):
    help = "Creates the demo accounts (and their people, requests and telephony records) that do not exist yet. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(accounts)} accounts."))
