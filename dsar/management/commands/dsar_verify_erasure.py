from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsar import services
from dsar.models import Request


class Command(BaseCommand):
    help = (
        "Scan every text column of every table, history tables included, for the erased person's email, phone "
        "and name (names shorter than 3 characters are not searched), store the result and the certificate on "
        "the request, and list the hits. Hits where a data source declared a retention are allowed; any other "
        "hit makes the command exit non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("request_id", type=int, metavar="REQUEST_ID")

    def handle(self, *args: Any, request_id: int, **options: Any) -> None:
        request = Request.objects.select_related("jurisdiction").filter(pk=request_id).first()
        if request is None:
            raise CommandError(f"REQUEST_ID: no request {request_id}.")
        try:
            result = services.request_verify_erasure(request=request)
        except ValidationError as exc:
            raise CommandError(f"Request {request_id}: {' '.join(exc.messages)}") from exc
        for hit in result.hits:
            label = f"declared: {hit.reason}" if hit.declared else "LEFTOVER"
            self.stdout.write(f"  {hit.table}.{hit.column} ({hit.identifier}): {hit.count} row(s) — {label}")
        summary = (
            f"Scanned {result.tables} tables, {result.columns} text columns: {result.undeclared} undeclared hit(s), "
            f"{result.declared} declared."
        )
        if result.undeclared:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
