"""The roles again, now that the audit chain's permissions exist (see 0004_roles)."""

from django.db import migrations

from residency.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("recordings", "0004_roles"),
        ("residency", "0004_audit_chain"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
