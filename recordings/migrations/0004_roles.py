"""The roles (privacy officer, support admin, auditor) as groups with exactly their permissions.

Here rather than in residency because the roles name permissions of every app, and recordings is the
app that depends on all the others. The table is core/roles.py; a change to it comes with a new
migration that runs ``sync_roles`` again.
"""

from django.db import migrations

from core.roles import remove_roles


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("axes", "0010_accessattemptexpiration"),
        ("residency", "0003_api_key_scopes_and_expiry"),
        ("dsar", "0004_dangerous_operation_permissions"),
        ("recordings", "0003_hold_and_export_permissions"),
    ]

    # The roles are set from the table as it is now by the newest roles migration (0009): the table's
    # earlier states are not kept in code, and it names permissions that did not exist yet at this point.
    operations = [migrations.RunPython(migrations.RunPython.noop, remove_roles)]
