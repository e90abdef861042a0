"""The roles again, now that the platforms', the processor's and the notices' permissions exist."""

from django.db import migrations

from residency.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("recordings", "0006_large_table_indexes"),
        ("residency", "0007_residency_as_evidence"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
