"""The roles again, now that API keys and the audit chain are the core app's (their permissions moved with them)."""

from django.db import migrations

from core.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("dsar", "0008_working_days_and_holds"),
        ("recordings", "0008_history_export_cancelled"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
