"""The roles again, now that the audit chain's permissions exist (see 0004_roles)."""

from django.db import migrations



class Migration(migrations.Migration):
    dependencies = [
        ("recordings", "0004_roles"),
        ("residency", "0004_audit_chain"),
    ]

    # The roles are set from the table as it is now by the newest roles migration (0009): the table's
    # earlier states are not kept in code, and it names permissions that did not exist yet at this point.
    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
