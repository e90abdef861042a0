"""The roles again: the privacy officer and the auditor may verify the audit chain from the console."""

from django.db import migrations

from core.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_audit_chain_verify_permission"),
        ("dsar", "0008_working_days_and_holds"),
        ("recordings", "0009_roles_platform_in_core"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
