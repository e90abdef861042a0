from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Ensures a superuser login exists for the console and prints it. The first run creates the user "
        "with a random password, saved to var/admin-login.txt (never committed) so later runs can print it "
        "again; a password changed since is not shown."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        User = get_user_model()
        login_file = Path(settings.BASE_DIR) / "var" / "admin-login.txt"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email=f"{username}@localhost", password=password)
            login_file.parent.mkdir(parents=True, exist_ok=True)
            login_file.write_text(password)
            login_file.chmod(0o600)
            self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}"))
            return
        saved = login_file.read_text().strip() if login_file.is_file() else ""
        if saved and user.check_password(saved):
            self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {saved}"))
        else:
            self.stdout.write(
                f"Admin login: {username} (password changed since it was created; "
                f"reset it with: python manage.py changepassword {username})"
            )
