"""The roles again, now that the platforms', the processor's and the notices' permissions exist."""

from django.db import migrations



class Migration(migrations.Migration):
    dependencies = [
        ("recordings", "0006_large_table_indexes"),
        ("residency", "0007_residency_as_evidence"),
    ]

    # The roles are set from the table as it is now by the newest roles migration (0009): the table's
    # earlier states are not kept in code, and it names permissions that did not exist yet at this point.
    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
